"""Database engine, URL handling and schema migrations (Alembic)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError, OperationalError

from kttt_workflow.config import private_dir

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
READ_ONLY = "kttt_read_only"


def read(engine: Engine) -> Connection:
    """A connection for reading only: on SQLite its transactions take no write lock."""
    return engine.connect().execution_options(**{READ_ONLY: True})


def is_busy(exc: BaseException) -> bool:
    """Whether ``exc`` is SQLite's "another connection holds the write lock" (after the wait)."""
    return isinstance(exc, OperationalError) and "database is locked" in str(exc.orig)


def said(exc: BaseException) -> str | None:
    """Any database error as the user is told it: :func:`failure`, else its kind only (never
    the statement nor its values); None for an error that is not the database's."""
    if not isinstance(exc, DBAPIError):
        return None
    return failure(exc) or f"lỗi cơ sở dữ liệu ({type(exc.orig).__name__})"


def failure(exc: BaseException) -> str | None:
    """What a failure of the database itself means for the user (Vietnamese), else None.

    The transaction was rolled back, so nothing was written: the message says so and how to go
    on. Never quotes the statement or its parameters (a target may hold a secret).
    """
    if not isinstance(exc, DBAPIError):
        return None
    text = str(exc.orig).lower()
    if (
        "disk is full" in text
        or "no space left" in text
        or "diskfull" in type(exc.orig).__name__.lower()
    ):
        return (
            "ổ đĩa chứa cơ sở dữ liệu đã đầy (hết dung lượng); không có gì được ghi. Hãy giải "
            "phóng dung lượng rồi chạy lại lệnh"
        )
    if exc.connection_invalidated or "terminating connection" in text or "server closed" in text:
        return (
            "mất kết nối tới cơ sở dữ liệu giữa chừng; giao dịch đã bị hủy, không có gì được ghi. "
            "Hãy chạy lại lệnh"
        )
    return None


def _private_file(path: Path) -> None:
    """Create the store's folder (0700) and file (0600) when they do not exist yet: a store holds
    the registry's delivery targets. Existing folders and files keep their permissions."""
    private_dir(path.parent)
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))


def normalise_url(url: str) -> str:
    """Accept ``postgresql://…`` and ``sqlite:///…``; PostgreSQL goes through psycopg 3."""
    u = make_url(url)
    if u.drivername in ("postgresql", "postgres"):
        u = u.set(drivername="postgresql+psycopg")
    return u.render_as_string(hide_password=False)


def safe_url(url: str) -> str:
    """The URL with its password masked, for messages."""
    return make_url(url).render_as_string(hide_password=True)


def make_engine(url: str, *, schema: str | None = None, busy_timeout: float = 30.0) -> Engine:
    """Engine for ``url`` (SQLite: the folder and file are created private to their owner, WAL
    journal, writers wait up to ``busy_timeout`` seconds for each other; PostgreSQL: ``schema`` on
    the search path).

    A connection with the execution option ``READ_ONLY`` (see :func:`read`) reads without taking
    SQLite's write lock.
    """
    url = normalise_url(url)
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        if u.database and u.database != ":memory:":
            _private_file(Path(u.database))
        # hide_parameters: an error never quotes the values of a statement (a target's secret).
        engine = create_engine(url, connect_args={"timeout": busy_timeout}, hide_parameters=True)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            # pysqlite's own transaction handling defers BEGIN; take it over so that a whole load
            # is one transaction that starts with BEGIN (SQLAlchemy docs, "Serializable isolation").
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
            # WAL: readers never wait for a writer (kttt status while a load runs), and a writer
            # waits only for another writer.
            cur.execute("PRAGMA journal_mode=WAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn):  # type: ignore[no-untyped-def]
            if conn.get_execution_options().get(READ_ONLY):
                conn.exec_driver_sql("BEGIN")  # a reader takes no lock it could wait for
                return
            # IMMEDIATE: take the write lock at the start, so that a transaction that reads then
            # writes waits for a concurrent writer (busy_timeout) instead of failing at once with
            # "database is locked" when it upgrades its read lock.
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    # jit=off: the engine's statements are large CASE expressions over many rows, run once; JIT
    # compiling them cost more than it saved (the national report: 1.1 s of 3.5 s per
    # statement, bench/README.md "National scenario").
    # A URL's own ``?options=`` (a search path given by a user) is kept, after ours.
    given = u.query.get("options")
    given = " ".join(given) if isinstance(given, tuple) else given
    options = " ".join(
        x for x in ("-cjit=off", f"-csearch_path={schema}" if schema else "", given) if x
    )
    return create_engine(
        url, connect_args={"options": options}, pool_pre_ping=True, hide_parameters=True
    )


def _alembic() -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def is_current(engine: Engine) -> bool:
    """Whether the schema is at the newest revision (read without any write lock)."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_alembic()).get_current_head()
    with read(engine) as conn:
        return bool(MigrationContext.configure(conn).get_current_revision() == head)


def migrate(engine: Engine, revision: str = "head") -> None:
    """Create or upgrade the schema to ``revision`` with Alembic."""
    from alembic import command

    cfg = _alembic()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def is_migrated(conn: Connection) -> bool:
    """Whether the schema exists (a store that was never loaded has no tables yet)."""
    return "task" in inspect(conn).get_table_names()


def bulk_insert(conn: Connection, table: Any, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` (dicts with the same keys) into ``table`` at the driver's own speed, in
    the caller's transaction: ``COPY … FROM STDIN`` on PostgreSQL, the driver's ``executemany``
    on SQLite, each value converted by SQLAlchemy's own bind processor of its column (dates, JSON,
    booleans). SQLAlchemy's ``insert`` of the same rows costs about 2.5 times as much."""
    if not rows:
        return
    dialect = conn.dialect
    cols = list(rows[0])
    procs = [table.c[c].type.dialect_impl(dialect).bind_processor(dialect) for c in cols]
    pairs = list(zip(cols, procs, strict=True))

    def values(r: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(p(r[c]) if p is not None and r[c] is not None else r[c] for c, p in pairs)

    prep = dialect.identifier_preparer
    name = prep.format_table(table)
    columns = ", ".join(prep.quote(c) for c in cols)
    raw: Any = conn.connection.driver_connection
    if dialect.name == "postgresql" and hasattr(raw, "cursor"):
        with raw.cursor() as cur, cur.copy(f"COPY {name} ({columns}) FROM STDIN") as cp:
            for r in rows:
                cp.write_row(values(r))
    elif dialect.name == "sqlite":
        marks = ", ".join("?" for _ in cols)
        cur = raw.cursor()
        try:
            cur.executemany(f"INSERT INTO {name} ({columns}) VALUES ({marks})", map(values, rows))
        finally:
            cur.close()
    else:  # any other back-end: SQLAlchemy's own executemany
        from sqlalchemy import insert

        conn.execute(insert(table), rows)

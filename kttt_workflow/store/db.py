"""Database engine, URL handling and schema migrations (Alembic)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, cast

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


def json_text(conn: Connection) -> Callable[[Any], str]:
    """How the engine writes a JSON value as text (its ``json_serializer``, else ``json.dumps``):
    the text SQLAlchemy's own JSON type sends, on SQLite as on PostgreSQL."""
    serializer = getattr(conn.dialect, "_json_serializer", None)
    return cast(Callable[[Any], str], serializer or json.dumps)


def bulk_insert(
    conn: Connection,
    table: Any,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    encoders: Mapping[str, Callable[[Any], Any]] | None = None,
    derived: Mapping[str, tuple[Sequence[str], Callable[..., Any]]] | None = None,
    constants: Mapping[str, Any] | None = None,
) -> None:
    """Insert ``rows`` (tuples, in the order of ``columns``) into ``table`` at the driver's own
    speed, in the caller's transaction: a binary ``COPY … FROM STDIN`` on PostgreSQL, the
    driver's ``executemany`` on SQLite. SQLAlchemy's ``insert`` of the same rows costs about 2.5
    times as much.

    A column named in ``encoders`` is given to the driver as its encoder returns it (JSON as its
    text, say); every other value goes through SQLAlchemy's own bind processor of its column
    (dates, booleans, time stamps), once per distinct value of the column: a column's values are
    converted through a table of them when they are all of one type (so that equal values convert
    alike), else one by one. ``derived`` columns are computed from other columns of the row
    (``{name: (their names, function of their values)}``), once per distinct combination;
    ``constants`` are further columns with the same value in every row.
    """
    if not rows:
        return
    dialect = conn.dialect
    encoders = encoders or {}
    derived = derived or {}
    constants = constants or {}
    n = len(rows)
    data: list[Sequence[Any]] = list(zip(*rows, strict=True))
    assert len(data) == len(columns), (len(data), columns)
    for sources, compute in derived.values():
        given = list(zip(*(data[columns.index(c)] for c in sources), strict=True))
        computed = {v: compute(*v) for v in set(given)}
        data.append(list(map(computed.__getitem__, given)))
    names = [*columns, *derived]
    for i, name in enumerate(names):
        if name in encoders:
            data[i] = list(map(encoders[name], data[i]))
            continue
        proc = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        if proc is None:
            continue
        column = data[i]
        kinds = set(map(type, column))
        kinds.discard(type(None))
        if len(kinds) <= 1:  # one type: equal values are the same value
            table_of = {v: None if v is None else proc(v) for v in set(column)}
            data[i] = list(map(table_of.__getitem__, column))
        else:
            data[i] = [None if v is None else proc(v) for v in column]
    for name, value in constants.items():
        data.append((_driver_value(table.c[name], dialect, value),) * n)
    names += constants
    prep = dialect.identifier_preparer
    name = prep.format_table(table)
    collist = ", ".join(prep.quote(c) for c in names)
    raw: Any = conn.connection.driver_connection
    values = zip(*data, strict=True)
    if dialect.name == "postgresql":
        with raw.cursor() as cur:
            types = _copy_types(cur, name, names, encoded=set(encoders))
            with cur.copy(f"COPY {name} ({collist}) FROM STDIN (FORMAT BINARY)") as cp:
                cp.set_types(types)
                for r in values:
                    cp.write_row(r)
    else:
        assert dialect.name == "sqlite", dialect.name  # the two back-ends (normalise_url)
        marks = ", ".join("?" for _ in names)
        cur = raw.cursor()
        try:
            cur.executemany(f"INSERT INTO {name} ({collist}) VALUES ({marks})", values)
        finally:
            cur.close()


def _copy_types(cur: Any, table: str, columns: list[str], encoded: set[str]) -> list[int]:
    """The type of each column as a binary ``COPY`` sends it: the column's own type (its oid),
    but text for a column whose values an encoder wrote as text (JSON: its binary form is its
    text, and psycopg's JSON dumper would encode a string again)."""
    cur.execute(
        "SELECT attname, atttypid FROM pg_attribute"
        " WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
        (table,),
    )
    oid = dict(cur.fetchall())
    text_oid = 25
    return [text_oid if c in encoded else int(oid[c]) for c in columns]


def _driver_value(column: Any, dialect: Any, value: Any) -> Any:
    proc = column.type.dialect_impl(dialect).bind_processor(dialect)
    return value if proc is None or value is None else proc(value)

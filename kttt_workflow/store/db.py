"""Database engine, URL handling and schema migrations (Alembic)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import Connection, make_url

ENV_URL = "KTTT_DATABASE_URL"
ENV_HOME = "KTTT_HOME"
MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def data_dir() -> Path:
    """Where the embedded store and local mailboxes live: ``$KTTT_HOME`` or ``~/.kttt``."""
    return Path(os.environ.get(ENV_HOME) or Path.home() / ".kttt")


def default_url() -> str:
    return f"sqlite:///{data_dir() / 'kttt.db'}"


def normalise_url(url: str | None) -> str:
    """Accept ``postgresql://…`` and ``sqlite:///…``; PostgreSQL goes through psycopg 3."""
    url = url or os.environ.get(ENV_URL) or default_url()
    u = make_url(url)
    if u.drivername in ("postgresql", "postgres"):
        u = u.set(drivername="postgresql+psycopg")
    return u.render_as_string(hide_password=False)


def safe_url(url: str) -> str:
    """The URL with its password masked, for messages."""
    return make_url(url).render_as_string(hide_password=True)


def make_engine(url: str | None = None, *, schema: str | None = None) -> Engine:
    """Engine for ``url`` (default: ``$KTTT_DATABASE_URL`` or the embedded SQLite file)."""
    url = normalise_url(url)
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        if u.database and u.database != ":memory:":
            Path(u.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        # pysqlite's own transaction handling defers BEGIN; take it over so that a whole load is
        # one transaction that starts with BEGIN (see SQLAlchemy docs, "Serializable isolation").
        @event.listens_for(engine, "connect")
        def _no_autobegin(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            dbapi_conn.isolation_level = None

        @event.listens_for(engine, "begin")
        def _begin(conn):  # type: ignore[no-untyped-def]
            # IMMEDIATE: take the write lock at the start, so that a transaction that reads then
            # writes waits for a concurrent writer (busy_timeout) instead of failing at once with
            # "database is locked" when it upgrades its read lock.
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    args = {"options": f"-csearch_path={schema}"} if schema else {}
    return create_engine(url, connect_args=args, pool_pre_ping=True)


def migrate(engine: Engine, revision: str = "head") -> None:
    """Create or upgrade the schema to ``revision`` with Alembic."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def is_migrated(engine: Engine) -> bool:
    return "task" in inspect(engine).get_table_names()


@contextmanager
def transaction(engine: Engine) -> Iterator[Connection]:
    """One transaction: committed on success, rolled back on any exception."""
    with engine.begin() as conn:
        yield conn

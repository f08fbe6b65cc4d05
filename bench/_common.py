"""What the benchmarks share: fresh databases, timing, medians, the header, the results table.

Imported by every ``bench/bench_*.py`` as ``from _common import ...`` (Python puts the script's
folder first on ``sys.path``); it also puts the project root on ``sys.path``, so the benches run
from a checkout without an editable install.

Only the standard library is imported at module level: ``bench_cli.py`` measures the CLI's cold
start and must not pay for (or hide) SQLAlchemy. The database backends import the library when
they are created.

* :class:`SQLiteBackend`: a migrated empty file made once (as ``tests/conftest.py`` does), copied
  for every fresh database and opened with ``Tracker.open("sqlite:///…")``, so the library's own
  engine settings (pragmas, explicit ``BEGIN``) apply;
* :class:`PostgresBackend`: a new schema ``bench_<random>`` for every fresh database, opened with
  ``Tracker.open(url, schema=…)`` and dropped with ``CASCADE``; :func:`postgres_backend` says why
  the server cannot be used instead of failing (the SQLite part still runs);
* :func:`timed` / :func:`seconds`: one measurement after ``gc.collect()``; :func:`fmt`: median,
  min and max; :func:`report`: the table of medians and their ratios to a floor measured in the
  same run.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

if TYPE_CHECKING:
    from sqlalchemy import Table

    from kttt_workflow.service import Tracker

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
DB_KINDS = ("sqlite", "postgres", "both")


def pg_url() -> str:
    """The PostgreSQL the benches use: ``$KTTT_TEST_DATABASE_URL``, else the local test database."""
    return os.environ.get("KTTT_TEST_DATABASE_URL") or DEFAULT_PG_URL


# ------------------------------------------------------------------------------------------------
# Output
# ------------------------------------------------------------------------------------------------
def log(msg: str = "") -> None:
    print(msg, flush=True)


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def banner(title: str, *lines: str) -> None:
    """The first lines of every bench: what ran, when (UTC), on what."""
    log(f"kttt-workflow {title} benchmark, {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}")
    log(
        f"Python {platform.python_version()} ({platform.python_implementation()}), "
        f"{platform.system()} {platform.machine()}, CPUs: {os.cpu_count()}, "
        f"load average at start: {load_average()}"
    )
    for line in lines:
        log(line)


def footer(started: float) -> None:
    log(
        f"total benchmark wall time: {time.perf_counter() - started:.0f}s; "
        f"load average at the end: {load_average()}"
    )


@contextmanager
def scratch(prefix: str, keep: bool = False) -> Iterator[Path]:
    """A temporary folder for one bench run, removed at the end unless ``keep``."""
    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield tmp
    finally:
        if keep:
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def add_db_arguments(ap: argparse.ArgumentParser) -> None:
    """``--repeat`` and ``--db``, as the database benches take them."""
    ap.add_argument(
        "--repeat", type=int, default=1, help="repetitions per database kind (default 1)"
    )
    ap.add_argument("--db", choices=DB_KINDS, default="both")


# ------------------------------------------------------------------------------------------------
# Measurements
# ------------------------------------------------------------------------------------------------
def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Seconds ``fn()`` took, and what it returned."""
    gc.collect()  # do not bill one measurement for the garbage of the previous one
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def seconds(fn: Callable[[], Any]) -> float:
    return timed(fn)[0]


def median(xs: Iterable[float]) -> float:
    return statistics.median(xs)


def fmt(
    xs: Sequence[float], *, digits: int = 2, scale: float = 1.0, unit: str = "", width: int = 8
) -> str:
    """``median min max`` of ``xs``, each ``scale``-d, in columns of ``width`` (+ ``unit``)."""
    return " ".join(f"{x * scale:{width}.{digits}f}{unit}" for x in (median(xs), min(xs), max(xs)))


@dataclass
class Results:
    """Seconds per measure over the repetitions of one database kind (or of one run)."""

    kind: str
    n: int
    times: dict[str, list[float]] = field(default_factory=dict)
    checks: list[str] = field(default_factory=list)

    def add(self, name: str, sec: float) -> None:
        self.times.setdefault(name, []).append(sec)

    def last(self, name: str) -> float:
        return self.times[name][-1]

    def median(self, name: str) -> float:
        return median(self.times[name])


def report(
    results: Sequence[Results],
    measures: Sequence[str],
    ratio_header: str,
    ratios: Callable[[Results, str], str],
    notes: Callable[[Results], list[str]] = lambda r: [],
    skipped: Sequence[str] = (),
) -> None:
    """One row per database kind and measure: N, median / min / max, ``ratios(r, measure)``;
    then the kind's ``notes`` and what was checked, indented; then what was skipped."""
    log("")
    log("seconds (median / min / max over repetitions; each repetition in fresh databases)")
    log(f"{'db':<9}{'N':>8}  {'measure':<12}{'median':>8} {'min':>8} {'max':>8}   {ratio_header}")
    for r in results:
        for m in measures:
            if m in r.times:
                log(f"{r.kind:<9}{r.n:>8}  {m:<12}{fmt(r.times[m])}   {ratios(r, m)}".rstrip())
        for line in notes(r):
            log(f"{'':<19}{line}")
        for c in r.checks:
            log(f"{'':<19}checked: {c}")
    for s in skipped:
        log(s)


def count_rows(tracker: Tracker, table: Table) -> int:
    from sqlalchemy import func, select

    with tracker.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def bind_processors(table: Table, dialect: Any) -> dict[str, Callable[[Any], Any] | None]:
    """SQLAlchemy's own conversion of each column's values to what the driver takes."""
    return {c.name: c.type.dialect_impl(dialect).bind_processor(dialect) for c in table.columns}


# ------------------------------------------------------------------------------------------------
# Databases
# ------------------------------------------------------------------------------------------------
class Fresh(NamedTuple):
    tracker: Tracker
    handle: Any  # SQLite: the file's path; PostgreSQL: the schema's name


class Backend:
    """Fresh, migrated databases of one kind; :meth:`fill` puts a bench's data in each."""

    kind: str

    def prepare(self, log: Callable[[str], None]) -> None:
        """Untimed, once: whatever makes :meth:`fresh` cheap."""

    def fill(self, tracker: Tracker, handle: Any) -> None:
        """Untimed, in every fresh database before it is handed out."""

    @contextmanager
    def fresh(self) -> Iterator[Fresh]:
        raise NotImplementedError
        yield

    def driver_connect(self, handle: Any) -> Any:
        """A DB-API connection of the driver alone to a fresh database."""
        raise NotImplementedError

    def version(self) -> str:
        raise NotImplementedError

    def close(self) -> None:
        pass


class SQLiteBackend(Backend):
    kind = "sqlite"

    def __init__(self, tmp: Path) -> None:
        from kttt_workflow.store import db

        self.tmp = tmp
        self.template = tmp / "template.db"
        engine = db.make_engine(f"sqlite:///{self.template}")
        db.migrate(engine)
        engine.dispose()

    @contextmanager
    def fresh(self) -> Iterator[Fresh]:
        from kttt_workflow.service import Tracker

        path = self.tmp / f"kttt-{uuid.uuid4().hex[:8]}.db"
        shutil.copy(self.template, path)  # a migrated file (like tests/conftest.py)
        tracker = Tracker.open(f"sqlite:///{path}")
        try:
            self.fill(tracker, path)
            yield Fresh(tracker, path)
        finally:
            tracker.close()
            for p in (path, Path(f"{path}-journal"), Path(f"{path}-wal"), Path(f"{path}-shm")):
                p.unlink(missing_ok=True)

    def driver_connect(self, handle: Any) -> sqlite3.Connection:
        conn = sqlite3.connect(handle, isolation_level=None)
        conn.execute("PRAGMA foreign_keys=ON")
        return conn

    def version(self) -> str:
        return f"SQLite {sqlite3.sqlite_version} (files in {self.tmp})"


class PostgresBackend(Backend):
    kind = "postgres"

    def __init__(self, url: str) -> None:
        from sqlalchemy import create_engine

        from kttt_workflow.store import db

        self.url = url
        self.admin = create_engine(db.normalise_url(url), pool_pre_ping=True)
        self.dsn = libpq_dsn(url)

    @contextmanager
    def new_schema(self, keep: bool = False) -> Iterator[str]:
        """An empty schema ``bench_<random>``, dropped (``CASCADE``) afterwards unless ``keep``."""
        from sqlalchemy import text

        schema = f"bench_{uuid.uuid4().hex[:12]}"
        with self.admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        try:
            yield schema
        finally:
            if not keep:
                with self.admin.begin() as conn:
                    conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))

    @contextmanager
    def fresh(self) -> Iterator[Fresh]:
        from kttt_workflow.service import Tracker

        with self.new_schema() as schema:
            tracker = Tracker.open(self.url, schema=schema)
            try:
                self.fill(tracker, schema)
                yield Fresh(tracker, schema)
            finally:
                tracker.close()

    def driver_connect(self, handle: Any, **kw: Any) -> Any:
        import psycopg

        return psycopg.connect(self.dsn, options=f"-csearch_path={handle}", **kw)

    def version(self) -> str:
        from sqlalchemy import text

        with self.admin.connect() as conn:
            return "PostgreSQL " + conn.execute(text("SHOW server_version")).scalar_one()

    def close(self) -> None:
        self.admin.dispose()


def libpq_dsn(url: str) -> str:
    """``url`` as psycopg takes it (``postgresql://…``, password kept)."""
    from sqlalchemy.engine import make_url

    from kttt_workflow.store import db

    u = make_url(db.normalise_url(url)).set(drivername="postgresql")
    return u.render_as_string(hide_password=False)


def postgres_backend(
    url: str, factory: Callable[[str], Backend] = PostgresBackend
) -> tuple[Backend | None, str]:
    """The PostgreSQL backend, or None and the reason the server cannot be used."""
    try:
        import psycopg

        with psycopg.connect(libpq_dsn(url), connect_timeout=5) as c:
            c.execute("SELECT 1")
        return factory(url), ""
    except Exception as exc:  # noqa: BLE001 - any failure means "skip, and say why"
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return None, f"{type(exc).__name__}: {first}"


def select_backends(
    which: str,
    sqlite: Callable[[], Backend],
    postgres: Callable[[str], Backend] = PostgresBackend,
) -> tuple[list[Backend], list[str]]:
    """The backends ``--db`` asks for (each one's version logged), and the lines of those skipped."""
    from kttt_workflow.store import db

    backends: list[Backend] = []
    skipped: list[str] = []
    if which in ("sqlite", "both"):
        backends.append(sqlite())
    if which in ("postgres", "both"):
        url = pg_url()
        pg, why = postgres_backend(url, postgres)
        if pg is None:
            skipped.append(f"postgres: SKIPPED - server unreachable at {db.safe_url(url)} ({why})")
            log(skipped[-1])
        else:
            backends.append(pg)
    for b in backends:
        log(b.version())
    return backends, skipped

"""Benchmark: loading one directive that fans out to N tasks, against a raw bulk-insert floor.

Usage::

    .venv/bin/python bench/bench_load.py [--tasks 100000] [--repeat 1] [--db sqlite|postgres|both]
                                         [--time-registry] [--phases] [--keep]

For each database kind and each repetition, in a FRESH database (new SQLite file / new PostgreSQL
schema), it measures:

* ``load``      ``store.load([directive], until=2022-12-31)`` on a store that holds the registry
                (N communes + one group of all of them) but no task: YAML parse, validation,
                registry read, fan-out, fingerprints, staging insert, set-based merge, commit;
* ``reload``    the same file again on that store (idempotent path: finds and writes nothing);
* ``amended``   the same file with its deadline changed (every one of the N rows changes);
* ``floor_sa``  one ``conn.execute(insert(task), rows)`` of the same N rows in one transaction,
                rows built beforehand exactly like ``kttt_workflow.store.load._rows``;
* ``floor_dbapi`` the same rows through the DB-API driver alone (``sqlite3`` executemany /
                psycopg executemany), values pre-converted by SQLAlchemy's own bind processors;
* ``floor_copy`` (PostgreSQL only) the same rows through ``COPY task FROM STDIN``.

Migration and registry set-up are never inside a timed section. See ``bench/README.md``.
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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, func, insert, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from kttt_workflow.api import Store  # noqa: E402
from kttt_workflow.domain.calendar import default_calendar  # noqa: E402
from kttt_workflow.domain.fanout import fan_out  # noqa: E402
from kttt_workflow.spec.models import RegistryFile  # noqa: E402
from kttt_workflow.spec.validate import load_inputs  # noqa: E402
from kttt_workflow.store import db  # noqa: E402
from kttt_workflow.store import load as L  # noqa: E402
from kttt_workflow.store import tables as T  # noqa: E402

UNTIL = date(2022, 12, 31)
DEADLINE = "trong tháng 11/2022"
AMENDED_DEADLINE = "trong tháng 12/2022"
DIRECTIVE_CODE = "bench-kh-1"
GROUP_CODE = "bench-cac-xa"
PROVINCE_CODE = "bench-tinh"
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
TASK_T = T.task_t

MEASURES = ("load", "reload", "amended", "floor_sa", "floor_dbapi", "floor_copy")


# ------------------------------------------------------------------------------------------------
# Inputs
# ------------------------------------------------------------------------------------------------
def unit_code(i: int) -> str:
    return f"xa-{i:06d}"


def registry_yaml(n: int) -> str:
    lines = [
        "# Synthetic registry for bench/bench_load.py (not a real province).",
        "kind: registry",
        "levels:",
        "  - {code: tinh, name: Cấp tỉnh}",
        "  - {code: xa, name: Cấp xã}",
        "units:",
        f"  - {{code: {PROVINCE_CODE}, name: Ủy ban nhân dân tỉnh Bench, level: tinh}}",
    ]
    lines += [
        f"  - {{code: {unit_code(i)}, name: UBND xã {i:06d}, level: xa, parent: {PROVINCE_CODE}}}"
        for i in range(1, n + 1)
    ]
    lines += ["groups:", f"  - code: {GROUP_CODE}", "    name: UBND các xã", "    members:"]
    lines += [f"      - {unit_code(i)}" for i in range(1, n + 1)]
    return "\n".join(lines) + "\n"


def registry_data(n: int) -> dict[str, Any]:
    """The same registry as :func:`registry_yaml`, as the data the YAML parses into."""
    units = [{"code": PROVINCE_CODE, "name": "Ủy ban nhân dân tỉnh Bench", "level": "tinh"}]
    units += [
        {"code": unit_code(i), "name": f"UBND xã {i:06d}", "level": "xa", "parent": PROVINCE_CODE}
        for i in range(1, n + 1)
    ]
    return {
        "kind": "registry",
        "levels": [{"code": "tinh", "name": "Cấp tỉnh"}, {"code": "xa", "name": "Cấp xã"}],
        "units": units,
        "groups": [
            {
                "code": GROUP_CODE,
                "name": "UBND các xã",
                "members": [unit_code(i) for i in range(1, n + 1)],
            }
        ],
    }


def directive_yaml(deadline: str) -> str:
    return f"""# Synthetic directive for bench/bench_load.py: one task led by a group of every commune.
kind: directive
code: {DIRECTIVE_CODE}
document:
  type: plan
  symbol: 1/KH-UBND
  date: 2022-10-03
  issuer: {PROVINCE_CODE}
  title: Kế hoạch thử tải
focal_unit: {PROVINCE_CODE}
tasks:
  - id: "1"
    title: Các xã xây dựng kế hoạch thực hiện
    lead: {GROUP_CODE}
    deliverable: Kế hoạch của xã
    deadline: {deadline}
"""


@dataclass
class Inputs:
    n: int
    tmp: Path
    registry_file: Path
    directive_file: Path
    registry: RegistryFile
    rows: list[dict[str, Any]]  # the N task rows, ready for insert(task)


def prepare(n: int, tmp: Path) -> Inputs:
    registry_file = tmp / "registry.yaml"
    registry_file.write_text(registry_yaml(n), encoding="utf-8")
    directive_file = tmp / "directives" / "directive.yaml"
    directive_file.parent.mkdir()
    directive_file.write_text(directive_yaml(DEADLINE), encoding="utf-8")
    reg_model = RegistryFile.model_validate(registry_data(n))
    # Rows for the floors: the library's own fan-out and row dicts, plus the progress columns.
    from kttt_workflow.domain.registry import GroupInfo, Registry, UnitInfo

    reg = Registry(
        {lv.code: lv.name for lv in reg_model.levels},
        {u.code: UnitInfo(u.code, u.name, u.level, u.parent) for u in reg_model.units},
        {g.code: GroupInfo(g.code, g.name, tuple(g.members)) for g in reg_model.groups},
    )
    bundle = load_inputs([directive_file], reg, {})
    ((_, directive),) = bundle.directives
    at = L.now()
    rows = L._rows(fan_out(directive, bundle.registry, default_calendar(), UNTIL))
    for r in rows:
        r.update(state="open", created_at=at, updated_at=at)
    assert len(rows) == n, (len(rows), n)
    return Inputs(n, tmp, registry_file, directive_file, reg_model, rows)


# ------------------------------------------------------------------------------------------------
# Databases
# ------------------------------------------------------------------------------------------------
class Backend:
    kind: str

    @contextmanager
    def fresh(self) -> Iterator[tuple[Store, Any]]:
        """A fresh, migrated store; yields (store, handle for driver connections)."""
        raise NotImplementedError

    def driver_connect(self, handle: Any) -> Any:
        raise NotImplementedError

    def version(self) -> str:
        raise NotImplementedError

    def close(self) -> None:
        pass


class SQLiteBackend(Backend):
    kind = "sqlite"

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.template = tmp / "template.db"
        engine = db.make_engine(f"sqlite:///{self.template}")
        db.migrate(engine)
        engine.dispose()

    @contextmanager
    def fresh(self) -> Iterator[tuple[Store, Any]]:
        path = self.tmp / f"kttt-{uuid.uuid4().hex[:8]}.db"
        shutil.copy(self.template, path)  # a migrated, empty file (like tests/conftest.py)
        store = Store.open(f"sqlite:///{path}")
        try:
            yield store, path
        finally:
            store.close()
            for p in (path, Path(f"{path}-journal"), Path(f"{path}-wal"), Path(f"{path}-shm")):
                p.unlink(missing_ok=True)

    def driver_connect(self, handle: Any) -> Any:
        conn = sqlite3.connect(handle, isolation_level=None)
        conn.execute("PRAGMA foreign_keys=ON")
        return conn

    def version(self) -> str:
        return f"SQLite {sqlite3.sqlite_version} (file in {self.tmp})"


class PostgresBackend(Backend):
    kind = "postgres"

    def __init__(self, url: str) -> None:
        self.url = url
        self.admin = create_engine(db.normalise_url(url), pool_pre_ping=True)
        u = make_url(db.normalise_url(url)).set(drivername="postgresql")
        self.dsn = u.render_as_string(hide_password=False)

    @contextmanager
    def fresh(self) -> Iterator[tuple[Store, Any]]:
        schema = f"bench_{uuid.uuid4().hex[:12]}"
        with self.admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        store = Store.open(self.url, schema=schema)
        try:
            yield store, schema
        finally:
            store.close()
            with self.admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))

    def driver_connect(self, handle: Any) -> Any:
        import psycopg

        return psycopg.connect(self.dsn, options=f"-csearch_path={handle}")

    def version(self) -> str:
        with self.admin.connect() as conn:
            return "PostgreSQL " + conn.execute(text("SHOW server_version")).scalar_one()

    def close(self) -> None:
        self.admin.dispose()


def postgres_backend(url: str) -> tuple[PostgresBackend | None, str]:
    """The PostgreSQL backend, or None and the reason it is unavailable."""
    try:
        import psycopg

        dsn = make_url(db.normalise_url(url)).set(drivername="postgresql")
        with psycopg.connect(dsn.render_as_string(hide_password=False), connect_timeout=5) as c:
            c.execute("SELECT 1")
        return PostgresBackend(url), ""
    except Exception as exc:  # noqa: BLE001 - any failure means "skip, and say why"
        return (
            None,
            f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}",
        )


# ------------------------------------------------------------------------------------------------
# Measurements
# ------------------------------------------------------------------------------------------------
def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    gc.collect()  # do not bill one measurement for the garbage of the previous one
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def save_registry(store: Store, reg: RegistryFile) -> float:
    """Put the registry in the store with the library's own writer (YAML parse skipped)."""
    t0 = time.perf_counter()
    with store.engine.begin() as conn:
        L._save_registry(conn, [reg], L.RegistrySummary())
    return time.perf_counter() - t0


def count_tasks(store: Store) -> int:
    with store.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(TASK_T)).scalar_one()


def driver_values(
    store: Store, rows: list[dict[str, Any]]
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Rows as tuples of driver-level values, converted by SQLAlchemy's own bind processors."""
    dialect = store.engine.dialect
    cols = list(rows[0])
    procs = []
    for name in cols:
        typ = TASK_T.c[name].type
        procs.append(typ.dialect_impl(dialect).bind_processor(dialect))
    out = [tuple(p(r[c]) if p else r[c] for c, p in zip(cols, procs, strict=True)) for r in rows]
    return cols, out


def floor_sa(store: Store, rows: list[dict[str, Any]]) -> None:
    with store.engine.begin() as conn:
        conn.execute(insert(TASK_T), rows)


def floor_dbapi(
    backend: Backend, handle: Any, cols: list[str], values: list[tuple[Any, ...]]
) -> float:
    conn = backend.driver_connect(handle)
    try:
        collist = ", ".join(cols)
        if backend.kind == "sqlite":
            t0 = time.perf_counter()
            conn.execute("BEGIN")
            conn.executemany(
                f"INSERT INTO task ({collist}) VALUES ({', '.join('?' * len(cols))})", values
            )
            conn.execute("COMMIT")
        else:
            t0 = time.perf_counter()
            with conn.cursor() as cur:
                cur.executemany(
                    f"INSERT INTO task ({collist}) VALUES ({', '.join(['%s'] * len(cols))})", values
                )
            conn.commit()
        return time.perf_counter() - t0
    finally:
        conn.close()


def floor_copy(
    backend: Backend, handle: Any, cols: list[str], values: list[tuple[Any, ...]]
) -> float:
    conn = backend.driver_connect(handle)
    try:
        t0 = time.perf_counter()
        with conn.cursor() as cur, cur.copy(f"COPY task ({', '.join(cols)}) FROM STDIN") as cp:
            for v in values:
                cp.write_row(v)
        conn.commit()
        return time.perf_counter() - t0
    finally:
        conn.close()


@dataclass
class Results:
    kind: str
    n: int
    times: dict[str, list[float]] = field(default_factory=dict)
    registry_save: list[float] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)

    def add(self, name: str, seconds: float) -> None:
        self.times.setdefault(name, []).append(seconds)


def run_backend(backend: Backend, inp: Inputs, repeat: int, log: Callable[[str], None]) -> Results:
    res = Results(backend.kind, inp.n)
    original = directive_yaml(DEADLINE)
    amended = directive_yaml(AMENDED_DEADLINE)
    with backend.fresh() as (store, _):
        cols, values = driver_values(store, inp.rows)  # dialect-specific, once, untimed
    for rep in range(1, repeat + 1):
        # -- the library: load, reload, amended load --------------------------------------------
        with backend.fresh() as (store, _):
            res.registry_save.append(save_registry(store, inp.registry))
            inp.directive_file.write_text(original, encoding="utf-8")
            sec, (_, [s]) = timed(lambda: store.load([inp.directive_file], until=UNTIL))
            assert s.total == inp.n and s.added == inp.n, s
            res.add("load", sec)
            sec, (_, [s]) = timed(lambda: store.load([inp.directive_file], until=UNTIL))
            assert not s.changed_anything and s.unchanged == inp.n, s
            res.add("reload", sec)
            inp.directive_file.write_text(amended, encoding="utf-8")
            sec, (_, [s]) = timed(lambda: store.load([inp.directive_file], until=UNTIL))
            assert s.changed == inp.n, s
            res.add("amended", sec)
            inp.directive_file.write_text(original, encoding="utf-8")
            assert count_tasks(store) == inp.n
        log(
            f"  [{backend.kind} #{rep}] load {res.times['load'][-1]:.2f}s, "
            f"reload {res.times['reload'][-1]:.2f}s, amended {res.times['amended'][-1]:.2f}s"
        )
        # -- the floors, each in its own fresh database -----------------------------------------
        with backend.fresh() as (store, _):
            sec, _ = timed(lambda: floor_sa(store, inp.rows))
            res.add("floor_sa", sec)
            assert count_tasks(store) == inp.n
        with backend.fresh() as (store, handle):
            gc.collect()
            res.add("floor_dbapi", floor_dbapi(backend, handle, cols, values))
            assert count_tasks(store) == inp.n
        if backend.kind == "postgres":
            with backend.fresh() as (store, handle):
                gc.collect()
                res.add("floor_copy", floor_copy(backend, handle, cols, values))
                assert count_tasks(store) == inp.n
        log(
            f"  [{backend.kind} #{rep}] floor_sa {res.times['floor_sa'][-1]:.2f}s, "
            f"floor_dbapi {res.times['floor_dbapi'][-1]:.2f}s"
            + (
                f", floor_copy {res.times['floor_copy'][-1]:.2f}s"
                if "floor_copy" in res.times
                else ""
            )
        )
    res.checks.append(
        f"every repetition: load added {inp.n}, reload changed nothing, amended changed {inp.n}, "
        f"each floor wrote {inp.n} rows"
    )
    return res


# ------------------------------------------------------------------------------------------------
# Optional diagnostics
# ------------------------------------------------------------------------------------------------
def time_registry_load(backend: Backend, inp: Inputs) -> float:
    """``store.load([registry.yaml])`` once (YAML parse + validation + write)."""
    with backend.fresh() as (store, _):
        sec, _ = timed(lambda: store.load([inp.registry_file]))
    return sec


class _Probe:
    """Times the steps of a real ``store.load`` call: wraps the module-level functions that
    ``kttt_workflow.store.load`` looks up at call time, and times every ``Connection.execute``
    (compile + bind processing + driver; result fetching is not included)."""

    WRAPPED = ("read_registry", "read_implements", "load_inputs", "fan_out", "_rows")

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.spent: dict[str, float] = {}
        self.instances: list[Any] = []
        self._saved: dict[str, Any] = {}
        self._stack: list[float] = []

    def _add(self, key: str, sec: float) -> None:
        self.spent[key] = self.spent.get(key, 0.0) + sec

    def _wrap(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*a: Any, **k: Any) -> Any:
            t0 = time.perf_counter()
            out = fn(*a, **k)
            self._add(name, time.perf_counter() - t0)
            if name == "fan_out":
                self.instances = out
            return out

        return wrapper

    def _before(self, conn: Any, clause: Any, *rest: Any) -> None:
        self._stack.append(time.perf_counter())

    def _after(self, conn: Any, clause: Any, *rest: Any) -> None:
        # Connection.execute() as a whole: compilation, bind processing and the driver call
        # (fetching the result happens later and is not included).
        sec = time.perf_counter() - self._stack.pop()
        sql = clause if isinstance(clause, str) else str(clause)
        head = " ".join(sql.split()[:3]).upper()
        if head.startswith("INSERT INTO KTTT_STAGE"):
            self._add("sql: staging insert", sec)
        elif "KTTT_STAGE" in sql.upper():
            self._add("sql: merge statements (using the staging table)", sec)
        else:
            self._add("sql: other statements", sec)

    def __enter__(self) -> _Probe:
        from sqlalchemy import event

        for name in self.WRAPPED:
            if hasattr(L, name):
                self._saved[name] = getattr(L, name)
                setattr(L, name, self._wrap(name, self._saved[name]))
        event.listen(self.engine, "before_execute", self._before)
        event.listen(self.engine, "after_execute", self._after)
        return self

    def __exit__(self, *exc: Any) -> None:
        from sqlalchemy import event

        for name, fn in self._saved.items():
            setattr(L, name, fn)
        event.remove(self.engine, "before_execute", self._before)
        event.remove(self.engine, "after_execute", self._after)


PHASE_LABELS = (
    ("read_registry", "read_registry (N units from the store)"),
    ("read_implements", "read_implements"),
    ("load_inputs", "load_inputs (YAML parse, pydantic, checks)"),
    ("fan_out", "fan_out"),
    ("_rows", "_rows (row dicts + fingerprint)"),
    ("fingerprint", "  of which TaskInstance.fingerprint() [re-run]"),
    ("sql: staging insert", "execute: staging insert (N rows)"),
    ("sql: merge statements (using the staging table)", "execute: merge statements (join staging)"),
    ("sql: other statements", "execute: other (directive, events, DDL)"),
    ("rest", "rest (row fetches, Python in _merge, commit)"),
)


def phases(backend: Backend, inp: Inputs) -> list[tuple[str, float, float]]:
    """One load and one amended load on a fresh store, each split into its steps (seconds)."""
    cols: list[dict[str, float]] = []
    with backend.fresh() as (store, _):
        save_registry(store, inp.registry)
        for deadline in (DEADLINE, AMENDED_DEADLINE):
            inp.directive_file.write_text(directive_yaml(deadline), encoding="utf-8")
            gc.collect()
            with _Probe(store.engine) as probe:
                t0 = time.perf_counter()
                store.load([inp.directive_file], until=UNTIL)
                total = time.perf_counter() - t0
            spent = dict(probe.spent)
            spent["rest"] = total - sum(spent.values())
            gc.collect()
            t0 = time.perf_counter()
            for i in probe.instances:
                i.fingerprint()
            spent["fingerprint"] = time.perf_counter() - t0
            spent["total"] = total
            cols.append(spent)
    inp.directive_file.write_text(directive_yaml(DEADLINE), encoding="utf-8")
    rows = [(label, cols[0].get(key, 0.0), cols[1].get(key, 0.0)) for key, label in PHASE_LABELS]
    rows.append(("total store.load()", cols[0]["total"], cols[1]["total"]))
    return rows


# ------------------------------------------------------------------------------------------------
# Report
# ------------------------------------------------------------------------------------------------
def fmt(xs: list[float]) -> str:
    return f"{statistics.median(xs):8.2f} {min(xs):8.2f} {max(xs):8.2f}"


def report(results: list[Results], skipped: list[str], print_: Callable[[str], None]) -> None:
    print_("")
    print_("seconds (median / min / max over repetitions; each repetition in a fresh database)")
    print_(
        f"{'db':<9}{'N':>8}  {'measure':<12}{'median':>8} {'min':>8} {'max':>8}   vs floor_sa  vs driver floor"
    )
    for r in results:
        fsa = statistics.median(r.times["floor_sa"])
        drv_name = "floor_copy" if "floor_copy" in r.times else "floor_dbapi"
        fdrv = statistics.median(r.times[drv_name])
        for m in MEASURES:
            if m not in r.times:
                continue
            med = statistics.median(r.times[m])
            ratios = (
                f"{med / fsa:10.1f}x  {med / fdrv:10.1f}x"
                if m in ("load", "reload", "amended")
                else ""
            )
            print_(f"{r.kind:<9}{r.n:>8}  {m:<12}{fmt(r.times[m])}   {ratios}")
        print_(
            f"{'':<19}(driver floor = {drv_name}; repetitions: {len(r.times['load'])}; "
            f"registry set-up, untimed in the above: median {statistics.median(r.registry_save):.2f}s)"
        )
        for c in r.checks:
            print_(f"{'':<19}checked: {c}")
    for s in skipped:
        print_(s)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--tasks",
        type=int,
        default=100_000,
        help="N: communes in the group = tasks (default 100000)",
    )
    ap.add_argument(
        "--repeat", type=int, default=1, help="repetitions per database kind (default 1)"
    )
    ap.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    ap.add_argument(
        "--time-registry",
        action="store_true",
        help="also time store.load([registry.yaml]) once on SQLite (slow: ~1 min at N=100000)",
    )
    ap.add_argument(
        "--phases", action="store_true", help="also split one load into its steps (per db kind)"
    )
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory (YAML files)")
    args = ap.parse_args(argv)
    if args.tasks < 1 or args.repeat < 1:
        ap.error("--tasks and --repeat must be positive")

    def log(msg: str) -> None:
        print(msg, flush=True)

    started = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix="kttt-bench-"))
    pg_url = os.environ.get("KTTT_TEST_DATABASE_URL") or DEFAULT_PG_URL
    try:
        import psycopg
        import pydantic
        import sqlalchemy
        import yaml

        log(f"kttt-workflow load benchmark, {time.strftime('%Y-%m-%d %H:%M:%S %Z')}")
        log(
            f"Python {platform.python_version()} ({platform.python_implementation()}), "
            f"{platform.system()} {platform.machine()}, CPUs: {os.cpu_count()}"
        )
        log(
            f"SQLAlchemy {sqlalchemy.__version__}, pydantic {pydantic.__version__}, "
            f"PyYAML {yaml.__version__} (libyaml available: {yaml.__with_libyaml__}), psycopg {psycopg.__version__}"
        )
        log(
            f"N = {args.tasks} tasks (1 task x {args.tasks} communes), repeat = {args.repeat}, db = {args.db}"
        )
        t0 = time.perf_counter()
        inp = prepare(args.tasks, tmp)
        log(
            f"prepared inputs and the floor rows in {time.perf_counter() - t0:.1f}s (untimed); "
            f"registry.yaml {inp.registry_file.stat().st_size / 1e6:.1f} MB in {tmp}"
        )

        backends: list[Backend] = []
        skipped: list[str] = []
        if args.db in ("sqlite", "both"):
            backends.append(SQLiteBackend(tmp))
        if args.db in ("postgres", "both"):
            pg, why = postgres_backend(pg_url)
            if pg is None:
                skipped.append(
                    f"postgres: SKIPPED - server unreachable at {db.safe_url(pg_url)} ({why})"
                )
                log(skipped[-1])
            else:
                backends.append(pg)
        for b in backends:
            log(b.version())

        results: list[Results] = []
        for b in backends:
            results.append(run_backend(b, inp, args.repeat, log))

        extra: list[str] = []
        sqlite_backend = next((b for b in backends if b.kind == "sqlite"), None)
        if args.time_registry and sqlite_backend is not None:
            sec = time_registry_load(sqlite_backend, inp)
            extra.append(
                f"registry load, store.load([registry.yaml]) with {args.tasks + 1} units, "
                f"once on SQLite: {sec:.2f}s"
            )
        if args.phases:
            for b in backends:
                extra.append(f"{b.kind}: one load and one amended load, step by step (seconds):")
                extra.append(f"  {'step':<52}{'load':>7}{'amended':>9}")
                extra += [f"  {name:<52}{a:7.2f}{m:9.2f}" for name, a, m in phases(b, inp)]

        report(results, skipped, log)
        for line in extra:
            log(line)
        log(f"total benchmark wall time: {time.perf_counter() - started:.0f}s")
        for b in backends:
            b.close()
        return 0
    finally:
        if args.keep:
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

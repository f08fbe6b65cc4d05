"""Benchmark: loading one directive that fans out to N tasks, against a raw bulk-insert floor.

Usage::

    .venv/bin/python bench/bench_load.py [--tasks 100000] [--repeat 1] [--db sqlite|postgres|both]
                                         [--time-registry] [--phases] [--keep]

For each database kind and each repetition, in a FRESH database (new SQLite file / new PostgreSQL
schema), it measures:

* ``load``      ``tracker.load([directive], until=2022-12-31)`` on a store that holds the registry
                (N communes + one group of all of them) but no task: YAML parse, validation,
                registry read, fan-out, fingerprints, the rows written (a first load: straight
                into ``task``), one "created" history row each, commit;
* ``reload``    the same file again on that store (idempotent path: finds and writes nothing);
* ``amended``   the same file with its deadline changed (every one of the N rows changes);
* ``floor_sa``  one ``conn.execute(insert(task), rows)`` of the same N rows in one transaction,
                rows built beforehand by ``kttt_workflow.domain.fanout.fan_out_rows`` (with the
                columns a first load writes besides: state, time stamps, ``next_step_on``);
* ``floor_dbapi`` the same rows through the DB-API driver alone (``sqlite3`` executemany /
                psycopg executemany), values pre-converted by SQLAlchemy's own bind processors;
* ``floor_copy`` (PostgreSQL only) the same rows through ``COPY task FROM STDIN`` (text format,
                ``write_row``): the driver floor the ratios are given against;
* ``floor_bin`` (PostgreSQL only) the same with ``(FORMAT BINARY)``, as the library's bulk
                insert writes (``store.db.bulk_insert``): the stricter floor, shown beside.

Migration and registry set-up are never inside a timed section. See ``bench/README.md``.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from _common import (
    Backend,
    Results,
    SQLiteBackend,
    add_db_arguments,
    banner,
    bind_processors,
    count_rows,
    footer,
    log,
    median,
    report,
    scratch,
    select_backends,
    timed,
)
from sqlalchemy import insert

from kttt_workflow import config, service
from kttt_workflow.domain import fanout
from kttt_workflow.domain.directive import RegistryFile
from kttt_workflow.domain.registry import GroupInfo, Registry, UnitInfo
from kttt_workflow.inputs.defaults import default_calendar
from kttt_workflow.inputs.validate import load_inputs
from kttt_workflow.service import Tracker
from kttt_workflow.store import db
from kttt_workflow.store import load as L
from kttt_workflow.store import registry as R
from kttt_workflow.store import tables as T

UNTIL = date(2022, 12, 31)
DEADLINE = "trong tháng 11/2022"
AMENDED_DEADLINE = "trong tháng 12/2022"
DIRECTIVE_CODE = "bench-kh-1"
GROUP_CODE = "bench-cac-xa"
PROVINCE_CODE = "bench-tinh"
TASK_T = T.task_t

MEASURES = (
    "load", "reload", "amended", "floor_sa", "floor_dbapi", "floor_copy", "floor_bin"
)  # fmt: skip


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
    reg = Registry(
        {lv.code: lv.name for lv in reg_model.levels},
        {u.code: UnitInfo(u.code, u.name, u.level, u.parent) for u in reg_model.units},
        {g.code: GroupInfo(g.code, g.name, tuple(g.members)) for g in reg_model.groups},
    )
    bundle = load_inputs([directive_file], reg, {})
    ((_, directive),) = bundle.directives
    at = config.utcnow()
    fanned = fanout.fan_out_rows(directive, bundle.registry, default_calendar(), UNTIL)
    rows = [floor_row(r, at) for r in fanned]
    assert len(rows) == n, (len(rows), n)
    return Inputs(n, tmp, registry_file, directive_file, reg_model, rows)


def floor_row(row: tuple[Any, ...], at: datetime) -> dict[str, Any]:
    """A row of ``fanout.fan_out_rows`` as ``insert(task)`` takes it, with the columns a first load
    writes besides (state, time stamps, ``next_step_on``): the same row the load writes."""
    return L.first_load_values(row, at)


def settle() -> None:
    """Keep the bench's own data out of the garbage collector's way: the prepared inputs (the
    registry model, the floors' rows: some 800,000 objects at N = 100,000) move to the permanent
    generation (``gc.freeze``), so that a full collection during a timed load scans what the
    load itself holds, as in a ``kttt load`` process, not the bench's inputs as well (0.36 s
    for each such collection at N = 100,000, against 0.04 s)."""
    gc.collect()
    gc.freeze()


# ------------------------------------------------------------------------------------------------
# Measurements
# ------------------------------------------------------------------------------------------------
def save_registry(tracker: Tracker, reg: RegistryFile) -> float:
    """Put the registry in the store with the library's own writer (YAML parse skipped)."""
    t0 = time.perf_counter()
    with tracker.engine.begin() as conn:
        R.save_registry(conn, [reg])
    return time.perf_counter() - t0


def driver_values(
    tracker: Tracker, rows: list[dict[str, Any]]
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Rows as tuples of driver-level values, converted by SQLAlchemy's own bind processors."""
    procs = bind_processors(TASK_T, tracker.engine.dialect)
    cols = list(rows[0])
    conv = [procs[c] for c in cols]
    out = [tuple(p(r[c]) if p else r[c] for c, p in zip(cols, conv, strict=True)) for r in rows]
    return cols, out


def floor_sa(tracker: Tracker, rows: list[dict[str, Any]]) -> None:
    with tracker.engine.begin() as conn:
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
    backend: Backend,
    handle: Any,
    cols: list[str],
    values: list[tuple[Any, ...]],
    binary: bool = False,
) -> float:
    conn = backend.driver_connect(handle)
    try:
        with conn.cursor() as cur:  # the columns' types, for the binary format (untimed)
            cur.execute(
                "SELECT attname, atttypid FROM pg_attribute"
                " WHERE attrelid = 'task'::regclass AND attnum > 0"
            )
            oid = dict(cur.fetchall())
        conn.commit()
        how = " (FORMAT BINARY)" if binary else ""
        t0 = time.perf_counter()
        with conn.cursor() as cur, cur.copy(f"COPY task ({', '.join(cols)}) FROM STDIN{how}") as cp:
            if binary:
                cp.set_types([oid[c] for c in cols])
            for v in values:
                cp.write_row(v)
        conn.commit()
        return time.perf_counter() - t0
    finally:
        conn.close()


@dataclass
class LoadResults(Results):
    registry_save: list[float] = field(default_factory=list)


def run_backend(backend: Backend, inp: Inputs, repeat: int) -> LoadResults:
    res = LoadResults(backend.kind, inp.n)
    original = directive_yaml(DEADLINE)
    amended = directive_yaml(AMENDED_DEADLINE)
    with backend.fresh() as (tracker, _):
        cols, values = driver_values(tracker, inp.rows)  # dialect-specific, once, untimed
    settle()
    for rep in range(1, repeat + 1):
        # -- the library: load, reload, amended load --------------------------------------------
        with backend.fresh() as (tracker, _):
            res.registry_save.append(save_registry(tracker, inp.registry))
            inp.directive_file.write_text(original, encoding="utf-8")
            sec, (_, [s]) = timed(lambda: tracker.load([inp.directive_file], until=UNTIL))
            assert s.total == inp.n and s.added == inp.n, s
            res.add("load", sec)
            sec, (_, [s]) = timed(lambda: tracker.load([inp.directive_file], until=UNTIL))
            assert not s.changed_anything and s.unchanged == inp.n, s
            res.add("reload", sec)
            inp.directive_file.write_text(amended, encoding="utf-8")
            sec, (_, [s]) = timed(lambda: tracker.load([inp.directive_file], until=UNTIL))
            assert s.changed == inp.n, s
            res.add("amended", sec)
            inp.directive_file.write_text(original, encoding="utf-8")
            assert count_rows(tracker, TASK_T) == inp.n
        log(
            f"  [{backend.kind} #{rep}] load {res.last('load'):.2f}s, "
            f"reload {res.last('reload'):.2f}s, amended {res.last('amended'):.2f}s"
        )
        # -- the floors, each in its own fresh database -----------------------------------------
        with backend.fresh() as (tracker, _):
            sec, _ = timed(lambda: floor_sa(tracker, inp.rows))
            res.add("floor_sa", sec)
            assert count_rows(tracker, TASK_T) == inp.n
        with backend.fresh() as (tracker, handle):
            gc.collect()
            res.add("floor_dbapi", floor_dbapi(backend, handle, cols, values))
            assert count_rows(tracker, TASK_T) == inp.n
        if backend.kind == "postgres":
            for name, binary in (("floor_copy", False), ("floor_bin", True)):
                with backend.fresh() as (tracker, handle):
                    gc.collect()
                    res.add(name, floor_copy(backend, handle, cols, values, binary))
                    assert count_rows(tracker, TASK_T) == inp.n
        copy = (
            f", floor_copy {res.last('floor_copy'):.2f}s, floor_bin {res.last('floor_bin'):.2f}s"
            if "floor_copy" in res.times
            else ""
        )
        log(
            f"  [{backend.kind} #{rep}] floor_sa {res.last('floor_sa'):.2f}s, "
            f"floor_dbapi {res.last('floor_dbapi'):.2f}s{copy}"
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
    """``tracker.load([registry.yaml])`` once (YAML parse + validation + write)."""
    with backend.fresh() as (tracker, _):
        sec, _ = timed(lambda: tracker.load([inp.registry_file]))
    return sec


class _Probe:
    """Times the steps of a real ``Tracker.load`` call: wraps the module-level functions that
    ``kttt_workflow.service`` looks up at call time (through their modules, or in its own
    namespace for ``load_inputs``), and times every ``Connection.execute`` (compile + bind
    processing + driver; result fetching is not included)."""

    WRAPPED: tuple[tuple[Any, str], ...] = (
        (R, "read_registry"),
        (R, "read_implements"),
        (R, "read_policy_codes"),
        (service, "load_inputs"),
        (fanout, "fan_out_rows"),
        (db, "bulk_insert"),  # timed per table: "bulk_insert <table>"
    )

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.spent: dict[str, float] = {}
        self._saved: list[tuple[Any, str, Any]] = []
        self._stack: list[float] = []
        self._inside = 0  # within a wrapped function, whose time includes its statements

    def _add(self, key: str, sec: float) -> None:
        self.spent[key] = self.spent.get(key, 0.0) + sec

    def _wrap(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*a: Any, **k: Any) -> Any:
            t0 = time.perf_counter()
            self._inside += 1
            try:
                out = fn(*a, **k)
            finally:
                self._inside -= 1
            key = f"{name} {a[1].name}" if name == "bulk_insert" else name
            self._add(key, time.perf_counter() - t0)
            self._add(name, 0.0)  # called (checked after the load)
            return out

        return wrapper

    def _before(self, conn: Any, clause: Any, *rest: Any) -> None:
        self._stack.append(time.perf_counter())

    def _after(self, conn: Any, clause: Any, *rest: Any) -> None:
        # Connection.execute() as a whole: compilation, bind processing and the driver call
        # (fetching the result happens later and is not included).
        sec = time.perf_counter() - self._stack.pop()
        if self._inside:
            return  # counted in the wrapped function's own time
        sql = (clause if isinstance(clause, str) else str(clause)).upper()
        if "KTTT_STAGE" in sql:
            self._add("sql: merge statements (using the staging table)", sec)
        elif sql.startswith("INSERT INTO TASK_EVENT"):
            self._add("sql: history rows", sec)
        elif sql.startswith("ANALYZE"):
            self._add("sql: analyze", sec)
        else:
            self._add("sql: other statements", sec)

    def __enter__(self) -> _Probe:
        from sqlalchemy import event

        for module, name in self.WRAPPED:
            fn = getattr(module, name)  # a renamed function must fail here, not go untimed
            self._saved.append((module, name, fn))
            setattr(module, name, self._wrap(name, fn))
        event.listen(self.engine, "before_execute", self._before)
        event.listen(self.engine, "after_execute", self._after)
        return self

    def __exit__(self, *exc: Any) -> None:
        from sqlalchemy import event

        for module, name, fn in self._saved:
            setattr(module, name, fn)
        event.remove(self.engine, "before_execute", self._before)
        event.remove(self.engine, "after_execute", self._after)


PHASE_LABELS = (
    ("read_registry", "read_registry (N units from the store)"),
    ("read_implements", "read_implements"),
    ("read_policy_codes", "read_policy_codes"),
    ("load_inputs", "load_inputs (YAML parse, pydantic, checks)"),
    ("fan_out_rows", "fan_out_rows (rows and their fingerprints)"),
    ("bulk_insert task", "bulk insert into task (first load)"),
    ("bulk_insert kttt_stage_task", "bulk insert into the staging table"),
    ("bulk_insert task_event", "bulk insert of history rows"),
    ("sql: merge statements (using the staging table)", "execute: merge statements (join staging)"),
    ("sql: history rows", "execute: history rows (INSERT … SELECT)"),
    ("sql: analyze", "execute: ANALYZE (PostgreSQL)"),
    ("sql: other statements", "execute: other (directive, policies, lineage, DDL)"),
    ("rest", "rest (row fetches, Python in the merge, commit)"),
)


def phases(backend: Backend, inp: Inputs) -> list[tuple[str, float, float]]:
    """One load and one amended load on a fresh store, each split into its steps (seconds)."""
    cols: list[dict[str, float]] = []
    with backend.fresh() as (tracker, _):
        save_registry(tracker, inp.registry)
        for deadline in (DEADLINE, AMENDED_DEADLINE):
            inp.directive_file.write_text(directive_yaml(deadline), encoding="utf-8")
            gc.collect()
            with _Probe(tracker.engine) as probe:
                t0 = time.perf_counter()
                tracker.load([inp.directive_file], until=UNTIL)
                total = time.perf_counter() - t0
            uncalled = [name for _, name in _Probe.WRAPPED if name not in probe.spent]
            assert not uncalled, f"Tracker.load no longer calls {uncalled} through their modules"
            spent = dict(probe.spent)
            spent["rest"] = total - sum(spent.values())
            spent["total"] = total
            cols.append(spent)
    inp.directive_file.write_text(directive_yaml(DEADLINE), encoding="utf-8")
    rows = [(label, cols[0].get(key, 0.0), cols[1].get(key, 0.0)) for key, label in PHASE_LABELS]
    rows.append(("total tracker.load()", cols[0]["total"], cols[1]["total"]))
    return rows


# ------------------------------------------------------------------------------------------------
# Report
# ------------------------------------------------------------------------------------------------
def driver_floor(r: Results) -> str:
    return "floor_copy" if "floor_copy" in r.times else "floor_dbapi"


def ratios(r: Results, m: str) -> str:
    if m not in ("load", "reload", "amended"):
        return ""
    med = r.median(m)
    out = f"{med / r.median('floor_sa'):10.1f}x  {med / r.median(driver_floor(r)):10.1f}x"
    if "floor_bin" in r.times:
        out += f"  ({med / r.median('floor_bin'):.1f}x floor_bin)"
    return out


def notes(r: Results) -> list[str]:
    assert isinstance(r, LoadResults)
    return [
        f"(driver floor = {driver_floor(r)}; repetitions: {len(r.times['load'])}; "
        f"registry set-up, untimed in the above: median {median(r.registry_save):.2f}s)"
    ]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--tasks",
        type=int,
        default=100_000,
        help="N: communes in the group = tasks (default 100000)",
    )
    add_db_arguments(ap)
    ap.add_argument(
        "--time-registry",
        action="store_true",
        help="also time tracker.load([registry.yaml]) once on SQLite (slow: ~1 min at N=100000)",
    )
    ap.add_argument(
        "--phases", action="store_true", help="also split one load into its steps (per db kind)"
    )
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory (YAML files)")
    args = ap.parse_args(argv)
    if args.tasks < 1 or args.repeat < 1:
        ap.error("--tasks and --repeat must be positive")

    started = time.perf_counter()
    with scratch("kttt-bench-", args.keep) as tmp:
        import psycopg
        import pydantic
        import sqlalchemy
        import yaml

        banner(
            "load",
            f"SQLAlchemy {sqlalchemy.__version__}, pydantic {pydantic.__version__}, "
            f"PyYAML {yaml.__version__} (libyaml available: {yaml.__with_libyaml__}), "
            f"psycopg {psycopg.__version__}",
            f"N = {args.tasks} tasks (1 task x {args.tasks} communes), repeat = {args.repeat}, "
            f"db = {args.db}",
        )
        t0 = time.perf_counter()
        inp = prepare(args.tasks, tmp)
        settle()
        log(
            f"prepared inputs and the floor rows in {time.perf_counter() - t0:.1f}s (untimed); "
            f"registry.yaml {inp.registry_file.stat().st_size / 1e6:.1f} MB in {tmp}"
        )
        backends, skipped = select_backends(args.db, lambda: SQLiteBackend(tmp))
        results = [run_backend(b, inp, args.repeat) for b in backends]

        extra: list[str] = []
        sqlite_backend = next((b for b in backends if b.kind == "sqlite"), None)
        if args.time_registry and sqlite_backend is not None:
            sec = time_registry_load(sqlite_backend, inp)
            extra.append(
                f"registry load, tracker.load([registry.yaml]) with {args.tasks + 1} units, "
                f"once on SQLite: {sec:.2f}s"
            )
        if args.phases:
            for b in backends:
                extra.append(f"{b.kind}: one load and one amended load, step by step (seconds):")
                extra.append(f"  {'step':<52}{'load':>7}{'amended':>9}")
                extra += [f"  {name:<52}{a:7.2f}{m:9.2f}" for name, a, m in phases(b, inp)]

        report(results, MEASURES, "vs floor_sa  vs driver floor", ratios, notes, skipped)
        for line in extra:
            log(line)
        footer(started)
        for b in backends:
            b.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())

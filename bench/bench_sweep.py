"""Benchmark: the sweep's decisions (``record_notices``) over N open tasks, against a bulk-insert floor.

Usage::

    .venv/bin/python bench/bench_sweep.py [--tasks 1000000] [--repeat 1] [--db sqlite|postgres|both]
                                          [--units 1000] [--explain]

Set-up, never timed: a store holding ~1,000 units (each commune has a district parent, each
district the province), one directive row, the default escalation policy (``mac-dinh``) and N OPEN
task rows written directly (sqlite3 ``executemany`` / PostgreSQL ``COPY``; no YAML, no fan-out).
Due dates are spread over 200 distinct working days around the as-of date, so that most tasks
have reached a step of the ladder on that date.

For each database kind and each repetition, in FRESH databases (a copy of a prepared SQLite file /
a new PostgreSQL schema filled the same way), it measures:

* ``sweep``       ``record_notices(conn, as_of, calendar, sweep_id=None)`` in one transaction
                  (commit included): the decisions and the ledger rows they make;
* ``sweep_again`` the same call again, same as-of date, same store: nothing new to record
                  (the idempotent path; checked to add 0 rows);
* ``floor``       in another fresh database with the same N tasks: one plain
                  ``INSERT INTO notice (…) SELECT … FROM task`` writing the same number of ledger
                  rows with no decision logic, in one transaction (commit included).

``--explain`` also runs one sweep per database kind with every statement timed, and prints the
plan of each ``INSERT … SELECT`` (PostgreSQL: ``EXPLAIN (ANALYZE, BUFFERS)`` inside a savepoint
that is rolled back; SQLite: ``EXPLAIN QUERY PLAN``). See ``bench/README.md``.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import io
import os
import platform
import random
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
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import (  # noqa: E402
    Boolean,
    Integer,
    String,
    create_engine,
    event,
    func,
    insert,
    literal,
    select,
    text,
    true,
    union_all,
)
from sqlalchemy.engine import make_url  # noqa: E402

from kttt_workflow.api import Store  # noqa: E402
from kttt_workflow.domain.calendar import default_calendar  # noqa: E402
from kttt_workflow.domain.fanout import DEFAULT_POLICY  # noqa: E402
from kttt_workflow.store import db  # noqa: E402
from kttt_workflow.store import load as L  # noqa: E402
from kttt_workflow.store import sweep as S  # noqa: E402
from kttt_workflow.store import tables as T  # noqa: E402

AS_OF = date(2025, 6, 16)  # a Monday
DAYS_BEFORE = 120  # distinct working days of due dates on or before AS_OF ...
DAYS_AFTER = 80  # ... and after it: 200 distinct due dates
DIRECTIVE_CODE = "bench-sweep"
PROVINCE = "bench-tinh"
FOCAL = "bench-so-noi-vu"
DISTRICTS = 50
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
TASK_T, NOTICE_T = T.task_t, T.notice_t
NOTICE_COLS = list(S.NOTICE_COLUMNS)
MEASURES = ("sweep", "sweep_again", "floor")


# ------------------------------------------------------------------------------------------------
# Synthetic data
# ------------------------------------------------------------------------------------------------
def commune(i: int) -> str:
    return f"xa-{i:04d}"


def district(j: int) -> str:
    return f"huyen-{j:02d}"


def unit_rows(n_communes: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = [
        {"code": PROVINCE, "name": "UBND tỉnh Bench", "level": "tinh", "parent_code": None},
        {"code": FOCAL, "name": "Sở Nội vụ", "level": "so", "parent_code": PROVINCE},
    ]
    rows += [
        {
            "code": district(j),
            "name": f"UBND huyện {j:02d}",
            "level": "huyen",
            "parent_code": PROVINCE,
        }
        for j in range(1, DISTRICTS + 1)
    ]
    rows += [
        {
            "code": commune(i),
            "name": f"UBND xã {i:04d}",
            "level": "xa",
            "parent_code": district((i - 1) % DISTRICTS + 1),
        }
        for i in range(1, n_communes + 1)
    ]
    for r in rows:
        r.update(aliases=[], targets=[])
    return rows


LEVELS = [
    {"code": "tinh", "name": "Cấp tỉnh", "position": 0},
    {"code": "so", "name": "Sở, ngành", "position": 1},
    {"code": "huyen", "name": "Cấp huyện", "position": 2},
    {"code": "xa", "name": "Cấp xã", "position": 3},
]


def directive_row(at: datetime) -> dict[str, Any]:
    return {
        "code": DIRECTIVE_CODE,
        "doc_type": "plan",
        "symbol": "99/KH-UBND",
        "issued_on": AS_OF - timedelta(days=365),
        "issuer": PROVINCE,
        "title": "Kế hoạch thử tải quét nhắc việc",
        "implements": [],
        "focal_unit": FOCAL,
        "issuer_code": PROVINCE,
        "roll_to_working_day": True,
        "source_path": "bench/bench_sweep.py",
        "content_sha256": "0" * 64,
        "spec": {},
        "loaded_at": at,
        "updated_at": at,
    }


def due_days() -> list[date]:
    """200 distinct working days: DAYS_BEFORE up to AS_OF (included), DAYS_AFTER after it."""
    cal = default_calendar()
    before = [cal.add_working_days(AS_OF, -k) for k in range(DAYS_BEFORE - 1, 0, -1)]
    after = [cal.add_working_days(AS_OF, k) for k in range(1, DAYS_AFTER + 1)]
    return [*before, AS_OF, *after]


TASK_COLS = [c.name for c in TASK_T.columns]


def task_values(n: int, n_communes: int, dialect: Any) -> list[tuple[Any, ...]]:
    """N task rows as tuples of driver-level values (SQLAlchemy's own bind processors, memoised
    per distinct value), in ``TASK_COLS`` order."""
    procs = {c.name: c.type.dialect_impl(dialect).bind_processor(dialect) for c in TASK_T.columns}

    def conv(col: str) -> Callable[[Any], Any]:
        p = procs[col]
        if p is None:
            return lambda v: v
        cache: dict[Any, Any] = {}

        def f(v: Any) -> Any:
            key = tuple(v) if isinstance(v, list) else v
            if key not in cache:
                cache[key] = p(v)
            return cache[key]

        return f

    c_date, c_json, c_bool, c_dt = (
        conv("due_on"),
        conv("coordinating"),
        conv("key_task"),
        conv("created_at"),
    )
    at = c_dt(datetime(2025, 1, 6, 8, 0, tzinfo=UTC))
    false = c_bool(False)
    days = due_days()
    day_vals = [(c_date(d), f"trước ngày {d:%d/%m/%Y}") for d in days]
    coord = {}
    for i in range(1, n_communes + 1):
        j, k = i % n_communes + 1, (i + 1) % n_communes + 1
        coord[i] = [c_json([]), c_json([commune(j)]), c_json([commune(j), commune(k)])]
    rng = random.Random(20250616)
    n_days = len(days)
    keys = -(-n // n_communes)
    out: list[tuple[Any, ...]] = []
    md5 = hashlib.md5
    for key in range(1, keys + 1):
        sk = str(key)
        title = f"Nhiệm vụ số {key} của kế hoạch thử tải"
        for i in range(1, n_communes + 1):
            if len(out) == n:
                break
            unit = commune(i)
            tid = f"{DIRECTIVE_CODE}/{sk}/{unit}"
            due, dtext = day_vals[rng.randrange(n_days)]
            out.append(
                (
                    tid,  # id
                    DIRECTIVE_CODE,  # directive_code
                    sk,  # task_key
                    None,  # parent_key
                    None,  # parent_task_id
                    unit,  # unit_code
                    None,  # period
                    None,  # starts_on
                    title,  # title
                    "Báo cáo kết quả thực hiện",  # deliverable
                    coord[i][(key + i) % 3],  # coordinating: 0, 1 or 2 units
                    None,  # coordinating_other
                    None,  # issuing_authority
                    dtext,  # deadline_text
                    "fixed",  # deadline_kind
                    due,  # nominal_due_on
                    due,  # due_on
                    false,  # key_task
                    DEFAULT_POLICY,  # policy_code
                    "immediate",  # activation
                    None,  # activated_on
                    "open",  # state
                    None,  # completed_on
                    md5(tid.encode()).hexdigest(),  # fingerprint
                    at,  # created_at
                    at,  # updated_at
                )
            )
    assert len(out) == n and len(out[0]) == len(TASK_COLS), (len(out), n)
    expected = [
        "id", "directive_code", "task_key", "parent_key", "parent_task_id", "unit_code",
        "period", "starts_on", "title", "deliverable", "coordinating", "coordinating_other",
        "issuing_authority", "deadline_text", "deadline_kind", "nominal_due_on", "due_on",
        "key_task", "policy_code", "activation", "activated_on", "state", "completed_on",
        "fingerprint", "created_at", "updated_at",
    ]  # fmt: skip
    assert expected == TASK_COLS, TASK_COLS
    return out


def save_small_tables(store: Store, n_communes: int) -> None:
    """Levels, units, the directive row and the default policy (through SQLAlchemy; ~1k rows)."""
    with store.engine.begin() as conn:
        conn.execute(insert(T.level_t), LEVELS)
        conn.execute(insert(T.unit_t), unit_rows(n_communes))
        conn.execute(insert(T.directive_t), [directive_row(L.now())])
        L._save_policies(conn, {DEFAULT_POLICY: L.default_policy()})


# ------------------------------------------------------------------------------------------------
# Databases
# ------------------------------------------------------------------------------------------------
class Backend:
    kind: str

    def prepare(self, n: int, n_communes: int, log: Callable[[str], None]) -> None:
        """Untimed: whatever makes ``fresh`` cheap."""

    @contextmanager
    def fresh(self) -> Iterator[Store]:
        """A fresh store holding the units, the directive, the policy and the N open tasks."""
        raise NotImplementedError
        yield

    def version(self) -> str:
        raise NotImplementedError

    def close(self) -> None:
        pass


class SQLiteBackend(Backend):
    """A prepared file (migrated, filled), copied for every fresh database."""

    kind = "sqlite"

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.template = tmp / "template.db"

    def prepare(self, n: int, n_communes: int, log: Callable[[str], None]) -> None:
        t0 = time.perf_counter()
        store = Store.open(f"sqlite:///{self.template}")
        save_small_tables(store, n_communes)
        values = task_values(n, n_communes, store.engine.dialect)
        store.close()
        t1 = time.perf_counter()
        conn = sqlite3.connect(self.template, isolation_level=None)
        conn.execute("PRAGMA cache_size=-500000")  # set-up only: faster index building
        conn.execute("BEGIN")
        conn.executemany(
            f"INSERT INTO task ({', '.join(TASK_COLS)}) VALUES ({', '.join('?' * len(TASK_COLS))})",
            values,
        )
        conn.execute("COMMIT")
        conn.close()
        del values
        size = self.template.stat().st_size / 1e6
        log(
            f"  [sqlite] prepared {n} tasks: rows built in {t1 - t0:.1f}s, "
            f"executemany {time.perf_counter() - t1:.1f}s, file {size:.0f} MB (untimed)"
        )

    @contextmanager
    def fresh(self) -> Iterator[Store]:
        path = self.tmp / f"kttt-{uuid.uuid4().hex[:8]}.db"
        shutil.copy(self.template, path)
        store = Store.open(f"sqlite:///{path}")
        try:
            yield store
        finally:
            store.close()
            for p in (path, Path(f"{path}-journal"), Path(f"{path}-wal"), Path(f"{path}-shm")):
                p.unlink(missing_ok=True)

    def version(self) -> str:
        return f"SQLite {sqlite3.sqlite_version} (files in {self.tmp})"


class PostgresBackend(Backend):
    """A new schema for every fresh database: migrated, small tables, then ``COPY task``."""

    kind = "postgres"

    def __init__(self, url: str) -> None:
        self.url = url
        self.admin = create_engine(db.normalise_url(url), pool_pre_ping=True)
        u = make_url(db.normalise_url(url)).set(drivername="postgresql")
        self.dsn = u.render_as_string(hide_password=False)
        self.copy_data: bytes = b""
        self.n_communes = 0
        self.setup_times: list[float] = []

    def prepare(self, n: int, n_communes: int, log: Callable[[str], None]) -> None:
        import psycopg

        t0 = time.perf_counter()
        self.n_communes = n_communes
        values = task_values(n, n_communes, self.admin.dialect)
        # Encode the COPY stream once (psycopg's own text-format adaptation), replay it per schema.
        buf = io.BytesIO()
        with (
            self._scratch() as schema,
            psycopg.connect(self.dsn, options=f"-csearch_path={schema}") as conn,
        ):
            with conn.cursor() as cur:
                cur.execute(
                    "CREATE TEMPORARY TABLE kttt_task_copy AS SELECT * FROM task WITH NO DATA"
                )
                with cur.copy(f"COPY kttt_task_copy ({', '.join(TASK_COLS)}) FROM STDIN") as cp:
                    for v in values:
                        cp.write_row(v)
                with cur.copy(f"COPY kttt_task_copy ({', '.join(TASK_COLS)}) TO STDOUT") as cp:
                    for chunk in cp:
                        buf.write(chunk)
            conn.rollback()
        del values
        self.copy_data = buf.getvalue()
        log(
            f"  [postgres] prepared the COPY stream of {n} tasks in {time.perf_counter() - t0:.1f}s "
            f"({len(self.copy_data) / 1e6:.0f} MB, untimed)"
        )

    @contextmanager
    def _scratch(self) -> Iterator[str]:
        schema = f"bench_{uuid.uuid4().hex[:12]}"
        with self.admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        store = Store.open(self.url, schema=schema)
        store.close()
        try:
            yield schema
        finally:
            with self.admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))

    @contextmanager
    def fresh(self) -> Iterator[Store]:
        import psycopg

        schema = f"bench_{uuid.uuid4().hex[:12]}"
        with self.admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        store = Store.open(self.url, schema=schema)
        try:
            t0 = time.perf_counter()
            save_small_tables(store, self.n_communes)
            with psycopg.connect(self.dsn, options=f"-csearch_path={schema}") as conn:
                with (
                    conn.cursor() as cur,
                    cur.copy(f"COPY task ({', '.join(TASK_COLS)}) FROM STDIN") as cp,
                ):
                    view = memoryview(self.copy_data)
                    for i in range(0, len(view), 1 << 20):
                        cp.write(view[i : i + (1 << 20)])
                conn.commit()
            # What autovacuum would have done to a table that has been there for a while (stats,
            # visibility map), and a checkpoint so that the timed section does not pay for the
            # set-up's dirty pages.
            with psycopg.connect(
                self.dsn, options=f"-csearch_path={schema}", autocommit=True
            ) as conn:
                conn.execute("VACUUM ANALYZE")
                conn.execute("CHECKPOINT")
            self.setup_times.append(time.perf_counter() - t0)
            yield store
        finally:
            store.close()
            with self.admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))

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


def sweep(store: Store) -> dict[str, int]:
    """The measured call: decisions + ledger rows, one transaction, commit included."""
    with store.engine.begin() as conn:
        return S.record_notices(conn, AS_OF, store.calendar, sweep_id=None)


def floor(store: Store, rows: int, n_tasks: int) -> None:
    """``rows`` ledger rows from the task table with no decision: each task to its lead, constant
    step codes (as many as needed to reach ``rows``), one plain INSERT … SELECT."""
    t, n = TASK_T, NOTICE_T
    copies = -(-rows // n_tasks)
    steps = union_all(
        *[select(literal(f"floor-{k}", type_=String(64)).label("step_code")) for k in range(copies)]
    ).subquery("s")
    at = literal(L.now(), type_=n.c.created_at.type)
    sel = (
        select(
            t.c.id,
            t.c.policy_code,
            steps.c.step_code,
            t.c.unit_code,
            literal(False, type_=Boolean),
            literal("overdue", type_=String(16)),
            t.c.due_on,
            t.c.due_on,
            literal(None, type_=Integer),
            at,
        )
        .select_from(t.join(steps, true()))
        .limit(rows)
    )
    with store.engine.begin() as conn:
        conn.execute(insert(n).from_select(NOTICE_COLS, sel))


def count(store: Store, table: Any) -> int:
    with store.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def by_step(store: Store) -> dict[str, int]:
    n = NOTICE_T
    with store.engine.connect() as conn:
        return {
            r.step_code: r.c
            for r in conn.execute(
                select(n.c.step_code, func.count().label("c")).group_by(n.c.step_code)
            )
        }


@dataclass
class Results:
    kind: str
    n: int
    times: dict[str, list[float]] = field(default_factory=dict)
    notices: int = 0
    roles: dict[str, int] = field(default_factory=dict)
    steps: dict[str, int] = field(default_factory=dict)
    checks: list[str] = field(default_factory=list)

    def add(self, name: str, seconds: float) -> None:
        self.times.setdefault(name, []).append(seconds)


def run_backend(backend: Backend, n: int, repeat: int, log: Callable[[str], None]) -> Results:
    res = Results(backend.kind, n)
    for rep in range(1, repeat + 1):
        with backend.fresh() as store:
            assert count(store, TASK_T) == n and count(store, NOTICE_T) == 0
            sec, roles = timed(lambda: sweep(store))
            total = sum(roles.values())
            assert total > 0 and count(store, NOTICE_T) == total, (total, roles)
            if rep == 1:
                res.notices, res.roles, res.steps = total, roles, by_step(store)
            assert total == res.notices, (total, res.notices)  # same data, same decisions
            res.add("sweep", sec)
            sec, again = timed(lambda: sweep(store))
            assert sum(again.values()) == 0 and count(store, NOTICE_T) == total, again
            res.add("sweep_again", sec)
        with backend.fresh() as store:
            sec, _ = timed(lambda: floor(store, res.notices, n))
            assert count(store, NOTICE_T) == res.notices
            res.add("floor", sec)
        log(
            f"  [{backend.kind} #{rep}] sweep {res.times['sweep'][-1]:.2f}s "
            f"({res.notices} notices), sweep_again {res.times['sweep_again'][-1]:.2f}s, "
            f"floor {res.times['floor'][-1]:.2f}s"
        )
    res.checks.append(
        f"every repetition: sweep recorded {res.notices} notices, sweep_again recorded 0 "
        f"(ledger still {res.notices} rows), floor wrote {res.notices} rows"
    )
    return res


# ------------------------------------------------------------------------------------------------
# --explain: every statement of one sweep, timed, with its plan
# ------------------------------------------------------------------------------------------------
@dataclass
class Stmt:
    sql: str
    seconds: float
    plan: list[str]
    call: float | None = None  # the whole _insert_ignore() call: compile, execute, RETURNING rows
    label: str = ""


def explain(backend: Backend, log: Callable[[str], None]) -> list[Stmt]:
    out: list[Stmt] = []
    with backend.fresh() as store:
        eng = store.engine
        pending: list[float] = []
        plans: list[list[str]] = []
        explaining = [0.0]

        def before(
            conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool
        ) -> None:
            plan: list[str] = []
            t_explain = time.perf_counter()
            if statement.lstrip().upper().startswith("INSERT INTO NOTICE"):
                if backend.kind == "postgres":
                    cursor.execute("SAVEPOINT kttt_explain")
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, params)
                    plan = [r[0] for r in cursor.fetchall()]
                    cursor.execute("ROLLBACK TO SAVEPOINT kttt_explain")
                else:
                    cursor.execute("EXPLAIN QUERY PLAN " + statement, params)
                    plan = [str(r[3]) for r in cursor.fetchall()]
            explaining[0] += time.perf_counter() - t_explain
            plans.append(plan)
            pending.append(time.perf_counter())

        def after(
            conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool
        ) -> None:
            out.append(Stmt(statement, time.perf_counter() - pending.pop(), plans.pop()))

        insert_ignore = S._insert_ignore

        def timed_insert_ignore(*a: Any, **k: Any) -> Any:
            e0 = explaining[0]
            c0 = time.perf_counter()
            try:
                return insert_ignore(*a, **k)
            finally:
                out[-1].call = time.perf_counter() - c0 - (explaining[0] - e0)
                p = a[1].compile().params  # the SELECT: which role, 'to' (ord 0) or 'cc' (ord 1)
                roles = [v for key, v in p.items() if key.startswith("role_")]
                ords = [v for key, v in p.items() if key.startswith("ord_")]
                kind = "cc" if ords and ords[0] else "to"
                out[-1].label = f"[{kind} {roles[0] if roles else '?'}] "

        event.listen(eng, "before_cursor_execute", before)
        event.listen(eng, "after_cursor_execute", after)
        S._insert_ignore = timed_insert_ignore  # looked up by record_notices at call time
        try:
            gc.collect()
            t0 = time.perf_counter()
            with eng.begin() as conn:
                S.record_notices(conn, AS_OF, store.calendar, sweep_id=None)
                t_body = time.perf_counter() - t0
            total = time.perf_counter() - t0 - explaining[0]
            t_body -= explaining[0]
        finally:
            S._insert_ignore = insert_ignore
            event.remove(eng, "before_cursor_execute", before)
            event.remove(eng, "after_cursor_execute", after)
    stmts = sum(s.seconds for s in out)
    log(
        f"{backend.kind}: one sweep, statement by statement. Times: the driver's execute() of each "
        f"statement (its plan is taken just before it and not counted; on PostgreSQL that EXPLAIN "
        f"ANALYZE runs the statement and is rolled back, which leaves dead index entries behind: "
        f"there the plan's 'Execution Time' is the better per-statement figure). Sweep {total:.2f}s = "
        f"statements {stmts:.2f}s + Python {t_body - stmts:.2f}s (SQLAlchemy rows from "
        f"RETURNING, decisions, temp table rows) + commit {total - t_body:.2f}s:"
    )
    calls = sum(s.call for s in out if s.call is not None)
    fetch = sum(s.call - s.seconds for s in out if s.call is not None)
    log(
        f"  (the INSERT … RETURNING calls: {calls:.2f}s, of which {fetch:.2f}s outside the driver's "
        f"execute(): compiling, then turning every RETURNING id into a Row to count them)"
    )
    for s in out:
        head = " ".join(s.sql.split())
        call = f" (call {s.call:.2f}s)" if s.call is not None else ""
        log(f"  {s.seconds:7.2f}s{call}  {s.label}{head[:110]}{'…' if len(head) > 110 else ''}")
        for line in s.plan:
            log(f"             | {line}")
    return out


# ------------------------------------------------------------------------------------------------
# Report
# ------------------------------------------------------------------------------------------------
def fmt(xs: list[float]) -> str:
    return f"{statistics.median(xs):8.2f} {min(xs):8.2f} {max(xs):8.2f}"


def report(results: list[Results], skipped: list[str], print_: Callable[[str], None]) -> None:
    print_("")
    print_("seconds (median / min / max over repetitions; each repetition in fresh databases)")
    print_(f"{'db':<9}{'N':>8}  {'measure':<12}{'median':>8} {'min':>8} {'max':>8}   vs floor")
    for r in results:
        fl = statistics.median(r.times["floor"])
        for m in MEASURES:
            med = statistics.median(r.times[m])
            ratio = f"{med / fl:8.1f}x" if m != "floor" else ""
            print_(f"{r.kind:<9}{r.n:>8}  {m:<12}{fmt(r.times[m])}   {ratio}")
        print_(
            f"{'':<19}notices recorded: {r.notices} "
            f"({r.notices / r.n:.2f} per task; {r.notices / statistics.median(r.times['sweep']):,.0f}/s)"
        )
        print_(f"{'':<19}by role: {dict(sorted(r.roles.items()))}")
        print_(f"{'':<19}by step: {dict(sorted(r.steps.items()))}")
        for c in r.checks:
            print_(f"{'':<19}checked: {c}")
    for s in skipped:
        print_(s)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tasks", type=int, default=1_000_000, help="N open tasks (default 1000000)")
    ap.add_argument("--units", type=int, default=1000, help="communes leading tasks (default 1000)")
    ap.add_argument(
        "--repeat", type=int, default=1, help="repetitions per database kind (default 1)"
    )
    ap.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    ap.add_argument(
        "--explain",
        action="store_true",
        help="also time every statement of one sweep per database kind and print its plan",
    )
    args = ap.parse_args(argv)
    if args.tasks < 1 or args.repeat < 1 or args.units < 3:
        ap.error("--tasks and --repeat must be positive, --units at least 3")

    def log(msg: str) -> None:
        print(msg, flush=True)

    started = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix="kttt-bench-sweep-"))
    pg_url = os.environ.get("KTTT_TEST_DATABASE_URL") or DEFAULT_PG_URL
    try:
        import psycopg
        import sqlalchemy

        log(f"kttt-workflow sweep benchmark, {time.strftime('%Y-%m-%d %H:%M:%S %Z')}")
        log(
            f"Python {platform.python_version()} ({platform.python_implementation()}), "
            f"{platform.system()} {platform.machine()}, CPUs: {os.cpu_count()}, "
            f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
        )
        log(f"SQLAlchemy {sqlalchemy.__version__}, psycopg {psycopg.__version__}")
        days = due_days()
        log(
            f"N = {args.tasks} open tasks ({args.units} communes in {DISTRICTS} districts, "
            f"policy {DEFAULT_POLICY}), as of {AS_OF}, due dates on {len(days)} working days "
            f"{days[0]} … {days[-1]}, repeat = {args.repeat}, db = {args.db}"
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
            b.prepare(args.tasks, args.units, log)
            results.append(run_backend(b, args.tasks, args.repeat, log))
            if args.explain:
                explain(b, log)
            if isinstance(b, PostgresBackend) and b.setup_times:
                log(
                    f"  [postgres] set-up of each fresh schema (small tables, COPY, VACUUM ANALYZE, "
                    f"CHECKPOINT; untimed): median {statistics.median(b.setup_times):.1f}s"
                )
            if isinstance(b, PostgresBackend):
                b.copy_data = b""

        report(results, skipped, log)
        log(
            f"total benchmark wall time: {time.perf_counter() - started:.0f}s; load average at "
            f"the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
        )
        for b in backends:
            b.close()
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

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

* ``sweep``       the decisions of ``Tracker.sweep`` in one transaction (commit included):
                  ``fire_rows(due_pairs(…), read_policies(…), as_of, calendar)`` then
                  ``record_notices(conn, as_of, fire_rows, sweep_id=None, at)``, the ledger rows
                  they make;
* ``sweep_again`` the same call again, same as-of date, same store: nothing new to record
                  (the idempotent path; checked to add 0 rows);
* ``floor``       in another fresh database with the same N tasks: one plain
                  ``INSERT INTO notice (…) SELECT … FROM task`` writing the same number of ledger
                  rows with no decision logic, in one transaction (commit included);
* ``floor_oc``    in another fresh database: the same statement with ``ON CONFLICT (task_id,
                  step_code, recipient) DO NOTHING``, what writing each notice once costs alone;
* ``floor_adv``   in the ``floor`` database: one plain ``UPDATE task SET next_step_on = …`` of
                  every task, what a catch-up wrote besides the ledger before the loads were
                  found from their load records (it now rewrites no task row).

``--explain`` also runs a catch-up and the next working day's sweep per database kind with every
statement timed, and prints the plan of each ``INSERT … SELECT`` and ``UPDATE`` (PostgreSQL:
``EXPLAIN (ANALYZE, BUFFERS)`` inside a savepoint that is rolled back; SQLite: ``EXPLAIN QUERY
PLAN``). See ``bench/README.md``.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import io
import random
import re
import sqlite3
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from _common import (
    Backend,
    PostgresBackend,
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
from sqlalchemy import (
    Boolean,
    Integer,
    String,
    event,
    func,
    insert,
    literal,
    select,
    true,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from kttt_workflow.config import utcnow
from kttt_workflow.domain.fanout import DEFAULT_POLICY
from kttt_workflow.inputs.defaults import default_calendar, default_policy
from kttt_workflow.service import Tracker
from kttt_workflow.store import next_step
from kttt_workflow.store import registry as R
from kttt_workflow.store import sweep as S
from kttt_workflow.store import tables as T

AS_OF = date(2025, 6, 16)  # a Monday
DAYS_BEFORE = 120  # distinct working days of due dates on or before AS_OF ...
DAYS_AFTER = 80  # ... and after it: 200 distinct due dates
DIRECTIVE_CODE = "bench-sweep"
PROVINCE = "bench-tinh"
FOCAL = "bench-so-noi-vu"
DISTRICTS = 50
TASK_T, NOTICE_T = T.task_t, T.notice_t
NOTICE_COLS = list(S.NOTICE_COLUMNS)
MEASURES = (
    "catch_up", "nothing_new", "next_day", "full", "full_again", "floor", "floor_oc", "floor_day",
    "floor_adv",
)  # fmt: skip
NEXT_DAY = default_calendar().add_working_days(AS_OF, 1)


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
# The columns task_values() builds, in this order; the others are NULL. next_step_on is what a
# load writes for these tasks (store.next_step.initial: nothing of their own to come, NEVER);
# the directive's load record (save_small_tables) has the first sweep examine them all.
BUILT = [
    "id", "directive_code", "task_key", "parent_key", "parent_task_id", "unit_code",
    "period", "starts_on", "title", "deliverable", "coordinating", "coordinating_other",
    "issuing_authority", "deadline_text", "deadline_kind", "nominal_due_on", "due_on",
    "key_task", "policy_code", "activation", "activated_on", "state", "completed_on",
    "fingerprint", "created_at", "updated_at", "next_step_on",
]  # fmt: skip
assert set(BUILT) <= set(TASK_COLS), set(BUILT) - set(TASK_COLS)


def task_values(n: int, n_communes: int, dialect: Any) -> list[tuple[Any, ...]]:
    """N task rows as tuples of driver-level values (SQLAlchemy's own bind processors, memoised
    per distinct value), in ``TASK_COLS`` order."""
    procs = bind_processors(TASK_T, dialect)

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
    never = conv("next_step_on")(next_step.NEVER)
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
                    never,  # next_step_on
                )
            )
    assert len(out) == n and len(out[0]) == len(BUILT), (len(out), n)
    # The rows were built in BUILT order; the table may have more (nullable) columns: None.
    if BUILT != TASK_COLS:
        where = [BUILT.index(c) if c in BUILT else -1 for c in TASK_COLS]
        out = [tuple(row[k] if k >= 0 else None for k in where) for row in out]
    return out


def save_small_tables(tracker: Tracker, n_communes: int) -> None:
    """Levels, units, the directive row and the default policy (through SQLAlchemy; ~1k rows)."""
    at = utcnow()
    with tracker.engine.begin() as conn:
        conn.execute(insert(T.level_t), LEVELS)
        conn.execute(insert(T.unit_t), unit_rows(n_communes))
        conn.execute(insert(T.directive_t), [directive_row(at)])
        R.save_policies(conn, {DEFAULT_POLICY: default_policy()}, at)
        # What the load of the N tasks leaves: its record (store.next_step: the tasks of the
        # directives loaded since the last sweep are examined).
        load = {"directive_code": DIRECTIVE_CODE, "source_path": "bench/bench_sweep.py",
                "content_sha256": "0" * 64, "at": at, "summary": {"added": -1}}  # fmt: skip
        conn.execute(insert(T.load_t), [load])


# ------------------------------------------------------------------------------------------------
# Databases: the N tasks in every fresh one
# ------------------------------------------------------------------------------------------------
class SweepSQLite(SQLiteBackend):
    """The migrated template file filled once (untimed), then copied for every fresh database."""

    def __init__(self, tmp: Path, n: int, n_communes: int) -> None:
        super().__init__(tmp)
        self.n, self.n_communes = n, n_communes

    def prepare(self, log: Callable[[str], None]) -> None:
        t0 = time.perf_counter()
        with Tracker.open(f"sqlite:///{self.template}") as tracker:
            save_small_tables(tracker, self.n_communes)
            values = task_values(self.n, self.n_communes, tracker.engine.dialect)
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
            f"  [sqlite] prepared {self.n} tasks: rows built in {t1 - t0:.1f}s, "
            f"executemany {time.perf_counter() - t1:.1f}s, file {size:.0f} MB (untimed)"
        )


class SweepPostgres(PostgresBackend):
    """A new schema for every fresh database: migrated, small tables, then ``COPY task``."""

    def __init__(self, url: str, n: int, n_communes: int) -> None:
        super().__init__(url)
        self.n, self.n_communes = n, n_communes
        self.copy_data: bytes = b""
        self.setup_times: list[float] = []

    def prepare(self, log: Callable[[str], None]) -> None:
        t0 = time.perf_counter()
        values = task_values(self.n, self.n_communes, self.admin.dialect)
        # Encode the COPY stream once (psycopg's own text-format adaptation), replay it per schema.
        buf = io.BytesIO()
        with self.new_schema() as schema:
            Tracker.open(self.url, schema=schema).close()  # migrated: the task table exists
            with self.driver_connect(schema) as conn:
                with conn.cursor() as cur:
                    cur.execute(
                        "CREATE TEMPORARY TABLE kttt_task_copy AS SELECT * FROM task WITH NO DATA"
                    )
                    cols = ", ".join(TASK_COLS)
                    with cur.copy(f"COPY kttt_task_copy ({cols}) FROM STDIN") as cp:
                        for v in values:
                            cp.write_row(v)
                    with cur.copy(f"COPY kttt_task_copy ({cols}) TO STDOUT") as cp:
                        for chunk in cp:
                            buf.write(chunk)
                conn.rollback()
        del values
        self.copy_data = buf.getvalue()
        log(
            f"  [postgres] prepared the COPY stream of {self.n} tasks in "
            f"{time.perf_counter() - t0:.1f}s ({len(self.copy_data) / 1e6:.0f} MB, untimed)"
        )

    def fill(self, tracker: Tracker, schema: Any) -> None:
        t0 = time.perf_counter()
        save_small_tables(tracker, self.n_communes)
        with self.driver_connect(schema) as conn:
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
        with self.driver_connect(schema, autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
            conn.execute("CHECKPOINT")
        self.setup_times.append(time.perf_counter() - t0)


# ------------------------------------------------------------------------------------------------
# Measurements
# ------------------------------------------------------------------------------------------------
def record(conn: Any, tracker: Tracker, as_of: date = AS_OF, full: bool = False) -> dict[str, int]:
    """What ``Tracker.sweep`` decides and records, inside the caller's transaction
    (``full``: the full evaluation of every open task, the code path before ``next_step_on``)."""
    return S.sweep_decisions(conn, as_of, tracker.calendar, None, utcnow(), full=full)


def sweep(tracker: Tracker, as_of: date = AS_OF, full: bool = False) -> dict[str, int]:
    """The measured call: decisions + ledger rows, one transaction, commit included."""
    with tracker.engine.begin() as conn:
        return record(conn, tracker, as_of, full)


def catch_up(tracker: Tracker) -> tuple[dict[str, int], int | None]:
    """The measured first sweep, and the task rows it updated (PostgreSQL: this transaction's
    own count, read before the commit; None on SQLite)."""
    with tracker.engine.begin() as conn:
        counts = record(conn, tracker, AS_OF)
        rewritten = None
        if conn.dialect.name == "postgresql":
            q = "SELECT n_tup_upd FROM pg_stat_xact_user_tables WHERE relid = 'task'::regclass"
            rewritten = int(conn.exec_driver_sql(q).scalar_one())
        return counts, rewritten


def examined(tracker: Tracker, as_of: date) -> int:
    """The tasks an incremental sweep as of ``as_of`` reads (``next_step_on`` NULL or due, and
    the open tasks whose ladder has a step firing since the last sweep)."""
    with tracker.engine.connect() as conn:
        policies = R.read_policies(conn)
        ex = next_step.examined(conn, as_of, tracker.calendar, policies, "incremental")
        q = select(func.count()).select_from(TASK_T).where(ex.where)
        return int(conn.execute(q).scalar_one())


def floor(
    tracker: Tracker, rows: int, n_tasks: int, prefix: str = "floor", on_conflict: bool = False
) -> None:
    """``rows`` ledger rows from the task table with no decision: each task to its lead (role
    ``lead``), constant step codes (as many as needed to reach ``rows``), one plain INSERT …
    SELECT (``on_conflict``: with ``ON CONFLICT`` on the ledger's unique key ``DO NOTHING``,
    as the sweep writes)."""
    t, n = TASK_T, NOTICE_T
    copies = -(-rows // n_tasks)
    steps = union_all(
        *[
            select(literal(f"{prefix}-{k}", type_=String(64)).label("step_code"))
            for k in range(copies)
        ]
    ).subquery("s")
    at = literal(utcnow(), type_=n.c.created_at.type)
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
            literal("lead", type_=String(64)),
        )
        .select_from(t.join(steps, true()))
        .limit(rows)
    )
    cols = [*NOTICE_COLS, "role"]
    with tracker.engine.begin() as conn:
        if on_conflict:
            dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
            ins = dialect.insert(n).from_select(cols, sel)
            conn.execute(ins.on_conflict_do_nothing(index_elements=S._KEY))
        else:
            conn.execute(insert(n).from_select(cols, sel))


def floor_adv(tracker: Tracker) -> int:
    """``next_step_on`` of every task set to the value a catch-up gives a task with nothing of
    its own to come (:data:`next_step.NEVER`): one plain UPDATE, no decision."""
    with tracker.engine.begin() as conn:
        never = literal(next_step.NEVER, type_=TASK_T.c.next_step_on.type)
        return int(conn.execute(update(TASK_T).values(next_step_on=never)).rowcount)


def by_step(tracker: Tracker) -> dict[str, int]:
    n = NOTICE_T
    with tracker.engine.connect() as conn:
        return {
            r.step_code: r.c
            for r in conn.execute(
                select(n.c.step_code, func.count().label("c")).group_by(n.c.step_code)
            )
        }


def vacuum_task(backend: SweepPostgres, handle: Any) -> int:
    """``VACUUM (VERBOSE, ANALYZE) task``; returns the dead row versions it had to keep because
    an older transaction (of another client of the server) may still see them: the next sweeps
    visit their index entries (0 on a server with no long transaction open)."""
    kept: list[int] = []

    def notice(diag: Any) -> None:
        found = re.search(r"(\d+) are dead but not yet removable", diag.message_primary or "")
        if found:
            kept.append(int(found.group(1)))

    with backend.driver_connect(handle, autocommit=True) as c:
        c.add_notice_handler(notice)
        c.execute("VACUUM (VERBOSE, ANALYZE) task")
    return sum(kept)


def settle(backend: Backend, handle: Any) -> None:
    """What happens to a store between a large write and a sweep a day later, untimed: the
    dirty pages written out (PostgreSQL ``CHECKPOINT``, every 5 minutes by default; SQLite the
    write-ahead log copied into the file), so that the next figure does not pay for them."""
    if isinstance(backend, SweepPostgres):
        with backend.driver_connect(handle, autocommit=True) as c:
            c.execute("CHECKPOINT")
    else:
        c = backend.driver_connect(handle)
        try:
            c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            c.close()


@dataclass
class SweepResults(Results):
    notices: int = 0
    day_notices: int = 0
    day_examined: int = 0
    kept_dead: int = 0  # PostgreSQL: dead task rows the vacuum after the catch-up could not remove
    rewritten: int | None = None  # PostgreSQL: task rows the catch-up updated
    roles: dict[str, int] = field(default_factory=dict)
    steps: dict[str, int] = field(default_factory=dict)


def run_backend(backend: Backend, n: int, repeat: int) -> SweepResults:
    res = SweepResults(backend.kind, n)
    for rep in range(1, repeat + 1):
        # The incremental sweep: a fresh store (the N tasks as a load leaves them: next_step_on
        # set, one load record), its first sweep (every task read, the column recomputed), the
        # same day again, the next working day.
        with backend.fresh() as (tracker, handle):
            assert count_rows(tracker, TASK_T) == n and count_rows(tracker, NOTICE_T) == 0
            sec, (roles, res.rewritten) = timed(lambda: catch_up(tracker))
            total = sum(roles.values())
            assert total > 0 and count_rows(tracker, NOTICE_T) == total, (total, roles)
            if rep == 1:
                res.notices, res.roles, res.steps = total, roles, by_step(tracker)
            assert total == res.notices, (total, res.notices)  # same data, same decisions
            res.add("catch_up", sec)
            if isinstance(backend, SweepPostgres):
                # Untimed: what autovacuum does between two daily sweeps (the dead rows of the
                # task rows the catch-up rewrote, if any: their index entries would be visited
                # by the next sweeps).
                res.kept_dead = vacuum_task(backend, handle)
            settle(backend, handle)
            assert examined(tracker, AS_OF) == 0
            sec, again = timed(lambda: sweep(tracker))
            assert sum(again.values()) == 0 and count_rows(tracker, NOTICE_T) == total, again
            res.add("nothing_new", sec)
            res.day_examined = examined(tracker, NEXT_DAY)
            sec, day = timed(lambda: sweep(tracker, NEXT_DAY))
            res.day_notices = sum(day.values())
            assert count_rows(tracker, NOTICE_T) == total + res.day_notices
            res.add("next_day", sec)
        # Before: the full evaluation, on another fresh store, then again (nothing new).
        with backend.fresh() as (tracker, _):
            sec, roles = timed(lambda: sweep(tracker, full=True))
            assert sum(roles.values()) == res.notices, roles
            res.add("full", sec)
            sec, again = timed(lambda: sweep(tracker, full=True))
            assert sum(again.values()) == 0, again
            res.add("full_again", sec)
        # Floors: as many rows as the catch-up, then as many as the next day (into that ledger);
        # the catch-up's with ON CONFLICT in another fresh store.
        with backend.fresh() as (tracker, _):
            sec, _ = timed(lambda: floor(tracker, res.notices, n, on_conflict=True))
            assert count_rows(tracker, NOTICE_T) == res.notices
            res.add("floor_oc", sec)
        with backend.fresh() as (tracker, handle):
            sec, _ = timed(lambda: floor(tracker, res.notices, n))
            assert count_rows(tracker, NOTICE_T) == res.notices
            res.add("floor", sec)
            settle(backend, handle)  # as before next_day
            sec, _ = timed(lambda: floor(tracker, max(res.day_notices, 1), n, "day"))
            res.add("floor_day", sec)
            sec, written = timed(lambda: floor_adv(tracker))
            assert written == n, written
            res.add("floor_adv", sec)
        log(
            f"  [{backend.kind} #{rep}] catch_up {res.last('catch_up'):.2f}s "
            f"({res.notices} notices), nothing_new {res.last('nothing_new'):.3f}s, "
            f"next_day {res.last('next_day'):.3f}s ({res.day_examined} tasks read, "
            f"{res.day_notices} notices), full {res.last('full'):.2f}s, "
            f"full_again {res.last('full_again'):.2f}s, floor {res.last('floor'):.2f}s, "
            f"floor_oc {res.last('floor_oc'):.2f}s, floor_day {res.last('floor_day'):.3f}s, "
            f"floor_adv {res.last('floor_adv'):.2f}s"
            + (
                f"; the catch-up rewrote {res.rewritten} task rows; the vacuum after it kept "
                f"{res.kept_dead} dead task rows (another client's open transaction may still "
                f"see them)"
                if isinstance(backend, SweepPostgres)
                else ""
            )
        )
    res.checks.append(
        f"every repetition: catch_up and full recorded {res.notices} notices, nothing_new and "
        f"full_again 0, next_day {res.day_notices} ({res.day_examined} tasks read of {n}), "
        f"floor and floor_oc wrote {res.notices} rows, floor_day {max(res.day_notices, 1)}, "
        f"floor_adv {n} task rows"
    )
    return res


# ------------------------------------------------------------------------------------------------
# --explain: every statement of a catch-up and of the next day's sweep, timed, with its plan
# ------------------------------------------------------------------------------------------------
@dataclass
class Stmt:
    sql: str
    seconds: float
    plan: list[str]
    call: float | None = None  # the whole ledger-insert call: compile, execute, count
    label: str = ""


def _explained(statement: str) -> bool:
    """The statements whose plan is printed: the ledger inserts and the advance."""
    head = statement.lstrip().upper()
    return "INSERT INTO NOTICE" in head or head.startswith("UPDATE TASK ")


def explain(backend: Backend) -> None:
    with backend.fresh() as (tracker, handle):
        for title, day in (("catch-up", AS_OF), ("next working day", NEXT_DAY)):
            if day == NEXT_DAY:  # as in run_backend (autovacuum's work, a checkpoint)
                if isinstance(backend, SweepPostgres):
                    vacuum_task(backend, handle)
                settle(backend, handle)
            _explain_sweep(backend, tracker, title, day)


def _explain_sweep(backend: Backend, tracker: Tracker, title: str, day: date) -> None:
    out: list[Stmt] = []
    eng = tracker.engine
    pending: list[float] = []
    plans: list[list[str]] = []
    explaining = [0.0]

    def before(
        conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool
    ) -> None:
        plan: list[str] = []
        t_explain = time.perf_counter()
        # SQLite: INSERT … SELECT; PostgreSQL: WITH ins AS (INSERT … RETURNING …) SELECT …
        if _explained(statement) and not many:
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

    def timed_call(f: Callable[..., Any], label: str) -> Callable[..., Any]:
        def call(*a: Any, **k: Any) -> Any:
            e0, c0, first = explaining[0], time.perf_counter(), len(out)
            try:
                return f(*a, **k)
            finally:
                ins = [s for s in out[first:] if "INSERT INTO NOTICE" in s.sql.upper()]
                if ins:
                    ins[0].call = time.perf_counter() - c0 - (explaining[0] - e0)
                    ins[0].label = label

        return call

    originals = S._insert_ignore, S._insert_by_role
    event.listen(eng, "before_cursor_execute", before)
    event.listen(eng, "after_cursor_execute", after)
    # Looked up by record_notices at call time.
    S._insert_ignore = timed_call(originals[0], "[follow-up] ")
    S._insert_by_role = timed_call(originals[1], "[ladder] ")
    try:
        gc.collect()
        t0 = time.perf_counter()
        with eng.begin() as conn:
            counts = record(conn, tracker, day)
            t_body = time.perf_counter() - t0
        total = time.perf_counter() - t0 - explaining[0]
        t_body -= explaining[0]
    finally:
        S._insert_ignore, S._insert_by_role = originals
        event.remove(eng, "before_cursor_execute", before)
        event.remove(eng, "after_cursor_execute", after)
    stmts = sum(s.seconds for s in out)
    log(
        f"{backend.kind}: the {title} ({day}, {sum(counts.values())} notices), statement by "
        f"statement. Times: the driver's execute() of each statement (its plan is taken just "
        f"before it and not counted; on PostgreSQL that EXPLAIN ANALYZE runs the statement and is "
        f"rolled back, which leaves dead tuples and index entries behind: there the plan's "
        f"'Execution Time' is the better per-statement figure). Sweep {total:.2f}s = statements "
        f"{stmts:.2f}s + Python {t_body - stmts:.2f}s (compiling, fire rows, temp table rows) + "
        f"commit {total - t_body:.2f}s:"
    )
    calls = sum(s.call for s in out if s.call is not None)
    fetch = sum(s.call - s.seconds for s in out if s.call is not None)
    log(
        f"  (the ledger inserts: {calls:.2f}s, of which {fetch:.2f}s outside the driver's "
        f"execute() of the INSERT: compiling it, reading its counts)"
    )
    for s in out:
        head = " ".join(s.sql.split())
        call = f" (call {s.call:.2f}s)" if s.call is not None else ""
        log(f"  {s.seconds:7.2f}s{call}  {s.label}{head[:110]}{'…' if len(head) > 110 else ''}")
        for line in s.plan:
            log(f"             | {line}")


# ------------------------------------------------------------------------------------------------
# Report
# ------------------------------------------------------------------------------------------------
GOALS = {"catch_up": "goal <= 1.2x floor", "nothing_new": "goal <= 0.2 s",
         "next_day": "goal <= 1 s"}  # fmt: skip


def ratios(r: Results, m: str) -> str:
    if m in ("floor", "floor_oc", "floor_day", "floor_adv"):
        return ""
    base = "floor_day" if m == "next_day" else "floor"
    return f"{r.median(m) / r.median(base):8.2f}x {base:<10} {GOALS.get(m, '')}"


def notes(r: Results) -> list[str]:
    assert isinstance(r, SweepResults)
    return [
        f"notices recorded: {r.notices} ({r.notices / r.n:.2f} per task; "
        f"{r.notices / r.median('catch_up'):,.0f}/s); next day {NEXT_DAY}: {r.day_notices} "
        f"notices, {r.day_examined} tasks read ({r.day_examined / r.n:.2%})",
        f"catch_up {r.median('catch_up'):.2f}s = "
        f"{r.median('catch_up') / r.median('floor_oc'):.2f}x floor_oc "
        f"{r.median('floor_oc'):.2f}s (the same rows with ON CONFLICT DO NOTHING, no decision); "
        f"floor_oc = {r.median('floor_oc') / r.median('floor'):.2f}x floor",
        f"by role: {dict(sorted(r.roles.items()))}",
        f"by step: {dict(sorted(r.steps.items()))}",
    ]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tasks", type=int, default=1_000_000, help="N open tasks (default 1000000)")
    ap.add_argument("--units", type=int, default=1000, help="communes leading tasks (default 1000)")
    add_db_arguments(ap)
    ap.add_argument(
        "--explain",
        action="store_true",
        help="also time every statement of a catch-up and of the next day's sweep per database kind, with plans",
    )
    args = ap.parse_args(argv)
    if args.tasks < 1 or args.repeat < 1 or args.units < 3:
        ap.error("--tasks and --repeat must be positive, --units at least 3")

    started = time.perf_counter()
    with scratch("kttt-bench-sweep-") as tmp:
        import psycopg
        import sqlalchemy

        days = due_days()
        banner(
            "sweep",
            f"SQLAlchemy {sqlalchemy.__version__}, psycopg {psycopg.__version__}",
            f"N = {args.tasks} open tasks ({args.units} communes in {DISTRICTS} districts, "
            f"policy {DEFAULT_POLICY}), as of {AS_OF}, due dates on {len(days)} working days "
            f"{days[0]} … {days[-1]}, repeat = {args.repeat}, db = {args.db}",
        )
        backends, skipped = select_backends(
            args.db,
            lambda: SweepSQLite(tmp, args.tasks, args.units),
            lambda url: SweepPostgres(url, args.tasks, args.units),
        )
        results: list[Results] = []
        for b in backends:
            b.prepare(log)
            results.append(run_backend(b, args.tasks, args.repeat))
            if args.explain:
                explain(b)
            if isinstance(b, SweepPostgres):
                if b.setup_times:
                    log(
                        "  [postgres] set-up of each fresh schema (small tables, COPY, VACUUM "
                        f"ANALYZE, CHECKPOINT; untimed): median {median(b.setup_times):.1f}s"
                    )
                b.copy_data = b""

        report(results, MEASURES, "vs floor", ratios, notes, skipped)
        footer(started)
        for b in backends:
            b.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())

"""The incremental sweep (``task.next_step_on``) records exactly what the full evaluation does,
day by day over a year, with reports, verifications, returns, reassignments, a back-dated sweep
and a registry amendment interleaved (issue 12, point 1), on SQLite and PostgreSQL.

Each day the full evaluation (``sweep_decisions(…, full=True)``, the code path before the column)
runs in a transaction that is rolled back, then the real sweep runs (``Tracker.sweep``): the rows
each adds to the ledger must be the same, so the ledgers are the same every day.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from kttt_workflow.domain.calendar import DayOverride, WorkingCalendar
from kttt_workflow.domain.status import Status
from kttt_workflow.service import Tracker
from kttt_workflow.store import next_step, sweep
from kttt_workflow.store import tables as T
from tests.helpers import DIRECTIVES, HORIZON, UNTIL, copy_fixtures, edit_plan, sub

Row = tuple[Any, ...]
n = T.notice_t
COLS = (
    n.c.task_id,
    n.c.policy_code,
    n.c.step_code,
    n.c.recipient,
    n.c.is_cc,
    n.c.severity,
    n.c.fire_on,
    n.c.due_on,
    n.c.completion_id,
)


def _new_rows(conn: Any, after: int) -> set[Row]:
    return {tuple(r) for r in conn.execute(select(*COLS).where(n.c.id > after))}


def _last_id(conn: Any) -> int:
    return int(conn.execute(select(func.coalesce(func.max(n.c.id), 0))).scalar_one())


def _reference(store: Tracker, day: date) -> set[Row]:
    """What the full evaluation adds to the ledger as of ``day`` (rolled back)."""
    with store.engine.connect() as conn:
        tx = conn.begin()
        try:
            last = _last_id(conn)
            sweep.sweep_decisions(conn, day, store.calendar, None, store.clock(), full=True)
            return _new_rows(conn, last)
        finally:
            tx.rollback()


def _check_day(store: Tracker, day: date, *, tracker_sweep: bool = False) -> int:
    """The rows the sweep as of ``day`` adds are those of the full evaluation. The sweep is
    ``Tracker.sweep`` (``tracker_sweep``: digests built too) or its decisions alone, as its
    first transaction makes them (quicker: the year stays within a minute)."""
    expected = _reference(store, day)
    with store.engine.connect() as conn:
        last = _last_id(conn)
    if tracker_sweep:
        store.sweep(as_of=day, send=False, force=True)
    else:
        with store.engine.begin() as conn:
            sweep.sweep_decisions(conn, day, store.calendar, None, store.clock())
    with store.engine.connect() as conn:
        got = _new_rows(conn, last)
    assert got == expected, (day, sorted(expected - got)[:5], sorted(got - expected)[:5])
    return len(got)


def _examined(store: Tracker, day: date) -> int:
    """How many tasks an incremental sweep as of ``day`` would read."""
    with store.engine.connect() as conn:
        q = select(func.count()).select_from(T.task_t).where(next_step.candidates(day))
        return int(conn.execute(q).scalar_one())


def _open_tasks(store: Tracker, day: date, prefix: str = "") -> list[str]:
    wanted = [Status.overdue.value, Status.on_track.value]
    return [s.task_id for s in store.status(as_of=day, statuses=wanted) if prefix in s.task_id]


def _year(
    store: Tracker, start: date, end: date, events: dict[date, Callable[[], None]]
) -> tuple[int, int, list[int]]:
    """Sweep every working day from ``start`` to ``end`` (as production does: a day off is
    caught up by the next working day), running the events of a day before its sweep; returns
    (notices, days with notices, tasks examined per sweep)."""
    total = busy = 0
    examined = []
    day = start
    while day <= end:
        if day in events:
            events[day]()
        if not store.calendar.is_working_day(day):
            day += timedelta(days=1)
            continue
        examined.append(_examined(store, day))
        added = _check_day(store, day, tracker_sweep=day in events)
        total += added
        busy += added > 0
        day += timedelta(days=1)
    return total, busy, examined


def test_real_directives_a_year_day_by_day(loaded: Tracker) -> None:
    """2025 over the real directives: the reform of 1/7/2025 (units cease, successors answer,
    district Party committees dissolved without one), reports, decisions, reassignments."""
    store = loaded
    picked: dict[str, list[str]] = {}

    def pick(day: date, k: int) -> list[str]:
        ids = [t for t in _open_tasks(store, day) if t not in sum(picked.values(), [])]
        chosen = ids[:: max(1, len(ids) // k)][:k]
        picked[day.isoformat()] = chosen
        return chosen

    def reports(day: date, k: int) -> Callable[[], None]:
        def run() -> None:
            for t in pick(day, k):
                store.complete(t, f"Báo cáo số 1/BC ngày {day:%d/%m/%Y}", on=day)

        return run

    def decide(day: date, of: date, verify: bool) -> Callable[[], None]:
        def run() -> None:
            for i, t in enumerate(picked[of.isoformat()]):
                if verify == (i % 2 == 0):
                    store.verify(t, on=day)
                else:
                    store.return_(t, "Thiếu phụ lục", on=day)

        return run

    def reassign(day: date) -> Callable[[], None]:
        def run() -> None:
            for t in pick(day, 2):
                unit = store.status(task_ids=[t], as_of=day)[0].answering_unit
                target = "bn-ubnd" if unit != "bn-ubnd" else "bn-so-tai-chinh"
                store.reassign(target, "Quyết định số 5/QĐ-UBND", task=t, on=day)

        return run

    def backdated(day: date) -> Callable[[], None]:
        def run() -> None:
            _check_day(store, day)  # before the latest sweep: the full evaluation

        return run

    events = {
        date(2025, 2, 10): reports(date(2025, 2, 10), 6),
        date(2025, 3, 3): decide(date(2025, 3, 3), date(2025, 2, 10), verify=True),
        date(2025, 4, 14): reports(date(2025, 4, 14), 4),
        date(2025, 5, 5): backdated(date(2025, 4, 1)),
        date(2025, 5, 20): decide(date(2025, 5, 20), date(2025, 4, 14), verify=False),
        date(2025, 8, 4): reassign(date(2025, 8, 4)),
        date(2025, 9, 15): reports(date(2025, 9, 15), 4),
        date(2025, 10, 1): decide(date(2025, 10, 1), date(2025, 9, 15), verify=True),
    }
    total, busy, examined = _year(store, date(2025, 1, 1), date(2025, 12, 31), events)
    assert total > 1000 and busy > 10, (total, busy)
    with store.engine.connect() as conn:
        kinds = {r[0] for r in conn.execute(select(n.c.severity).distinct())}
    assert {"verify", "returned", "reassign", "escalated", "overdue"} <= kinds, kinds
    tasks = len(store.status(as_of=date(2025, 12, 31)))
    # Most days read a small part of the tasks (the first sweep, and the reform's, read all).
    quiet = sorted(examined)[len(examined) // 2]
    assert quiet < tasks / 5, (quiet, tasks)
    assert store.load([DIRECTIVES], until=HORIZON) is not None


def _dissolve_c(folder: Path, successor: str | None = None) -> None:
    units = folder / "units.yaml"
    extra = "    valid_to: 2023-06-30\n" + (f"    successor: {successor}\n" if successor else "")
    units.write_text(
        sub(
            units.read_text(encoding="utf-8"),
            "    name: UBND huyện C\n    level: huyen\n",
            "    name: UBND huyện C\n    level: huyen\n" + extra,
        ),
        encoding="utf-8",
    )


def test_synthetic_registry_a_year_day_by_day(store: Tracker, tmp_path: Path) -> None:
    """The fixture province: huyện C dissolved on 30/6/2023 without a successor (one request to
    reassign), then given one by an amendment; reports, decisions and a reassignment."""
    folder = copy_fixtures(tmp_path)
    _dissolve_c(folder)
    store.load([folder], until=UNTIL)
    amended = copy_fixtures(tmp_path / "amended")
    _dissolve_c(amended, successor="x-ubnd-b")

    def run(*calls: Callable[[], Any]) -> Callable[[], None]:
        return lambda: [c() for c in calls] and None

    b, a = "kh-1-2022/2/x-ubnd-b", "kh-1-2022/2/x-ubnd-a"
    events = {
        date(2023, 1, 4): run(lambda: store.complete(b, "Kế hoạch số 3/KH-UBND", on=date(2023, 1, 4))),
        date(2023, 1, 5): run(lambda: store.complete(a, "Kế hoạch số 9/KH-UBND", on=date(2023, 1, 5))),
        date(2023, 2, 1): run(lambda: store.return_(a, "Thiếu phụ lục", on=date(2023, 2, 1))),
        date(2023, 2, 6): run(lambda: store.verify(b, on=date(2023, 2, 6))),
        date(2023, 3, 1): run(lambda: _check_day(store, date(2023, 2, 2))),  # back-dated
        date(2023, 9, 1): run(
            lambda: store.reassign(
                "x-ubnd-b", "Quyết định số 2/QĐ-UBND", task="kh-1-2022/3/x-ubnd-c@2023",
                on=date(2023, 9, 1),
            )
        ),
        date(2023, 10, 2): run(lambda: store.load([amended], until=UNTIL)),
    }  # fmt: skip
    total, busy, _ = _year(store, date(2022, 11, 1), date(2023, 10, 31), events)
    assert total > 20 and busy > 5, (total, busy)
    with store.engine.connect() as conn:
        kinds = {r[0] for r in conn.execute(select(n.c.severity).distinct())}
    assert {"verify", "returned", "reassign", "escalated"} <= kinds, kinds


def test_a_sweep_with_nothing_due_reads_no_task(store: Tracker, tmp_path: Path) -> None:
    """After a sweep, the same day again examines nothing; a report marks its one task."""
    store.load([copy_fixtures(tmp_path)], until=UNTIL)
    day = date(2023, 1, 18)
    store.sweep(as_of=day, send=False)
    assert _examined(store, day) == 0
    assert store.sweep(as_of=day, send=False).notices == 0
    store.complete("kh-1-2022/2/x-ubnd-b", "Kế hoạch số 3/KH-UBND", on=day)
    assert _examined(store, day) == 1
    assert _check_day(store, day) == 1  # the report waits: the focal unit is asked to verify
    with store.engine.connect() as conn:
        q = select(func.count()).select_from(T.task_t).where(T.task_t.c.next_step_on.is_(None))
        assert conn.execute(q).scalar_one() == 0


def test_the_first_sweep_of_a_new_year_is_incremental_unless_the_calendar_changed(
    store: Tracker, tmp_path: Path
) -> None:
    """The calendar's key is compared over the years around the last sweep: the first working
    day of a new year is an incremental sweep that agrees with the full evaluation (it was a
    rebuild of every task, once a year); another calendar (one more day off) is a rebuild."""
    store.load([copy_fixtures(tmp_path)], until=UNTIL)
    _year(store, date(2023, 12, 20), date(2023, 12, 29), {})
    with store.engine.connect() as conn:
        assert next_step.plan(conn, date(2024, 1, 2), store.calendar) == "incremental"
        other = WorkingCalendar([DayOverride(date(2024, 1, 3), False, "Nghỉ thêm")])
        assert next_step.plan(conn, date(2024, 1, 2), other) == "rebuild"
        assert next_step.plan(conn, date(2026, 1, 5), store.calendar) == "rebuild"  # beyond it
    _check_day(store, date(2024, 1, 2))
    assert _examined(store, date(2024, 1, 2)) == 0  # done: nothing more for that day


def _loaded_tasks(store: Tracker, directive: str) -> dict[str, Any]:
    t = T.task_t
    with store.engine.connect() as conn:
        q = select(t.c.id, t.c.next_step_on).where(t.c.directive_code == directive)
        return {r.id: r.next_step_on for r in conn.execute(q)}


def test_a_load_between_sweeps_is_examined_by_the_next_one(store: Tracker, tmp_path: Path) -> None:
    """A load marks no task row: its load record makes the next sweep examine every task of the
    directive (a second directive whose tasks are long overdue, then an amendment that moves a
    due date), even after a back-dated sweep in between; the tasks it inserts are not NULL."""
    store.load([copy_fixtures(tmp_path)], until=UNTIL)
    # Within one year: the calendar's key (next_step.calendar_key) changes with the year, and a
    # sweep of another year is a rebuild, which would examine every task anyway.
    _year(store, date(2023, 1, 3), date(2023, 2, 10), {})
    second = copy_fixtures(tmp_path / "second")
    plan = second / "plan.yaml"
    plan.write_text(
        sub(plan.read_text(encoding="utf-8"), "code: kh-1-2022", "code: kh-2-2022"),
        encoding="utf-8",
    )
    store.load([second], until=UNTIL)
    ids = _loaded_tasks(store, "kh-2-2022")
    assert ids and all(v is not None for v in ids.values())  # no task marked NULL
    _check_day(store, date(2023, 1, 4))  # back-dated: the full evaluation, the mark kept
    with store.engine.connect() as conn:
        assert next_step.plan(conn, date(2023, 2, 13), store.calendar) == "incremental"
    # The tasks of kh-2-2022 are overdue since November: nothing but the load says so.
    assert _check_day(store, date(2023, 2, 13)) > 0
    assert _check_day(store, date(2023, 2, 13)) == 0

    def amend(d: dict[str, Any]) -> None:
        d["tasks"][3]["deadline"] = "trước ngày 10/01/2023"  # was Thường xuyên: no ladder

    edit_plan(second, amend)
    store.load([second], until=UNTIL)
    # Its steps fired in January: only its load record says so.
    assert _check_day(store, date(2023, 2, 14)) > 0
    total, busy, _ = _year(store, date(2023, 2, 15), date(2023, 3, 31), {})
    assert total > 0 and busy > 0, (total, busy)

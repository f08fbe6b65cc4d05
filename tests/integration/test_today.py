""" "Today" is the offices' date, decided once by the service, and no sweep runs on a day off."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import func, select

from kttt_workflow.config import Config
from kttt_workflow.service import Tracker
from kttt_workflow.store import tables as T
from tests.helpers import UNTIL, copy_fixtures, ledger


def at(store: Tracker, instant: datetime, timezone: str = "Asia/Ho_Chi_Minh") -> Tracker:
    """The same store, seen by a tracker whose clock reads ``instant``."""
    return Tracker(
        store.engine, store.calendar, Config(store.config.home, timezone), lambda: instant
    )


def sweeps(store: Tracker) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(T.sweep_t)).scalar_one())


def test_an_early_sweep_in_hanoi_is_that_day_not_the_servers_utc_yesterday(
    store: Tracker, tmp_path: Path
) -> None:
    store.load([copy_fixtures(tmp_path)], until=UNTIL)
    # Monday 05/12/2022 06:30 in Hà Nội is Sunday 04/12/2022 23:30 UTC.
    monday_early = datetime(2022, 12, 4, 23, 30, tzinfo=UTC)
    t = at(store, monday_early)
    assert t.today() == date(2022, 12, 5)
    r = t.sweep(send=False)
    assert (r.as_of, r.skipped) == (date(2022, 12, 5), None)
    assert r.notices > 0 and ledger(store)
    # The same instant in a UTC office is still Sunday: a day off, nothing recorded.
    sunday = at(store, monday_early, "UTC").sweep(send=False)
    assert sunday.as_of == date(2022, 12, 4)
    assert sunday.skipped == "04/12/2022 là ngày nghỉ"
    assert sweeps(store) == 1


def test_no_sweep_on_a_holiday_unless_forced(store: Tracker, tmp_path: Path) -> None:
    store.load([copy_fixtures(tmp_path)], until=UNTIL)
    tet = date(2023, 1, 23)  # Mùng hai Tết Quý Mão, a Monday
    r = store.sweep(as_of=tet, send=False)
    assert r.skipped is not None and r.skipped.startswith("23/01/2023 là ngày nghỉ (")
    assert "Tết" in r.skipped
    assert (r.notices, r.sweep_id, sweeps(store), ledger(store)) == (0, None, 0, [])
    forced = store.sweep(as_of=tet, send=False, force=True)
    assert forced.skipped is None and forced.sweep_id is not None and forced.notices > 0
    # A swapped Saturday worked in exchange ("làm bù") is a working day: the sweep runs.
    assert store.day_off(date(2025, 4, 26)) is None


def test_a_completion_without_a_date_is_dated_in_the_office_time_zone(
    store: Tracker, tmp_path: Path
) -> None:
    store.load([copy_fixtures(tmp_path)], until=UNTIL)
    t = at(store, datetime(2022, 12, 1, 18, 30, tzinfo=UTC))  # 01:30 on 02/12 in Hà Nội
    r = t.complete("kh-1-2022/1/x-ubnd", "Kế hoạch số 5/KH-UBND ngày 02/12/2022")
    t.verify(r.task_id)
    with store.engine.connect() as conn:
        reported, decided = conn.execute(
            select(T.completion_t.c.reported_on, T.completion_t.c.decided_on)
        ).one()
    assert reported == decided == date(2022, 12, 2)  # the server's UTC date is 01/12
    [row] = store.status(as_of=date(2022, 12, 31), task_ids=[r.task_id])
    assert (row.status, row.days_overdue) == ("done_late", 2)  # due 30/11, done 02/12

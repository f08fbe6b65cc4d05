"""Escalation decisions: the SQL sweep agrees with the pure reference; each notice exists once.

The pure reference itself (``kttt_workflow.domain.escalation``) is tested in
``tests/unit/test_escalation.py``.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from kttt_workflow.inputs.defaults import default_calendar
from kttt_workflow.service import Tracker
from kttt_workflow.store import tables as T
from tests.helpers import UNTIL, copy_fixtures, edit_plan, ledger, reference, sqlite_digest

CAL = default_calendar()


def test_sql_sweep_matches_the_pure_decision_day_by_day(store: Tracker, tmp_path: Path) -> None:
    store.load([copy_fixtures(tmp_path)], until=UNTIL)
    store.complete(
        "kh-1-2022/1/x-ubnd", "Kế hoạch số 5/KH-UBND ngày 12/12/2022", on=date(2022, 12, 12)
    )
    store.verify("kh-1-2022/1/x-ubnd", on=date(2022, 12, 12))
    expected: set[tuple[str, str, str, bool, str]] = set()
    day = date(2022, 11, 1)
    while day <= date(2023, 3, 1):
        sent = {(a, b, c) for a, b, c, _, _ in expected}
        expected |= set(reference(store, day, sent))
        r = store.sweep(as_of=day, send=False, force=True)  # weekends too: the rule is the test
        assert set(ledger(store)) == expected, day
        assert r.notices == len(expected) - len(sent)
        day += timedelta(days=3)
    # Every step of the default ladder occurred, and the parent got copies of the urging.
    assert {x[1] for x in expected} >= {
        "nhac-truoc-7",
        "den-han",
        "don-doc-3",
        "bao-cao-10",
        "bao-cao-30",
    }
    assert ("kh-1-2022/2/x-ubnd-a", "don-doc-3", "x-ubnd", True, "overdue") in expected
    assert (
        "kh-1-2022/2/x-ubnd-a",
        "den-han",
        "x-so-khdt",
        True,
        "due",
    ) in expected  # coordinator cc
    # The task done on 12/12/2022 got nothing after it was done.
    assert not [
        x for x in expected if x[0] == "kh-1-2022/1/x-ubnd" and x[1] in ("bao-cao-10", "bao-cao-30")
    ]


def test_each_notice_once_ever_and_one_digest_per_unit(store: Tracker, tmp_path: Path) -> None:
    store.load([copy_fixtures(tmp_path)], until=UNTIL)
    first = store.sweep(as_of=date(2023, 1, 6), send=False)
    assert first.notices > 0
    again = store.sweep(as_of=date(2023, 1, 6), send=False)
    assert again.notices == 0 and again.deliveries == []
    with store.engine.connect() as conn:
        per_unit = conn.execute(
            select(T.delivery_t.c.recipient, func.count()).group_by(T.delivery_t.c.recipient)
        ).all()
        undelivered = conn.execute(
            select(func.count()).select_from(T.notice_t).where(T.notice_t.c.delivery_id.is_(None))
        ).scalar_one()
    assert all(c == 1 for _, c in per_unit)  # one digest per unit for that sweep
    assert undelivered == 0
    rows = {r["unit"]: r for r in store.deliveries()}
    assert rows["x-ubnd-a"]["subject"].startswith("Nhắc việc, đôn đốc ngày 06/01/2023")
    with store.engine.connect() as conn:
        body = conn.execute(
            select(T.delivery_t.c.body_text).where(T.delivery_t.c.recipient == "x-ubnd-a")
        ).scalar_one()
    assert (
        "Các huyện xây dựng kế hoạch" in body and "Quý IV/2022" in body and "hạn 03/01/2023" in body
    )


def test_dry_run_writes_nothing(sqlite_store: Tracker, tmp_path: Path) -> None:
    sqlite_store.load([copy_fixtures(tmp_path)], until=UNTIL)
    before = sqlite_digest(sqlite_store)
    r = sqlite_store.sweep(as_of=date(2023, 1, 6), dry_run=True)
    assert r.notices > 0 and r.previews and r.sweep_id is None
    assert "Kính gửi: UBND huyện A" in r.previews["x-ubnd-a"].text
    assert sqlite_digest(sqlite_store) == before


def test_directive_and_task_policy_overrides(store: Tracker, tmp_path: Path) -> None:
    folder = copy_fixtures(tmp_path)
    (folder / "policy.yaml").write_text(
        "kind: policy\ncode: gap\nname: Đôn đốc gấp\nsteps:\n"
        "  - {code: ngay-sau, offset: 1, days: calendar, severity: overdue, to: [lead], cc: [x-so-khdt]}\n",
        encoding="utf-8",
    )

    def amend(d: dict) -> None:  # type: ignore[type-arg]
        d["escalation"] = "gap"
        d["tasks"][1]["escalation"] = {
            "steps": [{"code": "bao-ngay", "offset": 0, "severity": "due", "to": ["issuer"]}]
        }

    edit_plan(folder, amend)
    store.load([folder], until=UNTIL)
    store.sweep(as_of=date(2022, 12, 1), send=False)
    rows = ledger(store)
    assert ("kh-1-2022/1/x-ubnd", "ngay-sau", "x-so-khdt", True, "overdue") in rows
    assert not [x for x in rows if x[1] in ("nhac-truoc-7", "den-han")]
    store.sweep(as_of=date(2023, 1, 3), send=False)
    assert ("kh-1-2022/2/x-ubnd-a", "bao-ngay", "x-ubnd", False, "due") in ledger(store)  # issuer


def test_ongoing_and_pending_tasks_get_no_ladder(store: Tracker, tmp_path: Path) -> None:
    store.load([copy_fixtures(tmp_path)], until=UNTIL)
    store.sweep(as_of=date(2026, 1, 1), send=False)
    assert not [
        x for x in ledger(store) if x[0] in ("kh-1-2022/4/x-so-khdt", "kh-1-2022/5/x-so-tc")
    ]


@pytest.mark.parametrize("role", ["lead_grandparent", "focal"])
def test_other_roles(store: Tracker, tmp_path: Path, role: str) -> None:
    folder = copy_fixtures(tmp_path)

    def amend(d: dict) -> None:  # type: ignore[type-arg]
        d["escalation"] = {"steps": [{"code": "r", "offset": 0, "severity": "due", "to": [role]}]}

    edit_plan(folder, amend)
    store.load([folder], until=UNTIL)
    store.sweep(as_of=date(2022, 11, 30), send=False)
    recipients = {x[2] for x in ledger(store) if x[0] == "kh-1-2022/1/x-ubnd"}
    assert recipients == (set() if role == "lead_grandparent" else {"x-so-khdt"})


def test_a_sweeps_notice_facts_read_from_its_watermark_are_all_of_its_notices(
    store: Tracker, tmp_path: Path
) -> None:
    # The flow reads a sweep's facts from a watermark taken before it (a range of notice ids, not
    # a scan of the whole ledger): the same facts as the unbounded read, none of an earlier sweep.
    store.load([copy_fixtures(tmp_path)], until=UNTIL)
    first = store.sweep(as_of=date(2022, 12, 20), send=False, force=True)
    mark = store.watermark()
    second = store.sweep(as_of=date(2023, 1, 10), send=False, force=True)
    assert first.sweep_id is not None and second.sweep_id is not None
    assert first.notices and second.notices
    bounded = store.notice_facts(second.sweep_id, mark.notices)
    assert bounded == store.notice_facts(second.sweep_id)
    assert sum(len(f.recipients) for f in bounded) == second.notices
    assert store.notice_facts(first.sweep_id)  # facts before the watermark, to be skipped
    with store.engine.connect() as conn:
        first_ids = conn.execute(
            select(func.max(T.notice_t.c.id)).where(T.notice_t.c.sweep_id == first.sweep_id)
        ).scalar_one()
    assert mark.notices == first_ids
    # A watermark taken after the sweep sees none of its notices: the bound is applied.
    assert store.notice_facts(second.sweep_id, store.watermark().notices) == []

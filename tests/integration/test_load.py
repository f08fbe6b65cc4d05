"""Loading: fan-out, idempotent reload, amended reload, activation, completion — SQLite and PostgreSQL."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from kttt_workflow.errors import KtttError
from kttt_workflow.service import Tracker
from kttt_workflow.store import tables as T
from tests.helpers import FIX, UNTIL, copy_fixtures, count, edit_plan, sqlite_digest


def events(store: Tracker, kind: str) -> list[str]:
    t = T.event_t
    with store.engine.connect() as conn:
        return [r.task_id for r in conn.execute(select(t.c.task_id).where(t.c.event == kind))]


def by_id(store: Tracker, as_of: date) -> dict[str, object]:
    return {r.task_id: r for r in store.status(as_of=as_of)}


def test_fan_out_one_task_per_member_and_period(store: Tracker, tmp_path: Path) -> None:
    reg, [s] = store.load([copy_fixtures(tmp_path)], until=UNTIL)
    assert reg.units_added == 6 and reg.groups_added == 2
    # 1 (UBND) + 2 sở (child) + 3 huyện + 3 huyện × 3 years (2022–2024) + 1 + 1
    assert s.total == s.added == 1 + 2 + 3 + 9 + 1 + 1
    ids = set(by_id(store, date(2024, 12, 31)))
    assert "kh-1-2022/2/x-ubnd-b" in ids  # "UBND các huyện" named by its Vietnamese name
    assert {f"kh-1-2022/3/x-ubnd-a@{y}" for y in (2022, 2023, 2024)} <= ids
    assert count(store, T.task_t) == 17
    assert len(events(store, "created")) == 17


def test_same_file_twice_changes_nothing(store: Tracker, tmp_path: Path) -> None:
    folder = copy_fixtures(tmp_path)
    store.load([folder], until=UNTIL)
    before = _snapshot(store)
    reg, [s] = store.load([folder], until=UNTIL)
    assert not s.changed_anything and s.load_id is None and s.unchanged == 17
    assert reg.units_added == reg.units_changed == 0
    assert _snapshot(store) == before


def test_same_file_twice_leaves_sqlite_file_byte_identical(
    sqlite_store: Tracker, tmp_path: Path
) -> None:
    folder = copy_fixtures(tmp_path)
    sqlite_store.load([folder], until=UNTIL)
    digest = sqlite_digest(sqlite_store)
    sqlite_store.load([folder], until=UNTIL)
    assert sqlite_digest(sqlite_store) == digest


def _snapshot(store: Tracker) -> dict[str, list[tuple]]:
    out = {}
    with store.engine.connect() as conn:
        for table in (T.Task, T.TaskEvent, T.LoadRecord, T.Directive, T.Unit):
            t = table.__table__
            rows = conn.execute(select(t).order_by(*t.primary_key.columns)).all()
            out[t.name] = [tuple(r) for r in rows]
    return out


def test_amended_file_applies_and_records_the_difference(store: Tracker, tmp_path: Path) -> None:
    folder = copy_fixtures(tmp_path)
    store.load([folder], until=UNTIL)

    def amend(d: dict) -> None:
        tasks = d["tasks"]
        tasks[1]["deadline"] = "trong tháng 1/2023"  # deadline changed (3 tasks)
        tasks[3]["lead"] = "x-so-tc"  # unit replaced: 4/x-so-khdt removed, 4/x-so-tc added
        tasks.append(
            {"id": "6", "title": "Nhiệm vụ mới", "lead": "x-ubnd", "deadline": "Quý I/2023"}
        )
        del tasks[4]  # task 5 removed

    edit_plan(folder, amend)
    _, [s] = store.load([folder], until=UNTIL)
    assert (s.added, s.changed, s.removed) == (2, 3, 2)
    assert s.load_id is not None
    changed = {c["task_id"]: c for c in s.changes}
    c = changed["kh-1-2022/2/x-ubnd-a"]
    assert c["deadline_text"] == {"old": "Quý IV/2022", "new": "trong tháng 1/2023"}
    assert c["due_on"] == {"old": "2023-01-03", "new": "2023-01-31"}
    st = by_id(store, date(2023, 1, 10))
    assert st["kh-1-2022/2/x-ubnd-a"].status == "on_track"  # type: ignore[attr-defined]
    assert "kh-1-2022/5/x-so-tc" not in st and "kh-1-2022/4/x-so-khdt" not in st
    assert "kh-1-2022/4/x-so-tc" in st and "kh-1-2022/6/x-ubnd" in st
    assert sorted(events(store, "removed")) == ["kh-1-2022/4/x-so-khdt", "kh-1-2022/5/x-so-tc"]
    assert len(events(store, "changed")) == 3
    # Removed rows are kept (soft delete), never lost.
    assert count(store, T.task_t, T.task_t.c.state == "removed") == 2

    # Reverting the file restores the removed tasks with their history.
    shutil.copy(FIX / "plan.yaml", folder / "plan.yaml")
    _, [s2] = store.load([folder], until=UNTIL)
    assert s2.restored == 2 and s2.removed == 2  # 4/x-so-tc and 6 go away again
    assert "kh-1-2022/5/x-so-tc" in by_id(store, date(2023, 1, 10))


def test_status_before_and_after_each_deadline(store: Tracker, tmp_path: Path) -> None:
    store.load([copy_fixtures(tmp_path)], until=UNTIL)
    ubnd = "kh-1-2022/1/x-ubnd"  # trong tháng 11/2022 -> 30/11/2022 (Wednesday)
    assert by_id(store, date(2022, 11, 30))[ubnd].status == "on_track"  # type: ignore[attr-defined]
    late = by_id(store, date(2022, 12, 5))[ubnd]
    assert (late.status, late.days_overdue) == ("overdue", 5)  # type: ignore[attr-defined]
    # Quý IV/2022 ends Saturday 31/12; Monday 2/1/2023 is the New Year holiday: due 3/1/2023.
    huyen = by_id(store, date(2023, 1, 3))["kh-1-2022/2/x-ubnd-a"]
    assert (huyen.due, huyen.status) == (date(2023, 1, 3), "on_track")  # type: ignore[attr-defined]
    assert by_id(store, date(2023, 1, 4))["kh-1-2022/2/x-ubnd-a"].status == "overdue"  # type: ignore[attr-defined]
    # Recurring report "trước ngày 20 của tháng cuối kỳ": due 19/12 each year.
    r23 = by_id(store, date(2023, 12, 20))["kh-1-2022/3/x-ubnd-a@2023"]
    assert (r23.due, r23.status, r23.days_overdue) == (date(2023, 12, 19), "overdue", 1)  # type: ignore[attr-defined]
    st = by_id(store, date(2022, 12, 5))
    assert st["kh-1-2022/4/x-so-khdt"].status == "ongoing"  # type: ignore[attr-defined]
    assert st["kh-1-2022/5/x-so-tc"].status == "awaiting_deadline"  # type: ignore[attr-defined]
    assert st["kh-1-2022/1.1/x-so-khdt"].status == "pending"  # type: ignore[attr-defined]


def test_completion_verify_activates_children_and_return_does_not_count(
    store: Tracker, tmp_path: Path
) -> None:
    store.load([copy_fixtures(tmp_path)], until=UNTIL)
    r = store.complete(
        "kh-1-2022/1", "Kế hoạch số 5/KH-UBND ngày 10/12/2022", unit="x-ubnd", on=date(2022, 12, 10)
    )
    assert r.state == "reported"
    with pytest.raises(KtttError, match="đang chờ xác nhận"):
        store.complete("kh-1-2022/1/x-ubnd", "lần hai", on=date(2022, 12, 11))
    # Not verified yet: awaiting verification (counted apart, never as overdue), children waiting.
    st = by_id(store, date(2022, 12, 15))
    assert st["kh-1-2022/1/x-ubnd"].status == "awaiting_verification"  # type: ignore[attr-defined]
    assert st["kh-1-2022/1.1/x-so-tc"].status == "pending"  # type: ignore[attr-defined]
    v = store.verify("kh-1-2022/1/x-ubnd", on=date(2022, 12, 12))
    assert v.activated == 2
    st = by_id(store, date(2022, 12, 15))
    done = st["kh-1-2022/1/x-ubnd"]
    assert (done.status, done.days_overdue) == ("done_late", 10)  # type: ignore[attr-defined]
    assert st["kh-1-2022/1.1/x-so-tc"].status == "on_track"  # type: ignore[attr-defined]
    # As of a date before the report, the task was still overdue and the children pending.
    st = by_id(store, date(2022, 12, 9))
    assert st["kh-1-2022/1/x-ubnd"].status == "overdue"  # type: ignore[attr-defined]
    assert st["kh-1-2022/1.1/x-so-tc"].status == "pending"  # type: ignore[attr-defined]

    # A returned report does not count.
    store.complete(
        "kh-1-2022/2/x-ubnd-a", "Kế hoạch số 7/KH-UBND ngày 20/12/2022", on=date(2022, 12, 20)
    )
    store.return_("kh-1-2022/2/x-ubnd-a", "Chưa đủ nội dung", on=date(2022, 12, 21))
    st = by_id(store, date(2023, 1, 10))
    assert st["kh-1-2022/2/x-ubnd-a"].status == "overdue"  # type: ignore[attr-defined]
    # Between the report and the return, it was waiting for the decision.
    st = by_id(store, date(2022, 12, 20))
    assert st["kh-1-2022/2/x-ubnd-a"].status == "awaiting_verification"  # type: ignore[attr-defined]
    hist = [e["event"] for e in store.history("kh-1-2022/2/x-ubnd-a")]
    assert hist == ["created", "reported", "returned"]
    # Reported again, verified on time.
    store.complete(
        "kh-1-2022/2/x-ubnd-a", "Kế hoạch số 9/KH-UBND ngày 28/12/2022", on=date(2022, 12, 28)
    )
    store.verify("kh-1-2022/2/x-ubnd-a", on=date(2022, 12, 29))
    assert by_id(store, date(2023, 1, 10))["kh-1-2022/2/x-ubnd-a"].status == "done_on_time"  # type: ignore[attr-defined]
    c = T.completion_t
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(c.c.state, c.c.evidence_symbol, c.c.evidence_date)
            .where(c.c.task_id == "kh-1-2022/2/x-ubnd-a")
            .order_by(c.c.id)
        ).all()
    assert [tuple(r) for r in rows] == [
        ("returned", "7/KH-UBND", date(2022, 12, 20)),
        ("verified", "9/KH-UBND", date(2022, 12, 28)),
    ]


def test_child_added_later_to_a_done_parent_is_active(store: Tracker, tmp_path: Path) -> None:
    folder = copy_fixtures(tmp_path)
    store.load([folder], until=UNTIL)
    store.complete(
        "kh-1-2022/2/x-ubnd-a", "Kế hoạch số 3/KH-UBND ngày 01/12/2022", on=date(2022, 12, 1)
    )
    store.verify("kh-1-2022/2/x-ubnd-a", on=date(2022, 12, 1))

    def add_child(d: dict) -> None:
        d["tasks"][1]["children"] = [
            {"id": "2.1", "title": "Xã triển khai", "lead": "x-cac-huyen", "deadline": "Quý I/2023"}
        ]

    edit_plan(folder, add_child)
    store.load([folder], until=UNTIL)
    st = by_id(store, date(2022, 12, 10))
    assert st["kh-1-2022/2.1/x-ubnd-a"].status == "on_track"  # type: ignore[attr-defined]
    assert st["kh-1-2022/2.1/x-ubnd-b"].status == "pending"  # type: ignore[attr-defined]


def test_unknown_task_is_a_clear_error(store: Tracker, tmp_path: Path) -> None:
    store.load([copy_fixtures(tmp_path)], until=UNTIL)
    with pytest.raises(KtttError, match="không tìm thấy nhiệm vụ"):
        store.complete("kh-1-2022/99/x-ubnd", "Kế hoạch số 1/KH-UBND ngày 01/12/2022")
    with pytest.raises(KtttError, match="nhiều nhiệm vụ"):
        store.complete("kh-1-2022/2", "Kế hoạch số 1/KH-UBND ngày 01/12/2022")
    with pytest.raises(KtttError, match="không có báo cáo"):
        store.verify("kh-1-2022/2/x-ubnd-a")

"""The SQL status (many rows at once) agrees with the reference definition ``status_of``.

The reference itself is tested in ``tests/unit/test_status.py``.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import select

from kttt_workflow.domain.status import Report, Status, awaiting_since, status_of
from kttt_workflow.service import Tracker
from kttt_workflow.store import tables as T
from kttt_workflow.store.registry import read_registry
from tests.helpers import UNTIL, copy_fixtures, sub


def test_sql_status_matches_reference_on_every_task_and_date(
    store: Tracker, tmp_path: Path
) -> None:
    folder = copy_fixtures(tmp_path)
    units = folder / "units.yaml"
    # UBND huyện C is dissolved on 30/06/2023 with no successor: its open tasks then have nobody
    # to answer for them.
    units.write_text(
        sub(
            units.read_text(encoding="utf-8"),
            "    name: UBND huyện C\n    level: huyen\n",
            "    name: UBND huyện C\n    level: huyen\n    valid_to: 2023-06-30\n",
        ),
        encoding="utf-8",
    )
    store.load([folder], until=UNTIL)
    store.complete(
        "kh-1-2022/1/x-ubnd", "Kế hoạch số 5/KH-UBND ngày 10/12/2022", on=date(2022, 12, 10)
    )
    store.verify("kh-1-2022/1/x-ubnd", on=date(2022, 12, 10))
    store.complete(
        "kh-1-2022/2/x-ubnd-b", "Kế hoạch số 6/KH-UBND ngày 15/12/2022", on=date(2022, 12, 15)
    )
    store.verify("kh-1-2022/2/x-ubnd-b", on=date(2022, 12, 15))
    # A report returned after a month (waiting in between), and one still waiting.
    store.complete(
        "kh-1-2022/2/x-ubnd-a", "Kế hoạch số 7/KH-UBND ngày 20/12/2022", on=date(2022, 12, 20)
    )
    store.return_("kh-1-2022/2/x-ubnd-a", "Thiếu phụ lục", on=date(2023, 1, 20))
    store.complete(
        "kh-1-2022/3/x-ubnd-a@2023", "Báo cáo số 8/BC-UBND ngày 01/12/2023", on=date(2023, 12, 1)
    )
    # One of huyện C's tasks given to huyện B from 15/01/2024: dissolved before, B's after.
    moved = store.reassign(
        "x-ubnd-b",
        "Quyết định số 1/QĐ-UBND ngày 15/01/2024",
        task="kh-1-2022/3/x-ubnd-c@2023",
        on=date(2024, 1, 15),
    )
    assert moved.moved == [("kh-1-2022/3/x-ubnd-c@2023", "x-ubnd-c")]
    t, c = T.task_t, T.completion_t
    with store.engine.connect() as conn:
        rows = {r.id: r for r in conn.execute(select(t))}
        reports: dict[str, list[Report]] = {}
        for r in conn.execute(select(c)):
            reports.setdefault(r.task_id, []).append(Report(r.reported_on, r.state, r.decided_on))
        registry = read_registry(conn)
    seen: set[str] = set()
    day = date(2022, 10, 1)
    while day <= date(2025, 1, 31):
        for s in store.status(as_of=day):
            r = rows[s.task_id]
            lead = r.assigned_code if r.assigned_on and r.assigned_on <= day else r.unit_code
            answering = registry.current(lead, day)
            info = registry.units.get(answering)
            ref = status_of(
                as_of=day,
                deadline_kind=r.deadline_kind,
                due=r.due_on,
                activation=r.activation,
                activated_on=r.activated_on,
                completed_on=r.completed_on,
                reported_on=awaiting_since(reports.get(r.id, []), day),
                unit_ceased=info is not None and info.valid_to is not None and info.valid_to < day,
            )
            assert (s.status, s.days_overdue) == (ref.status.value, ref.days_overdue), (
                s.task_id,
                day,
            )
            assert s.answering_unit == answering, (s.task_id, day)
            seen.add(s.status)
        day += timedelta(days=9)
    assert seen == {x.value for x in Status}  # every status occurred somewhere

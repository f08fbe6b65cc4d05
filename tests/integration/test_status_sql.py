"""The SQL status (many rows at once) agrees with the reference definition ``status_of``.

The reference itself is tested in ``tests/unit/test_status.py``.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from kttt_workflow.domain.status import Status, status_of
from kttt_workflow.service import Tracker
from kttt_workflow.store import tables as T
from tests.helpers import UNTIL, copy_fixtures


def test_sql_status_matches_reference_on_every_task_and_date(store: Tracker, tmp_path) -> None:  # type: ignore[no-untyped-def]
    store.load([copy_fixtures(tmp_path)], until=UNTIL)
    store.complete(
        "kh-1-2022/1/x-ubnd", "Kế hoạch số 5/KH-UBND ngày 10/12/2022", on=date(2022, 12, 10)
    )
    store.verify("kh-1-2022/1/x-ubnd", on=date(2022, 12, 10))
    store.complete(
        "kh-1-2022/2/x-ubnd-b", "Kế hoạch số 6/KH-UBND ngày 15/12/2022", on=date(2022, 12, 15)
    )
    store.verify("kh-1-2022/2/x-ubnd-b", on=date(2022, 12, 15))
    t = T.task_t
    with store.engine.connect() as conn:
        rows = {r.id: r for r in conn.execute(select(t))}
    seen: set[str] = set()
    day = date(2022, 10, 1)
    while day <= date(2025, 1, 31):
        for s in store.status(as_of=day):
            r = rows[s.task_id]
            ref = status_of(
                as_of=day,
                deadline_kind=r.deadline_kind,
                due=r.due_on,
                activation=r.activation,
                activated_on=r.activated_on,
                completed_on=r.completed_on,
            )
            assert (s.status, s.days_overdue) == (ref.status.value, ref.days_overdue), (
                s.task_id,
                day,
            )
            seen.add(s.status)
        day += timedelta(days=9)
    assert seen == {x.value for x in Status}  # every status occurred somewhere

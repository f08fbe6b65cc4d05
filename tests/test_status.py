"""The SQL status (many rows at once) agrees with the reference definition ``status_of``."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from kttt_workflow.domain.status import Status, bucket, status_of
from kttt_workflow.service import Tracker
from kttt_workflow.store import tables as T
from tests.test_load import UNTIL, copy_fixtures


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


@settings(max_examples=300)
@given(
    as_of=st.dates(date(2020, 1, 1), date(2030, 12, 31)),
    due=st.one_of(st.none(), st.dates(date(2020, 1, 1), date(2030, 12, 31))),
    kind=st.sampled_from(["fixed", "recurring", "ongoing", "pending", "unspecified"]),
    activation=st.sampled_from(["immediate", "on_parent_done"]),
    activated_on=st.one_of(st.none(), st.dates(date(2020, 1, 1), date(2030, 12, 31))),
    completed_on=st.one_of(st.none(), st.dates(date(2020, 1, 1), date(2030, 12, 31))),
)
def test_reference_status_invariants(
    as_of, due, kind, activation, activated_on, completed_on
) -> None:  # type: ignore[no-untyped-def]
    r = status_of(
        as_of=as_of,
        deadline_kind=kind,
        due=due if kind in ("fixed", "recurring") else None,
        activation=activation,
        activated_on=activated_on,
        completed_on=completed_on,
    )
    if completed_on is not None and completed_on <= as_of:
        assert r.status in (Status.done_on_time, Status.done_late)
    if r.status == Status.overdue:
        assert r.days_overdue > 0 and due is not None and as_of > due and bucket(r.days_overdue)
    else:
        assert bucket(r.days_overdue) is None or r.status == Status.done_late
    if r.status in (Status.ongoing, Status.awaiting_deadline):
        assert kind in ("ongoing", "pending", "unspecified") or due is None


def test_overdue_buckets() -> None:
    assert bucket(0) is None
    assert bucket(1) == bucket(7) == "Quá hạn 1–7 ngày"
    assert bucket(8) == "Quá hạn 8–30 ngày"
    assert bucket(400) == "Quá hạn trên 90 ngày"

"""The reference definition of a task's status (``kttt_workflow.domain.status``): invariants of
``status_of`` and the overdue buckets. That the SQL agrees with it is tested in
``tests/integration/test_status_sql.py``."""

from __future__ import annotations

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from kttt_workflow.domain.status import Status, bucket, status_of


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

"""The reference definition of a task's status (``kttt_workflow.domain.status``): invariants of
``status_of`` and the overdue buckets. That the SQL agrees with it is tested in
``tests/integration/test_status_sql.py``."""

from __future__ import annotations

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from kttt_workflow.domain.status import Report, Status, awaiting_since, bucket, status_of


@settings(max_examples=300)
@given(
    as_of=st.dates(date(2020, 1, 1), date(2030, 12, 31)),
    due=st.one_of(st.none(), st.dates(date(2020, 1, 1), date(2030, 12, 31))),
    kind=st.sampled_from(["fixed", "recurring", "ongoing", "pending", "unspecified"]),
    activation=st.sampled_from(["immediate", "on_parent_done"]),
    activated_on=st.one_of(st.none(), st.dates(date(2020, 1, 1), date(2030, 12, 31))),
    completed_on=st.one_of(st.none(), st.dates(date(2020, 1, 1), date(2030, 12, 31))),
    reported_on=st.one_of(st.none(), st.dates(date(2020, 1, 1), date(2030, 12, 31))),
    ceased=st.booleans(),
)
def test_reference_status_invariants(
    as_of, due, kind, activation, activated_on, completed_on, reported_on, ceased
) -> None:  # type: ignore[no-untyped-def]
    dated = kind in ("fixed", "recurring")
    r = status_of(
        as_of=as_of,
        deadline_kind=kind,
        due=due if dated else None,
        activation=activation,
        activated_on=activated_on,
        completed_on=completed_on,
        reported_on=reported_on,
        unit_ceased=ceased,
    )
    done = completed_on is not None and completed_on <= as_of
    if done:
        assert r.status in (Status.done_on_time, Status.done_late)
    elif reported_on is not None and reported_on <= as_of:
        assert r.status == Status.awaiting_verification  # never overdue while it waits
    elif ceased:
        assert r.status == Status.unit_dissolved  # never overdue: nobody can answer for it
    waiting = activation == "on_parent_done" and (activated_on is None or activated_on > as_of)
    if r.status == Status.pending:
        assert waiting and not (dated and due is not None and due < as_of)
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


def test_a_report_waits_from_its_date_until_it_is_decided() -> None:
    returned = Report(date(2022, 12, 20), "returned", date(2023, 1, 20))
    pending = Report(date(2023, 2, 1), "reported")
    assert awaiting_since([returned, pending], date(2022, 12, 19)) is None
    assert awaiting_since([returned, pending], date(2022, 12, 20)) == date(2022, 12, 20)
    assert awaiting_since([returned, pending], date(2023, 1, 20)) is None  # returned that day
    assert awaiting_since([returned, pending], date(2023, 2, 1)) == date(2023, 2, 1)
    assert (
        awaiting_since(
            [Report(date(2022, 12, 20), "verified", date(2022, 12, 21))], date(2023, 1, 1)
        )
        is None
    )


def test_a_waiting_child_past_its_own_deadline_is_overdue() -> None:
    kw = dict(deadline_kind="fixed", due=date(2022, 12, 31), activation="on_parent_done",
              activated_on=None, completed_on=None)  # fmt: skip
    assert status_of(as_of=date(2022, 12, 31), **kw).status == Status.pending  # type: ignore[arg-type]
    late = status_of(as_of=date(2023, 1, 10), **kw)  # type: ignore[arg-type]
    assert (late.status, late.days_overdue) == (Status.overdue, 10)

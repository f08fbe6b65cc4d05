"""The pure escalation rules (``kttt_workflow.domain.escalation``): fire dates in working days,
the step reached, and ``decide`` respecting the ledger. That the SQL sweep agrees with ``decide``
is tested in ``tests/integration/test_sweep_decisions.py``."""

from __future__ import annotations

from datetime import date

from kttt_workflow.domain.escalation import Step, TaskView, decide, fire_date, reached_step
from kttt_workflow.inputs.defaults import default_calendar

CAL = default_calendar()
DEFAULT = [
    Step("nhac-truoc-7", -7, "working", "upcoming", ("lead",)),
    Step("den-han", 0, "working", "due", ("lead",), ("coordinators",)),
    Step("don-doc-3", 3, "working", "overdue", ("lead",), ("lead_parent",)),
]


def test_fire_dates_count_working_days() -> None:
    due = date(2022, 11, 30)  # Wednesday
    assert fire_date(DEFAULT[0], due, CAL) == date(2022, 11, 21)  # 7 working days before
    assert fire_date(DEFAULT[2], due, CAL) == date(2022, 12, 5)  # Thu, Fri, Mon
    # Across Tết 2022 (31/1–4/2 off): 3 working days after Friday 28/1/2022 is Wednesday 9/2.
    assert fire_date(DEFAULT[2], date(2022, 1, 28), CAL) == date(2022, 2, 9)
    assert fire_date(
        Step("c", 3, "calendar", "overdue", ("lead",)), date(2022, 1, 28), CAL
    ) == date(2022, 1, 31)


def test_reached_step_is_the_most_advanced_one() -> None:
    due = date(2022, 11, 30)
    assert reached_step(DEFAULT, due, date(2022, 11, 18), CAL) is None
    assert reached_step(DEFAULT, due, date(2022, 11, 21), CAL)[0].code == "nhac-truoc-7"  # type: ignore[index]
    assert reached_step(DEFAULT, due, date(2022, 11, 30), CAL)[0].code == "den-han"  # type: ignore[index]
    assert reached_step(DEFAULT, due, date(2023, 6, 1), CAL)[0].code == "don-doc-3"  # type: ignore[index]


def test_pure_decide_respects_the_ledger() -> None:
    task = TaskView(
        "d/1/a", "p", date(2022, 11, 30), "a", lead_parent="tinh", coordinators=("b", "a")
    )
    notices = decide([task], {"p": DEFAULT}, CAL, date(2022, 12, 5), sent=set())
    assert [(x.recipient, x.is_cc) for x in notices] == [("a", False), ("tinh", True)]
    again = decide(
        [task],
        {"p": DEFAULT},
        CAL,
        date(2022, 12, 6),
        sent={(x.task_id, x.step_code, x.recipient) for x in notices},
    )
    assert again == []

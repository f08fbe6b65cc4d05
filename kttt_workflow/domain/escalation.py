"""Escalation ladders: which step of a policy a task has reached, and who gets a notice.

Pure and explicit about time (``as_of``) and the calendar. The store runs the same decision in SQL
over all open tasks at once (``kttt_workflow.store.sweep``, fed by :func:`fire_rows`); ``decide``
here is the reference the tests compare it with, successors of ceased units included
(:meth:`kttt_workflow.domain.registry.Registry.current` and its SQL mirror).

Rule: on a sweep as of D, a task gets the notices of the *most advanced* step whose date has come
(fire date ≤ D): a sweep that first runs 12 days after the deadline sends the "+10" escalation,
not also the "-7" reminder and the "+3" urging. Each (task, step, recipient) is sent at most once,
ever: ``sent`` holds what the ledger already has.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from kttt_workflow.domain.calendar import WorkingCalendar

ROLES = ("lead", "coordinators", "lead_parent", "lead_grandparent", "issuer", "focal")

SEVERITY_LABELS = {
    "upcoming": "Sắp đến hạn",
    "due": "Đến hạn",
    "overdue": "Quá hạn",
    "escalated": "Báo cáo cấp trên",
}


@dataclass(frozen=True)
class Step:
    code: str
    offset: int
    days: str  # "working" | "calendar"
    severity: str
    to: tuple[str, ...]
    cc: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Step:
        return cls(
            str(d["code"]),
            int(d["offset"]),
            str(d.get("days", "working")),
            str(d["severity"]),
            tuple(d.get("to") or ()),
            tuple(d.get("cc") or ()),
        )


def fire_date(step: Step, due: date, calendar: WorkingCalendar) -> date:
    """The day a step fires for a task due on ``due`` ("-7 ngày làm việc" = 7 working days before)."""
    if step.days == "calendar" or step.offset == 0:
        return due + timedelta(days=step.offset)
    return calendar.add_working_days(due, step.offset)


def reached_step(
    steps: Sequence[Step], due: date, as_of: date, calendar: WorkingCalendar
) -> tuple[Step, date] | None:
    """The most advanced step whose fire date is on or before ``as_of`` (with that date)."""
    best: tuple[Step, date] | None = None
    for st in steps:
        when = fire_date(st, due, calendar)
        if when <= as_of and (best is None or (when, st.offset) > (best[1], best[0].offset)):
            best = (st, when)
    return best


@dataclass(frozen=True)
class FireRow:
    """One recipient role of the step reached by every open task with this (policy, due date).

    The sweep computes these for the few distinct (policy, due date) pairs of open tasks, then
    joins them with the tasks in SQL (:mod:`kttt_workflow.store.sweep`).
    """

    policy_code: str
    due_on: date
    step_code: str
    severity: str
    fire_on: date
    role: str
    is_cc: bool
    ord: int  # 0 for 'to', 1 for 'cc': a unit that is both is a 'to'


def fire_rows(
    pairs: Iterable[tuple[str, date]],
    policies: Mapping[str, Sequence[Step]],
    as_of: date,
    calendar: WorkingCalendar,
) -> list[FireRow]:
    """The recipient roles due as of ``as_of`` for each (policy code, due date) pair."""
    rows: list[FireRow] = []
    for code, due in pairs:
        reached = reached_step(policies.get(code, ()), due, as_of, calendar)
        if reached is None:
            continue
        st, when = reached
        for ord_, (roles, is_cc) in enumerate(((st.to, False), (st.cc, True))):
            rows += [
                FireRow(code, due, st.code, st.severity, when, role, is_cc, ord_) for role in roles
            ]
    return rows


@dataclass(frozen=True)
class TaskView:
    """What a decision needs to know about one open task and its unit's hierarchy."""

    task_id: str
    policy_code: str
    due: date
    lead: str
    lead_parent: str | None = None
    lead_grandparent: str | None = None
    coordinators: tuple[str, ...] = ()
    issuer: str | None = None
    focal: str | None = None
    lead_gone: bool = False  # the lead's chain of successors ends in a unit that ceased


@dataclass(frozen=True, order=True)
class NoticeDue:
    task_id: str
    step_code: str
    recipient: str
    is_cc: bool = field(compare=False)
    severity: str = field(compare=False)
    fire_on: date = field(compare=False)


def recipients(step: Step, task: TaskView, units: set[str] | None = None) -> list[tuple[str, bool]]:
    """(unit, is_cc) pairs of a step for a task; 'to' wins over 'cc' for the same unit."""
    out: dict[str, bool] = {}

    def resolve(role: str) -> list[str]:
        if role == "lead":
            return [task.lead]
        if role == "coordinators":
            return list(task.coordinators)
        if role in ("lead_parent", "lead_grandparent", "issuer", "focal"):
            v = getattr(task, role)
            return [v] if v else []
        return [role]  # a unit code

    for is_cc, roles in ((False, step.to), (True, step.cc)):
        for role in roles:
            for unit in resolve(role):
                if units is not None and unit not in units:
                    continue
                out.setdefault(unit, is_cc)
    return list(out.items())


def decide(
    tasks: Iterable[TaskView],
    policies: Mapping[str, Sequence[Step]],
    calendar: WorkingCalendar,
    as_of: date,
    sent: set[tuple[str, str, str]],
    units: set[str] | None = None,
    current: Callable[[str], str] | None = None,
    ceased: Callable[[str], bool] | None = None,
) -> list[NoticeDue]:
    """The notices due as of ``as_of`` that the ledger (``sent``) does not have yet.

    ``current`` names the unit that answers for a recipient as of ``as_of`` (a ceased unit's
    successor, down the whole chain: ``lambda u: registry.current(u, as_of)``); ``ceased`` says
    whether that unit had ceased too (nobody answers: no notice). A task whose lead is gone is
    not urged: its coordinator is asked to reassign it (:func:`follow_ups`).
    """
    out: list[NoticeDue] = []
    for t in tasks:
        if t.lead_gone:
            continue
        reached = reached_step(policies.get(t.policy_code, ()), t.due, as_of, calendar)
        if reached is None:
            continue
        st, when = reached
        answering: dict[str, bool] = {}  # two recipients may answer through the same successor
        for unit, is_cc in recipients(st, t, units):  # 'to' first: it wins over 'cc'
            answering.setdefault(current(unit) if current is not None else unit, is_cc)
        for unit, is_cc in answering.items():
            if ceased is not None and ceased(unit):
                continue
            if (t.task_id, st.code, unit) not in sent:
                out.append(NoticeDue(t.task_id, st.code, unit, is_cc, st.severity, when))
    return sorted(out)


@dataclass(frozen=True)
class ReportView:
    """One completion report of a task, as the follow-ups see it."""

    id: int
    reported_on: date
    state: str  # reported | verified | returned
    decided_on: date | None = None


@dataclass(frozen=True)
class FollowUpView:
    """What the follow-ups need to know about one started, not yet done task."""

    task_id: str
    lead: str
    issuer: str | None
    focal: str | None  # None unless a unit of the registry
    lead_gone: bool
    reports: tuple[ReportView, ...] = ()


def follow_ups(
    tasks: Iterable[FollowUpView],
    as_of: date,
    sent: set[tuple[str, str, str]],
    current: Callable[[str], str],
    ceased: Callable[[str], bool],
) -> list[NoticeDue]:
    """The notices a sweep sends besides the ladder (each once, ever):

    * a report awaiting verification → the focal unit (else the issuer), step
      ``cho-xac-nhan-<report id>``, severity ``verify``;
    * the latest report, returned by ``as_of`` → the lead, ``tra-lai-<report id>``, ``returned``;
    * a task whose lead ceased with no successor → the issuer and the focal unit, ``giao-lai``,
      ``reassign``.

    Recipients answer through their successors; one that had ceased gets nothing.
    """
    out: set[NoticeDue] = set()

    def add(task: str, step: str, unit: str | None, severity: str, when: date) -> None:
        if unit is None:
            return
        now = current(unit)
        if not ceased(now) and (task, step, now) not in sent:
            out.add(NoticeDue(task, step, now, False, severity, when))

    for t in tasks:
        seen = [r for r in t.reports if r.reported_on <= as_of]
        waiting = [
            r
            for r in seen
            if r.state == "reported"
            or (r.state == "returned" and r.decided_on is not None and r.decided_on > as_of)
        ]
        for r in waiting:
            add(t.task_id, f"cho-xac-nhan-{r.id}", t.focal or t.issuer, "verify", r.reported_on)
        latest = max(seen, key=lambda r: r.id, default=None)
        if (
            latest is not None
            and latest.state == "returned"
            and latest.decided_on is not None
            and latest.decided_on <= as_of
            and not t.lead_gone
        ):
            add(t.task_id, f"tra-lai-{latest.id}", t.lead, "returned", latest.decided_on)
        if t.lead_gone and not waiting:  # a report waits: the coordinator decides on it first
            for unit in (t.issuer, t.focal):
                add(t.task_id, "giao-lai", unit, "reassign", as_of)
    return sorted(out)

"""Status of a task as of a date, in the Government Office's taxonomy.

``status_of`` is the reference definition; the store computes the same thing in SQL for many rows
(``kttt_workflow.store.status``), and the tests check that both agree. The labels (``LABELS``
in full, ``SHORT`` for table columns, in ``ORDER``) are the only status vocabulary of the project.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    pending = "pending"  # waiting for its parent task
    on_track = "on_track"  # open, not yet due
    overdue = "overdue"  # open, past due
    done_on_time = "done_on_time"
    done_late = "done_late"
    ongoing = "ongoing"  # "Thường xuyên": no single deadline
    awaiting_deadline = "awaiting_deadline"  # "Theo Kế hoạch được phê duyệt", or no deadline given
    awaiting_verification = "awaiting_verification"  # reported, the coordinator has not decided
    unit_dissolved = "unit_dissolved"  # the unit that answers for it ceased, with no successor


LABELS: dict[Status, str] = {
    Status.pending: "Chờ nhiệm vụ cấp trên hoàn thành",
    Status.on_track: "Đang thực hiện, trong hạn",
    Status.overdue: "Chưa hoàn thành, quá hạn",
    Status.done_on_time: "Đã hoàn thành đúng hạn",
    Status.done_late: "Đã hoàn thành, quá hạn",
    Status.ongoing: "Thường xuyên",
    Status.awaiting_deadline: "Chờ xác định thời hạn",
    Status.awaiting_verification: "Đã báo cáo, chờ xác nhận",
    Status.unit_dissolved: "Đơn vị đã giải thể, chưa có đơn vị kế thừa",
}

# Short labels for table columns, in the office's reading order (done, then open, then the rest).
SHORT: dict[Status, str] = {
    Status.done_on_time: "Xong đúng hạn",
    Status.done_late: "Xong quá hạn",
    Status.awaiting_verification: "Chờ xác nhận",
    Status.on_track: "Trong hạn",
    Status.overdue: "Quá hạn",
    Status.pending: "Chờ cấp trên",
    Status.ongoing: "Thường xuyên",
    Status.awaiting_deadline: "Chờ thời hạn",
    Status.unit_dissolved: "Đơn vị giải thể",
}
ORDER: tuple[Status, ...] = tuple(SHORT)

# The statuses a task due by the report date can have: the denominator of the deadline ratios.
DUE_STATUSES: frozenset[str] = frozenset(
    s.value for s in (Status.done_on_time, Status.done_late, Status.overdue, Status.on_track)
)


def parse_status(name: str) -> Status:
    """The status named ``name`` (``overdue``…); a Vietnamese error lists the valid names."""
    try:
        return Status(name)
    except ValueError:
        valid = ", ".join(s.value for s in Status)
        raise ValueError(f"tình trạng '{name}' không hợp lệ; cần một trong: {valid}") from None


def started(starts_on: date | None, as_of: date) -> bool:
    """Whether a task counts as of ``as_of``: a recurring instance counts once its period began.

    The SQL mirror is :func:`kttt_workflow.store.status.started`.

    >>> started(date(2023, 1, 1), date(2022, 12, 5)), started(None, date(2022, 12, 5))
    (False, True)
    """
    return starts_on is None or starts_on <= as_of


# Overdue age buckets (days past due), as offices report them.
BUCKETS: tuple[tuple[int, int | None, str], ...] = (
    (1, 7, "Quá hạn 1–7 ngày"),
    (8, 30, "Quá hạn 8–30 ngày"),
    (31, 90, "Quá hạn 31–90 ngày"),
    (91, None, "Quá hạn trên 90 ngày"),
)


def bucket(days_overdue: int) -> str | None:
    """Vietnamese overdue-age bucket for a number of days past due (None when not overdue)."""
    for low, high, label in BUCKETS:
        if days_overdue >= low and (high is None or days_overdue <= high):
            return label
    return None


@dataclass(frozen=True)
class TaskStatus:
    """One task as of a date, as every view shows it (terminal, report, Prefect artifacts)."""

    task_id: str
    directive: str
    task_key: str
    unit: str
    unit_name: str
    period: str | None
    title: str
    deliverable: str | None
    deadline_text: str | None
    due: date | None
    status: str
    status_label: str
    days_overdue: int
    overdue_bucket: str | None
    key_task: bool
    state: str
    coordinating: list[str]
    # Who answers for it on the as-of date: the lead, or the successor of a lead that ceased.
    answering_unit: str = ""
    answering_name: str = ""
    inherited_from: str | None = None  # the ceased lead's name, when a successor answers
    reassigned_from: str | None = None  # the named lead's name, when a coordinator reassigned it
    waiting_for_parent: bool = False  # overdue although its parent task is not done yet

    @property
    def lead_shown(self) -> str:
        """The lead as every view names it: "Sở Tài chính Bắc Ninh (kế thừa từ Sở KH&ĐT …)"."""
        if self.reassigned_from:
            return f"{self.answering_name} (giao lại từ {self.reassigned_from})"
        if self.inherited_from:
            return f"{self.answering_name} (kế thừa từ {self.inherited_from})"
        return self.unit_name

    def as_json(self) -> dict[str, Any]:
        return {
            "task_id": self.task_id,
            "directive": self.directive,
            "task": self.task_key,
            "unit": self.unit,
            "unit_name": self.unit_name,
            "period": self.period,
            "title": self.title,
            "deliverable": self.deliverable,
            "deadline_text": self.deadline_text,
            "due": self.due.isoformat() if self.due else None,
            "status": self.status,
            "status_label": self.status_label,
            "days_overdue": self.days_overdue,
            "overdue_bucket": self.overdue_bucket,
            "key_task": self.key_task,
            "report_state": self.state,
            "coordinating": self.coordinating,
            "answering_unit": self.answering_unit or self.unit,
            "answering_name": self.answering_name or self.unit_name,
            "inherited_from": self.inherited_from,
            "reassigned_from": self.reassigned_from,
            "waiting_for_parent": self.waiting_for_parent,
        }


@dataclass(frozen=True)
class StatusResult:
    status: Status
    days_overdue: int  # calendar days past due as of the date (0 unless overdue or done late)

    @property
    def label(self) -> str:
        return LABELS[self.status]


@dataclass(frozen=True)
class Report:
    """A completion report as the status rule sees it."""

    reported_on: date
    state: str  # reported | verified | returned
    decided_on: date | None = None


def awaiting_since(reports: Sequence[Report], as_of: date) -> date | None:
    """The date of the report that waits for the coordinator's decision as of ``as_of``, if any.

    A report waits from its date until it is decided; one returned later was waiting until then.
    The SQL mirror is :func:`kttt_workflow.store.status.awaiting_clause`.
    """
    waiting = [
        r.reported_on
        for r in reports
        if r.reported_on <= as_of
        and (
            r.state == "reported"
            or (r.state == "returned" and r.decided_on is not None and r.decided_on > as_of)
        )
    ]
    return min(waiting) if waiting else None


def status_of(
    *,
    as_of: date,
    deadline_kind: str,
    due: date | None,
    activation: str,
    activated_on: date | None,
    completed_on: date | None,
    reported_on: date | None = None,
    unit_ceased: bool = False,
) -> StatusResult:
    """Status of one task as of ``as_of``.

    A completion counts once it is verified and its report date is on or before ``as_of``; a
    report awaiting verification (``reported_on``, see :func:`awaiting_since`) is counted apart,
    never as overdue, and so is a task whose answering unit ceased with no successor
    (``unit_ceased``). A task waiting for its parent is pending until its own deadline passes:
    then it is overdue like any other.

    >>> status_of(as_of=date(2022, 12, 5), deadline_kind="fixed", due=date(2022, 11, 30),
    ...           activation="immediate", activated_on=None, completed_on=None).status
    <Status.overdue: 'overdue'>
    """
    if completed_on is not None and completed_on <= as_of:
        if due is not None and completed_on > due:
            return StatusResult(Status.done_late, (completed_on - due).days)
        return StatusResult(Status.done_on_time, 0)
    if reported_on is not None and reported_on <= as_of:
        return StatusResult(Status.awaiting_verification, 0)
    if unit_ceased:
        return StatusResult(Status.unit_dissolved, 0)
    dated = deadline_kind in ("fixed", "recurring") and due is not None
    waiting = activation == "on_parent_done" and (activated_on is None or activated_on > as_of)
    if waiting and not (dated and due is not None and due < as_of):
        return StatusResult(Status.pending, 0)
    if deadline_kind == "ongoing":
        return StatusResult(Status.ongoing, 0)
    if deadline_kind in ("pending", "unspecified") or due is None:
        return StatusResult(Status.awaiting_deadline, 0)
    if as_of <= due:
        return StatusResult(Status.on_track, 0)
    return StatusResult(Status.overdue, (as_of - due).days)

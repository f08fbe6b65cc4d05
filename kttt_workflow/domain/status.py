"""Status of a task as of a date, in the Government Office's taxonomy.

``status_of`` is the reference definition; the store computes the same thing in SQL for many rows
(``kttt_workflow.store.status``), and the tests check that both agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum


class Status(StrEnum):
    pending = "pending"  # waiting for its parent task
    on_track = "on_track"  # open, not yet due
    overdue = "overdue"  # open, past due
    done_on_time = "done_on_time"
    done_late = "done_late"
    ongoing = "ongoing"  # "Thường xuyên": no single deadline
    awaiting_deadline = "awaiting_deadline"  # "Theo Kế hoạch được phê duyệt", or no deadline given


LABELS: dict[Status, str] = {
    Status.pending: "Chờ nhiệm vụ cấp trên hoàn thành",
    Status.on_track: "Đang thực hiện, trong hạn",
    Status.overdue: "Chưa hoàn thành, quá hạn",
    Status.done_on_time: "Đã hoàn thành đúng hạn",
    Status.done_late: "Đã hoàn thành, quá hạn",
    Status.ongoing: "Thường xuyên",
    Status.awaiting_deadline: "Chờ xác định thời hạn",
}

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
class StatusResult:
    status: Status
    days_overdue: int  # calendar days past due as of the date (0 unless overdue or done late)

    @property
    def label(self) -> str:
        return LABELS[self.status]


def status_of(
    *,
    as_of: date,
    deadline_kind: str,
    due: date | None,
    activation: str,
    activated_on: date | None,
    completed_on: date | None,
) -> StatusResult:
    """Status of one task as of ``as_of``.

    A completion counts once it is verified and its report date is on or before ``as_of``.

    >>> status_of(as_of=date(2022, 12, 5), deadline_kind="fixed", due=date(2022, 11, 30),
    ...           activation="immediate", activated_on=None, completed_on=None).status
    <Status.overdue: 'overdue'>
    """
    if completed_on is not None and completed_on <= as_of:
        if due is not None and completed_on > due:
            return StatusResult(Status.done_late, (completed_on - due).days)
        return StatusResult(Status.done_on_time, 0)
    if activation == "on_parent_done" and (activated_on is None or activated_on > as_of):
        return StatusResult(Status.pending, 0)
    if deadline_kind == "ongoing":
        return StatusResult(Status.ongoing, 0)
    if deadline_kind in ("pending", "unspecified") or due is None:
        return StatusResult(Status.awaiting_deadline, 0)
    if as_of <= due:
        return StatusResult(Status.on_track, 0)
    return StatusResult(Status.overdue, (as_of - due).days)

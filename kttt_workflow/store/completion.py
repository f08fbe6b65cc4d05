"""Completion reports and the coordinator's decision in the store: report → verify (done) or
return (open), each appended to the task's history, inside the caller's transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from kttt_workflow.domain.evidence import Evidence
from kttt_workflow.domain.fanout import task_ref
from kttt_workflow.errors import KtttError
from kttt_workflow.store import tables

task_t = tables.task_t
comp_t = tables.completion_t
event_t = tables.event_t
MAX_SYMBOL = 64  # the evidence_symbol column


@dataclass(frozen=True)
class CompletionResult:
    task_id: str
    state: str  # task state after the operation
    completion_id: int
    activated: int = 0  # child tasks activated (verify only)
    warnings: tuple[str, ...] = ()  # what is doubtful in the evidence (stored as parsed)


def resolve_task(
    conn: Connection, ref: str, unit: str | None = None, *, removed: bool = False
) -> str:
    """Find a task by its id, by ``directive/task`` plus ``unit``, or by a unique id prefix.

    Removed tasks are found only with ``removed`` (their history stays readable)."""
    t = task_t
    ref = task_ref(ref, unit)
    live = t.c.state.is_not(None) if removed else t.c.state != "removed"
    row = conn.execute(select(t.c.id).where(t.c.id == ref, live)).first()
    if row:
        return str(row.id)
    rows = conn.execute(
        select(t.c.id).where(t.c.id.startswith(ref, autoescape=True), live).limit(6)
    ).all()
    if len(rows) == 1:
        return str(rows[0].id)
    if not rows:
        raise KtttError(f"không tìm thấy nhiệm vụ '{ref}'; xem danh sách bằng lệnh 'kttt status'")
    shown = ", ".join(r.id for r in rows[:5])
    raise KtttError(f"'{ref}' ứng với nhiều nhiệm vụ ({shown}…); hãy ghi đủ mã hoặc thêm --unit")


def task_directive(conn: Connection, task_id: str) -> str:
    return str(
        conn.execute(select(task_t.c.directive_code).where(task_t.c.id == task_id)).scalar_one()
    )


def assigned_on(conn: Connection, task_id: str) -> date | None:
    """The date of the document that assigned the task."""
    d = tables.directive_t
    q = (
        select(d.c.issued_on)
        .join(task_t, task_t.c.directive_code == d.c.code)
        .where(task_t.c.id == task_id)
    )
    value = conn.execute(q).scalar_one_or_none()
    return value if isinstance(value, date) else None


def add_event(
    conn: Connection, task_id: str, event: str, detail: dict[str, Any], at: datetime
) -> None:
    conn.execute(
        insert(event_t),
        [{"task_id": task_id, "at": at, "event": event, "load_id": None, "detail": detail}],
    )


def record_report(
    conn: Connection,
    task_id: str,
    evidence: Evidence,
    *,
    on: date,
    note: str | None,
    attachment: str | None,
    at: datetime,
    source_directive: str | None = None,
    actuals: dict[str, float] | None = None,
) -> CompletionResult:
    """A unit's completion report with its evidence; the task waits for verification.

    ``source_directive``: the report is automatic, recorded because that implementing directive
    was loaded (:mod:`kttt_workflow.store.lineage`)."""
    state = conn.execute(select(task_t.c.state).where(task_t.c.id == task_id)).scalar_one()
    if state == "done":
        raise KtttError(f"nhiệm vụ '{task_id}' đã được xác nhận hoàn thành")
    if state == "reported":
        raise KtttError(f"nhiệm vụ '{task_id}' đã có báo cáo hoàn thành đang chờ xác nhận")
    symbol = evidence.symbol if evidence.symbol and len(evidence.symbol) <= MAX_SYMBOL else None
    row = {
        "task_id": task_id,
        "reported_on": on,
        "evidence": evidence.text,
        "evidence_symbol": symbol,
        "evidence_date": evidence.issued_on,
        "note": note,
        "attachment": attachment,
        "state": "reported",
        "recorded_at": at,
        "source_directive": source_directive,
        "actuals": actuals or None,
    }
    cid = int(conn.execute(insert(comp_t).returning(comp_t.c.id), [row]).scalar_one())
    conn.execute(
        update(task_t)
        .where(task_t.c.id == task_id)
        .values(state="reported", updated_at=at, next_step_on=None)
    )
    detail: dict[str, Any] = {"completion_id": cid, "on": on.isoformat(), "evidence": evidence.text}
    if source_directive:
        detail.update(automatic=True, source_directive=source_directive)
    if actuals:
        detail["actuals"] = actuals
    add_event(conn, task_id, "reported", detail, at)
    return CompletionResult(task_id, "reported", cid, warnings=evidence.problems)


def pending_report(conn: Connection, task_id: str) -> Any:
    """The report of ``task_id`` that waits for the coordinator's decision."""
    row = (
        conn.execute(
            select(comp_t)
            .where(comp_t.c.task_id == task_id, comp_t.c.state == "reported")
            .order_by(comp_t.c.id.desc())
            .limit(1)
        )
        .mappings()
        .first()
    )
    if row is None:
        raise KtttError(f"nhiệm vụ '{task_id}' không có báo cáo hoàn thành nào đang chờ xác nhận")
    return row


def record_verification(
    conn: Connection, task_id: str, *, on: date, at: datetime, automatic: bool = False
) -> CompletionResult:
    """Accept the pending report: the task is done as of the report date (``automatic``: by the
    document lineage rule, said in the history)."""
    rep = pending_report(conn, task_id)
    conn.execute(
        update(comp_t).where(comp_t.c.id == rep["id"]).values(state="verified", decided_on=on)
    )
    conn.execute(
        update(task_t)
        .where(task_t.c.id == task_id)
        .values(state="done", completed_on=rep["reported_on"], updated_at=at, next_step_on=None)
    )
    detail: dict[str, Any] = {"completion_id": rep["id"], "on": on.isoformat()}
    if automatic:
        detail["automatic"] = True
    add_event(conn, task_id, "verified", detail, at)
    return CompletionResult(task_id, "done", rep["id"])


def record_return(
    conn: Connection, task_id: str, reason: str, *, on: date, at: datetime
) -> CompletionResult:
    """Return the pending report with a reason: it does not count; the task is open again."""
    rep = pending_report(conn, task_id)
    conn.execute(
        update(comp_t)
        .where(comp_t.c.id == rep["id"])
        .values(state="returned", reason=reason, decided_on=on)
    )
    conn.execute(
        update(task_t)
        .where(task_t.c.id == task_id)
        .values(state="open", updated_at=at, next_step_on=None)
    )
    detail = {"completion_id": rep["id"], "on": on.isoformat(), "reason": reason}
    add_event(conn, task_id, "returned", detail, at)
    return CompletionResult(task_id, "open", rep["id"])


def history(conn: Connection, task_id: str) -> list[dict[str, Any]]:
    """The task's history, oldest first."""
    rows = conn.execute(select(event_t).where(event_t.c.task_id == task_id).order_by(event_t.c.id))
    return [dict(r._mapping) for r in rows]

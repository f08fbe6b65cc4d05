"""Completion reports and the coordinator's decision: report → verify (done) or return (open).

Each operation is one transaction and appends to the task's history. Verifying a task activates
the child tasks that were waiting for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.engine import Connection

from kttt_workflow.domain.evidence import parse_evidence
from kttt_workflow.spec.errors import KtttError
from kttt_workflow.store import tables as T
from kttt_workflow.store.load import activate_ready, now

task_t = T.task_t
comp_t = T.completion_t
event_t = T.event_t


@dataclass(frozen=True)
class CompletionResult:
    task_id: str
    state: str  # task state after the operation
    completion_id: int
    activated: int = 0  # child tasks activated (verify only)


def resolve_task(conn: Connection, ref: str, unit: str | None = None) -> str:
    """Find a task by its id, by ``directive/task`` plus ``unit``, or by a unique id prefix."""
    t = task_t
    if unit:
        ref = f"{ref.rstrip('/')}/{unit}"
    row = conn.execute(select(t.c.id).where(t.c.id == ref, t.c.state != "removed")).first()
    if row:
        return str(row.id)
    rows = conn.execute(
        select(t.c.id)
        .where(t.c.id.startswith(ref, autoescape=True), t.c.state != "removed")
        .limit(6)
    ).all()
    if len(rows) == 1:
        return str(rows[0].id)
    if not rows:
        raise KtttError(f"không tìm thấy nhiệm vụ '{ref}'; xem danh sách bằng lệnh 'kttt status'")
    shown = ", ".join(r.id for r in rows[:5])
    raise KtttError(f"'{ref}' ứng với nhiều nhiệm vụ ({shown}…); hãy ghi đủ mã hoặc thêm --unit")


def _event(conn: Connection, task_id: str, event: str, detail: dict[str, Any]) -> None:
    conn.execute(
        insert(event_t),
        [{"task_id": task_id, "at": now(), "event": event, "load_id": None, "detail": detail}],
    )


def report_completion(
    engine: Engine,
    task_ref: str,
    evidence: str,
    *,
    on: date | None = None,
    unit: str | None = None,
    note: str | None = None,
    attachment: str | None = None,
) -> CompletionResult:
    """Record a unit's completion report with its evidence, e.g. "Kế hoạch số 28/KH-UBND ngày 04/02/2021"."""
    if not evidence or not evidence.strip():
        raise KtttError("cần ghi minh chứng hoàn thành (số, ký hiệu và ngày văn bản đã ban hành)")
    on = on or date.today()
    ev = parse_evidence(evidence)
    with engine.begin() as conn:
        task_id = resolve_task(conn, task_ref, unit)
        state = conn.execute(select(task_t.c.state).where(task_t.c.id == task_id)).scalar_one()
        if state == "done":
            raise KtttError(f"nhiệm vụ '{task_id}' đã được xác nhận hoàn thành")
        if state == "reported":
            raise KtttError(f"nhiệm vụ '{task_id}' đã có báo cáo hoàn thành đang chờ xác nhận")
        cid = conn.execute(
            insert(comp_t).returning(comp_t.c.id),
            [
                {
                    "task_id": task_id,
                    "reported_on": on,
                    "evidence": ev.text,
                    "evidence_symbol": ev.symbol if ev.symbol and len(ev.symbol) <= 64 else None,
                    "evidence_date": ev.issued_on,
                    "note": note,
                    "attachment": attachment,
                    "state": "reported",
                    "recorded_at": now(),
                }
            ],
        ).scalar_one()
        conn.execute(
            update(task_t).where(task_t.c.id == task_id).values(state="reported", updated_at=now())
        )
        _event(
            conn,
            task_id,
            "reported",
            {"completion_id": cid, "on": on.isoformat(), "evidence": ev.text},
        )
    return CompletionResult(task_id, "reported", cid)


def _pending_report(conn: Connection, task_id: str) -> Any:
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


def verify_completion(
    engine: Engine, task_ref: str, *, on: date | None = None, unit: str | None = None
) -> CompletionResult:
    """Accept the pending report: the task is done as of the report date; children activate."""
    on = on or date.today()
    with engine.begin() as conn:
        task_id = resolve_task(conn, task_ref, unit)
        rep = _pending_report(conn, task_id)
        conn.execute(
            update(comp_t).where(comp_t.c.id == rep["id"]).values(state="verified", decided_on=on)
        )
        conn.execute(
            update(task_t)
            .where(task_t.c.id == task_id)
            .values(state="done", completed_on=rep["reported_on"], updated_at=now())
        )
        _event(conn, task_id, "verified", {"completion_id": rep["id"], "on": on.isoformat()})
        directive = conn.execute(
            select(task_t.c.directive_code).where(task_t.c.id == task_id)
        ).scalar_one()
        activated = activate_ready(conn, directive, now())
    return CompletionResult(task_id, "done", rep["id"], activated)


def return_completion(
    engine: Engine, task_ref: str, reason: str, *, on: date | None = None, unit: str | None = None
) -> CompletionResult:
    """Return the pending report with a reason: it does not count; the task is open again."""
    if not reason or not reason.strip():
        raise KtttError("cần ghi lý do trả lại báo cáo")
    on = on or date.today()
    with engine.begin() as conn:
        task_id = resolve_task(conn, task_ref, unit)
        rep = _pending_report(conn, task_id)
        conn.execute(
            update(comp_t)
            .where(comp_t.c.id == rep["id"])
            .values(state="returned", reason=reason, decided_on=on)
        )
        conn.execute(
            update(task_t).where(task_t.c.id == task_id).values(state="open", updated_at=now())
        )
        _event(
            conn,
            task_id,
            "returned",
            {"completion_id": rep["id"], "on": on.isoformat(), "reason": reason},
        )
    return CompletionResult(task_id, "open", rep["id"])


def history(conn: Connection, task_id: str) -> list[dict[str, Any]]:
    rows = conn.execute(select(event_t).where(event_t.c.task_id == task_id).order_by(event_t.c.id))
    return [dict(r._mapping) for r in rows]

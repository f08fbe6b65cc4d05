"""Reassignment in the store: a coordinator moves open tasks to another unit, from a date, each
move appended to the task's history; and the history of tasks that pass to a successor named by
a registry amendment. Inside the caller's transaction.

A reassignment does not rewrite the task: ``unit_code`` stays the unit the directive named (a
reload of the directive keeps matching it), ``assigned_code`` answers from ``assigned_on``
(:func:`kttt_workflow.store.status.lead_code`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, func, insert, literal, or_, select, update
from sqlalchemy.engine import Connection

from kttt_workflow.store import tables
from kttt_workflow.store.registry import answering
from kttt_workflow.store.status import lead_code

task_t, event_t = tables.task_t, tables.event_t
_CHUNK = 500  # task ids per UPDATE … WHERE id IN (...)


def movable(
    conn: Connection, on: date, *, task_ids: Sequence[str] = (), from_unit: str | None = None
) -> list[tuple[str, str]]:
    """``(task id, unit answering on ``on``)`` of the open tasks to move: ``task_ids``, or every
    open task ``from_unit`` is assigned or answers for on ``on`` (its own, and what it
    inherited or was given)."""
    t = task_t
    ans = answering(on)
    lead = lead_code(on)
    answers = func.coalesce(ans.c.current, lead)
    q = (
        select(t.c.id, answers.label("answers"))
        .select_from(t.outerjoin(ans, ans.c.code == lead))
        .where(t.c.state.not_in(("done", "removed")))
    )
    if task_ids:
        q = q.where(t.c.id.in_(list(task_ids)))
    if from_unit is not None:
        q = q.where(or_(lead == from_unit, answers == from_unit))
    return [(r.id, r.answers) for r in conn.execute(q.order_by(t.c.id))]


def move(
    conn: Connection,
    moves: Sequence[tuple[str, str]],
    to_unit: str,
    on: date,
    reason: str,
    at: datetime,
) -> int:
    """Assign each task of ``moves`` to ``to_unit`` from ``on``; one history row per task."""
    if not moves:
        return 0
    ids = [task for task, _ in moves]
    for chunk in range(0, len(ids), _CHUNK):
        part = ids[chunk : chunk + _CHUNK]
        conn.execute(
            update(task_t)
            .where(task_t.c.id.in_(part))
            .values(assigned_code=to_unit, assigned_on=on, updated_at=at, next_step_on=None)
        )
    conn.execute(
        insert(event_t),
        [
            {
                "task_id": task,
                "at": at,
                "event": "reassigned",
                "load_id": None,
                "detail": {"from": old, "to": to_unit, "on": on.isoformat(), "reason": reason},
            }
            for task, old in moves
        ],
    )
    return len(moves)


def record_successions(
    conn: Connection, changes: Sequence[tuple[str, str, date | None]], at: datetime
) -> int:
    """History rows for the open tasks of units a registry amendment gave a successor:
    ``(unit, successor, the unit's last day)`` each. One ``INSERT … SELECT`` per change."""
    n = 0
    for unit, successor, last in changes:
        t = task_t
        detail: dict[str, Any] = {"from": unit, "to": successor}
        if last is not None:
            detail["after"] = last.isoformat()
        cond = and_(
            t.c.state.not_in(("done", "removed")),
            or_(t.c.unit_code == unit, t.c.assigned_code == unit),
        )
        sel = select(
            t.c.id,
            literal(at, type_=event_t.c.at.type),
            literal("inherited"),
            literal(None),
            literal(detail, type_=event_t.c.detail.type),
        ).where(cond)
        cols = ["task_id", "at", "event", "load_id", "detail"]
        n += int(conn.execute(select(func.count()).select_from(t).where(cond)).scalar_one())
        conn.execute(insert(event_t).from_select(cols, sel))
    return n


def unit_on(conn: Connection, code: str, on: date) -> tuple[str, date | None, date | None] | None:
    """``(name, valid_from, valid_to)`` of a unit, or ``None`` when there is no such unit."""
    u = tables.unit_t
    row = conn.execute(
        select(u.c.name, u.c.valid_from, u.c.valid_to).where(u.c.code == code)
    ).first()
    return (row.name, row.valid_from, row.valid_to) if row else None

"""A level's tasks activate when its parent's task is done: one set-based pass, after a load or a
verification, inside the caller's transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, exists, func, insert, literal, select, update
from sqlalchemy.engine import Connection

from kttt_workflow.store import tables

task_t = tables.task_t
event_t = tables.event_t


def activate_ready(conn: Connection, directive: str | None, at: datetime) -> int:
    """Activate child tasks whose parent is done (set-based). Returns how many were activated.

    A child bound to one parent instance waits for that instance; a child with no bound instance
    waits for every instance of its parent task. The activation date is the parent's completion date.
    """
    t = task_t
    p = task_t.alias("p")
    base = [t.c.activation == "on_parent_done", t.c.activated_on.is_(None), t.c.state != "removed"]
    if directive:
        base.append(t.c.directive_code == directive)
    one = and_(
        *base,
        t.c.parent_task_id.is_not(None),
        exists().where(p.c.id == t.c.parent_task_id, p.c.state == "done"),
    )
    same_parent = and_(
        p.c.directive_code == t.c.directive_code,
        p.c.task_key == t.c.parent_key,
        p.c.state != "removed",
    )
    every = and_(
        *base,
        t.c.parent_task_id.is_(None),
        t.c.parent_key.is_not(None),
        exists().where(same_parent),
        ~exists().where(same_parent, p.c.state != "done"),
    )
    one_date = select(p.c.completed_on).where(p.c.id == t.c.parent_task_id).scalar_subquery()
    every_date = select(func.max(p.c.completed_on)).where(same_parent).scalar_subquery()
    ev_cols = ["task_id", "at", "event", "load_id", "detail"]
    n = 0
    for cond, when in ((one, one_date), (every, every_date)):
        conn.execute(
            insert(event_t).from_select(
                ev_cols,
                select(
                    t.c.id,
                    literal(at, type_=event_t.c.at.type),
                    literal("activated"),
                    literal(None),
                    literal({}, type_=event_t.c.detail.type),
                ).where(cond),
            )
        )
        n += conn.execute(
            update(t).where(cond).values(activated_on=when, updated_at=at, next_step_on=None)
        ).rowcount
    return n

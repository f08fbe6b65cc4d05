"""Status of many tasks as of a date, computed in SQL.

The SQL mirrors of two pure rules of :mod:`kttt_workflow.domain.status`: the status ``CASE``
(``status_of``) and "the period has begun" (``started``); the tests check that both agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import Date, Integer, and_, case, cast, exists, func, literal, or_, select
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from kttt_workflow.domain.status import LABELS, Status, TaskStatus, bucket
from kttt_workflow.store import tables
from kttt_workflow.store.registry import answering

task_t = tables.task_t
unit_t = tables.unit_t


def _days(later: Any, earlier: Any, dialect: str) -> ColumnElement[Any]:
    if dialect == "sqlite":
        return cast(func.julianday(later) - func.julianday(earlier), Integer)
    return later - earlier  # PostgreSQL: date - date is an integer number of days


def lead_code(as_of: date) -> ColumnElement[str]:
    """The unit a task is assigned to on ``as_of``: a coordinator's reassignment once it has taken
    effect, else the unit the directive named. Who *answers* for it is that unit's successor when
    it has ceased (join :func:`kttt_workflow.store.registry.answering` on this)."""
    t = task_t
    moved = and_(t.c.assigned_code.is_not(None), t.c.assigned_on <= literal(as_of, type_=Date))
    return case((moved, t.c.assigned_code), else_=t.c.unit_code)


def _awaiting_where(as_of: date) -> list[ColumnElement[bool]]:
    c, d = tables.completion_t, literal(as_of, type_=Date)
    return [
        c.c.reported_on <= d,
        or_(c.c.state == "reported", and_(c.c.state == "returned", c.c.decided_on > d)),
    ]


def awaiting_clause(as_of: date) -> ColumnElement[bool]:
    """Tasks with a report waiting for the coordinator's decision as of ``as_of``.

    SQL mirror of :func:`kttt_workflow.domain.status.awaiting_since`.
    """
    c = tables.completion_t
    return exists().where(c.c.task_id == task_t.c.id, *_awaiting_where(as_of))


def awaiting_tasks(as_of: date) -> Any:
    """The same tasks as :func:`awaiting_clause`, as a subquery of one column ``task_id`` (each
    task once) to outer-join on ``task.id``: a hash join, which PostgreSQL runs in parallel
    where the correlated ``EXISTS`` keeps the scan on one core."""
    c = tables.completion_t
    return (
        select(c.c.task_id)
        .where(*_awaiting_where(as_of))
        .group_by(c.c.task_id)
        .subquery("awaiting")
    )


def status_columns(
    as_of: date,
    dialect: str,
    ceased: ColumnElement[Any] | None = None,
    awaiting: ColumnElement[bool] | None = None,
) -> tuple[ColumnElement[str], ColumnElement[int]]:
    """SQL expressions for (status, days_overdue) of ``task`` as of ``as_of``.

    ``ceased`` is the answering unit's "ceased with no successor" flag (1/0) of a joined
    :func:`kttt_workflow.store.registry.answering`; without it no unit counts as ceased.
    ``awaiting`` says a report waits for a decision (a joined :func:`awaiting_tasks`); without
    it, :func:`awaiting_clause`.
    """
    t = task_t
    d = literal(as_of, type_=Date)
    done = and_(t.c.completed_on.is_not(None), t.c.completed_on <= d)
    late = and_(done, t.c.due_on.is_not(None), t.c.completed_on > t.c.due_on)
    dated_past = and_(t.c.deadline_kind.in_(("fixed", "recurring")), t.c.due_on < d)
    waiting = and_(
        t.c.activation == "on_parent_done",
        or_(t.c.activated_on.is_(None), t.c.activated_on > d),
        ~dated_past,  # a waiting task whose own deadline passed is overdue like any other
    )
    gone = (ceased == 1) if ceased is not None else literal(False)
    if awaiting is None:
        awaiting = awaiting_clause(as_of)
    status = case(
        (late, Status.done_late.value),
        (done, Status.done_on_time.value),
        (awaiting, Status.awaiting_verification.value),
        (gone, Status.unit_dissolved.value),
        (waiting, Status.pending.value),
        (t.c.deadline_kind == "ongoing", Status.ongoing.value),
        (
            or_(t.c.deadline_kind.in_(("pending", "unspecified")), t.c.due_on.is_(None)),
            Status.awaiting_deadline.value,
        ),
        (t.c.due_on >= d, Status.on_track.value),
        else_=Status.overdue.value,
    )
    days = case(
        (late, _days(t.c.completed_on, t.c.due_on, dialect)),
        (and_(~done, ~awaiting, ~gone, dated_past), _days(d, t.c.due_on, dialect)),
        else_=0,
    )
    return status.label("status"), days.label("days_overdue")


def started(as_of: date) -> ColumnElement[bool]:
    """Tasks that count as of ``as_of``: a recurring instance once its period has begun.

    SQL mirror of :func:`kttt_workflow.domain.status.started`.
    """
    return or_(task_t.c.starts_on.is_(None), task_t.c.starts_on <= literal(as_of, type_=Date))


def task_statuses(
    conn: Connection,
    as_of: date,
    *,
    directive: str | None = None,
    unit: str | None = None,
    statuses: Sequence[str] | None = None,
    task_ids: Sequence[str] | None = None,
    limit: int | None = None,
) -> list[TaskStatus]:
    """Status of every (non-removed) task matching the filters, as of ``as_of``, with the unit
    that answers for it that day (a ceased unit's successor, down the chain).

    ``unit`` selects the tasks a unit answers for: its own, and those it inherited.
    """
    t = task_t
    ans = answering(as_of)
    lead, now = unit_t.alias("lead"), unit_t.alias("now")
    status, days = status_columns(as_of, conn.dialect.name, ans.c.ceased)
    assigned = lead_code(as_of)
    answers = func.coalesce(ans.c.current, assigned)
    q = (
        select(
            t.c.id,
            t.c.directive_code,
            t.c.task_key,
            t.c.unit_code,
            lead.c.name,
            answers.label("answering"),
            assigned.label("assigned"),
            now.c.name.label("answering_name"),
            t.c.period,
            t.c.title,
            t.c.deliverable,
            t.c.deadline_text,
            t.c.due_on,
            status,
            days,
            t.c.key_task,
            t.c.state,
            t.c.coordinating,
            t.c.activation,
            t.c.activated_on,
        )
        .select_from(
            t.outerjoin(ans, ans.c.code == assigned)
            .outerjoin(lead, lead.c.code == t.c.unit_code)
            .outerjoin(now, now.c.code == answers)
        )
        .where(t.c.state != "removed", started(as_of))
    )
    if directive:
        q = q.where(t.c.directive_code == directive)
    if unit:
        q = q.where(or_(t.c.unit_code == unit, assigned == unit, answers == unit))
    if task_ids:
        q = q.where(t.c.id.in_(list(task_ids)))
    if statuses:
        q = q.where(status.in_(list(statuses)))
    q = q.order_by(t.c.directive_code, t.c.task_key, t.c.unit_code, t.c.period)
    if limit:
        q = q.limit(limit)
    return [_row(as_of, *r) for r in conn.execute(q)]


def _row(
    as_of: date,
    task_id: str,
    directive_code: str,
    task_key: str,
    unit_code: str,
    unit_name: str | None,
    answering_unit: str,
    assigned: str,
    answering_name: str | None,
    period: str | None,
    title: str,
    deliverable: str | None,
    deadline_text: str | None,
    due_on: date | None,
    status: str,
    days_overdue: int | None,
    key_task: bool,
    state: str,
    coordinating: list[str] | None,
    activation: str,
    activated_on: date | None,
) -> TaskStatus:
    """One task's status from its row, the columns in :func:`task_statuses`' order (by position:
    a Row's attribute costs ~1.2 µs, and ``kttt status`` may list 100,000 tasks)."""
    st = Status(status)
    days = int(days_overdue or 0)
    name = unit_name or unit_code
    inherited = answering_unit != unit_code
    reassigned = assigned != unit_code
    waiting = activation == "on_parent_done" and (activated_on is None or activated_on > as_of)
    return TaskStatus(
        task_id,
        directive_code,
        task_key,
        unit_code,
        name,
        period,
        title,
        deliverable,
        deadline_text,
        due_on,
        st.value,
        LABELS[st],
        days,
        bucket(days) if st == Status.overdue else None,
        bool(key_task),
        state,
        list(coordinating or []),
        answering_unit=answering_unit,
        answering_name=(answering_name or answering_unit) if inherited else name,
        inherited_from=name if inherited and not reassigned else None,
        reassigned_from=name if reassigned else None,
        waiting_for_parent=waiting and st == Status.overdue,
    )

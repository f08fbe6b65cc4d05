"""When a task's next notice can come: ``task.next_step_on``, so that a sweep reads only those.

A sweep as of D must record what the full evaluation (:func:`kttt_workflow.store.sweep.record_notices`
over every task) would record. Between two sweeps a task's rows change only when

* a step of its ladder fires (a new "most advanced step reached"), or
* a date on the task itself is passed: its period starts (``starts_on``), it is activated
  (``activated_on``), a reassignment takes effect (``assigned_on``), a report is made or decided
  (``completion.reported_on`` / ``decided_on``), or
* something is written: a load, a report, a verification, a return, a reassignment, a withdrawal,
  an activation (each sets the column to NULL: "examine on the next sweep"), or
* the registry changes who answers: a unit ceases (``valid_to``) or starts (``valid_from``), an
  amendment, a changed ladder, another calendar (then the next sweep examines every task).

So the column holds, for each task, the earliest date on which any of the first two can happen
after the sweep that last examined it (conservative: never later than the true date; a date far
in the future, :data:`NEVER`, when nothing can). NULL means "examine on the next sweep": rows
written by a path that does not know the column are examined, never skipped.

The state of the last sweep that advanced the column (its date, the calendar it used) is kept in
``kttt_meta``. :func:`plan` decides how a sweep runs:

* ``incremental``: the tasks with ``next_step_on`` NULL or on or before D;
* ``rebuild``: every task (first sweep, after :func:`invalidate`, another calendar, a unit that
  ceased or started since the last sweep), and the column is set for all;
* ``backdated``: D is before the last sweep's date: the full evaluation, the column untouched (a
  back-dated sweep only adds ledger rows, which never makes a later notice due earlier).
"""

from __future__ import annotations

import hashlib
import weakref
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from sqlalchemy import (
    Column,
    Date,
    MetaData,
    String,
    Table,
    and_,
    case,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from kttt_workflow.domain.calendar import WorkingCalendar
from kttt_workflow.domain.escalation import Step, fire_date
from kttt_workflow.store import tables

t = tables.task_t
meta = tables.meta_t
NEVER = date(9999, 12, 31)  # nothing can fire until something is written
THROUGH, CALENDAR = "next_step_through", "next_step_calendar"  # keys in kttt_meta
_CHUNK = 500


def refresh(
    conn: Connection, *, task_ids: Sequence[str] | None = None, directive: str | None = None
) -> None:
    """The tasks written by the caller are examined on the next sweep (inside its transaction)."""
    if directive is not None:
        conn.execute(
            update(t)
            .where(t.c.directive_code == directive, t.c.next_step_on.is_not(None))
            .values(next_step_on=None)
        )
    ids = list(task_ids or ())
    for i in range(0, len(ids), _CHUNK):
        conn.execute(update(t).where(t.c.id.in_(ids[i : i + _CHUNK])).values(next_step_on=None))


def invalidate(conn: Connection) -> None:
    """The next sweep examines every task (the registry or a ladder changed)."""
    conn.execute(delete(meta).where(meta.c.key.in_((THROUGH, CALENDAR))))


_KEYS: weakref.WeakKeyDictionary[WorkingCalendar, dict[int, int]] = weakref.WeakKeyDictionary()


def calendar_key(calendar: WorkingCalendar, as_of: date) -> int:
    """A 31-bit digest of what the calendar says around ``as_of`` (swapped days, holidays),
    memoised per calendar and year (a calendar does not change once made)."""
    known = _KEYS.setdefault(calendar, {})
    if as_of.year not in known:
        known[as_of.year] = _calendar_key(calendar, as_of)
    return known[as_of.year]


def _calendar_key(calendar: WorkingCalendar, as_of: date) -> int:
    start, days = date(as_of.year - 1, 1, 1), []
    for k in range(366 * 4):
        d = start + timedelta(days=k)
        if not calendar.is_working_day(d):
            days.append(d.toordinal())
    text = repr((calendar.overrides, days))
    return int(hashlib.sha256(text.encode()).hexdigest()[:7], 16)


def _state(conn: Connection) -> dict[str, int]:
    q = select(meta.c.key, meta.c.value).where(meta.c.key.in_((THROUGH, CALENDAR)))
    return {r.key: int(r.value) for r in conn.execute(q)}


def plan(conn: Connection, as_of: date, calendar: WorkingCalendar) -> str:
    """``incremental``, ``rebuild`` or ``backdated`` (see the module's docstring)."""
    st = _state(conn)
    if THROUGH not in st or st.get(CALENDAR) != calendar_key(calendar, as_of):
        return "rebuild"
    through = date.fromordinal(st[THROUGH])
    if as_of < through:
        return "backdated"
    u, w, d = tables.unit_t, literal(through, type_=Date), literal(as_of, type_=Date)
    moved = select(func.count()).where(
        or_(
            and_(u.c.valid_to >= w, u.c.valid_to < d),  # ceased: its successor answers from D
            and_(u.c.valid_from > w, u.c.valid_from <= d),
        )
    )
    return "rebuild" if conn.execute(moved).scalar_one() else "incremental"


def mark(conn: Connection, as_of: date, calendar: WorkingCalendar) -> None:
    """The column is valid from ``as_of`` on (after a sweep that advanced it)."""
    st = _state(conn)
    through = max(as_of.toordinal(), st.get(THROUGH, 0))
    values = {THROUGH: through, CALENDAR: calendar_key(calendar, as_of)}
    for key, value in values.items():
        if key in st:
            conn.execute(update(meta).where(meta.c.key == key).values(value=value))
        else:
            conn.execute(insert(meta), [{"key": key, "value": value}])


def candidates(as_of: date) -> ColumnElement[bool]:
    """The tasks an incremental sweep as of ``as_of`` examines."""
    return or_(t.c.next_step_on.is_(None), t.c.next_step_on <= literal(as_of, type_=Date))


def next_fires(
    pairs: Iterable[tuple[str, date]],
    policies: Mapping[str, Sequence[Step]],
    as_of: date,
    calendar: WorkingCalendar,
) -> list[dict[str, Any]]:
    """For each (policy, due date): the first day after ``as_of`` a step of the ladder fires."""
    out = []
    for code, due in pairs:
        later = [
            w for w in (fire_date(s, due, calendar) for s in policies.get(code, ())) if w > as_of
        ]
        out.append({"policy_code": code, "due_on": due, "next_on": min(later, default=NEVER)})
    return out


def _next_table() -> Table:
    return Table(
        "kttt_next",
        MetaData(),
        Column("policy_code", String(160), primary_key=True),
        Column("due_on", Date, primary_key=True),
        Column("next_on", Date),
        prefixes=["TEMPORARY"],
    )


_NEXT = _next_table()  # one object: the statements naming it are compiled once per process


def advance(
    conn: Connection, as_of: date, nexts: list[dict[str, Any]], scope: ColumnElement[bool]
) -> int:
    """Set ``next_step_on`` of the tasks of ``scope`` (all examined as of ``as_of``): the first
    later day a step fires or a date of the task is passed; :data:`NEVER` once done or removed.

    Three set-based UPDATEs: the tasks with a later report date (few), then the tasks of a
    (policy, due date) pair (``UPDATE … FROM`` the pairs' next fire dates: ``nexts`` must hold
    every pair of ``scope``), then the tasks without a ladder.
    """
    d = literal(as_of, type_=Date)
    never = literal(NEVER, type_=Date)
    pg = conn.dialect.name == "postgresql"

    def least(*xs: ColumnElement[Any]) -> ColumnElement[Any]:
        return func.least(*xs) if pg else func.min(*xs)

    def later(col: Any) -> ColumnElement[Any]:
        return case((col > d, col), else_=never)

    closed = or_(t.c.state == "removed", and_(t.c.completed_on.is_not(None), t.c.completed_on <= d))
    own = least(later(t.c.starts_on), later(t.c.activated_on), later(t.c.assigned_on))
    c = tables.completion_t
    report_day = case(
        (c.c.reported_on > d, c.c.reported_on), (c.c.decided_on > d, c.c.decided_on), else_=never
    )
    reports = select(func.min(report_day)).where(c.c.task_id == t.c.id).scalar_subquery()
    pending = select(c.c.task_id).where(or_(c.c.reported_on > d, c.c.decided_on > d))
    nx = _NEXT
    nx.create(conn)
    if nexts:
        conn.execute(insert(nx), nexts)
        if pg:
            conn.exec_driver_sql("ANALYZE kttt_next")
    fire = (
        select(nx.c.next_on)
        .where(nx.c.policy_code == t.c.policy_code, nx.c.due_on == t.c.due_on)
        .scalar_subquery()
    )
    # 1. tasks with a report made or decided after as_of (rare: a back-dated sweep's dates).
    done = conn.execute(
        update(t)
        .where(scope, t.c.id.in_(pending))
        .values(
            next_step_on=case(
                (closed, never), else_=least(func.coalesce(fire, never), own, reports)
            )
        )
    ).rowcount
    # 2. tasks with a ladder: their pair's next fire date (PostgreSQL: UPDATE … FROM the pairs,
    # a hash join; SQLite: the pair looked up by its key for each task row).
    has_pair = and_(t.c.policy_code.is_not(None), t.c.due_on.is_not(None))
    if pg:
        q = update(t).where(
            scope,
            nx.c.policy_code == t.c.policy_code,
            nx.c.due_on == t.c.due_on,
            t.c.id.not_in(pending),
        )
        value: ColumnElement[Any] = nx.c.next_on
    else:
        q = update(t).where(scope, has_pair, t.c.id.not_in(pending))
        value = func.coalesce(fire, never)
    done += conn.execute(
        q.values(next_step_on=case((closed, never), else_=least(value, own)))
    ).rowcount
    # 3. the tasks without a ladder (the follow-ups only).
    done += conn.execute(
        update(t)
        .where(scope, ~has_pair, t.c.id.not_in(pending))
        .values(next_step_on=case((closed, never), else_=own))
    ).rowcount
    nx.drop(conn)
    if pg and done > 1000:
        # PostgreSQL plans the next sweep's "next_step_on IS NULL OR <= D" from the column's
        # statistics: after a large advance (the first sweep, a catch-up) they say "all NULL"
        # and every later sweep would read the whole table until autovacuum analyses it.
        rows = conn.exec_driver_sql(
            "SELECT reltuples FROM pg_class WHERE oid = 'task'::regclass"
        ).scalar()
        if done > 0.1 * max(float(rows or 0), 1.0):
            conn.exec_driver_sql("ANALYZE task")
    return done

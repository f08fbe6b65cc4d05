"""When a task's next notice can come, so that a sweep reads only the tasks it may have news for.

A sweep as of D must record what the full evaluation (:func:`kttt_workflow.store.sweep.record_notices`
over every task) would record. Between two sweeps a task's rows change only when

* a step of its ladder fires (a new "most advanced step reached"), or
* a date on the task itself is passed: its period starts (``starts_on``), it is activated
  (``activated_on``), a reassignment takes effect (``assigned_on``), a report is made or decided
  (``completion.reported_on`` / ``decided_on``), or
* something is written: a load (which records a ``load_record`` row whenever it changes
  anything), a report, a verification, a return, a reassignment, a withdrawal, an activation
  (each of these sets ``task.next_step_on`` to NULL: "examine on the next sweep"), or
* the registry changes who answers: a unit ceases (``valid_to``) or starts (``valid_from``), an
  amendment, a changed ladder, another calendar (then the next sweep examines every task).

The first depends only on the task's (policy, due date) pair and the calendar; the others on the
task. So:

* a ladder step is found from the pairs, never stored per task: an incremental sweep as of D also
  examines the open tasks whose pair has a step firing after the last sweep's date and on or
  before D (:func:`firing`, computed in Python for every policy; the tasks are found through the
  index ``task (state, due_on)``). A day when no task changes but the ladder moves thus writes no
  task row;
* a load is found from its ``load_record`` row, never marked per task: an incremental sweep also
  examines every task of the directives with a load record newer than the last one a sweep saw
  (:data:`LOADS` in ``kttt_meta``; the tasks are found through the index ``task (directive_code,
  task_key)``). The load writes each new task's ``next_step_on`` as the sweep would compute it
  on the load's date (:func:`initial`), so that the first sweep after a load of a million tasks
  writes ledger rows, not a million task rows; the sweep recomputes it anyway for every task it
  examines (a row whose value does not change is not written), so that value is never trusted.
  This relies on load records being committed in the order of their ids: loads are serialised
  (:func:`kttt_workflow.store.registry.lock`), and their rows are never deleted;
* ``task.next_step_on`` holds the earliest later date of the task itself (the second point; for a
  task that is not ``open``, which that index look-up does not find, its next ladder step too):
  conservative, never later than the true date, :data:`NEVER` when nothing can come. NULL means
  "examine on the next sweep": rows written by a path that does not know the column are examined,
  never skipped.

The state of the last sweep that advanced the column (its date, the calendar it used, the last
load record it saw) is kept in ``kttt_meta``. :func:`plan` decides how a sweep runs:

* ``incremental``: :func:`examined`, the tasks marked (``next_step_on`` NULL or on or before D,
  :func:`candidates`; the tasks of the directives loaded since) and the open tasks of the pairs
  firing since the last sweep;
* ``rebuild``: every task (first sweep, after :func:`invalidate`, another calendar, a unit that
  ceased or started since the last sweep), and the column is set for all;
* ``backdated``: D is before the last sweep's date: the full evaluation, the column untouched (a
  back-dated sweep only adds ledger rows, which never makes a later notice due earlier).
"""

from __future__ import annotations

import hashlib
import weakref
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
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
    true,
    tuple_,
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
OPEN = "open"  # the state whose ladder steps are found from the pairs (see the module docstring)
THROUGH, CALENDAR = "next_step_through", "next_step_calendar"  # keys in kttt_meta
LOADS = "next_step_load"  # kttt_meta: the last load record whose directive a sweep examined
_KEYS_KEPT = (THROUGH, CALENDAR, LOADS)


def invalidate(conn: Connection) -> None:
    """The next sweep examines every task (the registry or a ladder changed)."""
    conn.execute(delete(meta).where(meta.c.key.in_((THROUGH, CALENDAR))))


_KEYS: weakref.WeakKeyDictionary[WorkingCalendar, dict[int, int]] = weakref.WeakKeyDictionary()


def calendar_key(calendar: WorkingCalendar, as_of: date) -> int:
    """A 31-bit digest of what the calendar says around ``as_of`` (swapped days, holidays, from
    1 January of the year before to the end of the second year after), memoised per calendar and
    year (a calendar does not change once made)."""
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
    q = select(meta.c.key, meta.c.value).where(meta.c.key.in_(_KEYS_KEPT))
    return {r.key: int(r.value) for r in conn.execute(q)}


def plan(conn: Connection, as_of: date, calendar: WorkingCalendar) -> str:
    """``incremental``, ``rebuild`` or ``backdated`` (see the module's docstring)."""
    st = _state(conn)
    if LOADS not in st or THROUGH not in st:
        return "rebuild"
    through = date.fromordinal(st[THROUGH])
    # The calendar is compared over the years around the last sweep's date, the window its key
    # was taken on (:func:`mark`): the first sweep of a new year is not a rebuild, unless the
    # calendar changed, or the sweep is beyond that window.
    if st.get(CALENDAR) != calendar_key(calendar, through) or as_of.year > through.year + 2:
        return "rebuild"
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


def mark(conn: Connection, as_of: date, calendar: WorkingCalendar, loads: int) -> None:
    """The column is valid from ``as_of`` on (after a sweep that advanced it), and the tasks of
    the load records up to ``loads`` have been examined (:attr:`Examined.loads`)."""
    st = _state(conn)
    through = max(as_of.toordinal(), st.get(THROUGH, 0))
    values = {
        THROUGH: through,
        CALENDAR: calendar_key(calendar, date.fromordinal(through)),  # see plan()
        LOADS: max(loads, st.get(LOADS, 0)),
    }
    for key, value in values.items():
        if key in st:
            conn.execute(update(meta).where(meta.c.key == key).values(value=value))
        else:
            conn.execute(insert(meta), [{"key": key, "value": value}])


def candidates(as_of: date) -> ColumnElement[bool]:
    """The tasks marked for an incremental sweep as of ``as_of``: written since (NULL) or with a
    date of their own passed. :func:`examined` adds the open tasks whose ladder moves."""
    return or_(t.c.next_step_on.is_(None), t.c.next_step_on <= literal(as_of, type_=Date))


def _first_due(step: Step, after: date, calendar: WorkingCalendar) -> date:
    """The earliest due date whose fire date for ``step`` is after ``after`` (the fire date is
    non-decreasing in the due date: a search back by doubling, then forward day by day)."""
    due = after - timedelta(days=step.offset)
    jump = 1
    while fire_date(step, due, calendar) > after:
        due -= timedelta(days=jump)
        jump *= 2
    while fire_date(step, due, calendar) <= after:
        due += timedelta(days=1)
    return due


def firing(
    policies: Mapping[str, Sequence[Step]], since: date, as_of: date, calendar: WorkingCalendar
) -> dict[str, list[date]]:
    """For each policy, the due dates that have a step of its ladder firing in ``(since, as_of]``
    (nothing when ``as_of <= since``). A few per day and policy: the tasks of these pairs are the
    ones whose most advanced step may have changed."""
    out: dict[str, list[date]] = {}
    if as_of <= since:
        return out
    for code, steps in policies.items():
        dues: set[date] = set()
        for st in steps:
            due = _first_due(st, since, calendar)
            while fire_date(st, due, calendar) <= as_of:
                dues.add(due)
                due += timedelta(days=1)
        if dues:
            out[code] = sorted(dues)
    return out


@dataclass(frozen=True)
class Examined:
    """What a sweep reads and rewrites (:func:`examined`)."""

    where: ColumnElement[bool]  # the tasks the sweep reads
    marked: ColumnElement[bool]  # those whose next_step_on it recomputes (:func:`advance`)
    moving: list[tuple[str, date]]  # the pairs with a step firing since the last sweep
    loads: int  # the last load record seen (:func:`mark`): its tasks and those before, examined
    loaded: list[str]  # the directives loaded since the last sweep (incremental only)


def _loads(conn: Connection, after: int | None) -> tuple[int, list[str]]:
    """The last load record (its id; 0: none) and the directives of those after ``after``
    (None: no list), read together (one snapshot)."""
    lr = tables.load_t
    if after is None:
        last = conn.execute(select(func.coalesce(func.max(lr.c.id), 0))).scalar_one()
        return int(last), []
    rows = conn.execute(select(lr.c.id, lr.c.directive_code).where(lr.c.id > after)).all()
    return max((int(r.id) for r in rows), default=after), sorted({r.directive_code for r in rows})


def examined(
    conn: Connection,
    as_of: date,
    calendar: WorkingCalendar,
    policies: Mapping[str, Sequence[Step]],
    how: str,
) -> Examined:
    """The tasks a sweep as of ``as_of`` examines (``how``: ``incremental`` or ``rebuild``, see
    :func:`plan`). Incremental: those marked (:func:`candidates`, and every task of the
    directives loaded since the last sweep) and the open tasks of the (policy, due date) pairs
    with a step firing since the last sweep. Each part is an index condition (``next_step_on``;
    ``directive_code``; ``state, due_on``), OR-ed as a bitmap on PostgreSQL. Only the marked ones
    get a new ``next_step_on``: an open task that is read for its pair alone keeps its own next
    date, which has not come."""
    st = _state(conn)
    if how != "incremental" or THROUGH not in st or LOADS not in st:
        loads, _ = _loads(conn, None)
        return Examined(true(), true(), [], loads, [])
    last = date.fromordinal(st[THROUGH])
    loads, loaded = _loads(conn, st[LOADS])
    marked = candidates(as_of)
    if loaded:
        marked = or_(marked, t.c.directive_code.in_(loaded))
    fires = firing(policies, last, as_of, calendar)
    moving = sorted((code, due) for code, dues in fires.items() for due in dues)
    if not moving:
        return Examined(marked, marked, [], loads, loaded)
    # One index condition (state, due_on = ANY(…)) whatever the number of policies; the pair
    # itself is a filter.
    dues = sorted({due for _, due in moving})
    if len(fires) == 1:
        pair: ColumnElement[bool] = t.c.policy_code == next(iter(fires))
    else:
        pair = tuple_(t.c.policy_code, t.c.due_on).in_(moving)
    where = or_(marked, and_(t.c.state == OPEN, t.c.due_on.in_(dues), pair))
    return Examined(where, marked, moving, loads, loaded)


def initial(
    starts_on: ColumnElement[Any], activated_on: ColumnElement[Any], on: date, dialect: str
) -> ColumnElement[Any]:
    """``next_step_on`` of a new open task loaded on ``on``: what :func:`advance` gives it as of
    that day (its period's start or its activation when later, else :data:`NEVER`). Not trusted:
    the next sweep examines the tasks of every load and recomputes it."""
    d, never = literal(on, type_=Date), literal(NEVER, type_=Date)
    least = func.least if dialect == "postgresql" else func.min
    return least(
        case((starts_on > d, starts_on), else_=never),
        case((activated_on > d, activated_on), else_=never),
    )


def pairs(conn: Connection, scope: ColumnElement[bool]) -> list[tuple[str | None, date | None]]:
    """The distinct (policy, due date) pairs of the tasks of ``scope``, None included (a task
    without a ladder): hundreds even for millions of tasks."""
    q = select(t.c.policy_code, t.c.due_on).where(scope).distinct()
    return [(r.policy_code, r.due_on) for r in conn.execute(q)]


def next_fires(
    pairs: Iterable[tuple[str | None, date | None]],
    policies: Mapping[str, Sequence[Step]],
    as_of: date,
    calendar: WorkingCalendar,
) -> list[dict[str, Any]]:
    """For each (policy, due date): the first day after ``as_of`` a step of the ladder fires
    (:data:`NEVER` for a task without a ladder). The keys are those :func:`advance` joins on:
    a missing policy is ``""``, a missing due date :data:`NEVER`."""
    out: dict[tuple[str, date], date] = {}
    for code, due in pairs:
        later = []
        if code is not None and due is not None:
            fires = (fire_date(s, due, calendar) for s in policies.get(code, ()))
            later = [w for w in fires if w > as_of]
        key = (code if code is not None else "", due if due is not None else NEVER)
        out[key] = min(out.get(key, NEVER), min(later, default=NEVER))
    return [{"policy_code": c, "due_on": d, "next_on": w} for (c, d), w in out.items()]


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
    later day a date of the task is passed (for a task that is not open, or a step of its ladder
    fires); :data:`NEVER` once done or removed, or when nothing can come.

    One set-based UPDATE (``nexts``, from :func:`next_fires`, must hold every pair of ``scope``):
    PostgreSQL joins the pairs' next fire dates (``UPDATE … FROM``, a hash join), SQLite looks
    the pair up by its key for each task row. A row whose value does not change is not written
    (a rebuild after a registry change rewrites only the tasks it moves). Returns the rows
    written.
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
    key = and_(
        nx.c.policy_code == func.coalesce(t.c.policy_code, ""),
        nx.c.due_on == func.coalesce(t.c.due_on, never),
    )
    if pg:
        fire: ColumnElement[Any] = nx.c.next_on
        q = update(t).where(scope, key)
    else:
        fire = func.coalesce(select(nx.c.next_on).where(key).scalar_subquery(), never)
        q = update(t).where(scope)
    # An open task's ladder is followed from its pair (:func:`examined`): only its own dates here.
    fire = case((t.c.state == OPEN, never), else_=fire)
    # A task with a report made or decided after as_of (rare: a back-dated sweep's dates) also
    # waits for that day; the subquery runs for those tasks only.
    value = case(
        (closed, never),
        (t.c.id.in_(pending), least(fire, own, func.coalesce(reports, never))),
        else_=least(fire, own),
    )
    done = conn.execute(
        q.where(t.c.next_step_on.is_distinct_from(value)).values(next_step_on=value)
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
            conn.exec_driver_sql("ANALYZE task (next_step_on)")
    return done

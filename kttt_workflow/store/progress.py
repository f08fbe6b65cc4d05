"""The consolidated report's SQL, set-based: one ``GROUP BY`` over the status ``CASE`` expression
counts the tasks of every (directive, answering unit, status, due-by, key task, overdue age,
cut-off window) at once; a second one counts each task of the plan by status (the appendix).
Lists of tasks are capped (the overdue list, the spreadsheet's rows) and read by id, in chunks,
through :func:`kttt_workflow.store.status.task_statuses`, so every view shows a task the same
way. :func:`kttt_workflow.domain.progress.assemble` does the rest."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Date, and_, case, func, literal, literal_column, or_, select, tuple_
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from kttt_workflow.domain.progress import (
    AGE_BUCKETS,
    Completed,
    CountRow,
    DirectiveInfo,
    PlanCount,
)
from kttt_workflow.domain.status import Status, TaskStatus
from kttt_workflow.store import tables
from kttt_workflow.store.registry import answering
from kttt_workflow.store.status import lead_code, started, status_columns, task_statuses

_CHUNK = 1000  # codes or ids per IN (...) list
t = tables.task_t


@dataclass(frozen=True)
class Scope:
    """Which tasks a report counts: as of a date, of one directive, one unit (the tasks it
    answers for, its own and those it inherited) or one level (of the answering unit); a
    reporting period's cut-off window, when given, is counted apart too."""

    as_of: date
    directive: str | None = None
    unit: str | None = None
    level: str | None = None
    window: tuple[date, date] | None = None
    within: str | None = None  # a unit and every unit under it (a province's whole cascade)


@dataclass
class _Base:
    """The FROM, WHERE and the computed columns every query of a report shares: the task, the
    unit it is assigned to on the report date (a reassignment once in effect), and the unit that
    answers for it then (that unit's successor when it has ceased), as ``task_statuses`` joins
    them."""

    source: Any
    where: list[ColumnElement[bool]]
    answers: ColumnElement[Any]
    status: ColumnElement[str]
    days: ColumnElement[int]


def _base(conn: Connection, scope: Scope) -> _Base:
    ans = answering(scope.as_of)
    status, days = status_columns(scope.as_of, conn.dialect.name, ans.c.ceased)
    assigned = lead_code(scope.as_of)
    answers = func.coalesce(ans.c.current, assigned)
    source = t.outerjoin(ans, ans.c.code == assigned)
    where: list[ColumnElement[bool]] = [t.c.state != "removed", started(scope.as_of)]
    if scope.directive:
        where.append(t.c.directive_code == scope.directive)
    if scope.unit:
        where.append(
            or_(t.c.unit_code == scope.unit, assigned == scope.unit, answers == scope.unit)
        )
    if scope.within:
        where.append(answers.in_(select(subtree(scope.within).c.code)))
    if scope.level:
        now = tables.unit_t.alias("answering_unit")
        source = source.join(now, now.c.code == answers)
        where.append(now.c.level == scope.level)
    return _Base(source, where, answers, status, days)


def report_session(conn: Connection) -> None:
    """PostgreSQL: memory enough for the report's ``GROUP BY`` to hash its groups (one per
    directive, task, unit and status: 112,890 for the national scenario's 1.5 M tasks) instead
    of sorting every task on disk (6.3 s → 3.0 s there); for this transaction only."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET LOCAL work_mem = '64MB'")


def subtree(code: str) -> Any:
    """The unit ``code`` and every unit under it in the registry's hierarchy (``parent``), as a
    recursive CTE of one column ``code``. A unit that has ceased stays where it was: its tasks are
    counted with the unit that answers for them, which is in the tree or not on its own."""
    u = tables.unit_t
    top = select(u.c.code).where(u.c.code == code).cte("within_units", recursive=True)
    return top.union(select(u.c.code).where(u.c.parent_code == top.c.code))


def _age_bucket(status: ColumnElement[str], days: ColumnElement[int]) -> ColumnElement[Any]:
    """The index of an overdue task's age in ``AGE_BUCKETS`` (NULL otherwise).

    SQL mirror of :func:`kttt_workflow.domain.progress.age_bucket`.
    """
    whens = [
        (and_(status == Status.overdue.value, days >= low, days <= high), i)
        for i, (low, high, _) in enumerate(AGE_BUCKETS)
        if high is not None
    ]
    last = len(AGE_BUCKETS) - 1
    whens.append((and_(status == Status.overdue.value, days >= AGE_BUCKETS[last][0]), last))
    return case(*whens, else_=None)


def _flag(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return case((condition, 1), else_=0)


def count_rows(conn: Connection, scope: Scope) -> list[CountRow]:
    """How many tasks share each (directive, answering unit, status, due by the report date, key
    task, overdue age, no due date, due within / done within the cut-off window); see
    :func:`tally`, which also counts the plan's tasks."""
    return tally(conn, scope)[0]


def tally(conn: Connection, scope: Scope) -> tuple[list[CountRow], list[PlanCount]]:
    """Both counts of a report from ONE scan of the tasks: one ``GROUP BY`` by (directive, task
    of the plan, answering unit, status, due by the report date, key task, overdue age, no due
    date, due / done within the cut-off window), summed here into the report's rows
    (:class:`CountRow`, without the task) and the appendix's (:class:`PlanCount`, without the
    unit).

    A task of a unit that has ceased is counted with the unit that answers for it on the report
    date (its successor, down the chain).

    Each task's status is computed once, in a subquery the database may not merge into the
    grouping query (``OFFSET 0``): merged, the status ``CASE`` was evaluated again for every
    expression built on it (the age bucket alone names it six times), which made the report of
    1.5 M tasks take minutes instead of seconds (bench/bench_national.py).
    """
    b = _base(conn, scope)
    per_task = (
        select(
            t.c.directive_code,
            t.c.task_key,
            t.c.id,
            t.c.key_task,
            t.c.due_on,
            t.c.completed_on,
            b.answers.label("unit"),
            b.status,
            b.days,
        )
        .select_from(b.source)
        .where(*b.where)
        .offset(0)  # a fence: the status is computed once per task
        .subquery("per_task")
    )
    p = per_task.c
    d = literal(scope.as_of, type_=Date)
    due_by = _flag(and_(p.due_on.is_not(None), p.due_on <= d)).label("due_by")
    age = _age_bucket(p.status, p.days_overdue).label("age")
    undated = _flag(p.due_on.is_(None)).label("undated")
    if scope.window:
        lo, hi = (literal(x, type_=Date) for x in scope.window)
        due_in = _flag(p.due_on.between(lo, hi)).label("due_in")
        done_in = _flag(p.completed_on.between(lo, hi)).label("done_in")
    else:
        due_in = literal_column("0").label("due_in")
        done_in = literal_column("0").label("done_in")
    window_dims = [due_in, done_in] if scope.window else []
    measures = [
        func.count().label("n"),
        func.min(p.id).label("first_id"),
        func.max(p.days_overdue).label("days"),
        func.max(p.due_on).label("last_due"),
    ]
    count_dims = [p.directive_code, p.unit, p.status, due_by, p.key_task, age, undated]
    plan_dims = [p.directive_code, p.task_key, p.status]
    if conn.dialect.name == "postgresql":
        # Both groupings in the one scan: the report's rows and the appendix's, and no more rows
        # back than the report shows (a finer grouping returned 112,890 rows for 1.5 M tasks).
        q = select(
            p.directive_code, p.task_key, p.unit, p.status, due_by, p.key_task, age, undated,
            due_in, done_in, func.grouping(p.task_key).label("counts_row"), *measures,
        ).group_by(
            func.grouping_sets(tuple_(*count_dims, *window_dims), tuple_(*plan_dims))
        )  # fmt: skip
    else:  # SQLite has no GROUPING SETS: the finer grouping, summed both ways below
        dims = [*count_dims, p.task_key]
        q = select(
            *dims, due_in, done_in, literal_column("NULL").label("counts_row"), *measures
        ).group_by(*dims, *window_dims)
    counts: dict[tuple[Any, ...], int] = {}
    plans: dict[tuple[str, str, str], list[Any]] = {}
    for r in conn.execute(q):
        both = r.counts_row is None  # SQLite: each row counts for both
        if both or r.counts_row == 1:
            key = (
                r.directive_code,
                r.unit,
                r.status,
                bool(r.due_by),
                bool(r.key_task),
                None if r.age is None else int(r.age),
                bool(r.undated),
                bool(r.due_in),
                bool(r.done_in),
            )
            counts[key] = counts.get(key, 0) + int(r.n)
        if not (both or r.counts_row == 0):
            continue
        plan = plans.get((r.directive_code, r.task_key, r.status))
        days = int(r.days or 0)
        if plan is None:
            plans[(r.directive_code, r.task_key, r.status)] = [
                int(r.n), r.first_id, days, r.last_due is None
            ]  # fmt: skip
        else:
            plan[0] += int(r.n)
            plan[1] = min(plan[1], r.first_id)
            plan[2] = max(plan[2], days)
            plan[3] = plan[3] and r.last_due is None
    return (
        [
            CountRow(k[0], k[1], k[2], k[3], k[4], n, k[5], k[6], k[7], k[8])
            for k, n in counts.items()
        ],
        [
            PlanCount(directive, key, status, n, first, days, undated)
            for (directive, key, status), (n, first, days, undated) in plans.items()
        ],
    )


def overdue_ids(conn: Connection, scope: Scope, limit: int) -> list[str]:
    """The ids of the overdue tasks, the longest overdue first, at most ``limit``."""
    b = _base(conn, scope)
    d = literal(scope.as_of, type_=Date)
    q = (
        select(t.c.id)
        .select_from(b.source)
        # due_on < the report date: implied by "overdue", said so that an index can serve it
        .where(*b.where, t.c.due_on < d, b.status == Status.overdue.value)
        .order_by(t.c.due_on, t.c.directive_code, t.c.task_key, t.c.unit_code, t.c.period)
        .limit(limit)
    )
    return [r.id for r in conn.execute(q)]


def statuses(conn: Connection, as_of: date, ids: Sequence[str]) -> dict[str, TaskStatus]:
    """The status of each task of ``ids`` as of ``as_of``, read in chunks."""
    out: dict[str, TaskStatus] = {}
    for i in range(0, len(ids), _CHUNK):
        for s in task_statuses(conn, as_of, task_ids=ids[i : i + _CHUNK]):
            out[s.task_id] = s
    return out


def completions(conn: Connection, as_of: date, ids: Sequence[str]) -> dict[str, Completed]:
    """The report that counts as of ``as_of`` for each task of ``ids`` that has one: verified, or
    waiting for the coordinator's decision then."""
    c = tables.completion_t
    d = literal(as_of, type_=Date)
    out: dict[str, Completed] = {}
    for i in range(0, len(ids), _CHUNK):
        q = (
            select(c.c.task_id, c.c.reported_on, c.c.evidence, c.c.state)
            .where(
                c.c.task_id.in_(list(ids[i : i + _CHUNK])),
                c.c.reported_on <= d,
                or_(
                    c.c.state.in_(("verified", "reported")),
                    and_(c.c.state == "returned", c.c.decided_on > d),
                ),
            )
            .order_by(c.c.id)
        )
        for r in conn.execute(q):
            state = "reported" if r.state == "returned" else r.state
            out[r.task_id] = Completed(r.reported_on, r.evidence, state)
    return out


def task_lines(
    conn: Connection,
    scope: Scope,
    order: Mapping[str, Sequence[str]],
    limit: int,
) -> Iterator[tuple[TaskStatus, Completed | None]]:
    """Every task of the report (at most ``limit``), with the report that counts for it: by
    directive, then in the plan's order of its tasks (``order``: the task keys of each
    directive), then by unit and period. Read in chunks; a caller writes them as they come."""
    b = _base(conn, scope)
    left = limit
    for directive in sorted(order):
        if left <= 0:
            return
        keys = list(order[directive])
        position = case({k: i for i, k in enumerate(keys)}, value=t.c.task_key, else_=len(keys))
        q = (
            select(t.c.id)
            .select_from(b.source)
            .where(*b.where, t.c.directive_code == directive)
            .order_by(position, t.c.task_key, t.c.unit_code, t.c.period)
            .limit(left)
        )
        ids = [r.id for r in conn.execute(q)]
        left -= len(ids)
        for i in range(0, len(ids), _CHUNK):
            part = ids[i : i + _CHUNK]
            found = {s.task_id: s for s in task_statuses(conn, scope.as_of, task_ids=part)}
            reports = completions(conn, scope.as_of, part)
            for task_id in part:
                yield found[task_id], reports.get(task_id)


def task_state(conn: Connection, task_id: str) -> str:
    """The stored state of a task (open, reported, done, removed)."""
    return str(conn.execute(select(t.c.state).where(t.c.id == task_id)).scalar_one())


def count_tasks(conn: Connection, scope: Scope) -> int:
    """How many tasks the report counts."""
    b = _base(conn, scope)
    return int(
        conn.execute(select(func.count()).select_from(b.source).where(*b.where)).scalar_one()
    )


def directive_infos(conn: Connection, codes: Iterable[str]) -> dict[str, DirectiveInfo]:
    """Headings of the stored directives among ``codes`` (the issuer named as the registry does)."""
    codes = sorted(set(codes))
    if not codes:
        return {}
    d, u = tables.directive_t, tables.unit_t
    q = (
        select(
            d.c.code,
            d.c.doc_type,
            d.c.symbol,
            d.c.issued_on,
            d.c.title,
            d.c.issuer,
            d.c.focal_unit,
            u.c.name.label("issuer_name"),
        )  # fmt: skip
        .select_from(d.outerjoin(u, u.c.code == d.c.issuer_code))
        .where(d.c.code.in_(codes))
    )
    return {
        r.code: DirectiveInfo(
            r.code,
            r.doc_type,
            r.symbol,
            r.issued_on,
            r.title,
            r.issuer_name or r.issuer,
            r.focal_unit,
        )  # fmt: skip
        for r in conn.execute(q)
    }


def directive_specs(conn: Connection, codes: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The stored spec (the validated directive file) of each directive among ``codes``."""
    d = tables.directive_t
    q = select(d.c.code, d.c.spec).where(d.c.code.in_(sorted(set(codes))))
    return {r.code: dict(r.spec or {}) for r in conn.execute(q)}


def names(conn: Connection, codes: Iterable[str]) -> dict[str, str]:
    """The name of each unit or group among ``codes``."""
    codes = sorted(set(codes))
    out: dict[str, str] = {}
    for table in (tables.group_t, tables.unit_t):
        for i in range(0, len(codes), _CHUNK):
            part = codes[i : i + _CHUNK]
            q = select(table.c.code, table.c.name).where(table.c.code.in_(part))
            out.update({r.code: r.name for r in conn.execute(q)})
    return out


def unit_infos(conn: Connection, codes: Iterable[str]) -> dict[str, tuple[str, str | None]]:
    """(name, level code) of each unit among ``codes``."""
    codes = sorted(set(codes))
    u = tables.unit_t
    out: dict[str, tuple[str, str | None]] = {}
    for chunk in range(0, len(codes), _CHUNK):
        part = codes[chunk : chunk + _CHUNK]
        for r in conn.execute(select(u.c.code, u.c.name, u.c.level).where(u.c.code.in_(part))):
            out[r.code] = (r.name, r.level)
    return out


def unit_parent(conn: Connection, code: str) -> tuple[str, str | None] | None:
    """(name, parent's name) of a unit, for the heading of a report it issues."""
    u, p = tables.unit_t, tables.unit_t.alias("parent")
    row = conn.execute(
        select(u.c.name, p.c.name.label("parent"))
        .select_from(u.outerjoin(p, p.c.code == u.c.parent_code))
        .where(u.c.code == code)
    ).first()
    return (row.name, row.parent) if row else None


def level_infos(conn: Connection) -> dict[str, tuple[str, int]]:
    """(name, position) of every level."""
    lv = tables.level_t
    return {
        r.code: (r.name, int(r.position))
        for r in conn.execute(select(lv.c.code, lv.c.name, lv.c.position))
    }

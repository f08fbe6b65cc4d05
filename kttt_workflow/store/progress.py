"""The consolidated report's SQL, set-based: one ``GROUP BY`` over the status ``CASE`` expression
counts the tasks of every (directive, answering unit, status, due-by, key task, overdue age,
cut-off window) and each task of the plan by status (the appendix) at once (:func:`tally`).
Lists of tasks are capped (the overdue list, the spreadsheet's rows) and read by id, in chunks,
through :func:`kttt_workflow.store.status.task_statuses`, so every view shows a task the same
way. :func:`kttt_workflow.domain.progress.assemble` does the rest."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from operator import itemgetter
from typing import Any, NamedTuple

from sqlalchemy import (
    ARRAY,
    Date,
    Integer,
    String,
    and_,
    case,
    column,
    func,
    literal,
    literal_column,
    or_,
    select,
    tuple_,
)
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
from kttt_workflow.store.status import (
    awaiting_tasks,
    lead_code,
    started,
    status_columns,
    task_statuses,
)

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
    pg = conn.dialect.name == "postgresql"
    ans, ceased = _answering(conn, scope.as_of)
    source: Any = t
    awaiting: ColumnElement[bool] | None = None
    if pg:  # a hash join, not a correlated EXISTS: a parallel plan (see _answering)
        aw = awaiting_tasks(scope.as_of)
        source = source.outerjoin(aw, aw.c.task_id == t.c.id)
        awaiting = aw.c.task_id.is_not(None)
    status, days = status_columns(scope.as_of, conn.dialect.name, ceased, awaiting)
    assigned = lead_code(scope.as_of)
    if ans is None:  # no unit answers through another one on that day: no join
        answers: ColumnElement[Any] = assigned
    else:
        answers = func.coalesce(ans.c.current, assigned)
        source = source.outerjoin(ans, ans.c.code == assigned)
    where: list[ColumnElement[bool]] = [t.c.state != "removed", started(scope.as_of)]
    if scope.directive:
        where.append(t.c.directive_code == scope.directive)
    if scope.unit:
        where.append(
            or_(t.c.unit_code == scope.unit, assigned == scope.unit, answers == scope.unit)
        )
    if scope.within:
        if pg:  # the codes, not a recursive CTE: see _answering
            codes = [r.code for r in conn.execute(select(subtree(scope.within).c.code))]
            where.append(answers.in_(codes))
        else:
            where.append(answers.in_(select(subtree(scope.within).c.code)))
    if scope.level:
        now = tables.unit_t.alias("answering_unit")
        source = source.join(now, now.c.code == answers)
        where.append(now.c.level == scope.level)
    return _Base(source, where, answers, status, days)


def _answering(conn: Connection, as_of: date) -> tuple[Any, ColumnElement[Any] | None]:
    """What to join on the task's assigned unit to find who answers for it on ``as_of``:
    (the rows ``code, current, ceased``, their ``ceased`` column), or ``(None, None)`` when
    every unit answers for itself that day.

    On PostgreSQL only the units that do not answer for themselves (ceased, with a successor or
    not) are read first, from :func:`~kttt_workflow.store.registry.answering`'s recursive query
    over the unit table, and joined as ``unnest`` of three arrays: a plan that names a
    recursive CTE cannot run in parallel, and the national report's scan of 1.5 M tasks is
    worth both cores (bench/bench_national.py). SQLite joins the recursive query itself."""
    ans = answering(as_of)
    if conn.dialect.name != "postgresql":
        return ans, ans.c.ceased
    rows = conn.execute(
        select(ans.c.code, ans.c.current, ans.c.ceased).where(
            or_(ans.c.current != ans.c.code, ans.c.ceased == 1)
        )
    ).all()
    if not rows:
        return None, None
    arrays = [
        literal([r.code for r in rows], type_=ARRAY(String())),
        literal([r.current for r in rows], type_=ARRAY(String())),
        literal([int(r.ceased) for r in rows], type_=ARRAY(Integer())),
    ]
    moved = (
        func.unnest(*arrays)
        .table_valued(
            column("code", String()), column("current", String()), column("ceased", Integer())
        )
        .render_derived(name="answering")
    )
    return moved, moved.c.ceased


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


def _flag(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return case((condition, 1), else_=0)


class Tally(NamedTuple):
    """What :func:`tally` counts in one scan."""

    counts: list[CountRow]
    plans: list[PlanCount]
    # Per directive: a due date on or before which its ``limit`` longest overdue tasks all fall
    # (absent when it has fewer groups of overdue tasks than that): :func:`overdue_ids`' bound.
    overdue_until: dict[str, date]


_LIVE_STATES = ("open", "reported", "done")  # every state but "removed": ix_task_due's ranges


def due_counts(conn: Connection, scope: Scope) -> list[tuple[str, str, int]]:
    """(directive, status, how many) of the tasks due by the report date, nothing else: what a
    chart's "% done of the tasks due" needs (:func:`kttt_workflow.domain.progress.done_pcts`).

    The same tasks and statuses as :func:`tally` (the same FROM, WHERE and status ``CASE``), but
    only those due by the date are read, by the index on (state, due date): at a date early in a
    long cascade few are (the national scenario's 28/04/2026: 37,630 of 1.5 M), where a tally
    scans them all for every point of the chart."""
    b = _base(conn, scope)
    d = literal(scope.as_of, type_=Date)
    q = (
        select(t.c.directive_code, b.status, func.count())
        .select_from(b.source)
        .where(*b.where, t.c.state.in_(_LIVE_STATES), t.c.due_on <= d)
        .group_by(t.c.directive_code, b.status)
    )
    return [(code, status, int(n)) for code, status, n in conn.execute(q)]


# What :func:`tally` reads of each row, in this order.
_TALLY_COLUMNS = (
    "directive_code", "task_key", "unit", "status", "due_by", "key_task", "age", "undated",
    "due_in", "done_in", "counts_row", "n", "first_id", "days", "last_due", "first_due",
)  # fmt: skip


def tally(conn: Connection, scope: Scope, overdue_limit: int = 0) -> Tally:
    """Both counts of a report from ONE scan of the tasks: one ``GROUP BY`` by (directive, task
    of the plan, answering unit, status, due by the report date, key task, overdue age, no due
    date, due / done within the cut-off window), summed into the report's rows
    (:class:`CountRow`, without the task) and the appendix's (:class:`PlanCount`, without the
    unit).

    A task of a unit that has ceased is counted with the unit that answers for it on the report
    date (its successor, down the chain).

    Each task's status is named once in the grouping, and its age by one expression over its days
    overdue (``width_bucket`` on PostgreSQL); the status ``CASE`` once named six times by the age
    bucket made the report of 1.5 M tasks take minutes (bench/bench_national.py). PostgreSQL
    groups in parallel (:func:`_parallel_grouping`), then sums those groups both ways at once
    (``GROUPING SETS`` over the groups, not over the tasks); SQLite's groups are summed here.
    """
    b = _base(conn, scope)
    pg = conn.dialect.name == "postgresql"
    d = literal(scope.as_of, type_=Date)
    status, days = b.status, b.days
    unit = b.answers.label("unit")
    due_by = _flag(and_(t.c.due_on.is_not(None), t.c.due_on <= d)).label("due_by")
    age = _days_bucket(days, pg).label("age")  # the age once the status says "overdue"
    undated = _flag(t.c.due_on.is_(None)).label("undated")
    if scope.window:
        lo, hi = (literal(x, type_=Date) for x in scope.window)
        due_in = _flag(t.c.due_on.between(lo, hi)).label("due_in")
        done_in = _flag(t.c.completed_on.between(lo, hi)).label("done_in")
        window_dims = [due_in, done_in]
    else:
        window_dims = []
    dims = [t.c.directive_code, t.c.task_key, unit, status, due_by, t.c.key_task, age, undated]
    groups = (
        select(
            *dims,
            *window_dims,
            func.count().label("n"),
            func.min(t.c.id).label("first_id"),
            func.max(days).label("days"),
            func.max(t.c.due_on).label("last_due"),
            func.min(t.c.due_on).label("first_due"),
        )
        .select_from(b.source)
        .where(*b.where)
        .group_by(*dims, *window_dims)
    )
    if pg:
        # Both sums in the database: no more rows back than the report shows (the groups alone
        # are 112,890 rows for the national scenario's 1.5 M tasks).
        g = groups.subquery("task_groups").c
        count_dims = [g.directive_code, g.unit, g.status, g.due_by, g.key_task, g.age, g.undated]
        count_dims += [g.due_in, g.done_in] if scope.window else []
        plan_dims = [g.directive_code, g.task_key, g.status]
        zero: ColumnElement[Any] = literal_column("0")
        q = select(
            g.directive_code, g.task_key, g.unit, g.status, g.due_by, g.key_task, g.age,
            g.undated, (g.due_in if scope.window else zero).label("due_in"),
            (g.done_in if scope.window else zero).label("done_in"),
            func.grouping(g.task_key).label("counts_row"), func.sum(g.n).label("n"),
            func.min(g.first_id).label("first_id"), func.max(g.days).label("days"),
            func.max(g.last_due).label("last_due"), func.min(g.first_due).label("first_due"),
        ).group_by(func.grouping_sets(tuple_(*count_dims), tuple_(*plan_dims)))  # fmt: skip
        _parallel_grouping(conn)
        result = conn.execute(q)
        rows = result.all()
        _parallel_grouping(conn, reset=True)
    else:
        zero = literal_column("0")
        extra = [] if scope.window else [zero.label("due_in"), zero.label("done_in")]
        q = groups.add_columns(*extra, literal_column("NULL").label("counts_row"))
        result = conn.execute(q)
        rows = result.all()
    # Rows by position (the two queries order their columns differently): a Row's attribute
    # costs ~1.2 µs, 0.25 s over the national report's 11,299 rows.
    at = {k: i for i, k in enumerate(result.keys())}
    columns = itemgetter(*(at[k] for k in _TALLY_COLUMNS))
    counts: dict[tuple[Any, ...], int] = {}
    plans: dict[tuple[str, str, str], list[Any]] = {}
    overdue = Status.overdue.value
    firsts: dict[str, list[date]] = {}
    for (
        directive_code, task_key, unit_code, status_, due_by_, key_task, age_, undated_,
        due_in_, done_in_, counts_row, n_, first_id, days_, last_due, first_due,
    ) in map(columns, rows):  # fmt: skip
        n = int(n_)
        both = counts_row is None  # SQLite: each row counts for both
        if both or counts_row == 1:
            key = (
                directive_code,
                unit_code,
                status_,
                bool(due_by_),
                bool(key_task),
                int(age_) if status_ == overdue and age_ is not None else None,
                bool(undated_),
                bool(due_in_),
                bool(done_in_),
            )
            counts[key] = counts.get(key, 0) + n
            if status_ == overdue and first_due is not None:
                firsts.setdefault(directive_code, []).append(first_due)
        if not (both or counts_row == 0):
            continue
        plan = plans.get((directive_code, task_key, status_))
        days_n = int(days_ or 0)
        if plan is None:
            plans[(directive_code, task_key, status_)] = [n, first_id, days_n, last_due is None]
        else:
            plan[0] += n
            plan[1] = min(plan[1], first_id)
            plan[2] = max(plan[2], days_n)
            plan[3] = plan[3] and last_due is None
    # Each group of overdue tasks has one due on or before its first due date: once ``limit``
    # groups have begun by a date, so have the ``limit`` longest overdue tasks.
    until = {
        code: sorted(dues)[overdue_limit - 1]
        for code, dues in firsts.items()
        if overdue_limit and len(dues) >= overdue_limit
    }
    return Tally(
        [
            CountRow(k[0], k[1], k[2], k[3], k[4], n, k[5], k[6], k[7], k[8])
            for k, n in counts.items()
        ],
        [
            PlanCount(directive, key, status, n, first, days, undated)
            for (directive, key, status), (n, first, days, undated) in plans.items()
        ],
        until,
    )


# The first day of each age bucket: contiguous, the last one open-ended (checked at import).
_AGE_LOWS = [low for low, _, _ in AGE_BUCKETS]
assert (
    all(
        high is not None and AGE_BUCKETS[i + 1][0] == high + 1
        for i, (_, high, _) in enumerate(AGE_BUCKETS[:-1])
    )
    and AGE_BUCKETS[-1][1] is None
)


def _days_bucket(days: ColumnElement[int], pg: bool) -> ColumnElement[Any]:
    """The index in ``AGE_BUCKETS`` of ``days`` overdue (NULL below the first bucket): an overdue
    task's age (:func:`kttt_workflow.domain.progress.age_bucket`); the caller keeps it for the
    overdue tasks only. PostgreSQL names ``days`` once (``width_bucket``)."""
    if pg:
        edges = literal(_AGE_LOWS, type_=ARRAY(Integer()))
        # 0 below the first bucket → NULL; ``days`` evaluated once per task, not twice
        return func.nullif(func.width_bucket(days, edges), 0) - 1
    whens = [(days >= low, i) for i, low in reversed(list(enumerate(_AGE_LOWS)))]
    return case(*whens, else_=None)


def _parallel_grouping(conn: Connection, reset: bool = False) -> None:
    """PostgreSQL: group the tasks in parallel, by hashing. The planner cannot tell how many
    groups a status ``CASE`` makes (it guesses one per task), so it would sort every task, on
    one core, on disk; the real groups are few (a unit's statuses). For the one statement
    between the two calls (1.5 M tasks: 3.5 s → 0.8 s on two cores)."""
    if conn.dialect.name != "postgresql":
        return
    for name, value in (
        ("enable_sort", "off"),
        ("enable_incremental_sort", "off"),
        ("parallel_tuple_cost", "0.001"),
    ):
        if reset:
            conn.exec_driver_sql(f"RESET {name}")
        else:
            conn.exec_driver_sql(f"SET LOCAL {name} = {value}")


def overdue_ids(conn: Connection, scope: Scope, limit: int, until: date | None = None) -> list[str]:
    """The ids of the overdue tasks, the longest overdue first, at most ``limit``; ``until``
    (:attr:`Tally.overdue_until`) bounds their due dates, so that the index on them serves the
    query rather than a scan of every task."""
    b = _base(conn, scope)
    d = literal(scope.as_of, type_=Date)
    # due_on < the report date: implied by "overdue", said so that an index can serve it
    due = [t.c.due_on < d] + ([t.c.due_on <= literal(until, type_=Date)] if until else [])
    q = (
        select(t.c.id)
        .select_from(b.source)
        .where(*b.where, *due, b.status == Status.overdue.value)
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
    if len(codes) > _CHUNK:  # a national report names most units: one read of them all
        wanted = set(codes)
        for r in conn.execute(select(u.c.code, u.c.name, u.c.level)):
            if r.code in wanted:
                out[r.code] = (r.name, r.level)
        return out
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

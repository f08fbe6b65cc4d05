"""The daily sweep, store side: record the notices due (set-based) and the digests that carry them.

1. ``record_notices``: the fire rows (:func:`kttt_workflow.domain.escalation.fire_rows`, computed
   for the few distinct (policy, due date) pairs of the tasks examined) go into a temporary
   table; then one ``INSERT … SELECT … ON CONFLICT DO NOTHING`` per kind of recipient ('to', then
   'cc'; one for both in an incremental sweep) writes the ledger rows of every role for every task
   at once, each with its role (``notice.role``, by which the new notices are counted). The
   unique key (task, step, recipient) makes a notice exist at most
   once, whatever the number of concurrent sweeps: there is no check-then-insert. A recipient that
   has ceased answers through its successor, down the whole chain
   (:func:`kttt_workflow.store.registry.current_units`).
2. ``pending_lines`` / ``claim_digests``: the notices not yet in a delivery become one digest per
   recipient unit; the service claims the notices of a batch of digests in one short transaction
   (their rows locked in id order on PostgreSQL; a digest whose notices a concurrent sweep took
   first, even one of them, is dropped: that sweep has its copy, and what is left of it goes with
   the next sweep).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    case,
    cast,
    column,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.sql import Select
from sqlalchemy.sql.elements import ColumnElement

from kttt_workflow.domain.calendar import WorkingCalendar
from kttt_workflow.domain.digest import Digest, DigestLine, Monitor
from kttt_workflow.domain.escalation import FireRow, fire_rows
from kttt_workflow.store import next_step, tables
from kttt_workflow.store.registry import answering, read_policies
from kttt_workflow.store.status import awaiting_clause, lead_code, started

t = tables.task_t
n = tables.notice_t
# The ledger columns a sweep writes (also used by the sweep benchmark's floor).
NOTICE_COLUMNS = (
    "task_id",
    "policy_code",
    "step_code",
    "recipient",
    "is_cc",
    "severity",
    "fire_on",
    "due_on",
    "sweep_id",
    "created_at",
)
_CLAIM_CHUNK = 500  # notice ids per UPDATE … WHERE id IN (...)
_FREE_CHUNK = 5000  # SQLite: notice ids per look-up of those still free (claim_digests)
# The ledger's unique key, the one arbiter of ON CONFLICT DO NOTHING: without a target every
# unique index is checked before each row goes in, the primary key too (which a new id never
# conflicts with): 14 % of a large insert on PostgreSQL.
_KEY = ["task_id", "step_code", "recipient"]
DATED_KINDS = ("fixed", "recurring")  # deadlines that are a date of their own


def open_tasks(as_of: date, scope: ColumnElement[bool] | None = None) -> ColumnElement[bool]:
    """Tasks a ladder applies to as of ``as_of``: started, not done, with a due date, active (or
    waiting for their parent but with a dated deadline of their own: they escalate like any
    other), and not waiting for the coordinator to verify a report (the unit did report)."""
    d = literal(as_of, type_=Date)
    return and_(
        scope if scope is not None else true(),
        t.c.state != "removed",
        t.c.policy_code.is_not(None),
        t.c.due_on.is_not(None),
        or_(t.c.completed_on.is_(None), t.c.completed_on > d),
        started(as_of),
        or_(
            t.c.activation == "immediate",
            and_(t.c.activated_on.is_not(None), t.c.activated_on <= d),
            t.c.deadline_kind.in_(DATED_KINDS),
        ),
        ~awaiting_clause(as_of),
    )


def due_pairs(
    conn: Connection, as_of: date, scope: ColumnElement[bool] | None = None
) -> list[tuple[str, date]]:
    """The distinct (policy, due date) pairs of open tasks (of ``scope``): hundreds even for
    millions of tasks."""
    q = select(t.c.policy_code, t.c.due_on).where(open_tasks(as_of, scope)).distinct()
    return [(r.policy_code, r.due_on) for r in conn.execute(q)]


def _fire_table() -> Table:
    return Table(
        "kttt_fire",
        MetaData(),
        Column("policy_code", String(160)),
        Column("due_on", Date),
        Column("step_code", String(64)),
        Column("severity", String(16)),
        Column("fire_on", Date),
        Column("role", String(64)),
        Column("is_cc", Boolean),
        Column("ord", Integer),
        prefixes=["TEMPORARY"],
    )


def _current_table() -> Table:
    return Table(
        "kttt_current",
        MetaData(),
        Column("code", String(64), primary_key=True),
        Column("current", String(64)),
        Column("ceased", Integer),  # 1: the chain ends in a unit that ceased (nobody answers)
        prefixes=["TEMPORARY"],
    )


# One Table object each (created and dropped per sweep): statements that name them keep the
# same cache key, so SQLAlchemy compiles them once per process, not once per sweep.
_FIRE, _CURRENT = _fire_table(), _current_table()


def _insert_ignore(conn: Connection, sel: Select[Any], cols: list[str]) -> int:
    """INSERT … SELECT … ON CONFLICT DO NOTHING (SQLite and PostgreSQL); returns rows inserted
    (the driver's row count, which SQLAlchemy keeps for an INSERT only when asked)."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    ins = dialect.insert(n).from_select(cols, sel).on_conflict_do_nothing(index_elements=_KEY)
    return max(conn.execute(ins, execution_options={"preserve_rowcount": True}).rowcount, 0)


def _insert_by_role(
    conn: Connection, sel: Any, cols: list[str], work_mem: str | None = None
) -> dict[str, int]:
    """INSERT … SELECT … ON CONFLICT DO NOTHING of ladder rows; the rows inserted, by role.

    PostgreSQL: ``count(*)`` of the ``RETURNING role`` rows grouped in SQL; ``work_mem``: for this
    statement only (then back to the session's value). SQLite (one writer at a time): the new
    rows are those with an id above the largest before the insert.
    """
    if conn.dialect.name == "postgresql":
        ins = (
            postgresql.insert(n).from_select(cols, sel).on_conflict_do_nothing(index_elements=_KEY)
        )
        inserted = ins.returning(n.c.role).cte("ins")
        q = select(inserted.c.role, func.count()).group_by(inserted.c.role)
        before = None
        if work_mem:
            before = conn.exec_driver_sql("SHOW work_mem").scalar()
            conn.execute(select(func.set_config("work_mem", work_mem, True)))
        counts = {r[0]: int(r[1]) for r in conn.execute(q)}
        if before is not None:  # (after an error the transaction's rollback undoes the setting)
            conn.execute(select(func.set_config("work_mem", before, True)))
        return counts
    last = conn.execute(select(func.coalesce(func.max(n.c.id), 0))).scalar_one()
    if not conn.execute(
        sqlite.insert(n).from_select(cols, sel).on_conflict_do_nothing(index_elements=_KEY)
    ).rowcount:
        return {}
    q = select(n.c.role, func.count()).where(n.c.id > last).group_by(n.c.role)
    return {r[0]: int(r[1]) for r in conn.execute(q)}


# The recipient of each role: a column reached from the task row through these joins.
_Joins = tuple[tuple[Any, Any], ...]
_u, _u2, _d = tables.unit_t.alias("u"), tables.unit_t.alias("u2"), tables.directive_t
_fu = tables.unit_t.alias("fu")


def _roles(lead: ColumnElement[Any]) -> dict[str, tuple[ColumnElement[Any], _Joins]]:
    """The recipient of each role for a task assigned to ``lead`` (:func:`lead_code`)."""
    return {
        "lead": (lead, ()),
        "lead_parent": (_u.c.parent_code, ((_u, _u.c.code == lead),)),
        "lead_grandparent": (
            _u2.c.parent_code,
            ((_u, _u.c.code == lead), (_u2, _u2.c.code == _u.c.parent_code)),
        ),
        "issuer": (_d.c.issuer_code, ((_d, _d.c.code == t.c.directive_code),)),
        "focal": (
            _d.c.focal_unit,
            ((_d, _d.c.code == t.c.directive_code), (_u, _u.c.code == _d.c.focal_unit)),
        ),
    }


def _plain_recipients(
    roles: set[str], lead: ColumnElement[Any], role: ColumnElement[str]
) -> tuple[ColumnElement[Any], list[tuple[Any, Any]]]:
    """The recipient of the fire row's ``role`` (any of ``roles``, coordinators aside) as one
    expression, and the tables it needs as LEFT OUTER JOINs (a role whose unit is missing gives
    NULL, which the caller drops): the lead's parent and grandparent, the directive's issuer,
    its focal unit when it is a unit of the registry, or the unit the policy names."""
    joins: list[tuple[Any, Any]] = []

    def need(target: Any, on: Any) -> None:
        if all(target is not j for j, _ in joins):
            joins.append((target, on))

    cases: list[tuple[str, ColumnElement[Any]]] = []
    for r in sorted(roles):
        if r == "lead":
            cases.append((r, lead))
        elif r in ("lead_parent", "lead_grandparent"):
            need(_u, _u.c.code == lead)
            if r == "lead_parent":
                cases.append((r, _u.c.parent_code))
            else:
                need(_u2, _u2.c.code == _u.c.parent_code)
                cases.append((r, _u2.c.parent_code))
        elif r in ("issuer", "focal"):
            need(_d, _d.c.code == t.c.directive_code)
            if r == "issuer":
                cases.append((r, _d.c.issuer_code))
            else:
                need(_fu, _fu.c.code == _d.c.focal_unit)
                cases.append((r, _fu.c.code))
    named = [r for r in roles if r not in _KNOWN_ROLES]  # unit codes: the fire row's role
    if not named and len(cases) == 1:
        return cases[0][1], joins
    if not cases:
        return cast(role, String(64)), joins
    return case({r: e for r, e in cases}, value=role, else_=role), joins


_KNOWN_ROLES = ("lead", "lead_parent", "lead_grandparent", "issuer", "focal", "coordinators")


def record_notices(
    conn: Connection,
    as_of: date,
    rows: Sequence[FireRow],
    sweep_id: int | None,
    at: datetime,
    scope: ColumnElement[bool] | None = None,
    one_pass: bool = False,
) -> dict[str, int]:
    """Write the ledger rows of ``rows`` for every open task (of ``scope``: the full evaluation
    without it), and the follow-ups (inside the caller's transaction).

    The ladder takes two ``INSERT … SELECT`` statements, each one pass over the tasks with every
    role of its kind: the 'to' rows, then the 'cc' rows (so that a unit that is both is a 'to':
    the cc row then conflicts with it and is not written); ``one_pass``: one statement for both,
    each (task, step, recipient) once, 'to' first (a sort: for the few tasks of an incremental
    sweep). Returns the number of new notices by recipient role (``verify``, ``returned`` and
    ``reassign`` for the follow-ups, see :func:`_follow_ups`); a notice two roles name counts
    for one of them.
    """
    fire, cur = _FIRE, _CURRENT
    pg = conn.dialect.name == "postgresql"
    cur.create(conn)
    units = answering(as_of)
    conn.execute(
        insert(cur).from_select(
            ["code", "current", "ceased"],
            select(units.c.code, units.c.current, units.c.ceased).where(
                or_(units.c.code != units.c.current, units.c.ceased == 1)
            ),
        )
    )
    moved, ceased = conn.execute(
        select(func.count(), func.coalesce(func.sum(cur.c.ceased), 0))
    ).one()
    if pg and moved:
        conn.exec_driver_sql("ANALYZE kttt_current")
    counts: dict[str, int] = {}
    if rows:
        fire.create(conn)
        conn.execute(insert(fire), [asdict(r) for r in rows])
        if pg:
            # Without statistics the planner takes the temporary table for one row and nests
            # loops over the task table.
            conn.exec_driver_sql("ANALYZE kttt_fire")
        cols = [*NOTICE_COLUMNS, "role"]
        # 'to' rows first: a unit that is both to and cc is a 'to'.
        kinds: tuple[int | None, ...] = (None,) if one_pass else (0, 1)
        for ord_ in kinds:
            roles = {r.role for r in rows if ord_ is None or r.ord == ord_}
            if not roles:
                continue
            q = _ladder_select(
                fire, cur, as_of, sweep_id, at, ord_, roles, conn.dialect.name, scope, bool(moved)
            )
            # The one pass sorts its rows (a day's: tens of thousands) to keep one per key: in
            # memory rather than on disk.
            work_mem = "64MB" if ord_ is None else None
            for role, added in _insert_by_role(conn, q, cols, work_mem).items():
                counts[role] = counts.get(role, 0) + added
        fire.drop(conn)
    for kind, q in _follow_ups(cur, as_of, sweep_id, at, scope, bool(ceased)):
        added = _insert_ignore(conn, q, [*NOTICE_COLUMNS, "completion_id"])
        if added:
            counts[kind] = counts.get(kind, 0) + added
    cur.drop(conn)
    return counts


def sweep_decisions(
    conn: Connection,
    as_of: date,
    calendar: WorkingCalendar,
    sweep_id: int | None,
    at: datetime,
    *,
    full: bool = False,
) -> dict[str, int]:
    """What a sweep as of ``as_of`` records (inside the caller's transaction), reading only the
    tasks whose next step may be due (:mod:`kttt_workflow.store.next_step`).

    ``full``: the full evaluation over every open task, as before ``next_step_on`` (the
    reference the tests compare with); it leaves the column as it is. On PostgreSQL the task table
    is locked against writers (``SHARE ROW EXCLUSIVE``, which also serialises sweeps) for the rest
    of the transaction: a report recorded meanwhile waits, then marks its task for the next sweep.
    """
    policies = read_policies(conn)
    if full:
        rows = fire_rows(due_pairs(conn, as_of), policies, as_of, calendar)
        return record_notices(conn, as_of, rows, sweep_id, at)
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("LOCK TABLE task IN SHARE ROW EXCLUSIVE MODE")
    how = next_step.plan(conn, as_of, calendar)
    if how == "backdated":
        rows = fire_rows(due_pairs(conn, as_of), policies, as_of, calendar)
        return record_notices(conn, as_of, rows, sweep_id, at)
    ex = next_step.examined(conn, as_of, calendar, policies, how)
    # The pairs of the tasks examined serve both the fire rows (the INSERTs apply the open-task
    # conditions themselves) and the advance of the marked ones: read for those, known for the
    # pairs whose ladder moves.
    pairs = list(set(next_step.pairs(conn, ex.marked)) | set(ex.moving))
    ladder = [(p, d) for p, d in pairs if p is not None and d is not None]
    rows = fire_rows(ladder, policies, as_of, calendar)
    # A day's few tasks: both kinds in one statement (one read of the tasks, each leaf of the
    # ledger's unique index visited once); a rebuild's million, or the tasks of the directives
    # loaded since (as many as a load writes): one per kind, no sort.
    one_pass = how == "incremental" and not ex.loaded
    counts = record_notices(conn, as_of, rows, sweep_id, at, ex.where, one_pass)
    nexts = next_step.next_fires(pairs, policies, as_of, calendar)
    next_step.advance(conn, as_of, nexts, ex.marked)
    next_step.mark(conn, as_of, calendar, ex.loads)
    return counts


def _answered(cur: Table, unit: ColumnElement[Any], name: str) -> tuple[Any, ColumnElement[Any]]:
    """An alias of the "who answers now" table joined on ``unit``, and the unit that answers."""
    now = cur.alias(name)
    return now, func.coalesce(now.c.current, unit)


def _alive(now: Any) -> ColumnElement[bool]:
    """The unit of ``now`` (an alias of the "who answers now" table) has not ceased unanswered."""
    return func.coalesce(now.c.ceased, 0) == 0


def _ladder_select(
    fire: Table,
    cur: Table,
    as_of: date,
    sweep_id: int | None,
    at: datetime,
    ord_: int | None,
    roles: set[str],
    dialect: str,
    scope: ColumnElement[bool] | None,
    moved: bool,
) -> Any:
    """The ledger rows of every role of one kind (``ord_`` 0: 'to', 1: 'cc'): every open task
    joined with its fire rows of that kind and each row's recipient, as one SELECT (one pass over
    the tasks).

    ``ord_`` None: both kinds at once, one row per (task, step, recipient): the 'to' one when a
    unit is both (``row_number()`` over the rows of that key, 'to' first), in key order.

    A task whose lead ceased with no successor is not urged (nobody would read it: the
    coordinator is asked to reassign it instead), and no notice goes to a recipient that ceased.
    ``moved``: some unit answers through a successor or ceased (the "who answers now" table is
    not empty); else every unit answers for itself and the joins to that table are left out.
    """
    lead = lead_code(as_of)
    pair = and_(
        fire.c.policy_code == t.c.policy_code,
        fire.c.due_on == t.c.due_on,
        fire.c.ord == ord_ if ord_ is not None else true(),
    )
    plain = roles - {"coordinators"}
    frm: Any = t.join(fire, pair)
    recipient: ColumnElement[Any] = literal(None, type_=String(64))
    if plain:
        recipient, joins = _plain_recipients(plain, lead, fire.c.role)
        for target, on in joins:
            frm = frm.outerjoin(target, on)
    if "coordinators" in roles:
        # The coordinating units are a JSON array on the task row, expanded in SQL for the fire
        # rows of that role (LEFT JOIN: the array is NULL for the other roles, one row each).
        elements = func.json_array_elements_text if dialect == "postgresql" else func.json_each
        listed = case((fire.c.role == "coordinators", t.c.coordinating))
        coord = elements(listed).table_valued("value").alias("c")
        frm = frm.outerjoin(coord, true())
        recipient = (
            case((fire.c.role == "coordinators", coord.c.value), else_=recipient)
            if plain
            else coord.c.value
        )
    answers: ColumnElement[Any] = recipient
    where = [open_tasks(as_of, scope), recipient.is_not(None)]
    if moved:
        lead_now, _ = _answered(cur, lead, "lead_now")
        rcpt_now, answers = _answered(cur, recipient, "rcpt_now")
        frm = frm.outerjoin(lead_now, lead_now.c.code == lead).outerjoin(
            rcpt_now, rcpt_now.c.code == recipient
        )
        where += [_alive(lead_now), _alive(rcpt_now)]
    q = (
        select(
            t.c.id.label("task_id"),
            t.c.policy_code,
            fire.c.step_code,
            answers.label("recipient"),
            fire.c.is_cc,
            fire.c.severity,
            fire.c.fire_on,
            t.c.due_on,
            literal(sweep_id, type_=Integer).label("sweep_id"),
            literal(at, type_=n.c.created_at.type).label("created_at"),
            fire.c.role,
            *([fire.c.ord] if ord_ is None else []),
        )
        .select_from(frm)
        .where(*where)
    )
    if ord_ is None:
        rows = q.subquery("due")
        unique = (rows.c.task_id, rows.c.step_code, rows.c.recipient)
        rank = func.row_number().over(partition_by=unique, order_by=(rows.c.ord, rows.c.role))
        ranked = select(*[c for c in rows.c if c.name != "ord"], rank.label("rank")).subquery(
            "ranked"
        )
        cols = [c for c in ranked.c if c.name != "rank"]
        return select(*cols).where(ranked.c.rank == 1).order_by(ranked.c.task_id)
    if dialect == "sqlite":
        # In key order: SQLite fills the ledger's unique index sequentially (30 s → 19 s at 1M).
        q = q.order_by(t.c.id)
    return q


def _follow_ups(
    cur: Table,
    as_of: date,
    sweep_id: int | None,
    at: datetime,
    scope: ColumnElement[bool] | None = None,
    ceased: bool = True,
) -> list[tuple[str, Select[Any]]]:
    """The notices a sweep sends besides the ladder, once each (the ledger's unique key):

    * ``verify``: a report awaiting verification, to the focal unit (else the issuer):
      step ``cho-xac-nhan-<report id>``;
    * ``returned``: the latest report of an open task, returned, to the unit that answers:
      step ``tra-lai-<report id>``, with the reason in the digest;
    * ``reassign``: an open task whose unit ceased with no successor, to the issuer and the focal
      unit: step ``giao-lai``.
    """
    c, c2 = tables.completion_t, tables.completion_t.alias("later")
    d = literal(as_of, type_=Date)
    lead = lead_code(as_of)
    live = and_(
        scope if scope is not None else true(),
        t.c.state != "removed",
        started(as_of),
        or_(t.c.completed_on.is_(None), t.c.completed_on > d),
    )
    policy = func.coalesce(t.c.policy_code, literal(""))
    sweep = literal(sweep_id, type_=Integer)
    created = literal(at, type_=n.c.created_at.type)

    def step(prefix: str) -> ColumnElement[Any]:
        return literal(prefix, type_=String(64)) + cast(c.c.id, String(16))

    # verify: to the focal unit when it is a unit of the registry, else the issuer.
    focal = _u.alias("focal_u")
    to = case((focal.c.code.is_not(None), focal.c.code), else_=_d.c.issuer_code)
    rcpt, answers = _answered(cur, to, "verify_now")
    verify = (
        select(
            t.c.id,
            policy,
            step("cho-xac-nhan-"),
            answers,
            literal(False),
            literal("verify", type_=String(16)),
            c.c.reported_on,
            func.coalesce(t.c.due_on, c.c.reported_on),
            sweep,
            created,
            c.c.id,
        )
        .select_from(
            t.join(c, c.c.task_id == t.c.id)
            .join(_d, _d.c.code == t.c.directive_code)
            .outerjoin(focal, focal.c.code == _d.c.focal_unit)
            .outerjoin(rcpt, rcpt.c.code == to)
        )
        .where(
            live,
            c.c.reported_on <= d,
            or_(c.c.state == "reported", and_(c.c.state == "returned", c.c.decided_on > d)),
            to.is_not(None),
            _alive(rcpt),
        )
    )
    # returned: the latest report, returned by ``as_of``, of a task with no newer report.
    lead_now, answers = _answered(cur, lead, "returned_now")
    returned = (
        select(
            t.c.id,
            policy,
            step("tra-lai-"),
            answers,
            literal(False),
            literal("returned", type_=String(16)),
            c.c.decided_on,
            func.coalesce(t.c.due_on, c.c.decided_on),
            sweep,
            created,
            c.c.id,
        )
        .select_from(t.join(c, c.c.task_id == t.c.id).outerjoin(lead_now, lead_now.c.code == lead))
        .where(
            live,
            c.c.state == "returned",
            c.c.decided_on <= d,
            ~exists().where(c2.c.task_id == t.c.id, c2.c.id > c.c.id, c2.c.reported_on <= d),
            _alive(lead_now),
        )
    )
    out = [("verify", verify), ("returned", returned)]
    # reassign: the lead's chain ends in a unit that ceased; to the issuer and the focal unit
    # (``ceased``: some unit ceased with no successor; else there is nothing to reassign).
    gone = cur.alias("gone")
    for role in ("issuer", "focal") if ceased else ():
        recipient, joins = _roles(lead)[role]
        frm: Any = t.join(gone, and_(gone.c.code == lead, gone.c.ceased == 1))
        for target, on in joins:
            frm = frm.join(target, on)
        rnow, answers = _answered(cur, recipient, "reassign_now")
        frm = frm.outerjoin(rnow, rnow.c.code == recipient)
        q = select(
            t.c.id,
            policy,
            literal("giao-lai", type_=String(64)),
            answers,
            literal(False),
            literal("reassign", type_=String(16)),
            d,
            func.coalesce(t.c.due_on, d),
            sweep,
            created,
            literal(None, type_=Integer),
        ).select_from(frm)
        q = q.where(live, ~awaiting_clause(as_of), recipient.is_not(None), _alive(rnow))
        out.append(("reassign", q))
    return out


def pending_lines(
    conn: Connection, as_of: date, recipient: str | None = None
) -> dict[str, list[tuple[int, DigestLine]]]:
    """The notices not yet in a delivery, as digest lines, by recipient unit; each names the
    unit that answers for the task on ``as_of`` (and the one it inherited the task from)."""
    d, c = tables.directive_t, tables.completion_t
    named, now = tables.unit_t.alias("named"), tables.unit_t.alias("now")
    ans = answering(as_of)
    lead = lead_code(as_of)
    day = literal(as_of, type_=Date)
    q = (
        select(
            n.c.id,
            n.c.recipient,
            n.c.is_cc,
            n.c.severity,
            n.c.due_on,
            t.c.id.label("task_id"),
            t.c.title,
            t.c.deliverable,
            t.c.deadline_text,
            t.c.directive_code,
            d.c.symbol,
            d.c.title.label("dtitle"),
            named.c.name.label("named_name"),
            t.c.unit_code,
            lead.label("assigned"),
            func.coalesce(ans.c.current, lead).label("answering"),
            now.c.name.label("answering_name"),
            and_(
                t.c.activation == "on_parent_done",
                or_(t.c.activated_on.is_(None), t.c.activated_on > day),
            ).label("waiting"),
            c.c.reported_on,
            c.c.evidence,
            c.c.reason,
            c.c.decided_on,
        )
        .select_from(
            n.join(t, t.c.id == n.c.task_id)
            .join(d, d.c.code == t.c.directive_code)
            .outerjoin(named, named.c.code == t.c.unit_code)
            .outerjoin(ans, ans.c.code == lead)
            .outerjoin(now, now.c.code == func.coalesce(ans.c.current, lead))
            .outerjoin(c, c.c.id == n.c.completion_id)
        )
        .where(n.c.delivery_id.is_(None))
        .order_by(n.c.recipient, n.c.id)
    )
    if recipient:
        q = q.where(n.c.recipient == recipient)
    out: dict[str, list[tuple[int, DigestLine]]] = {}
    rows = conn.execute(q).all()
    monitors = directive_monitors(conn, {r[9] for r in rows}, as_of)
    # Unpacked by position: a Row's attribute costs ~1.2 µs, and a day of the national scenario
    # turns 112,890 notices into lines (bench/bench_national.py).
    for (
        notice_id, recipient_, is_cc, severity, due_on, task_id, title, deliverable,
        deadline_text, directive_code, symbol, dtitle, named_name, unit_code, assigned,
        answering_, answering_name, waiting, reported_on, evidence, reason, decided_on,
    ) in rows:  # fmt: skip
        line = DigestLine(
            directive_code,
            symbol or dtitle,
            task_id,
            title,
            deadline_text,
            due_on,
            _lead_shown(severity, unit_code, named_name, assigned, answering_, answering_name),
            severity,
            bool(is_cc),
            waiting_for_parent=bool(waiting) and severity != "verify",
            reported_on=reported_on,
            evidence=evidence,
            reason=reason,
            decided_on=decided_on,
            deliverable=deliverable,
            role=_role(recipient_, answering_, bool(is_cc)),
            monitor=monitors.get(directive_code),
        )
        out.setdefault(recipient_, []).append((notice_id, line))
    return out


def _role(recipient: str, answering: str, is_cc: bool) -> str:
    """The recipient's relation to the task: it answers for it, is copied, or is a superior."""
    if recipient == answering:
        return "lead"
    return "copy" if is_cc else "superior"


def directive_monitors(conn: Connection, codes: set[str], as_of: date) -> dict[str, Monitor]:
    """The monitoring body of each directive, for the digests' sign-off: the directive's own
    ``contact``, else its focal unit (the unit that answers for it on ``as_of``) with the
    registry's contact for it, else its issuer."""
    if not codes:
        return {}
    d, u = tables.directive_t, tables.unit_t.alias("monitor")
    ans = answering(as_of)
    q = (
        select(d.c.code, d.c.spec, d.c.issuer, d.c.focal_unit, u.c.name, u.c.contact)
        .select_from(
            d.outerjoin(ans, ans.c.code == d.c.focal_unit).outerjoin(
                u, u.c.code == func.coalesce(ans.c.current, d.c.focal_unit)
            )
        )
        .where(d.c.code.in_(sorted(codes)))
    )
    out: dict[str, Monitor] = {}
    for r in conn.execute(q):
        own = (r.spec or {}).get("contact") or {}
        registry = r.contact or {}
        name = own.get("name") or registry.get("name") or r.name or r.focal_unit or r.issuer
        if own:
            out[r.code] = Monitor(name, own.get("phone"), own.get("email"))
        else:
            out[r.code] = Monitor(name, registry.get("phone"), registry.get("email"))
    return out


def _lead_shown(
    severity: str,
    unit_code: str,
    named_name: str | None,
    assigned: str,
    answering: str,
    answering_name: str | None,
) -> str:
    """The unit that answers, with the unit it took the task over from (as in ``kttt status``)."""
    named = named_name or unit_code
    shown = answering_name or answering
    if severity == "reassign":
        return f"{shown} (đã giải thể, chưa có đơn vị kế thừa)"
    if assigned != unit_code:
        return f"{shown} (giao lại từ {named})"
    if answering != unit_code:
        return f"{shown} (kế thừa từ {named})"
    return named


def claim_digests(
    conn: Connection,
    sweep_id: int | None,
    as_of: date,
    digests: Sequence[tuple[str, str, Digest, list[int]]],
    at: datetime,
) -> list[str]:
    """Write a batch of digests ``(delivery id, recipient, digest, notice ids)`` and tie their
    notices to them, in the caller's transaction; returns the ids written.

    The notices still free are read first, locked (PostgreSQL: ``FOR UPDATE``, in id order, so
    that two sweeps claiming overlapping batches wait for each other rather than deadlock; SQLite's
    write transaction is already exclusive). A digest with a notice already taken by a concurrent
    sweep is not written. Then one ``INSERT`` of the digests and one ``UPDATE`` of their notices
    (PostgreSQL: joined to ``unnest`` of the pairs), instead of a transaction per digest: a day
    of the national scenario builds 3,763 of them (bench/bench_national.py)."""
    pg = conn.dialect.name == "postgresql"
    wanted = sorted({i for *_, ids in digests for i in ids})
    free: set[int] = set()
    if pg:  # one array parameter: an IN list of 5,000 parameters cost more to send than to run
        ids_ = literal(wanted, type_=postgresql.ARRAY(n.c.id.type))
        q = select(n.c.id).where(n.c.id == func.any(ids_), n.c.delivery_id.is_(None))
        free.update(conn.execute(q.order_by(n.c.id).with_for_update()).scalars())
    else:
        for k in range(0, len(wanted), _FREE_CHUNK):
            part = wanted[k : k + _FREE_CHUNK]
            q = select(n.c.id).where(n.c.id.in_(part), n.c.delivery_id.is_(None))
            free.update(conn.execute(q).scalars())
    kept = [x for x in digests if all(i in free for i in x[3])]
    if not kept:
        return []
    rows = [
        {
            "id": did,
            "recipient": recipient,
            "sweep_id": sweep_id,
            "as_of": as_of,
            "subject": digest.subject,
            "body_text": digest.text,
            "body_markdown": digest.markdown,
            "body_html": digest.html or None,
            "notices": len(ids),
            "status": "pending",
            "attempts": 0,
            "created_at": at,
        }
        for did, recipient, digest, ids in kept
    ]
    conn.execute(insert(tables.delivery_t), rows)
    if pg:
        pairs = [(i, did) for did, _, _, ids in kept for i in ids]
        v = (
            func.unnest(
                literal([i for i, _ in pairs], type_=postgresql.ARRAY(n.c.id.type)),
                literal([d for _, d in pairs], type_=postgresql.ARRAY(String())),
            )
            .table_valued(column("notice_id", n.c.id.type), column("delivery_id", String()))
            .render_derived(name="claimed")
        )
        conn.execute(update(n).where(n.c.id == v.c.notice_id).values(delivery_id=v.c.delivery_id))
    else:
        for did, _, _, ids in kept:
            for k in range(0, len(ids), _CLAIM_CHUNK):
                part = ids[k : k + _CLAIM_CHUNK]
                conn.execute(update(n).where(n.c.id.in_(part)).values(delivery_id=did))
    return [did for did, *_ in kept]


def delivery_html(conn: Connection, delivery_id: str) -> str | None:
    """The HTML alternative of a delivery's digest (None for digests made without one)."""
    d = tables.delivery_t
    return conn.execute(select(d.c.body_html).where(d.c.id == delivery_id)).scalar_one_or_none()


def start_sweep(conn: Connection, as_of: date, at: datetime) -> int:
    q = insert(tables.sweep_t).returning(tables.sweep_t.c.id)
    return int(conn.execute(q, [{"as_of": as_of, "started_at": at}]).scalar_one())


def finish_sweep(
    conn: Connection, sweep_id: int, notices: int, deliveries: int, at: datetime
) -> None:
    conn.execute(
        update(tables.sweep_t)
        .where(tables.sweep_t.c.id == sweep_id)
        .values(finished_at=at, notices=notices, deliveries=deliveries)
    )

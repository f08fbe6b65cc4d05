"""The daily sweep, store side: record the notices due (set-based) and the digests that carry them.

1. ``record_notices``: the fire rows (:func:`kttt_workflow.domain.escalation.fire_rows`, computed
   for the few distinct (policy, due date) pairs of :func:`due_pairs`) go into a temporary table;
   then one ``INSERT … SELECT … ON CONFLICT DO NOTHING`` per recipient role writes the ledger rows
   for every task at once. The unique key (task, step, recipient) makes a notice exist at most
   once, whatever the number of concurrent sweeps: there is no check-then-insert. A recipient that
   has ceased answers through its successor, down the whole chain
   (:func:`kttt_workflow.store.registry.current_units`).
2. ``pending_lines`` / ``claim_notices``: the notices not yet in a delivery become one digest per
   recipient unit; the service claims each unit's notices in its own short transaction (a
   concurrent sweep that claimed the same notices first wins; the other drops its copy).
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

from kttt_workflow.domain.digest import Digest, DigestLine
from kttt_workflow.domain.escalation import FireRow
from kttt_workflow.store import tables
from kttt_workflow.store.registry import current_units
from kttt_workflow.store.status import started

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


def open_tasks(as_of: date) -> ColumnElement[bool]:
    """Tasks a ladder applies to as of ``as_of``: started, active, not done, with a due date."""
    d = literal(as_of, type_=Date)
    return and_(
        t.c.state != "removed",
        t.c.policy_code.is_not(None),
        t.c.due_on.is_not(None),
        or_(t.c.completed_on.is_(None), t.c.completed_on > d),
        started(as_of),
        or_(
            t.c.activation == "immediate",
            and_(t.c.activated_on.is_not(None), t.c.activated_on <= d),
        ),
    )


def due_pairs(conn: Connection, as_of: date) -> list[tuple[str, date]]:
    """The distinct (policy, due date) pairs of open tasks: hundreds even for millions of tasks."""
    q = select(t.c.policy_code, t.c.due_on).where(open_tasks(as_of)).distinct()
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
        prefixes=["TEMPORARY"],
    )


def _insert_ignore(conn: Connection, sel: Select[Any], cols: list[str]) -> int:
    """INSERT … SELECT … ON CONFLICT DO NOTHING (SQLite and PostgreSQL); returns rows inserted."""
    if conn.dialect.name == "postgresql":
        ins = postgresql.insert(n).from_select(cols, sel).on_conflict_do_nothing()
        # psycopg reports no rowcount for INSERT … SELECT: count the RETURNING rows in SQL.
        inserted = ins.returning(literal(1)).cte("ins")
        return int(conn.execute(select(func.count()).select_from(inserted)).scalar_one())
    ins_sqlite = sqlite.insert(n).from_select(cols, sel).on_conflict_do_nothing()
    return conn.execute(ins_sqlite).rowcount or 0


# The recipient of each role: a column reached from the task row through these joins.
_Joins = tuple[tuple[Any, Any], ...]
_u, _u2, _d = tables.unit_t.alias("u"), tables.unit_t.alias("u2"), tables.directive_t
_ROLES: dict[str, tuple[ColumnElement[Any], _Joins]] = {
    "lead": (t.c.unit_code, ()),
    "lead_parent": (_u.c.parent_code, ((_u, _u.c.code == t.c.unit_code),)),
    "lead_grandparent": (
        _u2.c.parent_code,
        ((_u, _u.c.code == t.c.unit_code), (_u2, _u2.c.code == _u.c.parent_code)),
    ),
    "issuer": (_d.c.issuer_code, ((_d, _d.c.code == t.c.directive_code),)),
    "focal": (
        _d.c.focal_unit,
        ((_d, _d.c.code == t.c.directive_code), (_u, _u.c.code == _d.c.focal_unit)),
    ),
}


def _recipient(role: str, dialect: str) -> tuple[ColumnElement[Any], _Joins]:
    """The recipient column of ``role`` (one of ``ROLES``, or a unit named in the policy)."""
    if role == "coordinators":
        # The coordinating units are a JSON array on the task row: expand it in SQL.
        elements = func.json_array_elements_text if dialect == "postgresql" else func.json_each
        coord = elements(t.c.coordinating).table_valued("value").alias("c")
        return coord.c.value, ((coord, true()),)
    return _ROLES.get(role) or (literal(role, type_=String(64)), ())


def record_notices(
    conn: Connection, as_of: date, rows: Sequence[FireRow], sweep_id: int | None, at: datetime
) -> dict[str, int]:
    """Write the ledger rows of ``rows`` for every open task (inside the caller's transaction).

    Returns the number of new notices by recipient role.
    """
    if not rows:
        return {}
    fire, cur = _fire_table(), _current_table()
    fire.create(conn)
    conn.execute(insert(fire), [asdict(r) for r in rows])
    cur.create(conn)
    units = current_units(as_of).subquery("now_answering")
    conn.execute(
        insert(cur).from_select(
            ["code", "current"],
            select(units.c.code, units.c.current).where(units.c.code != units.c.current),
        )
    )
    if conn.dialect.name == "postgresql":
        # Without statistics the planner takes the temporary table for one row and nests loops
        # over the task index (measured: 15 s → 9 s for the largest statement at 1M tasks).
        conn.exec_driver_sql("ANALYZE kttt_fire")
        conn.exec_driver_sql("ANALYZE kttt_current")
    counts: dict[str, int] = {}
    fire_roles = [r.role for r in conn.execute(select(fire.c.role).distinct())]
    for ord_ in (0, 1):  # 'to' rows first: a unit that is both to and cc is a 'to'
        for role in fire_roles:
            recipient, joins = _recipient(role, conn.dialect.name)
            q = _notice_select(fire, cur, as_of, sweep_id, at, recipient, joins)
            q = q.where(fire.c.ord == ord_, fire.c.role == role)
            added = _insert_ignore(conn, q, list(NOTICE_COLUMNS))
            if added:
                counts[role] = counts.get(role, 0) + added
    cur.drop(conn)
    fire.drop(conn)
    return counts


def _notice_select(
    fire: Table,
    cur: Table,
    as_of: date,
    sweep_id: int | None,
    at: datetime,
    recipient: ColumnElement[Any],
    joins: tuple[tuple[Any, Any], ...],
) -> Select[Any]:
    """The ledger rows of one role: every open task joined with its fire rows and recipient."""
    frm: Any = t.join(
        fire, and_(fire.c.policy_code == t.c.policy_code, fire.c.due_on == t.c.due_on)
    )
    for target, on in joins:
        frm = frm.join(target, on)
    frm = frm.outerjoin(cur, cur.c.code == recipient)
    return (
        select(
            t.c.id,
            t.c.policy_code,
            fire.c.step_code,
            func.coalesce(cur.c.current, recipient),
            fire.c.is_cc,
            fire.c.severity,
            fire.c.fire_on,
            t.c.due_on,
            literal(sweep_id, type_=Integer),
            literal(at, type_=n.c.created_at.type),
        )
        .select_from(frm)
        .where(open_tasks(as_of), recipient.is_not(None))
        # In key order: SQLite fills the ledger's unique index sequentially (30 s → 19 s at 1M).
        .order_by(t.c.id)
    )


def pending_lines(
    conn: Connection, recipient: str | None = None
) -> dict[str, list[tuple[int, DigestLine]]]:
    """The notices not yet in a delivery, as digest lines, by recipient unit."""
    d, lead = tables.directive_t, tables.unit_t.alias("lead")
    q = (
        select(
            n.c.id,
            n.c.recipient,
            n.c.is_cc,
            n.c.severity,
            n.c.due_on,
            t.c.id.label("task_id"),
            t.c.title,
            t.c.deadline_text,
            t.c.directive_code,
            d.c.symbol,
            d.c.title.label("dtitle"),
            lead.c.name.label("lead_name"),
            t.c.unit_code,
        )
        .select_from(
            n.join(t, t.c.id == n.c.task_id)
            .join(d, d.c.code == t.c.directive_code)
            .join(lead, lead.c.code == t.c.unit_code, isouter=True)
        )
        .where(n.c.delivery_id.is_(None))
        .order_by(n.c.recipient, n.c.id)
    )
    if recipient:
        q = q.where(n.c.recipient == recipient)
    out: dict[str, list[tuple[int, DigestLine]]] = {}
    for r in conn.execute(q):
        line = DigestLine(
            r.directive_code,
            r.symbol or r.dtitle,
            r.task_id,
            r.title,
            r.deadline_text,
            r.due_on,
            r.lead_name or r.unit_code,
            r.severity,
            bool(r.is_cc),
        )
        out.setdefault(r.recipient, []).append((r.id, line))
    return out


def claim_notices(
    conn: Connection,
    delivery_id: str,
    recipient: str,
    sweep_id: int | None,
    as_of: date,
    digest: Digest,
    notice_ids: list[int],
    at: datetime,
) -> bool:
    """Write one digest and tie its notices to it. False when a concurrent sweep took some of
    them first: the caller then rolls back (the notices left, if any, go with the next sweep)."""
    row = {
        "id": delivery_id,
        "recipient": recipient,
        "sweep_id": sweep_id,
        "as_of": as_of,
        "subject": digest.subject,
        "body_text": digest.text,
        "body_markdown": digest.markdown,
        "notices": len(notice_ids),
        "status": "pending",
        "attempts": 0,
        "created_at": at,
    }
    conn.execute(insert(tables.delivery_t), [row])
    claimed = 0
    for chunk in range(0, len(notice_ids), _CLAIM_CHUNK):
        part = notice_ids[chunk : chunk + _CLAIM_CHUNK]
        q = (
            update(n)
            .where(n.c.id.in_(part), n.c.delivery_id.is_(None))
            .values(delivery_id=delivery_id)
        )
        claimed += conn.execute(q).rowcount or 0
    return claimed == len(notice_ids)


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

"""The unit registry and the escalation policies in the store: read, upsert, and who answers now.

Every function runs inside the caller's connection (the service owns the transaction).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from itertools import groupby
from operator import itemgetter
from typing import Any

from sqlalchemy import (
    Date,
    Integer,
    String,
    Text,
    and_,
    case,
    cast,
    delete,
    func,
    insert,
    literal,
    select,
    text,
    type_coerce,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.sql import Select

from kttt_workflow.domain.directive import EscalationPolicy, PolicyFile, RegistryFile
from kttt_workflow.domain.escalation import Step
from kttt_workflow.domain.registry import ContactInfo, GroupInfo, Registry, UnitInfo
from kttt_workflow.store import tables

unit_t, group_t, member_t, level_t, policy_t = (
    tables.unit_t,
    tables.group_t,
    tables.member_t,
    tables.level_t,
    tables.policy_t,
)
# Longer successor chains than this are certainly a mistake (validation refuses cycles).
MAX_SUCCESSION = 32


@dataclass
class RegistrySummary:
    """What one load did to the registry."""

    units_added: int = 0
    units_changed: int = 0
    groups_added: int = 0
    groups_changed: int = 0
    policies_changed: int = 0  # escalation ladders added or changed
    # Units an amendment gave a (new) successor: (unit, successor, its last day).
    successions: list[tuple[str, str, date | None]] = field(default_factory=list)
    tasks_inherited: int = 0  # open tasks that pass to those successors (history rows written)
    levels_added: int = 0

    @property
    def registry_changed(self) -> bool:
        return bool(
            self.units_added or self.units_changed or self.groups_added or self.groups_changed
            or self.levels_added
        )  # fmt: skip


def read_registry(conn: Connection) -> Registry:
    """The registry as stored (units, groups with members, levels).

    The values are read as the driver gives them (the JSON columns as their text, the dates
    without SQLAlchemy's per-value parsing) and decoded only when they hold something (most
    units have no alias, no target, no date). Through SQLAlchemy's result types (a
    JSON decode for three columns of every unit) reading the 100,001 units of the load bench cost
    1.1 s of a 4.5 s load (bench/README.md).
    """
    reg = Registry()
    levels = select(level_t.c.code, level_t.c.name).order_by(level_t.c.position)
    reg.levels.update(conn.execute(levels).tuples().all())
    u = unit_t.c
    # In UnitInfo's field order.
    # fmt: off
    q = select(
        u.code, u.name, u.level, u.parent_code, cast(u.aliases, Text), cast(u.targets, Text),
        type_coerce(u.valid_from, String), type_coerce(u.valid_to, String), u.successor_code,
        u.note, cast(u.contact, Text),
    )
    # fmt: on
    units, new, empty = reg.units, object.__new__, ()
    for row in conn.execute(q).tuples().all():
        code, name, level, parent, aliases, targets, vfrom, vto, successor, note, contact = row
        # UnitInfo is frozen: its generated __init__ sets every field through
        # object.__setattr__, which cost twice the rest of this loop. The same fields are set
        # here directly, all of them (_UNIT_FIELDS), in their order.
        info = new(UnitInfo)
        f = info.__dict__
        f["code"], f["name"], f["level"], f["parent"] = code, name, level, parent
        f["aliases"] = empty if aliases == "[]" else _json_tuple(aliases)
        f["targets"] = empty if targets == "[]" else _json_tuple(targets)
        f["valid_from"] = vfrom if vfrom is None else _date(vfrom)
        f["valid_to"] = vto if vto is None else _date(vto)
        f["successor"], f["note"] = successor, note
        f["contact"] = None if contact is None else _contact(contact)
        units[code] = info
    m = member_t.c
    members = conn.execute(select(m.group_code, m.position, m.member_code)).tuples().all()
    members = sorted(members, key=itemgetter(0, 1))  # by group, then position
    listed = {g: tuple(map(itemgetter(2), ms)) for g, ms in groupby(members, itemgetter(0))}
    g = group_t.c
    for code, name, aliases, note in conn.execute(
        select(g.code, g.name, cast(g.aliases, Text), g.note)
    ).tuples():
        reg.groups[code] = GroupInfo(code, name, listed.get(code, ()), _json_tuple(aliases), note)
    return reg


def _json_tuple(text_value: str | None) -> tuple[Any, ...]:
    """A JSON list column read as text (``[]`` and NULL: the empty tuple)."""
    return () if not text_value or text_value == "[]" else tuple(json.loads(text_value))


def _date(v: date | str | None) -> date | None:
    """A date column as the driver returns it: a date (psycopg) or its ISO text (SQLite)."""
    return v if v is None or isinstance(v, date) else date.fromisoformat(v)


def _contact(text_value: str) -> ContactInfo | None:
    return ContactInfo(**json.loads(text_value)) if text_value != "null" else None


_UNIT_FIELDS = tuple(f.name for f in fields(UnitInfo))
assert _UNIT_FIELDS == (
    "code", "name", "level", "parent", "aliases", "targets", "valid_from", "valid_to",
    "successor", "note", "contact",
), _UNIT_FIELDS  # fmt: skip


def read_implements(conn: Connection) -> dict[str, tuple[str, ...]]:
    """For each stored directive (not removed), the stored directives it implements (by code)."""
    d = tables.directive_t
    out: dict[str, tuple[str, ...]] = {}
    for row in conn.execute(select(d.c.code, d.c.implements).where(d.c.removed_on.is_(None))):
        out[row.code] = tuple(r["directive"] for r in row.implements or () if r.get("directive"))
    return out


def read_policy_codes(conn: Connection) -> set[str]:
    return {r.code for r in conn.execute(select(policy_t.c.code))}


def read_policies(conn: Connection) -> dict[str, list[Step]]:
    """Every stored ladder, by policy code."""
    return {r.code: [Step.from_dict(s) for s in r.steps] for r in conn.execute(select(policy_t))}


def codes(conn: Connection, kind: str) -> set[str]:
    """Every stored code of a ``unit`` or a ``directive``."""
    table = unit_t if kind == "unit" else tables.directive_t
    return {r.code for r in conn.execute(select(table.c.code))}


def unit_names(conn: Connection, codes: Iterable[str]) -> dict[str, str]:
    codes = list(codes)
    if not codes:
        return {}
    q = select(unit_t.c.code, unit_t.c.name).where(unit_t.c.code.in_(codes))
    return {r.code: r.name for r in conn.execute(q)}


def lock(conn: Connection) -> None:
    """Serialise the writers of the registry for the rest of the transaction.

    On PostgreSQL a transaction-level advisory lock; on SQLite the transaction already holds the
    database's write lock (``BEGIN IMMEDIATE``). A second load waits, then checks its files
    against what the first one stored.
    """
    if conn.dialect.name == "postgresql":
        # One lock per store: a key from the schema's name, so that stores in other schemas of
        # the same database do not wait for each other.
        conn.execute(
            text("SELECT pg_advisory_xact_lock(hashtext('kttt-registry:' || current_schema()))")
        )


# -- upserts ---------------------------------------------------------------------------------
def _unit_row(u: Any) -> dict[str, Any]:
    return {
        "code": u.code,
        "name": u.name,
        "aliases": list(u.aliases),
        "level": u.level,
        "parent_code": u.parent,
        "targets": list(u.targets),
        "valid_from": u.valid_from,
        "valid_to": u.valid_to,
        "successor_code": u.successor,
        "note": u.note,
        "contact": u.contact.info().as_json() if u.contact else None,
    }


def _upsert(
    conn: Connection,
    table: Any,
    existing: Mapping[str, Mapping[str, Any]],
    rows: list[dict[str, Any]],
) -> tuple[int, int]:
    """Insert new rows, update changed ones (by ``code``); unchanged rows are not touched."""
    new = [r for r in rows if r["code"] not in existing]
    changed = [
        r
        for r in rows
        if r["code"] in existing and any(existing[r["code"]][k] != v for k, v in r.items())
    ]
    if new:
        conn.execute(insert(table), new)
    for row in changed:
        conn.execute(update(table).where(table.c.code == row["code"]).values(**row))
    return len(new), len(changed)


def save_registry(conn: Connection, files: list[RegistryFile]) -> RegistrySummary:
    """Upsert the levels, units and groups declared in ``files``."""
    summary = RegistrySummary()
    summary.levels_added = _save_levels(conn, files)
    existing_units = {r.code: dict(r._mapping) for r in conn.execute(select(unit_t))}
    rows = [_unit_row(u) for rf in files for u in rf.units]
    summary.successions = [
        (r["code"], r["successor_code"], r["valid_to"])
        for r in rows
        if r["successor_code"]
        and r["code"] in existing_units
        and existing_units[r["code"]]["successor_code"] != r["successor_code"]
    ]
    summary.units_added, summary.units_changed = _upsert(conn, unit_t, existing_units, rows)
    existing_groups = {r.code: dict(r._mapping) for r in conn.execute(select(group_t))}
    groups = [g for rf in files for g in rf.groups]
    rows = [
        {"code": g.code, "name": g.name, "aliases": list(g.aliases), "note": g.note} for g in groups
    ]
    summary.groups_added, changed = _upsert(conn, group_t, existing_groups, rows)
    replaced = _save_members(conn, groups)
    summary.groups_changed = changed + len([c for c in replaced if c in existing_groups])
    return summary


def _save_levels(conn: Connection, files: list[RegistryFile]) -> int:
    existing = {r.code for r in conn.execute(select(level_t.c.code))}
    pos = len(existing)
    new = []
    for lv in (lv for rf in files for lv in rf.levels):
        if lv.code not in existing:
            existing.add(lv.code)
            new.append({"code": lv.code, "name": lv.name, "position": pos})
            pos += 1
    if new:
        conn.execute(insert(level_t), new)
    return len(new)


def _save_members(conn: Connection, groups: list[Any]) -> list[str]:
    """Replace the member lists that changed; returns the codes of those groups."""
    existing: dict[str, list[str]] = {}
    for r in conn.execute(select(member_t).order_by(member_t.c.group_code, member_t.c.position)):
        existing.setdefault(r.group_code, []).append(r.member_code)
    replaced = [g for g in groups if existing.get(g.code) != list(g.members)]
    if replaced:
        conn.execute(delete(member_t).where(member_t.c.group_code.in_([g.code for g in replaced])))
        conn.execute(
            insert(member_t),
            [
                {"group_code": g.code, "member_code": m, "position": i}
                for g in replaced
                for i, m in enumerate(g.members)
            ],
        )
    return [g.code for g in replaced]


def save_policies(
    conn: Connection, policies: Mapping[str, PolicyFile | EscalationPolicy], at: datetime
) -> int:
    """Upsert the policies that are new or changed (unchanged rows are not touched); how many."""
    existing = {r.code: (r.name, r.steps) for r in conn.execute(select(policy_t))}
    written = 0
    for code, p in policies.items():
        steps = [st.model_dump(mode="json") for st in p.steps]
        if existing.get(code) == (p.name, steps):
            continue
        written += 1
        values = {"name": p.name, "steps": steps, "updated_at": at}
        if code in existing:
            conn.execute(update(policy_t).where(policy_t.c.code == code).values(**values))
        else:
            conn.execute(insert(policy_t), [{"code": code, **values}])
    return written


# -- who answers now --------------------------------------------------------------------------
def current_units(as_of: date) -> Select[Any]:
    """``(code, current)`` for every unit: the unit that answers for it on ``as_of``.

    The SQL mirror of :meth:`kttt_workflow.domain.registry.Registry.current`: a unit that has
    ceased (``valid_to`` before ``as_of``) and names a successor answers through it, down the
    whole chain (Sở KH&ĐT Bắc Giang → Sở Tài chính Bắc Giang → Sở Tài chính Bắc Ninh). One
    recursive query over the unit table, whatever the number of tasks.
    """
    u = unit_t.alias("succ_u")
    day = literal(as_of, type_=Date)
    base = select(
        unit_t.c.code.label("origin"),
        unit_t.c.code.label("code"),
        literal(0, type_=Integer).label("depth"),
    ).cte("succession", recursive=True)
    step = (
        select(base.c.origin, u.c.successor_code, base.c.depth + 1)
        .select_from(base.join(u, u.c.code == base.c.code))
        .where(
            u.c.valid_to.is_not(None),
            u.c.valid_to < day,
            u.c.successor_code.is_not(None),
            base.c.depth < MAX_SUCCESSION,
        )
    )
    chain = base.union_all(step)
    last = (
        select(chain.c.origin, func.max(chain.c.depth).label("depth"))
        .group_by(chain.c.origin)
        .subquery("succession_end")
    )
    return select(chain.c.origin.label("code"), chain.c.code.label("current")).select_from(
        chain.join(last, and_(last.c.origin == chain.c.origin, last.c.depth == chain.c.depth))
    )


def answering(as_of: date) -> Any:
    """``(code, current, ceased)`` for every unit, as a subquery to join: the unit that answers
    for it on ``as_of`` (:func:`current_units`) and whether that unit has ceased too (1: it
    ceased with no successor, so nobody answers; 0 otherwise)."""
    cur = current_units(as_of).subquery("succession_now")
    end = unit_t.alias("succession_last")
    day = literal(as_of, type_=Date)
    ceased = case((and_(end.c.valid_to.is_not(None), end.c.valid_to < day), 1), else_=0)
    return (
        select(cur.c.code, cur.c.current, ceased.label("ceased"))
        .select_from(cur.join(end, end.c.code == cur.c.current))
        .subquery("answering")
    )

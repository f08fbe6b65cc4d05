"""Loading validated inputs into the store: one transaction, set-based, idempotent, diffed.

Tasks are fanned out in memory, bulk-inserted into a temporary staging table, and merged into
``task`` with a handful of ``INSERT … SELECT`` / ``UPDATE … FROM`` statements: the number of SQL
statements does not grow with the number of tasks. Loading the same file again finds no
difference and writes nothing; an amended file's differences are applied and recorded in
``task_event`` and ``load_record``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import (
    Column,
    Engine,
    MetaData,
    String,
    Table,
    and_,
    case,
    delete,
    exists,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.engine import Connection

from kttt_workflow.domain.calendar import WorkingCalendar, default_calendar
from kttt_workflow.domain.fanout import (
    DEFAULT_POLICY,
    TaskInstance,
    fan_out,
    inline_policies,
    local_groups,
)
from kttt_workflow.domain.registry import GroupInfo, Registry, UnitInfo
from kttt_workflow.spec.models import DirectiveFile, EscalationPolicy, PolicyFile, RegistryFile
from kttt_workflow.spec.validate import Bundle, load_inputs
from kttt_workflow.store import tables as T

task_t = T.task_t
event_t = T.event_t

# Columns the directive file determines (the rest is progress: state, completion, activation).
SPEC_COLUMNS = (
    "directive_code",
    "task_key",
    "parent_key",
    "parent_task_id",
    "unit_code",
    "period",
    "starts_on",
    "title",
    "deliverable",
    "coordinating",
    "coordinating_other",
    "issuing_authority",
    "deadline_text",
    "deadline_kind",
    "nominal_due_on",
    "due_on",
    "key_task",
    "policy_code",
    "activation",
    "fingerprint",
)
DIFF_FIELDS = (
    "title",
    "deliverable",
    "coordinating",
    "coordinating_other",
    "issuing_authority",
    "deadline_text",
    "due_on",
    "key_task",
    "activation",
    "parent_task_id",
    "policy_code",
)


def now() -> datetime:
    return datetime.now(UTC)


@dataclass
class LoadSummary:
    """What one load did to one directive."""

    directive: str
    source: str
    added: int = 0
    changed: int = 0
    removed: int = 0
    restored: int = 0
    unchanged: int = 0
    total: int = 0
    load_id: int | None = None
    changes: list[dict[str, Any]] = field(default_factory=list)

    @property
    def changed_anything(self) -> bool:
        return bool(self.added or self.changed or self.removed or self.restored)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class RegistrySummary:
    units_added: int = 0
    units_changed: int = 0
    groups_added: int = 0
    groups_changed: int = 0


# ------------------------------------------------------------------------------------------------
# Registry
# ------------------------------------------------------------------------------------------------
def read_registry(conn: Connection) -> Registry:
    """The registry as stored (units, groups with members, levels)."""
    reg = Registry()
    for row in conn.execute(select(T.level_t).order_by(T.level_t.c.position)):
        reg.levels[row.code] = row.name
    for row in conn.execute(select(T.unit_t)):
        reg.units[row.code] = UnitInfo(
            row.code,
            row.name,
            row.level,
            row.parent_code,
            tuple(row.aliases or ()),
            tuple(row.targets or ()),
            row.valid_from,
            row.valid_to,
            row.successor_code,
            row.note,
        )
    members: dict[str, list[tuple[int, str]]] = {}
    gm = T.member_t
    for row in conn.execute(select(gm)):
        members.setdefault(row.group_code, []).append((row.position, row.member_code))
    for row in conn.execute(select(T.group_t)):
        ms = tuple(m for _, m in sorted(members.get(row.code, [])))
        reg.groups[row.code] = GroupInfo(row.code, row.name, ms, tuple(row.aliases or ()), row.note)
    return reg


def read_implements(conn: Connection) -> dict[str, tuple[str, ...]]:
    d = T.directive_t
    out: dict[str, tuple[str, ...]] = {}
    for row in conn.execute(select(d.c.code, d.c.implements)):
        out[row.code] = tuple(r["directive"] for r in row.implements or () if r.get("directive"))
    return out


def _save_registry(conn: Connection, files: list[RegistryFile], summary: RegistrySummary) -> None:
    """Upsert units, groups and levels declared in ``files``; rows that did not change stay as they are."""
    unit_t, group_t, member_t, level_t = (
        T.unit_t,
        T.group_t,
        T.member_t,
        T.level_t,
    )
    existing_levels = {r.code: (r.name, r.position) for r in conn.execute(select(level_t))}
    existing_units = {r.code: dict(r._mapping) for r in conn.execute(select(unit_t))}
    existing_groups = {r.code: dict(r._mapping) for r in conn.execute(select(group_t))}
    existing_members: dict[str, list[str]] = {}
    for r in conn.execute(select(member_t).order_by(member_t.c.group_code, member_t.c.position)):
        existing_members.setdefault(r.group_code, []).append(r.member_code)

    pos = len(existing_levels)
    new_levels, new_units, upd_units, new_groups, upd_groups = [], [], [], [], []
    member_rows: list[dict[str, Any]] = []
    replace_members: list[str] = []
    for rf in files:
        for lv in rf.levels:
            if lv.code not in existing_levels:
                existing_levels[lv.code] = (lv.name, pos)
                new_levels.append({"code": lv.code, "name": lv.name, "position": pos})
                pos += 1
        for u in rf.units:
            row = {
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
            }
            old = existing_units.get(u.code)
            if old is None:
                new_units.append(row)
            elif any(old[k] != v for k, v in row.items()):
                upd_units.append(row)
        for g in rf.groups:
            row = {"code": g.code, "name": g.name, "aliases": list(g.aliases), "note": g.note}
            old = existing_groups.get(g.code)
            if old is None:
                new_groups.append(row)
            elif any(old[k] != v for k, v in row.items()):
                upd_groups.append(row)
            if existing_members.get(g.code) != list(g.members):
                replace_members.append(g.code)
                member_rows.extend(
                    {"group_code": g.code, "member_code": m, "position": i}
                    for i, m in enumerate(g.members)
                )
    if new_levels:
        conn.execute(insert(level_t), new_levels)
    if new_units:
        conn.execute(insert(unit_t), new_units)
    for row in upd_units:
        conn.execute(update(unit_t).where(unit_t.c.code == row["code"]).values(**row))
    if new_groups:
        conn.execute(insert(group_t), new_groups)
    for row in upd_groups:
        conn.execute(update(group_t).where(group_t.c.code == row["code"]).values(**row))
    if replace_members:
        conn.execute(delete(member_t).where(member_t.c.group_code.in_(replace_members)))
        conn.execute(insert(member_t), member_rows)
    summary.units_added += len(new_units)
    summary.units_changed += len(upd_units)
    summary.groups_added += len(new_groups)
    summary.groups_changed += len(upd_groups) + len(
        [c for c in replace_members if c in existing_groups]
    )


# ------------------------------------------------------------------------------------------------
# Directives
# ------------------------------------------------------------------------------------------------
def _rows(instances: Iterable[TaskInstance]) -> list[dict[str, Any]]:
    return [
        {
            "id": t.id,
            "directive_code": t.directive,
            "task_key": t.task_key,
            "parent_key": t.parent_key,
            "parent_task_id": t.parent_task_id,
            "unit_code": t.unit,
            "period": t.period,
            "starts_on": t.starts_on,
            "title": t.title,
            "deliverable": t.deliverable,
            "coordinating": list(t.coordinating),
            "coordinating_other": t.coordinating_other,
            "issuing_authority": t.issuing_authority,
            "deadline_text": t.deadline_text,
            "deadline_kind": t.deadline_kind,
            "nominal_due_on": t.nominal_due,
            "due_on": t.due,
            "key_task": t.key_task,
            "policy_code": t.policy_code,
            "activation": t.activation,
            "activated_on": t.activated_on,
            "fingerprint": t.fingerprint(),
        }
        for t in instances
    ]


def _stage_table() -> Table:
    cols = [Column("id", String(255), primary_key=True)]
    for c in task_t.columns:
        if c.name in (*SPEC_COLUMNS, "activated_on"):
            cols.append(Column(c.name, c.type))
    return Table("kttt_stage_task", MetaData(), *cols, prefixes=["TEMPORARY"])


def _directive_row(
    d: DirectiveFile, registry: Registry, source: str, sha: str, at: datetime
) -> dict[str, Any]:
    focal = registry.resolve(d.focal_unit, local_groups(d)) if d.focal_unit else None
    issuer = registry.resolve(d.document.issuer)
    issuer_code = issuer if issuer in registry.units else None
    return {
        "code": d.code,
        "doc_type": d.document.type.value,
        "symbol": d.document.symbol,
        "issued_on": d.document.date,
        "issuer": d.document.issuer,
        "title": d.document.title,
        "implements": [r.model_dump(mode="json", exclude_none=True) for r in d.implements],
        "focal_unit": focal,
        "issuer_code": issuer_code,
        "roll_to_working_day": d.roll_to_working_day,
        "source_path": source,
        "content_sha256": sha,
        "spec": d.model_dump(mode="json", exclude_none=True),
        "loaded_at": at,
        "updated_at": at,
    }


def save_directive(
    conn: Connection,
    d: DirectiveFile,
    registry: Registry,
    source: str,
    sha: str,
    *,
    until: date,
    calendar: WorkingCalendar,
) -> LoadSummary:
    """Merge one directive's fan-out into the store (inside the caller's transaction)."""
    at = now()
    summary = LoadSummary(d.code, source)
    rows = _rows(fan_out(d, registry, calendar, until))
    summary.total = len(rows)
    stage = _stage_table()
    stage.create(conn)
    if rows:
        conn.execute(insert(stage), rows)
    _merge(conn, d, registry, stage, summary, at, source, sha)
    # Dropped on success only: after a failed statement PostgreSQL refuses every further command
    # in the transaction, and the rollback removes the temporary table anyway.
    stage.drop(conn)
    return summary


def _merge(
    conn: Connection,
    d: DirectiveFile,
    registry: Registry,
    stage: Table,
    s: LoadSummary,
    at: datetime,
    source: str,
    sha: str,
) -> None:
    t = task_t
    dir_t = T.directive_t
    in_task = exists().where(t.c.id == stage.c.id)
    in_stage = exists().where(stage.c.id == t.c.id)
    mine = t.c.directive_code == d.code
    s.added = conn.execute(select(func.count()).select_from(stage).where(~in_task)).scalar_one()
    changed_q = (
        select(
            stage, *(t.c[f].label(f"old_{f}") for f in DIFF_FIELDS), t.c.state.label("old_state")
        )
        .join(t, t.c.id == stage.c.id)
        .where(t.c.fingerprint != stage.c.fingerprint)
    )
    changed_rows = conn.execute(changed_q).mappings().all()
    s.changed = len(changed_rows)
    s.removed = conn.execute(
        select(func.count()).select_from(t).where(mine, t.c.state != "removed", ~in_stage)
    ).scalar_one()
    s.restored = conn.execute(
        select(func.count())
        .select_from(t)
        .join(stage, stage.c.id == t.c.id)
        .where(t.c.state == "removed")
    ).scalar_one()
    s.unchanged = s.total - s.added - s.changed - s.restored
    row = _directive_row(d, registry, source, sha, at)
    old = conn.execute(select(dir_t).where(dir_t.c.code == d.code)).mappings().first()
    header_changed = old is None or old["spec"] != row["spec"]
    if not (s.changed_anything or header_changed):
        return  # the same file again: nothing to write, nothing written
    if old is None:
        conn.execute(insert(dir_t), [row])
    else:
        row.pop("loaded_at")
        conn.execute(update(dir_t).where(dir_t.c.code == d.code).values(**row))
    s.load_id = conn.execute(
        insert(T.load_t).returning(T.load_t.c.id),
        [
            {
                "directive_code": d.code,
                "source_path": source,
                "content_sha256": sha,
                "at": at,
                "summary": {},
            }
        ],
    ).scalar_one()
    ev_cols = ["task_id", "at", "event", "load_id", "detail"]
    load_id = literal(s.load_id)
    empty = literal({}, type_=event_t.c.detail.type)
    # created
    conn.execute(
        insert(event_t).from_select(
            ev_cols,
            select(
                stage.c.id, literal(at, type_=event_t.c.at.type), literal("created"), load_id, empty
            ).where(~in_task),
        )
    )
    cols = ["id", *SPEC_COLUMNS, "activated_on", "state", "created_at", "updated_at"]
    conn.execute(
        insert(t).from_select(
            cols,
            select(
                stage.c.id,
                *(stage.c[c] for c in SPEC_COLUMNS),
                stage.c.activated_on,
                literal("open"),
                literal(at, type_=t.c.created_at.type),
                literal(at, type_=t.c.updated_at.type),
            ).where(~in_task),
        )
    )
    # changed: record field-by-field differences (few rows), then one UPDATE … FROM
    if changed_rows:
        events = []
        for r in changed_rows:
            diff = {
                f: {"old": _jsonable(r[f"old_{f}"]), "new": _jsonable(r[f])}
                for f in DIFF_FIELDS
                if r[f"old_{f}"] != r[f]
            }
            events.append(
                {
                    "task_id": r["id"],
                    "at": at,
                    "event": "changed",
                    "load_id": s.load_id,
                    "detail": diff,
                }
            )
            if len(s.changes) < 50:
                s.changes.append({"task_id": r["id"], **diff})
        conn.execute(insert(event_t), events)
        conn.execute(
            update(t)
            .where(t.c.id == stage.c.id, t.c.fingerprint != stage.c.fingerprint)
            .values({**{c: stage.c[c] for c in SPEC_COLUMNS}, "updated_at": at})
        )
    # removed (soft: the row and its history stay) and restored
    conn.execute(
        insert(event_t).from_select(
            ev_cols,
            select(
                t.c.id, literal(at, type_=event_t.c.at.type), literal("removed"), load_id, empty
            ).where(mine, t.c.state != "removed", ~in_stage),
        )
    )
    conn.execute(
        update(t)
        .where(mine, t.c.state != "removed", ~in_stage)
        .values(state="removed", updated_at=at)
    )
    restored = and_(t.c.state == "removed", in_stage)
    conn.execute(
        insert(event_t).from_select(
            ev_cols,
            select(
                t.c.id, literal(at, type_=event_t.c.at.type), literal("restored"), load_id, empty
            ).where(restored),
        )
    )
    conn.execute(
        update(t)
        .where(restored)
        .values(state=case((t.c.completed_on.is_not(None), "done"), else_="open"), updated_at=at)
    )
    activate_ready(conn, d.code, at)
    conn.execute(
        update(T.load_t)
        .where(T.load_t.c.id == s.load_id)
        .values(summary={k: v for k, v in s.as_dict().items() if k not in ("changes",)})
    )


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
        n += conn.execute(update(t).where(cond).values(activated_on=when, updated_at=at)).rowcount
    return n


def _jsonable(v: Any) -> Any:
    if isinstance(v, date):
        return v.isoformat()
    return v


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def load_bundle(
    engine: Engine,
    bundle: Bundle,
    *,
    until: date | None = None,
    calendar: WorkingCalendar | None = None,
) -> tuple[RegistrySummary, list[LoadSummary]]:
    """Write a validated bundle in ONE transaction; any failure leaves the store unchanged."""
    cal = calendar or default_calendar()
    horizon = until or date(date.today().year, 12, 31)
    reg_summary = RegistrySummary()
    out: list[LoadSummary] = []
    policies: dict[str, PolicyFile | EscalationPolicy] = {DEFAULT_POLICY: default_policy()}
    policies.update({pf.code: pf for _, pf in bundle.policies})
    for _, d in bundle.directives:
        policies.update(inline_policies(d))
    with engine.begin() as conn:
        if bundle.registry_files:
            _save_registry(conn, [rf for _, rf in bundle.registry_files], reg_summary)
        _save_policies(conn, policies)
        for doc, d in bundle.directives:
            out.append(
                save_directive(
                    conn,
                    d,
                    bundle.registry,
                    doc.file,
                    sha256(bundle.sources.get(doc.file, b"")),
                    until=horizon,
                    calendar=cal,
                )
            )
    return reg_summary, out


def default_policy() -> PolicyFile:
    """The shipped ladder (``kttt_workflow/data/default_policy.yaml``)."""
    path = Path(__file__).resolve().parent.parent / "data" / "default_policy.yaml"
    return PolicyFile.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))


def _save_policies(conn: Connection, policies: Mapping[str, PolicyFile | EscalationPolicy]) -> None:
    """Upsert the policies that are new or changed (unchanged rows are not touched)."""
    existing = {r.code: (r.name, r.steps) for r in conn.execute(select(T.policy_t))}
    for code, p in policies.items():
        steps = [st.model_dump(mode="json") for st in p.steps]
        row = (p.name, steps)
        if existing.get(code) == row:
            continue
        values = {"name": p.name, "steps": steps, "updated_at": now()}
        if code in existing:
            conn.execute(update(T.policy_t).where(T.policy_t.c.code == code).values(**values))
        else:
            conn.execute(insert(T.policy_t), [{"code": code, **values}])


def read_policy_codes(conn: Connection) -> set[str]:
    return {r.code for r in conn.execute(select(T.policy_t.c.code))}


def load_paths(
    engine: Engine,
    paths: Iterable[str | Path],
    *,
    until: date | None = None,
    calendar: WorkingCalendar | None = None,
) -> tuple[RegistrySummary, list[LoadSummary]]:
    """Validate then load files (registries and directives). Raises InputError and writes nothing
    when anything is wrong."""
    with engine.connect() as conn:
        base = read_registry(conn)
        known = read_implements(conn)
        policies = read_policy_codes(conn)
    bundle = load_inputs(paths, base, known, policies)
    return load_bundle(engine, bundle, until=until, calendar=calendar)


def validate_paths(engine: Engine | None, paths: Iterable[str | Path]) -> Bundle:
    """Validate files against the store's registry (if any); raises InputError."""
    base, known, policies = Registry(), {}, set()
    if engine is not None:
        with engine.connect() as conn:
            base = read_registry(conn)
            known = read_implements(conn)
            policies = read_policy_codes(conn)
    return load_inputs(paths, base, known, policies)

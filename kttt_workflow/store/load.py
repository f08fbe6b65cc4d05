"""Merging a directive's fan-out into the store: set-based, idempotent, diffed.

The task instances (computed by :func:`kttt_workflow.domain.fanout.fan_out`) are bulk-inserted
into a temporary staging table and merged into ``task`` with a handful of ``INSERT … SELECT`` /
``UPDATE … FROM`` statements: the number of SQL statements does not grow with the number of tasks.
Loading the same file again finds no difference and writes nothing; an amended file's
differences are applied and recorded in ``task_event`` and ``load_record``. Everything runs in the
caller's transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from operator import attrgetter, itemgetter
from typing import Any, cast

from sqlalchemy import (
    Column,
    MetaData,
    String,
    Table,
    and_,
    case,
    exists,
    func,
    insert,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from kttt_workflow.domain.directive import DirectiveFile
from kttt_workflow.domain.fanout import TaskInstance
from kttt_workflow.store import db, next_step, tables

task_t = tables.task_t
event_t = tables.event_t
directive_t = tables.directive_t
EVENT_COLUMNS = ["task_id", "at", "event", "load_id", "detail"]

# What the directive file says about a task, and how each column is filled from a TaskInstance
# (the rest of a task row is progress: state, completion, activation).
_FROM_INSTANCE: dict[str, str] = {
    "directive_code": "directive",
    "task_key": "task_key",
    "parent_key": "parent_key",
    "parent_task_id": "parent_task_id",
    "unit_code": "unit",
    "period": "period",
    "starts_on": "starts_on",
    "title": "title",
    "deliverable": "deliverable",
    "coordinating": "coordinating",
    "coordinating_other": "coordinating_other",
    "issuing_authority": "issuing_authority",
    "deadline_text": "deadline_text",
    "deadline_kind": "deadline_kind",
    "nominal_due_on": "nominal_due",
    "due_on": "due",
    "key_task": "key_task",
    "policy_code": "policy_code",
    "activation": "activation",
    "targets": "targets",
}
SPEC_COLUMNS = (*_FROM_INSTANCE, "fingerprint")
# The columns a "changed" event reports, field by field (identity and derived columns are not).
_NOT_DIFFED = {"directive_code", "task_key", "parent_key", "unit_code", "period", "starts_on",
               "deadline_kind", "nominal_due_on", "fingerprint"}  # fmt: skip
DIFF_FIELDS = tuple(c for c in SPEC_COLUMNS if c not in _NOT_DIFFED)
MAX_CHANGES_SHOWN = 50


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
    removed_ids: list[str] = field(default_factory=list)  # the first MAX_CHANGES_SHOWN
    header_changed: bool = False  # the document's own fields (title, notes, implements…)
    replaced: str | None = None  # the document this file replaced under the same code

    @property
    def changed_anything(self) -> bool:
        """Whether the load wrote anything for this directive (tasks, or the header alone)."""
        return bool(
            self.added or self.changed or self.removed or self.restored or self.header_changed
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class DirectiveSource:
    """A validated directive, where it was read from, and the header fields the registry resolves."""

    directive: DirectiveFile
    source: str
    sha256: str
    focal_unit: str | None
    issuer_code: str | None


_COLUMNS = ("id", *_FROM_INSTANCE, "activated_on")
_VALUES = attrgetter("id", *_FROM_INSTANCE.values(), "activated_on")  # one C call per instance


def task_rows(instances: Iterable[TaskInstance]) -> list[dict[str, Any]]:
    """Rows of the ``task`` table (its file-given columns) for task instances."""
    out = []
    for t in instances:
        row = dict(zip(_COLUMNS, _VALUES(t), strict=True))
        row["coordinating"] = list(t.coordinating)
        row["targets"] = [
            {"indicator": i, "measure": m, "value": v, "whole": w, "split": sp}
            for i, m, v, w, sp in t.targets
        ] or None
        row["fingerprint"] = t.fingerprint()
        out.append(row)
    return out


ANALYZE_AFTER = 10_000  # rows added or changed by one load (PostgreSQL: see merge_directive)


def _stage_table() -> Table:
    cols = [Column("id", String(255), primary_key=True)]
    for c in task_t.columns:
        if c.name in (*SPEC_COLUMNS, "activated_on"):
            cols.append(Column(c.name, c.type))
    return Table("kttt_stage_task", MetaData(), *cols, prefixes=["TEMPORARY"])


def _directive_row(src: DirectiveSource, at: datetime) -> dict[str, Any]:
    d = src.directive
    return {
        "code": d.code,
        "doc_type": d.document.type.value,
        "symbol": d.document.symbol,
        "issued_on": d.document.date,
        "issuer": d.document.issuer,
        "title": d.document.title,
        "implements": [r.model_dump(mode="json", exclude_none=True) for r in d.implements],
        "focal_unit": src.focal_unit,
        "issuer_code": src.issuer_code,
        "roll_to_working_day": d.roll_to_working_day,
        "source_path": src.source,
        "content_sha256": src.sha256,
        "spec": d.model_dump(mode="json", exclude_none=True),
        "loaded_at": at,
        "updated_at": at,
        "removed_on": None,  # loading the file again restores a removed directive
    }


@dataclass(frozen=True)
class StoredDocument:
    """The document a stored directive code belongs to, and the file it was loaded from."""

    symbol: str | None
    issued_on: date | None
    issuer: str
    title: str
    source_path: str


def stored_documents(conn: Connection, codes: list[str]) -> dict[str, StoredDocument]:
    d = directive_t
    q = select(d.c.code, d.c.symbol, d.c.issued_on, d.c.issuer, d.c.title, d.c.source_path)
    return (
        {
            r.code: StoredDocument(r.symbol, r.issued_on, r.issuer, r.title, r.source_path)
            for r in conn.execute(q.where(d.c.code.in_(codes)))
        }
        if codes
        else {}
    )


def merge_directive(
    conn: Connection,
    src: DirectiveSource,
    rows: list[dict[str, Any]],
    at: datetime,
    *,
    replaced: str | None = None,
) -> LoadSummary:
    """Merge one directive's task rows (:func:`task_rows`) into the store.

    The steps, in one transaction: stage the rows → count what differs → (if anything does) write
    the directive header → open a load record → insert what is new → apply the changes, field by
    field in the history → remove (softly) what the file no longer has, restore what it has again
    → write the summary. Activating the children of done tasks is the caller's next step.
    """
    stage = _stage_table()
    stage.create(conn)
    if rows:
        # In id order: every index of ``task`` (and the staging table's own key) then grows at
        # its end instead of at random pages. At 1.5 M tasks on PostgreSQL, random inserts into
        # the id and unit indexes ran for over half an hour once the indexes outgrew the
        # buffer cache; in order, the same insert takes about a minute (bench/README.md).
        db.bulk_insert(conn, stage, sorted(rows, key=itemgetter("id")))
        if conn.dialect.name == "postgresql":
            conn.execute(text(f"ANALYZE {stage.name}"))  # the merge's plans see its real size
    m = _Merge(conn, src.directive.code, stage, at)
    s = LoadSummary(src.directive.code, src.source, total=len(rows), replaced=replaced)
    changed_rows = m.count(s)
    header = _directive_row(src, at)
    s.header_changed = m.header_changed(header)
    if s.changed_anything:
        m.write_header(header)
        s.load_id = m.open_load(src)
        m.insert_new()
        m.apply_changes(changed_rows, s)
        m.remove_and_restore()
        m.close_load(s)
        if conn.dialect.name == "postgresql" and s.added + s.changed >= ANALYZE_AFTER:
            # Fresh statistics before the first sweep or report plans its statements: until
            # autovacuum comes round, the planner would take a table of a million new rows for
            # the empty one it was, and scan it whole where an index serves. ANALYZE counts the
            # rows this transaction wrote; it samples, so it costs well under a second.
            conn.execute(text(f"ANALYZE {task_t.name}"))
    # Dropped on success only: after a failed statement PostgreSQL refuses every further command
    # in the transaction, and the rollback removes the temporary table anyway.
    stage.drop(conn)
    return s


class _Merge:
    """The statements of one directive's merge, over the staging table."""

    def __init__(self, conn: Connection, code: str, stage: Table, at: datetime) -> None:
        self.conn, self.code, self.stage, self.at = conn, code, stage, at
        t = task_t
        self.in_task = exists().where(t.c.id == stage.c.id)
        self.in_stage = exists().where(stage.c.id == t.c.id)
        self.gone = and_(t.c.directive_code == code, t.c.state != "removed", ~self.in_stage)
        self.back = and_(t.c.state == "removed", self.in_stage)
        self.load_id: int | None = None

    def _count(self, frm: Any, *where: ColumnElement[bool]) -> int:
        q = select(func.count()).select_from(frm).where(*where)
        return int(self.conn.execute(q).scalar_one())

    def count(self, s: LoadSummary) -> list[Mapping[str, Any]]:
        """Count added, changed, removed, restored; return the changed rows with old values."""
        t, stage = task_t, self.stage
        changed_q = (
            select(stage, *(t.c[f].label(f"old_{f}") for f in DIFF_FIELDS))
            .join(t, t.c.id == stage.c.id)
            .where(t.c.fingerprint != stage.c.fingerprint)
        )
        rows = self.conn.execute(changed_q).mappings().all()
        changed_rows = cast(list[Mapping[str, Any]], rows)
        s.added = self._count(stage, ~self.in_task)
        s.changed = len(changed_rows)
        s.removed = self._count(t, self.gone)
        if s.removed:
            q = select(t.c.id).where(self.gone).order_by(t.c.id).limit(MAX_CHANGES_SHOWN)
            s.removed_ids = [r.id for r in self.conn.execute(q)]
        s.restored = self._count(t.join(stage, stage.c.id == t.c.id), t.c.state == "removed")
        s.unchanged = s.total - s.added - s.changed - s.restored
        return changed_rows

    def header_changed(self, header: dict[str, Any]) -> bool:
        q = select(directive_t.c.spec, directive_t.c.removed_on).where(
            directive_t.c.code == self.code
        )
        old = self.conn.execute(q).first()
        self._header_exists = old is not None
        return old is None or old.spec != header["spec"] or old.removed_on is not None

    def write_header(self, header: dict[str, Any]) -> None:
        if not self._header_exists:
            self.conn.execute(insert(directive_t), [header])
            return
        values = {k: v for k, v in header.items() if k != "loaded_at"}
        self.conn.execute(
            update(directive_t).where(directive_t.c.code == self.code).values(**values)
        )

    def open_load(self, src: DirectiveSource) -> int:
        row = {
            "directive_code": self.code,
            "source_path": src.source,
            "content_sha256": src.sha256,
            "at": self.at,
            "summary": {},
        }
        ins = insert(tables.load_t).returning(tables.load_t.c.id)
        self.load_id = int(self.conn.execute(ins, [row]).scalar_one())
        return self.load_id

    def _events(self, event: str, ids: ColumnElement[Any], where: ColumnElement[bool]) -> None:
        """One history row per task matched by ``where`` (set-based)."""
        sel = (
            select(
                ids,
                literal(self.at, type_=event_t.c.at.type),
                literal(event),
                literal(self.load_id),
                literal({}, type_=event_t.c.detail.type),
            )
            .where(where)
            .order_by(ids)
        )  # in id order, as the task rows (see merge_directive)
        self.conn.execute(insert(event_t).from_select(EVENT_COLUMNS, sel))

    def insert_new(self) -> None:
        t, stage = task_t, self.stage
        self._events("created", stage.c.id, ~self.in_task)
        cols = [
            "id", *SPEC_COLUMNS, "activated_on", "state", "created_at", "updated_at", "next_step_on"
        ]  # fmt: skip
        # next_step_on as the sweep would set it (the load record marks the tasks to examine):
        # the first sweep after a large load then writes no task row (store/next_step.py).
        first = next_step.initial(
            stage.c.starts_on, stage.c.activated_on, self.at.date(), self.conn.dialect.name
        )
        sel = (
            select(
                stage.c.id,
                *(stage.c[c] for c in SPEC_COLUMNS),
                stage.c.activated_on,
                literal("open"),
                literal(self.at, type_=t.c.created_at.type),
                literal(self.at, type_=t.c.updated_at.type),
                first,
            )
            .where(~self.in_task)
            .order_by(stage.c.id)
        )
        self.conn.execute(insert(t).from_select(cols, sel))

    def apply_changes(self, changed_rows: list[Mapping[str, Any]], s: LoadSummary) -> None:
        """Record the field-by-field differences (few rows), then one ``UPDATE … FROM``."""
        if not changed_rows:
            return
        t, stage = task_t, self.stage
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
                    "at": self.at,
                    "event": "changed",
                    "load_id": self.load_id,
                    "detail": diff,
                }
            )
            if len(s.changes) < MAX_CHANGES_SHOWN:
                s.changes.append({"task_id": r["id"], **diff})
        self.conn.execute(insert(event_t), events)
        self.conn.execute(
            update(t)
            .where(t.c.id == stage.c.id, t.c.fingerprint != stage.c.fingerprint)
            .values({**{c: stage.c[c] for c in SPEC_COLUMNS}, "updated_at": self.at})
        )

    def remove_and_restore(self) -> None:
        """Soft removal (the row and its history stay); a restored task is back in the state its
        reports give it: done, reported (a report waits for verification) or open."""
        t, comp = task_t, tables.completion_t
        self._events("removed", t.c.id, self.gone)
        self.conn.execute(update(t).where(self.gone).values(state="removed", updated_at=self.at))
        self._events("restored", t.c.id, self.back)
        waiting = exists().where(comp.c.task_id == t.c.id, comp.c.state == "reported")
        state = case((t.c.completed_on.is_not(None), "done"), (waiting, "reported"), else_="open")
        self.conn.execute(update(t).where(self.back).values(state=state, updated_at=self.at))

    def close_load(self, s: LoadSummary) -> None:
        summary = {k: v for k, v in s.as_dict().items() if k != "changes"}
        q = update(tables.load_t).where(tables.load_t.c.id == self.load_id).values(summary=summary)
        self.conn.execute(q)


def _jsonable(v: Any) -> Any:
    return v.isoformat() if isinstance(v, date) else v

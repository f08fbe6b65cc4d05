"""Document lineage in the store: an implementing directive, once loaded, records the completion
of the parent's task its issuer leads; removed (or no longer implementing), it withdraws it.
Inside the caller's transaction (the load's, or ``kttt remove``'s).

Which task is meant is :func:`kttt_workflow.domain.lineage.choose`; this module finds the
candidates (the parent's tasks whose lead, on the document's date, is the issuer, was succeeded
by it or was reassigned to it) and keeps the automatic reports in step with the directives.
Reports a unit recorded by hand are never touched.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, insert, or_, select, update
from sqlalchemy.engine import Connection

from kttt_workflow.domain import lineage
from kttt_workflow.domain.evidence import Evidence
from kttt_workflow.errors import KtttError
from kttt_workflow.store import activation, completion, tables
from kttt_workflow.store.registry import answering
from kttt_workflow.store.status import lead_code

task_t, comp_t, dir_t = tables.task_t, tables.completion_t, tables.directive_t
event_t = tables.event_t


@dataclass
class LineageSummary:
    """What a reconciliation did: reports recorded (verified or waiting), reports withdrawn, and
    implementing documents whose task could not be chosen (Vietnamese)."""

    completed: list[tuple[str, str, str]] = field(default_factory=list)  # task, source, evidence
    awaiting: list[tuple[str, str, str]] = field(default_factory=list)
    withdrawn: list[tuple[str, str]] = field(default_factory=list)  # task, source
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Child:
    code: str
    doc_type: str
    symbol: str | None
    issued_on: date | None
    title: str
    issuer_code: str | None
    setting: str


def _live_directives(conn: Connection) -> dict[str, Any]:
    d = dir_t
    q = select(
        d.c.code, d.c.doc_type, d.c.symbol, d.c.issued_on, d.c.title, d.c.issuer_code,
        d.c.implements, d.c.spec,
    ).where(d.c.removed_on.is_(None))  # fmt: skip
    return {r.code: r for r in conn.execute(q)}


class LineageError(KtttError):
    """A reference that cannot hold (``completes`` names a task the parent does not have):
    where it is (directive code, index in ``implements``) so the caller can locate it."""

    def __init__(self, code: str, index: int, message: str) -> None:
        super().__init__(message)
        self.code, self.index = code, index


def _pairs(
    conn: Connection, codes: Collection[str]
) -> list[tuple[_Child, dict[str, Any], int, str]]:
    """(implementing directive, its reference and its index, parent code) for every live pair
    touching ``codes`` as child or as parent."""
    live = _live_directives(conn)
    out = []
    for r in live.values():
        for index, ref in enumerate(r.implements or ()):
            parent = ref.get("directive")
            if not parent or parent not in live or not ({r.code, parent} & set(codes)):
                continue
            setting = (r.spec or {}).get("closes_parent_task", "verified")
            child = _Child(
                r.code, r.doc_type, r.symbol, r.issued_on, r.title, r.issuer_code, setting
            )
            out.append((child, ref, index, parent))
    return out


def _candidates(conn: Connection, parent: str, issuer: str, on: date) -> list[lineage.Candidate]:
    """The parent's live, non-recurring tasks that ``issuer`` leads or answers for on ``on``."""
    t = task_t
    ans = answering(on)
    lead = lead_code(on)
    q = (
        select(t.c.id, t.c.task_key, t.c.deliverable, t.c.title, t.c.state)
        .select_from(t.outerjoin(ans, ans.c.code == lead))
        .where(
            t.c.directive_code == parent,
            t.c.state != "removed",
            t.c.period.is_(None),
            or_(t.c.unit_code == issuer, lead == issuer, ans.c.current == issuer),
        )
        .order_by(t.c.id)
    )
    return [lineage.Candidate(*r) for r in conn.execute(q)]


def _parent_keys(conn: Connection, parent: str) -> set[str]:
    q = select(task_t.c.task_key).where(
        task_t.c.directive_code == parent, task_t.c.state != "removed"
    )
    return {r.task_key for r in conn.execute(q.distinct())}


def _automatic(conn: Connection, sources: Collection[str]) -> dict[str, tuple[int, str]]:
    """Live automatic reports recorded by ``sources``: task id → (completion id, source)."""
    if not sources:
        return {}
    c = comp_t
    q = select(c.c.id, c.c.task_id, c.c.source_directive).where(
        c.c.source_directive.in_(sorted(sources)), c.c.state.in_(("reported", "verified"))
    )
    return {r.task_id: (r.id, r.source_directive) for r in conn.execute(q)}


def reconcile(conn: Connection, codes: Collection[str], at: datetime) -> LineageSummary:
    """Bring the automatic reports of the directives ``codes`` (as implementing documents or as
    parents) in step with what is stored: record what an implementing document completes,
    withdraw what a removed (or amended) one no longer does."""
    s = LineageSummary()
    if not codes:
        return s
    desired: dict[str, tuple[_Child, str]] = {}  # task id → (source, parent)
    for child, ref, index, parent in _pairs(conn, codes):
        if child.setting == "off" or child.issuer_code is None or child.issued_on is None:
            continue
        explicit = list(ref.get("completes") or ())
        unknown = sorted(set(explicit) - _parent_keys(conn, parent))
        if unknown:
            raise LineageError(
                child.code,
                index,
                f"văn bản '{child.code}' ghi hoàn thành nhiệm vụ {', '.join(unknown)} "
                f"(«completes») nhưng văn bản '{parent}' không có nhiệm vụ này",
            )
        found = _candidates(conn, parent, child.issuer_code, child.issued_on)
        chosen, problem = lineage.choose(found, child.doc_type, explicit)
        if problem:
            s.problems.append(f"'{child.code}' thực hiện '{parent}': {problem}")
        missed = sorted(set(explicit) - {c.task_key for c in chosen})
        if missed:
            s.problems.append(
                f"'{child.code}' ghi hoàn thành nhiệm vụ {', '.join(missed)} của '{parent}' "
                f"(«completes») nhưng '{child.issuer_code}' không chủ trì (hoặc kế thừa) nhiệm vụ "
                "này vào ngày ban hành: không ghi nhận"
            )
        for c in chosen:
            desired.setdefault(c.task_id, (child, parent))
    sources = set(codes) | {child.code for child, _ in desired.values()}
    existing = _automatic(conn, sources)
    for task_id, (cid, source) in sorted(existing.items()):
        if task_id not in desired:
            _withdraw(conn, task_id, cid, source, at)
            s.withdrawn.append((task_id, source))
    parents: set[str] = set()
    for task_id, (child, parent) in sorted(desired.items()):
        if task_id in existing:
            continue
        state = conn.execute(select(task_t.c.state).where(task_t.c.id == task_id)).scalar_one()
        if state != "open":  # a unit's own report (waiting or verified) stands
            continue
        assert child.issued_on is not None
        text = lineage.evidence_text(child.doc_type, child.symbol, child.issued_on, child.title)
        ev = Evidence(text, child.symbol, child.issued_on)
        note = lineage.AUTOMATIC_NOTE.format(code=child.code)
        completion.record_report(
            conn, task_id, ev, on=child.issued_on, note=note, attachment=None, at=at,
            source_directive=child.code,
        )  # fmt: skip
        if child.setting == "verified":
            completion.record_verification(conn, task_id, on=child.issued_on, at=at, automatic=True)
            s.completed.append((task_id, child.code, text))
            parents.add(parent)
        else:
            s.awaiting.append((task_id, child.code, text))
    for parent in sorted(parents):
        activation.activate_ready(conn, parent, at)
    return s


def _withdraw(conn: Connection, task_id: str, cid: int, source: str, at: datetime) -> None:
    """The automatic report ``cid`` no longer holds: it is withdrawn, the task open again."""
    reason = (
        f"văn bản thực hiện '{source}' đã bị gỡ hoặc không còn ghi thực hiện văn bản của "
        "nhiệm vụ này"
    )
    conn.execute(
        update(comp_t)
        .where(comp_t.c.id == cid)
        .values(state="withdrawn", reason=reason, decided_on=at.date())
    )
    conn.execute(
        update(task_t)
        .where(task_t.c.id == task_id, task_t.c.state.in_(("reported", "done")))
        .values(state="open", completed_on=None, updated_at=at, next_step_on=None)
    )
    detail = {"completion_id": cid, "source_directive": source, "reason": reason}
    completion.add_event(conn, task_id, "withdrawn", detail, at)


def remove_directive(conn: Connection, code: str, reason: str, on: date, at: datetime) -> int:
    """Remove a directive softly (``kttt remove``): its live tasks are removed, each in its
    history with the reason, and the directive is marked removed on ``on``. Returns the number
    of tasks removed. Loading its file again restores it."""
    t = task_t
    live = and_(t.c.directive_code == code, t.c.state != "removed")
    ids = [r.id for r in conn.execute(select(t.c.id).where(live).order_by(t.c.id))]
    if ids:
        detail = {"reason": reason, "on": on.isoformat(), "by": "kttt remove"}
        rows = [
            {"task_id": i, "at": at, "event": "removed", "load_id": None, "detail": detail}
            for i in ids
        ]
        conn.execute(insert(event_t), rows)
        conn.execute(update(t).where(live).values(state="removed", updated_at=at))
    conn.execute(update(dir_t).where(dir_t.c.code == code).values(removed_on=on, updated_at=at))
    return len(ids)


def removed_on(conn: Connection, code: str) -> date | None:
    """The date a stored directive was removed, or None (live)."""
    q = select(dir_t.c.removed_on).where(dir_t.c.code == code)
    return conn.execute(q).scalar_one_or_none()


def documents(conn: Connection, task_ids: Collection[str], as_of: date) -> dict[str, Any]:
    """The report that stands for each task as of ``as_of`` (verified, or waiting), latest first:
    task id → row (evidence, evidence_symbol, evidence_date, reported_on, state, source)."""
    c = comp_t
    out: dict[str, Any] = {}
    ids = sorted(task_ids)
    for i in range(0, len(ids), 500):
        q = (
            select(c)
            .where(
                c.c.task_id.in_(ids[i : i + 500]),
                c.c.reported_on <= as_of,
                c.c.state.in_(("reported", "verified")),
            )
            .order_by(c.c.id)
        )
        for r in conn.execute(q).mappings():
            out[r["task_id"]] = r
    return out

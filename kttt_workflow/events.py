"""Domain facts as Prefect events, so the Prefect UI's event feed shows what happened to tasks.

The store is the source of truth; events are a projection of it, read in bulk after each
operation (one ``SELECT`` per kind of fact, never one per task):

* the task history (``task_event``) after a watermark: ``activated``, ``reported``, ``verified``,
  ``returned``;
* the notices a sweep recorded (``notice``, by ``sweep_id``): one fact per task and step, named
  after the step's severity (``overdue``, ``escalated``; the reminders ``upcoming`` and ``due``
  on request), with every recipient unit;
* the delivery attempts that failed after a watermark (``delivery_attempt``).

Every event names the task (``kttt.task.<id>``) as its resource, with the lead unit (role
``unit``) and the directive (role ``directive``) as related resources, so the event feed can be
filtered by unit or directive. Event ids are derived from the stored fact (uuid5), so publishing
the same fact twice (a retried flow run) gives the same event id.

>>> to_event(Fact("overdue", "kh-1-2022/1/x-ubnd", "x-ubnd", "UBND tỉnh X", "kh-1-2022",
...               "Ban hành Kế hoạch", True, None, "don-doc-3"))["event"]
'kttt.task.overdue'
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.engine import Connection

from kttt_workflow.store import tables as T

NAMESPACE = uuid.UUID("6f1c1f0e-4b7a-5c1e-9d43-6b7474742d77")
HISTORY_KINDS = ("activated", "reported", "verified", "returned")
# Reminders before and on the due date ("upcoming", "due") stay in the ledger and the digests; the
# event feed gets what a leader acts on. Publishing costs ~1–2 ms per event in the flow's process.
NOTICE_KINDS = ("overdue", "escalated")
MAX_EVENTS = 5_000  # per publication; the store keeps every fact regardless
MAX_RECIPIENTS = 40

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Fact:
    """One thing that happened to one task (or one delivery), ready to become an event."""

    kind: str  # activated | reported | verified | returned | upcoming | due | overdue | escalated | delivery_failed
    task_id: str | None
    unit: str
    unit_name: str | None
    directive: str | None
    title: str | None
    key_task: bool
    occurred: datetime | None
    ref: str  # what makes the fact unique besides kind and task: event id, step, attempt id
    detail: dict[str, Any] = field(default_factory=dict)
    recipients: tuple[str, ...] = ()


@dataclass(frozen=True)
class Watermark:
    """The last history row and delivery attempt before an operation; facts after it are new."""

    history: int
    attempts: int


def watermark(source: Engine | Connection) -> Watermark:
    def read(conn: Connection) -> Watermark:
        h = conn.execute(select(func.max(T.event_t.c.id))).scalar()
        a = conn.execute(select(func.max(T.attempt_t.c.id))).scalar()
        return Watermark(int(h or 0), int(a or 0))

    if isinstance(source, Connection):
        return read(source)
    with source.connect() as conn:
        return read(conn)


def _utc(at: datetime | None) -> datetime | None:
    if at is None:
        return None
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def history_facts(conn: Connection, after: int, kinds: Sequence[str] = HISTORY_KINDS) -> list[Fact]:
    """Activations, reports, verifications and returns recorded after history row ``after``."""
    e, t, u = T.event_t, T.task_t, T.unit_t
    q = (
        select(
            e.c.id,
            e.c.event,
            e.c.at,
            e.c.detail,
            t.c.id.label("task_id"),
            t.c.unit_code,
            u.c.name,
            t.c.directive_code,
            t.c.title,
            t.c.key_task,
        )
        .select_from(
            e.join(t, t.c.id == e.c.task_id).join(u, u.c.code == t.c.unit_code, isouter=True)
        )
        .where(e.c.id > after, e.c.event.in_(list(kinds)))
        .order_by(e.c.id)
    )
    return [
        Fact(
            r.event,
            r.task_id,
            r.unit_code,
            r.name,
            r.directive_code,
            r.title,
            bool(r.key_task),
            _utc(r.at),
            str(r.id),
            dict(r.detail or {}),
        )
        for r in conn.execute(q)
    ]


def notice_facts(
    conn: Connection, sweep_id: int, kinds: Sequence[str] = NOTICE_KINDS
) -> list[Fact]:
    """The notices sweep ``sweep_id`` recorded, one fact per (task, step) with its recipients."""
    n, t, u = T.notice_t, T.task_t, T.unit_t
    q = (
        select(
            n.c.task_id,
            n.c.step_code,
            n.c.severity,
            n.c.recipient,
            n.c.is_cc,
            n.c.fire_on,
            n.c.due_on,
            n.c.created_at,
            t.c.unit_code,
            u.c.name,
            t.c.directive_code,
            t.c.title,
            t.c.key_task,
        )
        .select_from(
            n.join(t, t.c.id == n.c.task_id).join(u, u.c.code == t.c.unit_code, isouter=True)
        )
        .where(n.c.sweep_id == sweep_id, n.c.severity.in_(list(kinds)))
        .order_by(n.c.task_id, n.c.step_code, n.c.is_cc, n.c.recipient)
    )
    grouped: dict[tuple[str, str], list[Any]] = {}
    for r in conn.execute(q):
        grouped.setdefault((r.task_id, r.step_code), []).append(r)
    facts = []
    for (task_id, step), rows in grouped.items():
        r = rows[0]
        facts.append(
            Fact(
                r.severity,
                task_id,
                r.unit_code,
                r.name,
                r.directive_code,
                r.title,
                bool(r.key_task),
                _utc(r.created_at),
                step,
                {
                    "step": step,
                    "due_on": r.due_on.isoformat(),
                    "fire_on": r.fire_on.isoformat(),
                    "to": [x.recipient for x in rows if not x.is_cc],
                    "cc": [x.recipient for x in rows if x.is_cc],
                },
                tuple(x.recipient for x in rows),
            )
        )
    return facts


def delivery_facts(conn: Connection, after: int) -> list[Fact]:
    """Delivery attempts recorded after attempt ``after`` that did not reach their target.

    Targets are stored masked (no secret ever reaches the ledger), so they are safe in events.
    """
    a, d, u = T.attempt_t, T.delivery_t, T.unit_t
    q = (
        select(
            a.c.id,
            a.c.delivery_id,
            a.c.attempt,
            a.c.target,
            a.c.status,
            a.c.error,
            a.c.at,
            d.c.recipient,
            d.c.status.label("delivery_status"),
            d.c.notices,
            d.c.as_of,
            u.c.name,
        )
        .select_from(
            a.join(d, d.c.id == a.c.delivery_id).join(u, u.c.code == d.c.recipient, isouter=True)
        )
        .where(a.c.id > after, a.c.status.not_in(("sent", "local")))
        .order_by(a.c.id)
    )
    return [
        Fact(
            "delivery_failed",
            None,
            r.recipient,
            r.name,
            None,
            None,
            False,
            _utc(r.at),
            str(r.id),
            {
                "delivery_id": r.delivery_id,
                "attempt": r.attempt,
                "target": r.target,
                "status": r.status,
                "delivery_status": r.delivery_status,
                "error": r.error,
                "notices": r.notices,
                "as_of": r.as_of.isoformat(),
            },
        )
        for r in conn.execute(q)
    ]


def event_name(kind: str) -> str:
    return "kttt.delivery.failed" if kind == "delivery_failed" else f"kttt.task.{kind}"


def to_event(fact: Fact) -> dict[str, Any]:
    """The keyword arguments of ``prefect.events.emit_event`` for one fact (pure)."""
    related: list[dict[str, str]] = [
        {
            "prefect.resource.id": f"kttt.unit.{fact.unit}",
            "prefect.resource.role": "unit",
            "prefect.resource.name": fact.unit_name or fact.unit,
        }
    ]
    if fact.directive:
        related.append(
            {
                "prefect.resource.id": f"kttt.directive.{fact.directive}",
                "prefect.resource.role": "directive",
                "prefect.resource.name": fact.directive,
            }
        )
    for r in fact.recipients[:MAX_RECIPIENTS]:  # Prefect allows 100 related resources
        if r != fact.unit:
            related.append(
                {"prefect.resource.id": f"kttt.unit.{r}", "prefect.resource.role": "recipient"}
            )
    if fact.kind == "delivery_failed":
        did = str(fact.detail["delivery_id"])
        resource = {
            "prefect.resource.id": f"kttt.delivery.{did}",
            "prefect.resource.name": f"Gửi thông báo cho {fact.unit_name or fact.unit}",
            "kttt.unit": fact.unit,
        }
    else:
        resource = {
            "prefect.resource.id": f"kttt.task.{fact.task_id}",
            "prefect.resource.name": (fact.title or str(fact.task_id))[:200],
            "kttt.unit": fact.unit,
            "kttt.directive": fact.directive or "",
            "kttt.key-task": "true" if fact.key_task else "false",
        }
    # The same stored fact always gives the same id (a retried flow re-publishes, the server keeps
    # one); the time it was recorded keeps facts of different stores on one server apart.
    at = fact.occurred.isoformat() if fact.occurred else ""
    identity = f"{fact.kind}|{fact.task_id}|{fact.unit}|{fact.ref}|{at}"
    return {
        "event": event_name(fact.kind),
        "resource": resource,
        "related": related,
        "payload": {"task_id": fact.task_id, **fact.detail},
        "occurred": fact.occurred,
        "id": uuid.uuid5(NAMESPACE, identity),
    }


def emit(facts: Iterable[Fact], *, limit: int = MAX_EVENTS) -> int:
    """Send the facts to Prefect as events (batched by Prefect's events worker). Returns how many.

    Needs a Prefect API (``PREFECT_API_URL``); without one, ``emit_event`` does nothing. At most
    ``limit`` events go out per call: a first sweep over a national cascade can record hundreds of
    thousands of notices, which belong in the ledger and the reports, not in an event feed.
    """
    from prefect.events import emit_event

    sent = 0
    skipped = 0
    for fact in facts:
        if sent >= limit:
            skipped += 1
            continue
        kwargs = to_event(fact)
        if kwargs["occurred"] is None:
            del kwargs["occurred"]
        emit_event(**kwargs)
        sent += 1
    if skipped:
        log.warning(
            "%d sự kiện không được phát (giới hạn %d mỗi lần); xem sổ ghi trong CSDL",
            skipped,
            limit,
        )
    return sent


def flush(timeout: float = 10.0) -> None:
    """Wait until the events emitted so far have been handed to the Prefect API."""
    from prefect.events.worker import EventsWorker

    EventsWorker.drain_all(timeout=timeout, at_exit=False)

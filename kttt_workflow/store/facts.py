"""Domain facts read back from the store in bulk, for the Prefect event feed.

After each operation the flows read what it recorded (one ``SELECT`` per kind of fact, never one
per task) and :mod:`kttt_workflow.orchestration.events` turns the facts into events:

* the task history (``task_event``) after a watermark: ``activated``, ``reported``, ``verified``,
  ``returned``;
* the notices a sweep recorded (``notice``, by ``sweep_id``): one fact per task and step, named
  after the step's severity (``overdue``, ``escalated``; the reminders ``upcoming`` and ``due``
  on request), with every recipient unit;
* the delivery attempts that failed after a watermark (``delivery_attempt``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection
from sqlalchemy.sql import FromClause
from sqlalchemy.sql.elements import ColumnElement

from kttt_workflow.store import tables

HISTORY_KINDS = ("activated", "reported", "verified", "returned", "reassigned", "inherited")
# Reminders before and on the due date ("upcoming", "due") stay in the ledger and the digests; the
# event feed gets what a leader acts on.
NOTICE_KINDS = ("overdue", "escalated")

_t, _u = tables.task_t, tables.unit_t
# What every task fact says about its task and lead unit.
_TASK_COLUMNS = (
    _t.c.id.label("task_id"),
    _t.c.unit_code,
    _u.c.name,
    _t.c.directive_code,
    _t.c.title,
    _t.c.key_task,
)


def _with_task(table: FromClause, task_id: ColumnElement[Any]) -> FromClause:
    return table.join(_t, _t.c.id == task_id).join(_u, _u.c.code == _t.c.unit_code, isouter=True)


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
    """The last history row, delivery attempt and notice before an operation; facts after it are
    new."""

    history: int
    attempts: int
    notices: int = 0


def watermark(conn: Connection) -> Watermark:
    """Where the history and the delivery ledger end now."""
    h = conn.execute(select(func.max(tables.event_t.c.id))).scalar()
    a = conn.execute(select(func.max(tables.attempt_t.c.id))).scalar()
    n = conn.execute(select(func.max(tables.notice_t.c.id))).scalar()
    return Watermark(int(h or 0), int(a or 0), int(n or 0))


def _utc(at: datetime | None) -> datetime | None:
    if at is None:
        return None
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def history_facts(conn: Connection, after: int, kinds: Sequence[str] = HISTORY_KINDS) -> list[Fact]:
    """Activations, reports, verifications and returns recorded after history row ``after``."""
    e = tables.event_t
    q = (
        select(e.c.id, e.c.event, e.c.at, e.c.detail, *_TASK_COLUMNS)
        .select_from(_with_task(e, e.c.task_id))
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
    conn: Connection, sweep_id: int, kinds: Sequence[str] = NOTICE_KINDS, after: int = 0
) -> list[Fact]:
    """The notices sweep ``sweep_id`` recorded, one fact per (task, step) with its recipients.

    ``after``: a notice id the sweep's notices all come after (:attr:`Watermark.notices` taken
    before it): the read is then a range of the primary key, the sweep's few rows, instead of a
    scan of the whole ledger, which grows with every notice ever recorded."""
    n = tables.notice_t
    q = (
        select(
            n.c.step_code,
            n.c.severity,
            n.c.recipient,
            n.c.is_cc,
            n.c.fire_on,
            n.c.due_on,
            n.c.created_at,
            *_TASK_COLUMNS,
        )
        .select_from(_with_task(n, n.c.task_id))
        .where(n.c.id > after, n.c.sweep_id == sweep_id, n.c.severity.in_(list(kinds)))
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
    a, d, u = tables.attempt_t, tables.delivery_t, tables.unit_t
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

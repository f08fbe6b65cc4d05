"""The outbox in the store: which deliveries are due, the claim, and the ledger of every attempt.

A delivery is claimed (``pending``/``failed``/``timeout`` → ``sending``) in a short transaction
before any network I/O, so two senders never send the same digest; each attempt's outcome per
target is appended to ``delivery_attempt``. :func:`claim_many` claims several at once with one
``UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED) RETURNING id`` (PostgreSQL: rows another
process is claiming are skipped, not waited for, so any number of processes drain one outbox in
parallel; SQLite: writers are serialised by its write lock); :func:`record_attempts` records
several attempts in one transaction. The sending itself is the service's
(:meth:`kttt_workflow.service.Tracker.deliver`) and the notifier's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, insert, or_, select, update
from sqlalchemy.engine import Connection

from kttt_workflow.domain.delivery import TargetOutcome
from kttt_workflow.store import tables

d_t = tables.delivery_t
a_t = tables.attempt_t

RETRYABLE = ("pending", "failed", "timeout")
STATUSES = ("sent", "local", "no_target", "failed", "timeout", "dead", "pending", "sending")


@dataclass(frozen=True)
class Job:
    """A claimed delivery and what sending it needs."""

    delivery_id: str
    recipient: str
    recipient_name: str
    subject: str
    text: str
    markdown: str
    attempt: int  # the number of this attempt (1 for the first)
    targets: tuple[str, ...]  # target templates as written in the registry (``${VAR}`` kept)
    already_sent: frozenset[str]  # keys of the targets that received this digest before


def candidates(conn: Connection, ids: Sequence[str] | None = None) -> list[str]:
    """Deliveries that may be due (oldest first); :func:`claim` decides for each."""
    q = select(d_t.c.id).where(d_t.c.status.in_((*RETRYABLE, "sending"))).order_by(d_t.c.created_at)
    if ids is not None:
        q = q.where(d_t.c.id.in_(list(ids)))
    return [r.id for r in conn.execute(q)]


def _claimable(due_at: datetime, now: datetime, stale_after: timedelta, force: bool) -> Any:
    ready = or_(d_t.c.next_attempt_at.is_(None), d_t.c.next_attempt_at <= due_at)
    retryable = and_(d_t.c.status.in_(RETRYABLE), ready if not force else d_t.c.status.is_not(None))
    stale = and_(d_t.c.status == "sending", d_t.c.claimed_at < now - stale_after)
    return or_(retryable, stale)


def claim_many(
    conn: Connection,
    ids: Sequence[str],
    *,
    due_at: datetime,
    now: datetime,
    stale_after: timedelta,
    force: bool,
) -> list[str]:
    """Take those of ``ids`` that may be sent now (as :func:`claim` decides for one); the ids
    taken, in the order of ``ids``. On PostgreSQL a row another transaction holds is skipped."""
    if not ids:
        return []
    cond = _claimable(due_at, now, stale_after, force)
    inner = select(d_t.c.id).where(d_t.c.id.in_(list(ids)), cond)
    if conn.dialect.name == "postgresql":
        inner = inner.with_for_update(skip_locked=True)
    taken = {
        r.id
        for r in conn.execute(
            update(d_t)
            .where(d_t.c.id.in_(inner.scalar_subquery()), cond)
            .values(status="sending", claimed_at=now)
            .returning(d_t.c.id)
        )
    }
    return [i for i in ids if i in taken]


def claim(
    conn: Connection,
    delivery_id: str,
    *,
    due_at: datetime,
    now: datetime,
    stale_after: timedelta,
    force: bool,
) -> bool:
    """Take a delivery for sending. ``due_at`` decides whether its backoff has passed; ``now`` (the
    real clock) is the claim time and decides whether another sender's claim is stale (a long run
    must not make its own in-flight deliveries look stale to a second run)."""
    res = conn.execute(
        update(d_t)
        .where(d_t.c.id == delivery_id, _claimable(due_at, now, stale_after, force))
        .values(status="sending", claimed_at=now)
    )
    return (res.rowcount or 0) == 1


def read_job(conn: Connection, delivery_id: str, extra_targets: dict[str, list[str]]) -> Job:
    """The claimed delivery, its recipient's targets (registry, then ``extra_targets``), and the
    targets that already have it."""
    row = conn.execute(select(d_t).where(d_t.c.id == delivery_id)).mappings().one()
    unit = conn.execute(
        select(tables.unit_t.c.name, tables.unit_t.c.targets).where(
            tables.unit_t.c.code == row["recipient"]
        )
    ).first()
    sent = select(a_t.c.target_key).where(a_t.c.delivery_id == delivery_id, a_t.c.status == "sent")
    return Job(
        delivery_id,
        row["recipient"],
        unit.name if unit else row["recipient"],
        row["subject"],
        row["body_text"],
        row["body_markdown"],
        int(row["attempts"]) + 1,
        (*(unit.targets or () if unit else ()), *extra_targets.get(row["recipient"], [])),
        frozenset(r.target_key for r in conn.execute(sent)),
    )


def read_jobs(
    conn: Connection, ids: Sequence[str], extra_targets: dict[str, list[str]]
) -> list[Job]:
    """:func:`read_job` for several claimed deliveries in three queries; in the order of ``ids``."""
    if not ids:
        return []
    rows = {r["id"]: r for r in conn.execute(select(d_t).where(d_t.c.id.in_(list(ids)))).mappings()}
    units = {
        u.code: u
        for u in conn.execute(
            select(tables.unit_t.c.code, tables.unit_t.c.name, tables.unit_t.c.targets).where(
                tables.unit_t.c.code.in_({r["recipient"] for r in rows.values()})
            )
        )
    }
    sent: dict[str, set[str]] = {}
    for r in conn.execute(
        select(a_t.c.delivery_id, a_t.c.target_key).where(
            a_t.c.delivery_id.in_(list(ids)), a_t.c.status == "sent"
        )
    ):
        sent.setdefault(r.delivery_id, set()).add(r.target_key)
    jobs = []
    for did in ids:
        row = rows[did]
        unit = units.get(row["recipient"])
        jobs.append(
            Job(
                did,
                row["recipient"],
                unit.name if unit else row["recipient"],
                row["subject"],
                row["body_text"],
                row["body_markdown"],
                int(row["attempts"]) + 1,
                (
                    *(unit.targets or () if unit else ()),
                    *extra_targets.get(row["recipient"], []),
                ),
                frozenset(sent.get(did, ())),
            )
        )
    return jobs


@dataclass(frozen=True)
class Attempt:
    """One finished attempt, to record: the job, its outcomes per target, the new status."""

    job: Job
    outcomes: Sequence[TargetOutcome]
    status: str
    next_at: datetime | None


def record_attempts(conn: Connection, attempts: Sequence[Attempt], *, at: datetime) -> None:
    """:func:`record_attempt` for several attempts: one multi-row insert into the ledger, one
    ``UPDATE`` per delivery."""
    rows = [
        {
            "delivery_id": a.job.delivery_id,
            "attempt": a.job.attempt,
            "target": o.target,
            "target_key": o.key,
            "status": o.status,
            "error": o.error,
            "at": at,
        }
        for a in attempts
        for o in a.outcomes
    ]
    if rows:
        conn.execute(insert(a_t), rows)
    for a in attempts:
        conn.execute(
            update(d_t)
            .where(d_t.c.id == a.job.delivery_id)
            .values(**_new_status(a.outcomes, a.job.attempt, a.status, a.next_at, at))
        )


def _new_status(
    outcomes: Sequence[TargetOutcome],
    attempt: int,
    status: str,
    next_at: datetime | None,
    at: datetime,
) -> dict[str, Any]:
    errors = "; ".join(
        f"{o.target}: {o.error}" for o in outcomes if o.error and o.status not in ("sent", "local")
    )
    values: dict[str, Any] = {
        "status": status,
        "attempts": attempt,
        "next_attempt_at": next_at,
        "last_error": errors or None,
        "claimed_at": None,
    }
    if status in ("sent", "local"):
        values["sent_at"] = at
    return values


def record_attempt(
    conn: Connection,
    job: Job,
    outcomes: Sequence[TargetOutcome],
    *,
    status: str,
    next_at: datetime | None,
    at: datetime,
) -> None:
    """Append the attempt's outcome per target to the ledger; set the delivery's new status."""
    record_attempts(conn, [Attempt(job, outcomes, status, next_at)], at=at)


def list_deliveries(
    conn: Connection, *, unit: str | None = None, status: str | None = None, limit: int = 500
) -> list[dict[str, Any]]:
    """The ledger: newest deliveries first, each with every attempt per target."""
    q = select(d_t).order_by(d_t.c.created_at.desc()).limit(limit)
    if unit:
        q = q.where(d_t.c.recipient == unit)
    if status:
        q = q.where(d_t.c.status == status)
    out = []
    for r in conn.execute(q).mappings():
        attempts = (
            conn.execute(
                select(a_t.c.attempt, a_t.c.target, a_t.c.status, a_t.c.error, a_t.c.at)
                .where(a_t.c.delivery_id == r["id"])
                .order_by(a_t.c.id)
            )
            .mappings()
            .all()
        )
        out.append(
            {
                "delivery_id": r["id"],
                "unit": r["recipient"],
                "as_of": r["as_of"].isoformat(),
                "subject": r["subject"],
                "notices": r["notices"],
                "status": r["status"],
                "attempts": r["attempts"],
                "last_error": r["last_error"],
                "sent_at": r["sent_at"].isoformat() if r["sent_at"] else None,
                "targets": [dict(a, at=a["at"].isoformat()) for a in attempts],
            }
        )
    return out

"""Sending the outbox: claim a delivery, send it through Apprise, record every attempt.

A delivery is claimed (``pending``/``failed``/``timeout`` → ``sending``) in a short transaction
before any network I/O, so two senders never send the same digest. Targets that already received
a digest are not sent it again on a retry. A failure or a timeout is retried with exponential
backoff, with the SAME delivery id (sent as the ``X-KTTT-Delivery-Id`` header; Apprise sets its own
random e-mail ``Message-ID``) so receivers can drop a duplicate; after ``max_attempts`` the delivery is ``dead`` and shows in reports.

The one window where a duplicate is possible: the process dies after a target accepted the message
and before the attempt is recorded. The delivery then stays ``sending``; after ``stale_after`` it
is sent again with the same delivery id. Every other crash point loses nothing and duplicates
nothing (the notices and the digest are committed before sending; the claim is atomic).
"""

from __future__ import annotations

import hashlib
import os
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, and_, insert, or_, select, update
from sqlalchemy.engine import Connection

from kttt_workflow.store import tables as T
from kttt_workflow.store.load import now

d_t = T.delivery_t
a_t = T.attempt_t

RETRYABLE = ("pending", "failed", "timeout")


@dataclass
class OutboxSettings:
    """Delivery settings; the defaults suit the embedded demo (local Maildir for units without targets)."""

    max_attempts: int = 5
    retry_base: float = 60.0  # seconds; doubled each attempt, with jitter
    retry_cap: float = 3600.0
    connect_timeout: float = 5.0
    read_timeout: float = 10.0
    stale_after: timedelta = timedelta(minutes=10)
    maildir: Path | None = None  # units with no target: local mailbox here, else "no_target"
    apprise_config: Path | None = None  # extra targets, one Apprise tag per unit code
    rng: random.Random = field(default_factory=random.Random)

    @classmethod
    def from_env(cls) -> OutboxSettings:
        from kttt_workflow.store.db import data_dir

        local = os.environ.get("KTTT_LOCAL_MAILBOX", "1") not in ("0", "false", "no")
        maildir = Path(os.environ.get("KTTT_MAILDIR") or data_dir() / "mail") if local else None
        cfg = os.environ.get("KTTT_APPRISE_CONFIG")
        return cls(
            max_attempts=int(os.environ.get("KTTT_MAX_ATTEMPTS", "5")),
            maildir=maildir,
            apprise_config=Path(cfg) if cfg else None,
        )


@dataclass
class SendSummary:
    claimed: int = 0
    sent: int = 0
    local: int = 0
    no_target: int = 0
    failed: int = 0
    timeout: int = 0
    dead: int = 0

    def add(self, status: str) -> None:
        setattr(self, status, getattr(self, status) + 1)


def _targets(conn: Connection, unit: str, config: dict[str, list[str]]) -> list[str]:
    row = conn.execute(select(T.unit_t.c.targets).where(T.unit_t.c.code == unit)).first()
    targets = list(row.targets or []) if row else []
    return targets + config.get(unit, [])


def target_key(template: str) -> str:
    """Identifies a target across attempts: a hash of its template as written in the registry,
    where secrets are ``${VAR}`` placeholders, so the key never derives from a secret's value."""
    return hashlib.sha256(template.encode()).hexdigest()[:32]


def claim(
    conn: Connection, delivery_id: str, at: datetime, settings: OutboxSettings, force: bool
) -> bool:
    """Take a delivery for sending. ``at`` decides whether its backoff has passed; the claim time
    and the staleness of another sender's claim use the real clock (a long run must not make its
    own in-flight deliveries look stale to a second run)."""
    clock = now()
    ready = or_(d_t.c.next_attempt_at.is_(None), d_t.c.next_attempt_at <= at)
    retryable = and_(d_t.c.status.in_(RETRYABLE), ready if not force else d_t.c.status.is_not(None))
    stale = and_(d_t.c.status == "sending", d_t.c.claimed_at < clock - settings.stale_after)
    res = conn.execute(
        update(d_t)
        .where(d_t.c.id == delivery_id, or_(retryable, stale))
        .values(status="sending", claimed_at=clock)
    )
    return (res.rowcount or 0) == 1


def deliver(
    engine: Engine,
    settings: OutboxSettings | None = None,
    *,
    ids: Sequence[str] | None = None,
    force: bool = False,
    at: datetime | None = None,
) -> SendSummary:
    """Send every due delivery (or ``ids``); ``force`` ignores the backoff (``kttt retry-failed``)."""
    from kttt_workflow.notify.send import DeliveryStatus, Message, retry_delay, send, write_maildir
    from kttt_workflow.notify.targets import TargetError, expand_target, mask_target

    settings = settings or OutboxSettings.from_env()
    at = at or now()
    summary = SendSummary()
    config: dict[str, list[str]] = {}
    if settings.apprise_config is not None:
        from kttt_workflow.notify.targets import load_apprise_config

        config = load_apprise_config(settings.apprise_config)
    with engine.connect() as conn:
        q = (
            select(d_t.c.id)
            .where(d_t.c.status.in_((*RETRYABLE, "sending")))
            .order_by(d_t.c.created_at)
        )
        if ids is not None:
            q = q.where(d_t.c.id.in_(list(ids)))
        candidates = [r.id for r in conn.execute(q)]
    for did in candidates:
        with engine.begin() as conn:
            if not claim(conn, did, at, settings, force):
                continue
            row = conn.execute(select(d_t).where(d_t.c.id == did)).mappings().one()
            unit = conn.execute(
                select(T.unit_t.c.name).where(T.unit_t.c.code == row["recipient"])
            ).first()
            templates = _targets(conn, row["recipient"], config)
            done = {
                r.target_key
                for r in conn.execute(
                    select(a_t.c.target_key).where(a_t.c.delivery_id == did, a_t.c.status == "sent")
                )
            }
        summary.claimed += 1
        attempt = int(row["attempts"]) + 1
        message = Message(
            did,
            row["subject"],
            row["body_text"],
            row["body_markdown"],
            row["recipient"],
            unit.name if unit else row["recipient"],
        )
        # (masked target, target key, status, error) per target of this attempt
        results: list[tuple[str, str | None, str, str | None]] = []
        expanded: list[str] = []
        keys: dict[str, str] = {}  # expanded URL -> key of its template (no secret in it)
        for tpl in templates:
            try:
                url = expand_target(tpl)
            except TargetError as exc:
                results.append((mask_target(tpl), None, "failed", str(exc)))
                continue
            keys[url] = target_key(tpl)
            if keys[url] not in done:
                expanded.append(url)
        if not templates:
            if settings.maildir is not None:
                try:
                    write_maildir(settings.maildir, message)
                    results.append((f"maildir:{row['recipient']}", None, "local", None))
                except (OSError, ValueError) as exc:
                    # One unwritable mailbox fails one delivery (retried later), not the run.
                    reason = (
                        exc.strerror
                        if isinstance(exc, OSError) and exc.strerror
                        else type(exc).__name__
                    )
                    results.append(
                        (
                            f"maildir:{row['recipient']}",
                            None,
                            "failed",
                            f"không ghi được hộp thư cục bộ: {reason}",
                        )
                    )
            else:
                results.append(
                    (
                        "(không có địa chỉ nhận)",
                        None,
                        "no_target",
                        "đơn vị chưa khai báo địa chỉ nhận thông báo",
                    )
                )
        elif expanded:
            sent = send(
                message,
                expanded,
                connect_timeout=settings.connect_timeout,
                read_timeout=settings.read_timeout,
            )
            for url, r in zip(expanded, sent, strict=True):
                results.append((r.target, keys[url], DeliveryStatus(r.status).value, r.error))
        status = _overall([st for _, _, st, _ in results], done)
        if status in ("failed", "timeout") and attempt >= settings.max_attempts:
            status = "dead"
        next_at = None
        if status in ("failed", "timeout"):
            delay = retry_delay(attempt, settings.retry_base, settings.retry_cap, rng=settings.rng)
            next_at = at + timedelta(seconds=delay)
        errors = "; ".join(
            f"{tg}: {err}" for tg, _, st, err in results if err and st not in ("sent", "local")
        )
        with engine.begin() as conn:
            if results:
                conn.execute(
                    insert(a_t),
                    [
                        {
                            "delivery_id": did,
                            "attempt": attempt,
                            "target": tg,
                            "target_key": key,
                            "status": st,
                            "error": err,
                            "at": now(),
                        }
                        for tg, key, st, err in results
                    ],
                )
            values: dict[str, Any] = {
                "status": status,
                "attempts": attempt,
                "next_attempt_at": next_at,
                "last_error": errors or None,
                "claimed_at": None,
            }
            if status in ("sent", "local"):
                values["sent_at"] = now()
            conn.execute(update(d_t).where(d_t.c.id == did).values(**values))
        summary.add(status)
    return summary


def _overall(statuses: list[str], already: set[str]) -> str:
    if not statuses:
        return "sent" if already else "no_target"
    if all(s in ("sent",) for s in statuses):
        return "sent"
    if statuses == ["local"]:
        return "local"
    if statuses == ["no_target"]:
        return "no_target"
    if "timeout" in statuses and "failed" not in statuses:
        return "timeout"
    return "failed"


def list_deliveries(
    conn: Connection, *, unit: str | None = None, status: str | None = None, limit: int = 500
) -> list[dict[str, Any]]:
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

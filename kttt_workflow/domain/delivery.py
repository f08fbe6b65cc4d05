"""The delivery policy: what one attempt's results mean for a digest, and when to try again. Pure.

A failure or a timeout is retried with exponential backoff ("full jitter"), with the same
delivery id; after ``max_attempts`` the delivery is ``dead`` and shows in reports.
"""

from __future__ import annotations

import math
import random
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

RETRY = ("failed", "timeout")


@dataclass(frozen=True)
class TargetOutcome:
    """What one attempt did at one target: ``sent``, ``local``, ``no_target``, ``failed``, ``timeout``.

    ``target`` is shown to people (masked: never a secret); ``key`` identifies the target across
    attempts (a hash of its template), ``None`` for the local mailbox and for unusable targets.
    """

    target: str
    key: str | None
    status: str
    error: str | None = None


def overall(statuses: Sequence[str], already: Collection[str]) -> str:
    """The delivery's status after an attempt whose targets ended in ``statuses``.

    ``already``: targets that received the digest in an earlier attempt (not sent again).

    >>> overall(["sent", "timeout"], ()), overall([], {"k"}), overall(["local"], ())
    ('timeout', 'sent', 'local')
    """
    if not statuses:
        return "sent" if already else "no_target"
    if all(s == "sent" for s in statuses):
        return "sent"
    if list(statuses) in (["local"], ["no_target"]):
        return statuses[0]
    if "timeout" in statuses and "failed" not in statuses:
        return "timeout"
    return "failed"


def retry_delay(
    attempt: int, base: float = 60.0, cap: float = 3600.0, *, rng: random.Random | None = None
) -> float:
    """Seconds to wait before the next attempt: exponential backoff with full jitter.

    Uniform in ``[0, min(cap, base * 2**attempt)]`` ("full jitter"); ``attempt`` counts the
    attempts made so far (>= 0). Pass ``rng`` for reproducible delays.
    """
    if attempt < 0:
        raise ValueError("attempt must be >= 0")
    if not (math.isfinite(base) and math.isfinite(cap)) or base < 0 or cap < 0:
        raise ValueError("base and cap must be finite and >= 0")
    try:
        ceiling = min(cap, base * 2.0**attempt)
    except OverflowError:
        ceiling = cap
    r = rng if rng is not None else random
    return min(ceiling, max(0.0, r.uniform(0.0, ceiling)))


def next_step(
    statuses: Sequence[str],
    already: Collection[str],
    attempt: int,
    *,
    due_at: datetime,
    max_attempts: int,
    base: float,
    cap: float,
    rng: random.Random | None = None,
) -> tuple[str, datetime | None]:
    """The delivery's status after attempt number ``attempt``, and when to try again (if ever)."""
    status = overall(statuses, already)
    if status not in RETRY:
        return status, None
    if attempt >= max_attempts:
        return "dead", None
    return status, due_at + timedelta(seconds=retry_delay(attempt, base, cap, rng=rng))


# Concurrency of a delivery run: at most WORKERS digests in flight, at most PER_HOST of them to
# any one channel and host (one SMTP server, one webhook host), so that a hanging host holds at
# most PER_HOST workers (each for its own timeout) and the others keep going.
WORKERS = 8
PER_HOST = 4


class Lanes:
    """Which claimed digests may start now. Pure bookkeeping, no threads.

    A run starts with a window of one digest in flight and widens it by one with each digest
    that went out (up to ``workers``): the first delivery of a run goes alone (it opens the
    pooled SMTP session the next ones reuse, and a run that fails from the start does not throw
    ``workers`` digests at a dead server). A digest whose hosts (``keys``) already have
    ``per_host`` in flight waits, without taking a worker.

    >>> lanes = Lanes(workers=4, per_host=2)
    >>> lanes.room(), lanes.start({"smtp://a"}), lanes.room()
    (1, None, 0)
    >>> lanes.done({"smtp://a"}, ok=True); lanes.room()
    2
    """

    def __init__(self, workers: int = WORKERS, per_host: int = PER_HOST) -> None:
        if workers < 1 or per_host < 1:
            raise ValueError("workers and per_host must be >= 1")
        self.workers = workers
        self.per_host = per_host
        self.window = 1
        self.running = 0
        self._per_key: dict[str, int] = {}

    def room(self) -> int:
        """How many more digests may be in flight now (whatever their hosts)."""
        return max(0, self.window - self.running)

    def fits(self, keys: Collection[str]) -> bool:
        return self.room() > 0 and all(self._per_key.get(k, 0) < self.per_host for k in keys)

    def start(self, keys: Collection[str]) -> None:
        self.running += 1
        for k in keys:
            self._per_key[k] = self._per_key.get(k, 0) + 1

    def done(self, keys: Collection[str], *, ok: bool) -> None:
        self.running -= 1
        for k in keys:
            left = self._per_key.get(k, 0) - 1
            if left > 0:
                self._per_key[k] = left
            else:
                self._per_key.pop(k, None)
        if ok:
            self.window = min(self.workers, self.window + 1)

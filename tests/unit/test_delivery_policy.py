"""The delivery policy (``kttt_workflow.domain.delivery``): the backoff (full jitter, bounded by
the cap, pure given its random generator), what an attempt's results mean, and when a delivery is
dead."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kttt_workflow.domain.delivery import next_step, overall, retry_delay


@settings(max_examples=300, deadline=None)
@given(
    attempt=st.integers(min_value=0, max_value=5000),
    base=st.floats(min_value=0.0, max_value=1e6, allow_nan=False),
    cap=st.floats(min_value=0.0, max_value=1e7, allow_nan=False),
    seed=st.integers(min_value=0, max_value=2**32),
)
def test_retry_delay_bounds(attempt: int, base: float, cap: float, seed: int) -> None:
    delay = retry_delay(attempt, base, cap, rng=random.Random(seed))
    ceiling = cap if attempt > 1000 else min(cap, base * 2.0**attempt)
    assert 0.0 <= delay <= ceiling
    assert delay == retry_delay(attempt, base, cap, rng=random.Random(seed))  # pure given rng


def test_retry_delay_spreads_and_rejects_bad_input() -> None:
    rng = random.Random(7)
    delays = [retry_delay(3, 60.0, 3600.0, rng=rng) for _ in range(200)]
    assert max(delays) <= 480.0 and min(delays) >= 0.0
    assert len(set(delays)) > 150  # full jitter, not a fixed schedule
    assert retry_delay(50, rng=random.Random(1)) <= 3600.0
    with pytest.raises(ValueError):
        retry_delay(-1)


@pytest.mark.parametrize(
    "statuses,already,expected",
    [
        (["sent", "sent"], (), "sent"),
        ([], {"k1"}, "sent"),  # every target had it already: nothing sent again
        ([], (), "no_target"),
        (["local"], (), "local"),
        (["no_target"], (), "no_target"),
        (["sent", "timeout"], (), "timeout"),
        (["timeout", "failed"], (), "failed"),
        (["sent", "failed"], (), "failed"),
    ],
)
def test_overall_status_of_an_attempt(
    statuses: list[str], already: set[str], expected: str
) -> None:
    assert overall(statuses, already) == expected


def test_failed_attempts_are_retried_with_backoff_then_dead() -> None:
    at = datetime(2025, 6, 16, 7, 0, tzinfo=UTC)
    kw = {"due_at": at, "max_attempts": 3, "base": 60.0, "cap": 3600.0}
    status, nxt = next_step(["failed"], (), 1, rng=random.Random(1), **kw)  # type: ignore[arg-type]
    assert status == "failed" and nxt is not None and at <= nxt <= at + timedelta(seconds=120)
    status, nxt = next_step(["timeout"], (), 2, rng=random.Random(1), **kw)  # type: ignore[arg-type]
    assert status == "timeout" and nxt is not None and nxt <= at + timedelta(seconds=240)
    assert next_step(["failed"], (), 3, **kw) == ("dead", None)  # type: ignore[arg-type]
    assert next_step(["sent"], (), 3, **kw) == ("sent", None)  # type: ignore[arg-type]
    assert next_step(["local"], (), 1, **kw) == ("local", None)  # type: ignore[arg-type]

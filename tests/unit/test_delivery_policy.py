"""The delivery policy's backoff (``kttt_workflow.domain.delivery.retry_delay``): full jitter,
bounded by the cap, pure given its random generator."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kttt_workflow.domain.delivery import retry_delay


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

"""Reconnect waits: exponential and capped, spread by jitter so a restarted relay is not stampeded."""

from __future__ import annotations

import random

from cobrowse.wire.backoff import STEPS, reconnect_delay


def test_the_schedule_grows_to_its_cap_within_each_steps_upper_half() -> None:
    for attempt in range(12):
        step = STEPS[min(attempt, len(STEPS) - 1)]
        assert reconnect_delay(attempt, lambda: 0.0) == step / 2
        assert step / 2 <= reconnect_delay(attempt, lambda: 0.999) < step
    assert reconnect_delay(100, lambda: 0.0) == STEPS[-1] / 2 and reconnect_delay(-1, lambda: 0.0) == STEPS[0] / 2


def test_a_herd_of_clients_is_spread_out() -> None:
    rng = random.Random(7)
    step = STEPS[3]
    waits = sorted(reconnect_delay(3, rng.random) for _ in range(10_000))  # 10,000 clients, same attempt
    assert waits[0] >= step / 2 and waits[-1] < step
    tenth = step / 20
    buckets = [sum(1 for w in waits if step / 2 + i * tenth <= w < step / 2 + (i + 1) * tenth) for i in range(10)]
    assert max(buckets) < 1_300 and min(buckets) > 700  # roughly uniform over the upper half: no wave


def test_five_minutes_of_retries_back_off_exponentially_to_a_cap() -> None:
    assert all(b == 2 * a for a, b in zip(STEPS[:-2], STEPS[1:-1])) and STEPS[-1] >= STEPS[-2]
    for draw in (0.0, 0.999):
        elapsed, attempts = 0.0, 0
        while elapsed < 300.0:
            elapsed += reconnect_delay(attempts, lambda: draw)
            attempts += 1
        assert 30 <= attempts <= 70  # a client that tries for 5 minutes: tens of attempts, not thousands

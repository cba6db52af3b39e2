"""How long a client waits before trying the relay again: exponential, capped, with jitter.

When a relay restarts, every client it had reconnects at once. Without jitter they come
back in lock-step waves (all at 0.1 s, all at 0.25 s, ...), each wave a burst of handshakes
the fresh relay must absorb; with "equal jitter" each wait is drawn from the upper half of
its step, so the herd spreads out while no client waits longer than the schedule says.
Pure: the random draw is passed in.
"""

from __future__ import annotations

from typing import Callable

#: The steps (seconds) of the schedule: doubling from 0.1 s, then 10 s for good. A client that
#: keeps trying for 5 minutes (the default ``reconnect_for``) makes 36 to 66 attempts; 10,000
#: clients of a relay that stays down settle at about 1,300 attempts a second between them
#: (mean wait 7.5 s), and once it is back each comes within one step.
STEPS = (0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 10.0)


def reconnect_delay(attempt: int, rng: Callable[[], float]) -> float:
    """The wait before reconnect attempt ``attempt`` (0-based): half of its step, plus up to
    the other half at random (``rng()`` in [0, 1))."""
    step = STEPS[min(max(attempt, 0), len(STEPS) - 1)]
    return step / 2 + step / 2 * rng()

"""A joining side's first claim, retried through the relay's refusals that pass.

``busy``: someone else is entering a code for this session (a squatter is let go within
the relay's claim timeout); ``unavailable``: a relay node could not look the session up in
its shared store (Redis) just now. Neither says the code is wrong, so the claimant waits
and tries again, bounded, telling its user each time; any other refusal is final.
"""

from __future__ import annotations

import asyncio
import random
from typing import Any, Callable

from cobrowse.errors import RelayRejected
from cobrowse.io.link import RelayLink
from cobrowse.wire.backoff import reconnect_delay

#: How long a claimant keeps retrying refusals that pass.
BUSY_RETRY_FOR = 30.0
BUSY_RETRY_EVERY = 2.0
#: What the joining side is told while it waits, and once it gives up on ``unavailable``.
JOIN_RETRY = {
    "busy": "someone else is entering a code for this session right now; trying again",
    "unavailable": "the relay could not look the session up just now (its shared store did not answer); "
                   "trying again in {delay:.1f} s (attempt {attempt})",
}
JOIN_UNAVAILABLE = ("the relay could not look the session up for {span:.0f} s (its shared store does not answer): "
                    "try again in a minute; if it keeps happening, tell the relay's operator")


def retry_delay(code: str, attempt: int, rng: Callable[[], float]) -> float:
    """The wait before claim attempt ``attempt + 1`` (1-based ``attempt``): ``busy`` on a fixed
    beat, ``unavailable`` with the reconnect back-off from its 0.8 s step (0.4 to 10 s)."""
    return BUSY_RETRY_EVERY if code == "busy" else reconnect_delay(attempt + 2, rng)


async def claim_retrying(link: RelayLink, nameplate: str, emit: Callable[[dict[str, Any]], None],
                         retry_for: float = BUSY_RETRY_FOR) -> None:
    """``link.claim(nameplate)``, retried on ``busy``/``unavailable`` for up to ``retry_for`` s."""
    loop = asyncio.get_running_loop()
    give_up_at = loop.time() + retry_for
    attempt = 0
    while True:
        try:
            await link.claim(nameplate)
            return
        except RelayRejected as exc:
            if exc.code not in JOIN_RETRY:
                raise
            attempt += 1
            delay = retry_delay(exc.code, attempt, random.random)
            if loop.time() + delay > give_up_at:
                if exc.code == "unavailable":
                    raise RelayRejected("unavailable", JOIN_UNAVAILABLE.format(span=retry_for)) from None
                raise
            emit({"event": "warning", "kind": exc.code, "retry_in_s": round(delay, 1), "attempt": attempt,
                  "message": JOIN_RETRY[exc.code].format(delay=delay, attempt=attempt)})
            await asyncio.sleep(delay)

"""When a webhook delivery is tried again, and what a receiver's answer means. Pure.

A help desk that is down for maintenance must not lose sessions: deliveries that fail on
the network, time out, or get a 5xx, 408 or 429 are tried again after waits that grow
(``RETRY_STEPS``, each drawn from the upper half of its step so many agents' clients do not
come back in step), and survive the process in a spool (``cobrowse.io.webhook``). A
receiver that answers another 4xx (a wrong secret: 401/403, a malformed URL: 404) will not
change its mind by itself: the delivery is set aside and the agent is told why.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Callable
from urllib.parse import urlsplit

#: Seconds between attempts; past the last, every wait is the last.
RETRY_STEPS = (1.0, 2.0, 5.0, 15.0, 30.0, 60.0, 300.0)
#: A delivery is set aside after this many failed attempts (about a day at the last step).
MAX_ATTEMPTS = 300


class Outcome(StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"
    REFUSED = "refused"


def retry_delay(attempt: int, rng: Callable[[], float], steps: tuple[float, ...] = RETRY_STEPS) -> float:
    """The wait after failed attempt ``attempt`` (0-based): half its step plus up to the other half."""
    step = steps[min(max(attempt, 0), len(steps) - 1)]
    return step / 2 + step / 2 * rng()


def outcome(status: int | None) -> Outcome:
    """What an HTTP status (None: no answer at all) means for the delivery."""
    if status is None or status >= 500 or status in (408, 425, 429):
        return Outcome.RETRY
    if 200 <= status < 300:
        return Outcome.DELIVERED
    return Outcome.REFUSED


def refusal_hint(status: int) -> str:
    if status in (401, 403):
        return "check webhook_secret / COBROWSE_WEBHOOK_SECRET: it must be the receiver's"
    if status in (404, 405, 410):
        return "check webhook_url / --webhook: the receiver has no such endpoint"
    return "the receiver refused the summary"


def check_url(url: str) -> str:
    """A webhook URL cobrowse can post to: http:// or https:// with a host (ValueError otherwise)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"webhook URL {url!r} must start with http:// or https:// and name a host")
    return url

"""Bounded work for what the agent sends: per-kind rate limits and coalesced notices.

A hostile agent can send as fast as the relay carries. Each message kind gets a token bucket
sized well above what a person at a console produces (a burst, then a steady rate); what is
over budget is dropped before any work is done for it. The customer hears about drops, and
about refused messages (keys without control), once per ``NOTICE_EVERY`` s with a count,
never once per message: 200 messages make one or two lines, not 200. Memory is bounded by
the number of kinds. Pure: ``now`` is passed in.
"""

from __future__ import annotations

from dataclasses import field
from cobrowse.wire.frozen import frozen, mutable

NOTICE_EVERY = 5.0


@frozen
class Budget:
    """``rate`` messages a second on average, ``burst`` at once."""

    rate: float
    burst: float


#: Agent → customer message types (``messages.AppMessage.t``). Unlisted types get ``DEFAULT``.
#: (``hello``, ``ping``/``pong``, ``rtc``, ``call`` and ``end`` are dispatched by the session
#: runtime itself, before the customer's handler sees anything.)
BUDGETS: dict[str, Budget] = {
    "keys": Budget(100.0, 500.0),  # a fast typist plus pasted text, one message a key
    "chat": Budget(5.0, 20.0),
    "request_control": Budget(1.0, 5.0),
    "record": Budget(1.0, 5.0),
    "suggest": Budget(2.0, 10.0),
    "pointer": Budget(5.0, 20.0),
    "playbook": Budget(0.5, 3.0),
    "step": Budget(10.0, 30.0),
    "redact": Budget(0.5, 5.0),
    "resync": Budget(2.0, 10.0),
    "unknown": Budget(2.0, 10.0),
    "agent_proof": Budget(0.2, 3.0),  # one per session; a second is refused with a warning
}
DEFAULT = Budget(20.0, 50.0)
#: Never limited: the session's own bookkeeping, which the other side needs to proceed.
UNLIMITED = frozenset({"end"})


@mutable
class TokenBucket:
    budget: Budget
    tokens: float
    last: float

    def take(self, now: float) -> bool:
        elapsed = max(0.0, now - self.last)
        self.tokens = min(self.budget.burst, self.tokens + elapsed * self.budget.rate)
        self.last = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


@mutable
class RateLimits:
    """One bucket per message type, created on first use (their number is bounded by the
    types this client knows, plus ``unknown``)."""

    budgets: dict[str, Budget] = field(default_factory=lambda: dict(BUDGETS))
    default: Budget = DEFAULT
    _buckets: dict[str, TokenBucket] = field(default_factory=dict)

    def admit(self, kind: str, now: float) -> bool:
        """Whether a message of type ``kind`` arriving ``now`` may be handled."""
        if kind in UNLIMITED:
            return True
        bucket = self._buckets.get(kind)
        if bucket is None:
            budget = self.budgets.get(kind, self.default)
            bucket = self._buckets[kind] = TokenBucket(budget, budget.burst, now)
        return bucket.take(now)


@frozen
class Notice:
    """Tell the customer: ``count`` more messages of ``kind`` were ignored (the first one is
    told at once with ``count`` 1; the rest once the quiet period ends, in one line)."""

    kind: str
    count: int
    first: bool


@mutable
class _Tally:
    told_at: float
    untold: int = 0


@mutable
class NoticeTally:
    """Coalesces "ignored N ..." notices per kind: at most one line every ``every`` s each."""

    every: float = NOTICE_EVERY
    _tallies: dict[str, _Tally] = field(default_factory=dict)

    def ignored(self, kind: str, now: float) -> Notice | None:
        """One more ignored message of ``kind``; a notice if one is due now."""
        tally = self._tallies.get(kind)
        if tally is None or (tally.untold == 0 and now - tally.told_at >= self.every):
            self._tallies[kind] = _Tally(now)
            return Notice(kind, 1, True)
        tally.untold += 1
        return self._due(kind, tally, now)

    def due(self, now: float) -> list[Notice]:
        """Summaries whose quiet period ended (call on every tick)."""
        notices = []
        for kind, tally in list(self._tallies.items()):
            notice = self._due(kind, tally, now)
            if notice is not None:
                notices.append(notice)
            elif tally.untold == 0 and now - tally.told_at >= self.every:
                del self._tallies[kind]
        return notices

    def next_deadline(self) -> float | None:
        times = [t.told_at + self.every for t in self._tallies.values() if t.untold]
        return min(times) if times else None

    def _due(self, kind: str, tally: _Tally, now: float) -> Notice | None:
        if tally.untold and now - tally.told_at >= self.every:
            notice = Notice(kind, tally.untold, False)
            tally.told_at, tally.untold = now, 0
            return notice
        return None

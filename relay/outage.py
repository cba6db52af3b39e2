"""How a node tells its log about Redis trouble: once when it starts, then at most every
``every`` seconds with a count while it lasts, and once when it ends. A Redis restart
otherwise wrote two lines a second per node (heartbeat and subscription) and never said
that Redis was back. Pure: the caller passes the clock."""

from __future__ import annotations


class Outage:
    """One kind of Redis call's trouble (the heartbeat, the subscription, the writes)."""

    def __init__(self, every: float = 30.0) -> None:
        self.every = every
        self.since: float | None = None  # when the trouble started; None while all is well
        self.failures = 0
        self._said = 0.0

    @property
    def ok(self) -> bool:
        return self.since is None

    def failed(self, now: float) -> str | None:
        """What to log for this failure: ``"started"``, ``"lasts"`` (a reminder), or None (quiet)."""
        self.failures += 1
        if self.since is None:
            self.since = self._said = now
            return "started"
        if now - self._said >= self.every:
            self._said = now
            return "lasts"
        return None

    def recovered(self, now: float) -> float | None:
        """Seconds the trouble lasted, the first time a call works again; else None."""
        if self.since is None:
            return None
        lasted = now - self.since
        self.since, self.failures = None, 0
        return lasted

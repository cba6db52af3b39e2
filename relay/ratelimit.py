"""Failed claims per address (nameplate guesses): a window, then blocks that double. Pure."""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import dataclass


@dataclass(eq=False, slots=True)
class _Strikes:
    failures: deque[float]
    level: int = 0
    blocked_until: float = 0.0
    last: float = 0.0


class RateLimiter:
    """Failed claims per address: ``limit`` per ``window``, then blocks that double.

    A failed claim is a wrong guess of a nameplate (unknown, expired, taken). After
    ``limit`` of them within ``window`` the address is blocked for ``window``; every
    following block (``limit`` more failures) lasts twice the previous one, up to
    ``backoff_max``. An address quiet for ``max(window, backoff_max)`` is forgotten.
    """

    def __init__(self, limit: int, window: float, backoff_max: float, max_addresses: int = 100_000) -> None:
        self.limit = limit
        self.window = window
        self.backoff_max = backoff_max
        self.quiet = max(window, backoff_max)
        self.max_addresses = max_addresses
        self._table: OrderedDict[str, _Strikes] = OrderedDict()  # least recently failed first

    def __len__(self) -> int:
        return len(self._table)

    def blocked(self, address: str, now: float) -> bool:
        s = self._table.get(address)
        return s is not None and now < s.blocked_until

    def retry_after(self, address: str, now: float) -> float:
        s = self._table.get(address)
        return max(0.0, s.blocked_until - now) if s is not None else 0.0

    def fail(self, address: str, now: float) -> None:
        s = self._table.get(address)
        if s is None:
            s = self._table[address] = _Strikes(deque(maxlen=self.limit))
            while len(self._table) > self.max_addresses:
                self._table.popitem(last=False)
        else:
            self._table.move_to_end(address)
        s.last = now
        s.failures.append(now)
        while s.failures and s.failures[0] <= now - self.window:
            s.failures.popleft()
        if len(s.failures) >= self.limit:
            s.level += 1
            s.blocked_until = now + min(self.window * 2 ** min(s.level - 1, 60), self.backoff_max)
            s.failures.clear()

    def prune(self, now: float) -> None:
        while self._table:
            address, s = next(iter(self._table.items()))
            if s.last > now - self.quiet or now < s.blocked_until:
                break
            del self._table[address]

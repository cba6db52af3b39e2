"""The scam tripwire: granting control to an unverified agent takes two deliberate presses.

Support scammers talk fast and push for control at once. With an agent the customer's client
could not verify, the first "grant control" only warns and starts a cool-down; a second
press is accepted only after the cool-down and within a window, so a customer has to read
the warning and decide twice. Pure: ``now`` is passed in.
"""

from __future__ import annotations
from cobrowse.wire.frozen import frozen


COOLDOWN = 5.0
WINDOW = 60.0


@frozen
class GateAnswer:
    """``armed``: the warning was shown, press again after ``wait`` s; ``wait``: too soon,
    ``wait`` s left; ``open``: this press grants."""

    state: str
    wait: float = 0.0


class ControlGate:
    def __init__(self, cooldown: float = COOLDOWN, window: float = WINDOW) -> None:
        self.cooldown = cooldown
        self.window = window
        self._armed_at: float | None = None

    @property
    def armed(self) -> bool:
        return self._armed_at is not None

    def ready_at(self) -> float | None:
        return None if self._armed_at is None else self._armed_at + self.cooldown

    def press(self, now: float) -> GateAnswer:
        armed = self._armed_at
        if armed is None or now > armed + self.cooldown + self.window:
            self._armed_at = now
            return GateAnswer("armed", self.cooldown)
        if now < armed + self.cooldown:
            return GateAnswer("wait", armed + self.cooldown - now)
        self._armed_at = None
        return GateAnswer("open")

    def reset(self) -> None:
        """Forget a first press (after a revoke, a denial, or the end of the request)."""
        self._armed_at = None

"""Calls in a team, on the customer's machine (docs/team.md, "Calls"): the customer has one
microphone, so one call at a time, with any admitted agent, over that agent's own WebRTC
peer (each pairing's ``RtcManager``). Another agent's ring meanwhile is declined at once with
why (``RtcManager.busy``); the customer's call keys act on the call going on; an agent that
leaves or is removed takes its call with it. Consent stays where it was: a pairing's call
machine rings, and the microphone opens only once the customer answers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Iterable

from cobrowse.io.rtc import RtcManager
from cobrowse.protocol import messages as m
from cobrowse.voice.settings import RtcSettings

if TYPE_CHECKING:
    from cobrowse.io.customer import CustomerRuntime
    from cobrowse.io.runtime import SessionRuntime

#: What an agent is told when it rings while the customer is on another call (one microphone).
ON_A_CALL = "the customer is on a call with {agent}: one call at a time; ring again when it is over"
#: ... or while another agent's ring is waiting for the customer's answer.
BEING_RUNG = "another agent, {agent}, is ringing the customer: one call at a time; ring again when it is over"
#: ... or while the customer is calling another agent.
CALLING = "the customer is calling {agent}: one call at a time; ring again when it is over"


class GuestCalls(RtcManager):
    """An invited agent's WebRTC: the direct path for its screen as any pairing's, and calls
    once the customer allowed it (``allowed``); before that its ring is dropped: the customer
    is never rung, and the agent learns nothing."""

    def __init__(self, runtime: SessionRuntime, settings: RtcSettings, *, allowed: Callable[[], bool]) -> None:
        super().__init__(runtime, settings)
        self.allowed = allowed

    async def on_message(self, message: m.Rtc | m.Call) -> None:
        if self.allowed() or (isinstance(message, m.Rtc) and message.pc != "call"):
            await super().on_message(message)


class TeamCalls:
    """One call at a time across the team's pairings: ``pairings`` lists them, the first
    agent's first; ``agent`` names a pairing's agent as it is told to the others
    (``Bob (agent 2)``); ``callable`` lists the pairings the customer may call, in order."""

    def __init__(self, pairings: Callable[[], Iterable[CustomerRuntime]], agent: Callable[[CustomerRuntime], str],
                 callable_: Callable[[], Iterable[CustomerRuntime]]) -> None:
        self.pairings = pairings
        self.agent = agent
        self.callable = callable_

    def watch(self, runtime: CustomerRuntime) -> None:
        """``runtime``'s agent rings only while nobody else's call is going, and not at all
        once it left (its pairing detached: the session runtime hands its ``call`` and ``rtc``
        messages over before the check that drops the rest)."""
        runtime.rtc.busy = lambda: self.busy(runtime)
        runtime.rtc.heeds = lambda: not runtime.detached

    def going(self) -> CustomerRuntime | None:
        """The pairing whose call is going (ringing, calling, connecting or active), if any."""
        for runtime in self.pairings():
            if runtime.rtc.call.state != "idle" and runtime.outcome is None and not runtime.detached:
                return runtime
        return None

    def busy(self, asking: CustomerRuntime) -> str:
        """Why ``asking``'s agent cannot ring the customer now ("": it can): another agent's call."""
        other = self.going()
        if other is None or other is asking:
            return ""
        said = {"ringing": BEING_RUNG, "calling": CALLING}.get(other.rtc.call.state, ON_A_CALL)
        return said.format(agent=self.agent(other))

    def seat(self) -> CustomerRuntime | None:
        """The pairing the customer's call keys and the app's call bar are for: the call going
        on, else the agent the customer would call (the first one, or the earliest admitted
        still here)."""
        going = self.going()
        if going is not None:
            return going
        return next((r for r in self.callable() if r.outcome is None and not r.detached), None)

    @staticmethod
    async def hang_up(runtime: CustomerRuntime, reason: str) -> None:
        """An agent leaving or removed takes its call with it, at once (its pairing closes later)."""
        if runtime.rtc.call.state != "idle":
            await runtime.rtc.hangup(reason)

"""A customer runtime's seat in a team (docs/team.md): the hooks ``cobrowse.io.customer_team``
fills in, and what changes once this pairing's agent left while the others go on.

A mixin of ``CustomerRuntime`` (before ``SessionRuntime`` in its bases): a runtime with no
team answers an invitation with a refusal and treats its agent's ``leave`` as an ordinary end.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Awaitable, Callable

from cobrowse.policy.customer_events import TeamAnswer, TeamAsk, TeamRequest
from cobrowse.protocol import messages as m

if TYPE_CHECKING:
    from cobrowse.io.customer import CustomerRuntime
    from cobrowse.io.runtime import SessionRuntime

    _Base = SessionRuntime
else:
    _Base = object


class TeamSeat(_Base):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: What this runtime's agent or the customer asks of the team, and what the customer
        #: sent its agent (chat, steps: the other agents get them too).
        self.on_team: Callable[[CustomerRuntime, TeamRequest | TeamAnswer], Awaitable[None]] | None = None
        self.on_sent: Callable[[CustomerRuntime, m.AppMessage], None] = lambda runtime, message: None
        #: The other pairings showing this runtime's screen (they share its emulator).
        self.followers: list[CustomerRuntime] = []
        #: This pairing's agent left while others go on: nothing more goes to it, and its link's
        #: end does not end the customer's session (``team_over`` does).
        self.detached = False
        self.team_over = False
        #: The pairing whose call the customer's call keys and the app's call bar are for (a team:
        #: whichever agent's call is going; alone: this one).
        self.call_seat: Callable[[], CustomerRuntime] = self._me
        #: Whether an agent records (a team: any pairing's agent; alone: this one's), for the
        #: banner's "● RECORDING": an invited agent's recording showed only as a line.
        self.anyone_records: Callable[[], bool] = self._records

    def _records(self) -> bool:
        return bool(self._me().recording.recording)

    async def _team(self, effect: TeamRequest | TeamAnswer) -> None:
        if self.on_team is not None:
            await self.on_team(self._me(), effect)
        elif isinstance(effect, TeamRequest) and effect.what is TeamAsk.INVITE and self.paired:
            await self.send(m.InviteCode(error="this customer's cobrowse cannot add agents to its session"))
        elif isinstance(effect, TeamRequest) and effect.what is TeamAsk.LEAVE:
            await self.on_end(m.End("agent_ended", "the agent left the session"))

    def followers_changed(self, *, resync: bool = False) -> None:
        """The shared emulator was fed (every row may have changed) or resized (a full screen)."""
        for follower in self.followers:
            if resync:
                follower.screen.resync()
            else:
                follower.screen.redaction_changed()
            follower.wake()

    def _me(self) -> Any:
        return self

    async def send(self, message: m.AppMessage) -> None:
        """Nothing new goes to an agent that left (acknowledgements still do: its last frames settle)."""
        if not self.detached:
            await super().send(message)

    async def end(self, reason: str, message: str = "") -> None:
        if self.detached:  # its agent is gone: nothing to tell it
            self.team_over = True
            self.finish(reason, message or "the customer ended the session", 0)
            return
        await super().end(reason, message)

    def finish(self, reason: str, message: str, exit_code: int) -> None:
        if self.detached and not (self.team_over or self._ending):
            return  # this pairing's agent left; the customer's session goes on with the others
        super().finish(reason, message, exit_code)

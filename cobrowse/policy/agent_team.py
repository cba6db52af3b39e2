"""The agent's side of a team's invitations (docs/team.md): a code the customer's client
voided before its time was up, as this agent's front ends learn it. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from cobrowse.errors import InvalidCode
from cobrowse.policy.events import Event
from cobrowse.protocol.team_messages import InviteCode, VoidReason
from cobrowse.wire.code import parse_code

#: Why a code no longer works, as the agent reads it (English: the agent's console is).
VOID_SAID = {
    VoidReason.WRONG_CODE: "someone entered a wrong code for it (a guess on the relay, or a typo): "
                           "invite again for a new one",
    VoidReason.EXPIRED: "nobody used it in time: invite again for a new one",
    VoidReason.CLOSED: "the customer's cobrowse closed it before anyone used it",
}


@dataclass(frozen=True)
class InviteVoided(Event):
    """An invitation code of this agent's no longer works (headless ``invite_void``)."""

    KIND: ClassVar[str] = "invite_void"
    code: str = ""
    reason: str = ""
    message: str = ""
    #: The number its colleague would have had (the ``invite`` event's ``agent``; None: not said).
    agent: int | None = None


def invite_voided(message: InviteCode) -> InviteVoided | None:
    """The event for an ``invite_code`` that voids a code (None: not a code, or not a reason)."""
    try:
        code = str(parse_code(str(message.code)))
        reason = VoidReason(message.void)
    except (InvalidCode, ValueError):
        return None
    return InviteVoided(code, str(reason), f"the invitation code {code} no longer works: {VOID_SAID[reason]}",
                        message.viewer or None)

"""The messages of a team in one session (docs/team.md): an agent asks for an invitation,
gets its code, leaves; the customer's client says who can see the screen. Decoded and
checked with the others by ``cobrowse.protocol.messages``."""

from __future__ import annotations

from dataclasses import field
from typing import Any, ClassVar

from cobrowse.protocol.message_base import AppMessage
from cobrowse.wire.frozen import frozen

#: The most viewers a customer's client lists (it admits at most this many agents).
MAX_VIEWERS = 8


@frozen
class Invite(AppMessage):
    """The agent asks the customer's client for a code a second agent can join with."""

    t: ClassVar[str] = "invite"


@frozen
class InviteCode(AppMessage):
    """The customer's client opened a new pairing for a second agent: its code (or why not)."""

    t: ClassVar[str] = "invite_code"
    code: str = ""
    error: str = ""


@frozen
class Leave(AppMessage):
    """The agent leaves; the session goes on for the customer and the other agents."""

    t: ClassVar[str] = "leave"


@frozen
class Viewers(AppMessage):
    """Who can see the customer's screen now: ``[{"id", "name", "control", "you"}]``."""

    t: ClassVar[str] = "viewers"
    viewers: list[dict[str, Any]] = field(default_factory=list)

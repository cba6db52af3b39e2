"""The messages of a team in one session (docs/team.md): an agent asks for an invitation,
gets its code, leaves; the customer's client says who can see the screen. Decoded and
checked with the others by ``cobrowse.protocol.messages``."""

from __future__ import annotations

from dataclasses import field
from enum import StrEnum
from typing import Any, Callable, ClassVar

from cobrowse.protocol.message_base import AppMessage
from cobrowse.wire.frozen import frozen

#: The most viewers a customer's client lists (it admits at most this many agents).
MAX_VIEWERS = 8
#: The longest an invitation code is said to stay open (the relay's unclaimed TTL is minutes).
MAX_INVITE_EXPIRY_S = 86_400
#: The highest agent number an invitation may name (a session numbers its agents from 1).
MAX_VIEWER_ID = 1_000_000


@frozen
class Invite(AppMessage):
    """The agent asks the customer's client for a code a second agent can join with."""

    t: ClassVar[str] = "invite"
    #: This agent reads ``invite_code`` messages that void a code (``InviteCode.void``): newer;
    #: an older agent's ``invite`` lacks it and is never sent one (it would take it for a code).
    voids: bool = False


class VoidReason(StrEnum):
    """Why an invitation code stopped working before its time was up (``InviteCode.void``): a
    word, never peer text, so the agent's client words it itself."""

    WRONG_CODE = "wrong_code"  # someone entered a wrong code (a guess: the relay's, or a typo)
    EXPIRED = "expired"  # the relay let it lapse unused
    CLOSED = "closed"  # its pairing ended before anyone used it (the customer's client closed it)


VOID_REASONS = frozenset(VoidReason)


@frozen
class InviteCode(AppMessage):
    """The customer's client opened a new pairing for a second agent: its code (or why not)."""

    t: ClassVar[str] = "invite_code"
    code: str = ""
    error: str = ""
    #: Seconds until the code lapses unused (0: not said; older clients never say it).
    expires_s: int = 0
    #: The number the colleague who joins with it will have (``viewers`` ids; 0: not said).
    viewer: int = 0
    #: Set (a ``VoidReason``): the code ``code`` (for colleague ``viewer``) no longer works, told
    #: only to an agent whose ``invite`` said ``voids``; empty: a new code, as always.
    void: str = ""


@frozen
class Leave(AppMessage):
    """The agent leaves; the session goes on for the customer and the other agents."""

    t: ClassVar[str] = "leave"


@frozen
class Viewers(AppMessage):
    """Who can see the customer's screen now: ``[{"id", "name", "control", "you", "verified"}]``
    (``verified`` is newer: an older client's rows lack it), and who the customer is being
    asked about (``waiting``: ``[{"id", "name", "verified"}]``; an older client never sends it,
    an older agent ignores it, so its own count of who sees the screen stays right)."""

    t: ClassVar[str] = "viewers"
    viewers: list[dict[str, Any]] = field(default_factory=list)
    waiting: list[dict[str, Any]] = field(default_factory=list)


def viewers_ok(message: Viewers) -> bool:
    """The rows' shapes (untrusted: the customer's client may be anyone's)."""
    return (len(message.viewers) <= MAX_VIEWERS and len(message.waiting) <= MAX_VIEWERS
            and all(_row_ok(v) and isinstance(v.get("control"), bool) and isinstance(v.get("you"), bool)
                    for v in message.viewers)
            and all(_row_ok(v) for v in message.waiting))


def _row_ok(row: Any) -> bool:
    return (isinstance(row, dict) and isinstance(row.get("id"), int) and not isinstance(row.get("id"), bool)
            and isinstance(row.get("name"), str) and len(row["name"]) <= 256
            and isinstance(row.get("verified", False), bool))


def clean_viewers(message: Viewers, name: Callable[[str], str]) -> Viewers:
    """The rows rebuilt from the keys they may hold, each name through ``name`` (the door for
    peer text): nothing else of the peer's reaches an event."""
    return Viewers(
        viewers=[{"id": v["id"], "name": name(v["name"]), "control": v["control"], "you": v["you"], **_verified(v)}
                 for v in message.viewers],
        waiting=[{"id": v["id"], "name": name(v["name"]), **_verified(v)} for v in message.waiting])


def _verified(row: dict[str, Any]) -> dict[str, bool]:
    """The verdict when the customer's client said it (an older one does not: no key, not false)."""
    return {"verified": row["verified"]} if "verified" in row else {}


def invite_code_ok(message: InviteCode, max_error: int) -> bool:
    return (len(message.code) <= 64 and len(message.error) <= max_error
            and 0 <= message.expires_s <= MAX_INVITE_EXPIRY_S and 0 <= message.viewer <= MAX_VIEWER_ID
            and (not message.void or message.void in VOID_REASONS))

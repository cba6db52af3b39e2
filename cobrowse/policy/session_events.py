"""What every session runtime reports, whatever its role: typed events, JSON only at the edge.

``SessionRuntime`` (``cobrowse.io.runtime``) and its mixins emit these: the code, the pairing,
the peer's hello, the relay connection and the peer's presence, the path and the call,
warnings, errors and the end. Each class's ``KIND`` is the headless ``event`` name and its
fields, in order, are the keys printed before they were typed (docs/headless.md), so
``as_json`` gives the same line byte for byte; ``None`` fields are left out. Where one
headless event has two shapes (``peer`` left / back, ``connection`` reconnecting / resumed)
there are two classes, so front ends match on the class, not on ``state``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Mapping

from cobrowse.policy.events import Event, key
from cobrowse.wire.frozen import frozen


class EndReason(StrEnum):
    """Why a session ended, as this side's runtime names it (the peer's ``End`` may name others)."""

    AGENT_ENDED = "agent_ended"
    CUSTOMER_ENDED = "customer_ended"
    COMMAND_EXITED = "command_exited"
    PEER_TIMEOUT = "peer_timeout"
    EXPIRED = "expired"
    SCARED = "scared"
    CLAIM_TIMEOUT = "claim_timeout"
    RENEWED = "renewed"
    PEER_UNRESPONSIVE = "peer_unresponsive"
    WRONG_CODE = "wrong_code"
    RENEW_FAILED = "renew_failed"
    BAD_RESUME = "bad_resume"


class ErrorKind(StrEnum):
    SECURITY = "security"
    WRONG_CODE = "wrong_code"


class WarningKind(StrEnum):
    """The runtime's own warnings; a frame not applied is reported with the session's
    ``Integrity.kind`` (``duplicate``, ``gap``, ...) instead."""

    WRONG_CODE = "wrong_code"
    CLAIM = "claim"
    BUSY = "busy"
    UNAVAILABLE = "unavailable"
    RECLAIM = "reclaim"
    RTC = "rtc"


class PeerState(StrEnum):
    LEFT = "left"
    BACK = "back"


class ConnectionState(StrEnum):
    RECONNECTING = "reconnecting"
    RESUMED = "resumed"


class DataPath(StrEnum):
    RELAY = "relay"
    DIRECT = "direct"


@frozen
class CodeShown(Event):
    """The session's code (again, ``renewed``, after too many wrong guesses at the old one)."""

    KIND = "code"
    code: str = ""
    spoken: str = ""
    customer_command: str = ""
    relay: str = ""
    renewed: bool | None = None
    message: str | None = None


@frozen
class SessionPaired(Event):
    KIND = "paired"
    sas: str = ""


@frozen
class PeerHello(Event):
    """Who is on the other end (their words, untrusted and already cleaned by ``messages.decode``);
    ``lang`` and ``sas_words`` when they said which language they read (``crypto.sas.peer_sas``)."""

    KIND = "hello"
    role: str = ""
    name: str = ""
    client: str = ""
    lang: str | None = None
    sas_words: str | None = None


@frozen
class SessionEnded(Event):
    """The end, with what the role adds (``summary``: the agent's feedback, recording, steps),
    whose keys follow ``message`` in the headless line."""

    KIND = "ended"
    reason: str = ""
    message: str = ""
    summary: Mapping[str, Any] | None = None

    def get(self, name: str, default: Any = None) -> Any:
        """A key of the summary (``feedback``, ``recording``, ``summary``)."""
        return (self.summary or {}).get(name, default)

    def to_json(self) -> dict[str, Any]:
        return {"event": self.KIND, "reason": str(self.reason), "message": self.message, **(self.summary or {})}


@frozen
class SessionError(Event):
    KIND = "error"
    message: str = ""
    kind: ErrorKind | None = None


@frozen
class SessionWarning(Event):
    """One warning shape for all the runtime's warnings; each sets the fields it has."""

    KIND = "warning"
    kind: str = ""
    retry_in_s: float | None = None
    attempt: int | None = None
    limit: int | None = key("of")
    coalesced: bool | None = None
    message: str = ""


@frozen
class PeerLeft(Event):
    """The relay lost the other side; on the direct path (``direct``) the session goes on."""

    KIND = "peer"
    state: PeerState = PeerState.LEFT
    message: str = ""
    direct: bool = False
    grace_s: float | None = None


@frozen
class PeerBack(Event):
    KIND = "peer"
    state: PeerState = PeerState.BACK


@frozen
class Reconnecting(Event):
    """This side lost the relay and tries again; ``cause`` is ``cobrowse.io.link.DropCause``'s value."""

    KIND = "connection"
    state: ConnectionState = ConnectionState.RECONNECTING
    attempt: int = 0
    retry_in_s: float = 0.0
    cause: str = ""
    give_up_in_s: int = 0
    direct: bool = False
    message: str = ""


@frozen
class Resumed(Event):
    KIND = "connection"
    state: ConnectionState = ConnectionState.RESUMED
    peer: bool = False
    message: str = ""


@frozen
class PathChanged(Event):
    """Frames now go over the relay or the direct data channel (``via``: the ICE candidate pair)."""

    KIND = "path"
    path: DataPath = DataPath.RELAY
    reason: str = ""
    via: str | None = None


@frozen
class VoiceChanged(Event):
    """The call's state (``cobrowse.voice.call.CallMachine``'s), as the people should see it."""

    KIND = "voice"
    state: str = "idle"
    muted: bool = False
    remote_muted: bool = False
    reason: str | None = None
    #: Newer: why the other side declined, in its words (``reason`` stays ``declined``).
    detail: str | None = None
    #: Newer, the customer's side in a team: which agent the call is with (``Bob (agent 2)``).
    agent: str | None = None


#: What ``SessionRuntime`` emits, for front ends that match on it.
RuntimeEvent = (CodeShown | SessionPaired | PeerHello | SessionEnded | SessionError | SessionWarning | PeerLeft
                | PeerBack | Reconnecting | Resumed | PathChanged | VoiceChanged)

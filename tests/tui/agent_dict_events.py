"""Headless-shaped dict events as the console's typed events, for tests only.

Nothing in cobrowse emits a dict event any more and the console matches on classes only;
tests/tui/test_untrusted_apps.py builds the events a hostile peer causes in their headless
shape (shared with the plain front ends' test), so it turns them into classes here. What the
console does not show becomes ``None``. (Was tui/agent_legacy.py.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from cobrowse.policy.agent_commands import ConsentLevel
from cobrowse.policy.agent_events import (
    AgentError,
    AgentWarning,
    ChatMessage,
    ConsentChanged,
    IdentityReported,
    Joined,
    SharingChanged,
    Side,
    StepsChanged,
    SuggestionAnswer,
    SuggestionAnswered,
)
from cobrowse.policy.events import Event, LegacyEvent
from cobrowse.policy.session_events import (
    CodeShown,
    DataPath,
    PathChanged,
    PeerBack,
    PeerHello,
    PeerLeft,
    Reconnecting,
    Resumed,
    SessionEnded,
    SessionPaired,
    VoiceChanged,
)

#: Kinds the console shows only as a note in the chat log (and in the facts box).
NOTED = ("recording", "feedback_wait", "receipt", "invite", "viewers")


@dataclass(frozen=True)
class Noted(Event):
    """A dict event shown as its message only (``receipt`` from the audit trail, and the like)."""

    KIND = "note"
    kind: str = ""
    message: str = ""


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _optional(value: Any) -> str | None:
    return None if value is None else str(value)


def _rest(event: Mapping[str, Any], *known: str) -> dict[str, Any]:
    return {k: v for k, v in event.items() if k not in ("event", *known)}


def typed(event: Event | LegacyEvent) -> Event | None:
    """The event as the console's class (a typed event as it is)."""
    if isinstance(event, Event):
        return event
    kind, get = event.get("event"), event.get
    if kind == "hello":
        return PeerHello(_text(get("role")), _text(get("name")), _text(get("client")), _optional(get("lang")),
                         _optional(get("sas_words")))
    if kind == "chat":
        sender = Side.AGENT if get("from") == Side.AGENT else Side.CUSTOMER
        return ChatMessage(sender, _text(get("text")), _optional(get("name")))
    if kind == "identity":
        return IdentityReported(_rest(event))
    if kind == "steps":
        return StepsChanged(_rest(event))
    if kind == "suggestion":
        answer = SuggestionAnswer.PASTED if get("answer") == SuggestionAnswer.PASTED else SuggestionAnswer.DECLINED
        return SuggestionAnswered(int(get("id") or 0), _text(get("command")), answer)
    if kind == "consent":
        level = get("level")
        return ConsentChanged(ConsentLevel(level) if level in set(ConsentLevel) else ConsentLevel.VIEW)
    if kind == "sharing":
        return SharingChanged(bool(get("active")))
    if kind == "voice":
        return VoiceChanged(_text(get("state")), bool(get("muted")), bool(get("remote_muted")), _optional(get("reason")))
    if kind == "warning":
        return AgentWarning(_text(get("kind")), _text(get("message")))
    if kind == "error":
        return AgentError(_text(get("message")), _optional(get("kind")))
    if kind == "ended":
        return SessionEnded(_text(get("reason")), _text(get("message")), _rest(event, "reason", "message") or None)
    return _session(event) or (Noted(str(kind), _text(get("message"))) if kind in NOTED else None)


def _session(event: LegacyEvent) -> Event | None:
    """The runtime's own session events, from dicts (tests and older callers)."""
    kind, get = event.get("event"), event.get
    if kind == "code":
        return CodeShown(_text(get("code")), _text(get("spoken")), _text(get("customer_command")), _text(get("relay")),
                         get("renewed"), _optional(get("message")))
    if kind == "joined":
        return Joined(_text(get("code")))
    if kind == "paired":
        return SessionPaired(_text(get("sas")))
    if kind == "peer":
        if get("state") == "back":
            return PeerBack()
        grace = get("grace_s")
        return PeerLeft(message=_text(get("message")), direct=bool(get("direct")),
                        grace_s=float(grace) if isinstance(grace, (int, float)) else None)
    if kind == "connection":
        if get("state") == "reconnecting":
            return Reconnecting(attempt=int(get("attempt") or 0), retry_in_s=float(get("retry_in_s") or 0.0),
                                cause=_text(get("cause")), give_up_in_s=int(get("give_up_in_s") or 0),
                                direct=bool(get("direct")), message=_text(get("message")))
        return Resumed(peer=bool(get("peer")), message=_text(get("message")))
    if kind == "path":
        return PathChanged(DataPath.DIRECT if get("path") == DataPath.DIRECT else DataPath.RELAY, _text(get("reason")))
    return None

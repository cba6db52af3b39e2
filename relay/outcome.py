"""What the rooms machine tells the server to do: messages to send, sockets to close, and
events for logs, the audit log and metrics. Pure data (relay/rooms.py makes it, relay/outputs.py
applies it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Hashable

from cobrowse.wire.envelope import Message

Key = Hashable

# Websocket close codes the server uses when it applies an Output.
CLOSE_NORMAL = 1000
CLOSE_POLICY = 1008  # after an ``error`` message
CLOSE_GOING_AWAY = 1001  # the relay shuts down
CLOSE_TOO_BIG = 1009  # after ``too_large``


@dataclass(frozen=True)
class Event:
    """Something an admin may want to know: ``kind`` of thing, to which session, details.

    kinds: created, paired, left, resumed, ended (``reason``), killed, refused (``code``),
    reported (a customer reported the session: ``nameplate``, ``by``).
    Details never hold content, tokens or side secrets: names, roles, addresses, counts.
    """

    kind: str
    session: str | None
    data: dict[str, object] = field(default_factory=dict)


@dataclass
class Output:
    """What the server must do: send ``send`` in order, then close each of ``close``."""

    send: list[tuple[Key, Message]] = field(default_factory=list)
    close: list[tuple[Key, int, str]] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.send or self.close or self.events)

    def to(self, key: Key) -> list[Message]:
        """The messages for one connection (tests read outputs this way)."""
        return [m for k, m in self.send if k == key]

    def closes(self, key: Key) -> bool:
        return any(k == key for k, _, _ in self.close)


class Traffic:
    """Frames and bytes forwarded in one session (both directions); the server counts."""

    __slots__ = ("frames", "bytes")

    def __init__(self) -> None:
        self.frames = 0
        self.bytes = 0

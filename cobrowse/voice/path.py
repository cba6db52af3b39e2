"""Which path sealed frames take: the relay, or the direct WebRTC data channel. Pure.

The sealed channel's sequence numbers belong to the session, not to a path, so frames may
take either and a switch loses and duplicates nothing: the receiver applies each sequence
number once, and asks for a resend after a gap. This policy only decides where to send:

- ``relay`` until the data channel opens, then ``direct``;
- back to ``relay`` when the channel closes or fails, or when a frame sent on it had to be
  retransmitted (a path that loses frames is not a path); the session then asks the peer to
  resend whatever was in flight (``Session.path_changed``);
- ``retry()`` allows a new attempt later (a network that dropped may come back); the I/O
  layer bounds how many and how often.
"""

from __future__ import annotations


from cobrowse.crypto.channel import SEALED_KINDS
from cobrowse.wire.frozen import frozen


@frozen
class PathChange:
    path: str
    reason: str
    #: Whether frames went another way before (False: the direct path never carried any).
    moved: bool = True


class PathPolicy:
    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self.path = "relay"
        self.fell_back = False
        self.attempts = 1
        self._changes: list[PathChange] = []

    def direct_open(self) -> None:
        if self.enabled and not self.fell_back and self.path != "direct":
            self.path = "direct"
            self._changes.append(PathChange("direct", "data channel open"))

    def direct_lost(self, reason: str) -> bool:
        """The direct path failed; return whether frames were using it (a resend is due)."""
        was_direct = self.path == "direct"
        if not self.fell_back:
            self.fell_back = True
            self.path = "relay"
            self._changes.append(PathChange("relay", reason, was_direct))
        return was_direct

    def retransmitted(self, count: int) -> bool:
        """``count`` frames needed a retransmission; on the direct path that means it stalled."""
        if count and self.path == "direct":
            return self.direct_lost("frames on the direct path went unacknowledged")
        return False

    def retry(self) -> bool:
        """After a fall back, allow the direct path again; False if there is nothing to retry."""
        if not self.enabled or not self.fell_back:
            return False
        self.fell_back = False
        self.attempts += 1
        return True

    def route(self, frame: bytes) -> str:
        """Where this outgoing frame goes: handshake frames always through the relay."""
        if self.path == "direct" and frame and frame[0] in SEALED_KINDS:
            return "direct"
        return "relay"

    def changes(self) -> list[PathChange]:
        out, self._changes = self._changes, []
        return out

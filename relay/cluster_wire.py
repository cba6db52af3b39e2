"""What relay nodes say to each other over Redis pub/sub, and the session record (no I/O).

With several nodes, a session lives on one node, its *home* (where it was opened, or the
node that took it over when its home was lost). A side that connects to another node is
*proxied*: that node passes everything the client sends to the home and everything the
home answers back, so the home's :class:`relay.rooms.Rooms` sees it as one more
connection. Nodes talk over one pub/sub channel each (``cobrowse:node:<id>``); a message
is a batch of records, so a busy node publishes once per batch, not once per frame::

    batch  = len(source node id) u8, source node id, record*
    record = kind u8, connection id u64, payload length u32, payload

Kinds, from the proxying node to the home: ``OPEN`` (payload: the client's address),
``TEXT`` (a control message), ``BINARY`` (a sealed frame), ``DROP`` (the client's socket
is gone), ``ACK`` (payload: u32, bytes of the home's records written to the client). From
the home to the proxying node: ``TO_TEXT``, ``TO_BINARY``, ``CLOSE`` (payload: close code
u16 + reason), ``TO_ACK`` (bytes of the client's records delivered at the home).

Flow control is a credit window per connection and direction: a sender may have at most
``window`` payload bytes not yet acknowledged; the receiving node acknowledges what it has
handed to the socket (or the peer) on its side. So a slow client holds up only its own
session, what waits anywhere for it is bounded by the window, and back-pressure reaches
the sending client as with one node (its node stops reading from it). The connection id is the proxying node's own number
for its client socket; the direction is in the kind, as a node can be a home for one
node's connection and a proxy towards that node for another with the same number.

The session record in Redis (a hash) holds what another node needs to take the session
over when its home is lost: ids, roles, the sides' resume secrets, the agent token's name.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from typing import Iterator

OPEN, TEXT, BINARY, DROP, ACK = b"O"[0], b"T"[0], b"B"[0], b"D"[0], b"A"[0]  # proxy -> home
TO_TEXT, TO_BINARY, CLOSE, TO_ACK = b"t"[0], b"b"[0], b"C"[0], b"a"[0]  # home -> proxy
KINDS = frozenset((OPEN, TEXT, BINARY, DROP, ACK, TO_TEXT, TO_BINARY, CLOSE, TO_ACK))
HEADER = _HEADER = struct.Struct("!BQI")
MAX_NODE_ID = 64


class BadBatch(ValueError):
    """A pub/sub message that is not a well-formed batch (ignored and logged)."""


#: Every node's help-queue messages (relay/queue_nodes.py): JSON, not batches.
QUEUE_CHANNEL = "cobrowse:queues"


def channel(node_id: str) -> str:
    return f"cobrowse:node:{node_id}"


def session_key(nameplate: str) -> str:
    return f"cobrowse:session:{nameplate}"


def alive_key(node_id: str) -> str:
    return f"cobrowse:alive:{node_id}"


def record(kind: int, conn_id: int, payload: bytes) -> bytes:
    return _HEADER.pack(kind, conn_id, len(payload)) + payload


def batch_head(node_id: str) -> bytes:
    raw = node_id.encode()
    if not 0 < len(raw) <= MAX_NODE_ID:
        raise ValueError(f"a node id is 1 to {MAX_NODE_ID} bytes, got {node_id!r}")
    return bytes((len(raw),)) + raw


def parse_batch(data: bytes) -> tuple[str, Iterator[tuple[int, int, bytes]]]:
    """(source node id, its records); BadBatch if the head is broken (records check lazily)."""
    if not data or len(data) < 1 + data[0] or data[0] == 0:
        raise BadBatch("no source node id")
    n = data[0]
    try:
        source = data[1 : 1 + n].decode()
    except UnicodeDecodeError:
        raise BadBatch("source node id is not UTF-8") from None
    return source, _records(memoryview(data), 1 + n)


def _records(view: memoryview, pos: int) -> Iterator[tuple[int, int, bytes]]:
    end = len(view)
    size = _HEADER.size
    while pos < end:
        if end - pos < size:
            raise BadBatch("a record header is cut")
        kind, conn_id, length = _HEADER.unpack_from(view, pos)
        pos += size
        if kind not in KINDS:
            raise BadBatch(f"unknown record kind {kind}")
        if end - pos < length:
            raise BadBatch("a record payload is cut")
        yield kind, conn_id, bytes(view[pos : pos + length])
        pos += length


def ack_payload(nbytes: int) -> bytes:
    return struct.pack("!I", min(nbytes, 0xFFFFFFFF))


def parse_ack(payload: bytes) -> int:
    return struct.unpack("!I", payload)[0] if len(payload) == 4 else 0


class Credit:
    """A sender's window: bytes sent and not yet acknowledged (pure bookkeeping)."""

    __slots__ = ("window", "unacked")

    def __init__(self, window: int) -> None:
        self.window = window
        self.unacked = 0

    def sent(self, nbytes: int) -> bool:
        """Count a send; True if the sender must now wait for acknowledgements."""
        self.unacked += nbytes
        return self.unacked > self.window

    def acked(self, nbytes: int) -> bool:
        """Count an acknowledgement; True if the sender may go on."""
        self.unacked = max(0, self.unacked - nbytes)
        return self.unacked <= self.window


class Acks:
    """A receiver's side: bytes handed on, acknowledged in chunks (a quarter window) or
    when its queue runs dry, so acknowledgements cost little and never stall a sender."""

    __slots__ = ("chunk", "pending")

    def __init__(self, window: int) -> None:
        self.chunk = max(1, window // 4)
        self.pending = 0

    def delivered(self, nbytes: int, queue_empty: bool) -> int:
        """Bytes to acknowledge now (0: not yet)."""
        self.pending += nbytes
        if self.pending >= self.chunk or (queue_empty and self.pending):
            n, self.pending = self.pending, 0
            return n
        return 0


def close_payload(code: int, reason: str) -> bytes:
    return struct.pack("!H", code) + reason.encode()[:120]


def parse_close(payload: bytes) -> tuple[int, str]:
    if len(payload) < 2:
        return 1011, ""
    return struct.unpack("!H", payload[:2])[0], payload[2:].decode(errors="replace")


@dataclass(frozen=True)
class SessionRecord:
    """A session as Redis holds it: enough for another node to adopt it (no content, ever)."""

    nameplate: str
    home: str
    id: str = ""
    creator_role: str = ""
    creator_token: str = ""
    joiner_role: str = ""
    joiner_token: str = ""
    agent_token: str = ""  # the token's name, "" without one
    created: str = ""  # when it was created, seconds since the epoch ("" in records older than fix9)
    ended: bool = False

    def to_redis(self) -> dict[str, str]:
        out = {k: v for k, v in self.__dict__.items() if k not in ("nameplate", "ended") and v}
        if self.ended:
            out["ended"] = "1"
        return out

    @classmethod
    def from_redis(cls, nameplate: str, fields: dict[bytes, bytes] | dict[str, str]) -> SessionRecord | None:
        """None when Redis has no such key (or a damaged one: no home)."""
        clean = {
            (k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v)
            for k, v in fields.items()
        }
        if not clean.get("home"):
            return None
        known = {k: clean.get(k, "") for k in (
            "home", "id", "creator_role", "creator_token", "joiner_role", "joiner_token", "agent_token", "created",
        )}
        return cls(nameplate=nameplate, ended=clean.get("ended") == "1", **known)

    def age(self, wall: float) -> float:
        """Seconds since the session was created (``wall``: the time now, since the epoch): 0
        for an old record without the time, a damaged one, or a clock ahead of this node's."""
        try:
            created = float(self.created)
        except ValueError:
            return 0.0
        if not (math.isfinite(created) and 0.0 <= created <= wall):
            return 0.0
        return wall - created

    @property
    def adoptable(self) -> bool:
        """Whether a node can take it over: it holds a live session with its secrets."""
        return not self.ended and bool(self.id and self.creator_role and self.creator_token)

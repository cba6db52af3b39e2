"""Where a client's websocket frames begin and end (RFC 6455 §5.2), for the relay's data
frames between two paired sockets. Pure (sans-I/O): bytes in, pieces out.

websockets parses every byte the relay reads. Forwarding a paired socket's binary frame as
it is read (relay/connection.py) needs the frame boundaries without websockets' parser,
whose position in the stream is not part of its API: so :class:`Splitter` follows the
stream itself from the first byte (the upgrade request, then every frame) and, when asked
to split, hands back whole binary frames (unmasked) next to the raw bytes websockets must
still see. websockets only ever receives whole frames, or the rest of a frame it was given
the start of: its parser stays exactly where it would have been, minus the frames taken.
"""

from __future__ import annotations

END_OF_REQUEST = b"\r\n\r\n"  # websockets accepts only CRLF lines and no request body
BINARY_FIN = 0x82  # FIN, no RSV bits, opcode 2: a whole binary message in one frame
_CONT, _TEXT, _BINARY = 0x0, 0x1, 0x2

Piece = tuple[bytes, bytes | None]
"""``(raw, payload)``: ``payload`` None: give ``raw`` to websockets. Else ``raw`` is one
whole binary frame and ``payload`` its unmasked data: forward it, or give ``raw`` to
websockets (then call :meth:`Splitter.declined`)."""


def unmask(data: bytes, mask: bytes) -> bytes:
    """XOR ``data`` with the repeated 4-byte client ``mask`` (one big-integer XOR: C speed)."""
    n = len(data)
    if not n:
        return b""
    key = (mask * (n // 4 + 1))[:n]
    return (int.from_bytes(data, "big") ^ int.from_bytes(key, "big")).to_bytes(n, "big")


def binary_frame(payload: bytes) -> bytes:
    """One unmasked server-to-client binary frame (FIN) carrying ``payload``."""
    n = len(payload)
    if n < 126:
        return bytes((BINARY_FIN, n)) + payload
    if n < 1 << 16:
        return bytes((BINARY_FIN, 126)) + n.to_bytes(2, "big") + payload
    return bytes((BINARY_FIN, 127)) + n.to_bytes(8, "big") + payload


class Splitter:
    """Follows one client connection's byte stream. ``max_payload``: larger binary frames are
    never split out (websockets applies the size limits to them)."""

    __slots__ = ("max_payload", "_in_request", "_tail", "_carry", "_carry_given", "_skip", "_fragmented",
                 "messages_given")

    def __init__(self, max_payload: int) -> None:
        self.max_payload = max_payload
        self._in_request = True
        self._tail = b""  # the request's last bytes read: its end may straddle two reads
        self._carry = b""  # the start of a frame whose header (or whole frame) has not all arrived
        self._carry_given = False  # whether websockets already got ``_carry``
        self._skip = 0  # bytes of the current frame still to come, all for websockets
        self._fragmented = False  # a message in fragments is going to websockets, frame by frame
        #: Whole messages given to websockets (text, binary, or the last fragment): its queue.
        self.messages_given = 0

    def declined(self) -> None:
        """A split-out binary frame went to websockets after all: one more message queued there."""
        self.messages_given += 1

    def feed(self, data: bytes, split: bool) -> list[Piece]:
        """The pieces of ``data``, in order. ``split`` False: only follow the stream (every byte
        goes to websockets, in one piece)."""
        carry = self._carry
        given = len(carry) if self._carry_given else 0
        if carry:
            data = carry + data
            self._carry = b""
        pos = 0
        if self._in_request:
            seen = self._tail + data[given:]
            end = seen.find(END_OF_REQUEST)
            if end < 0:
                self._tail = seen[-3:]
                return [(data[given:], None)]
            self._in_request = False
            pos = given + end + 4 - len(self._tail)
            self._tail = b""
        out: list[Piece] = []
        raw_from = given
        n = len(data)
        while pos < n:
            if self._skip:
                step = min(self._skip, n - pos)
                self._skip -= step
                pos += step
                continue
            if n - pos < 2:
                break
            b0 = data[pos]
            b1 = data[pos + 1]
            size = b1 & 0x7F
            head = 2
            if size == 126:
                head = 4
            elif size == 127:
                head = 10
            if b1 & 0x80:
                head += 4
            if n - pos < head:
                break
            if size == 126:
                size = int.from_bytes(data[pos + 2:pos + 4], "big")
            elif size == 127:
                size = int.from_bytes(data[pos + 2:pos + 10], "big")
            total = head + size
            opcode = b0 & 0x0F
            whole = b0 == BINARY_FIN and b1 & 0x80 and size <= self.max_payload and not self._fragmented
            if opcode in (_TEXT, _BINARY, _CONT):
                self._fragmented = not b0 & 0x80
            if whole and split and pos >= raw_from:
                if n - pos < total:  # keep it back until it is whole
                    break
                if raw_from < pos:
                    out.append((data[raw_from:pos], None))
                out.append((data[pos:pos + total], unmask(data[pos + head:pos + total], data[pos + head - 4:pos + head])))
                pos += total
                raw_from = pos
                continue
            if opcode in (_TEXT, _BINARY, _CONT) and b0 & 0x80:
                self.messages_given += 1
            if n - pos < total:
                self._skip = total - (n - pos)
                pos = n
            else:
                pos += total
        if pos < n:  # an unfinished header, or a whole frame to be split out once it has arrived
            self._carry = data[pos:]
            self._carry_given = not split or pos < raw_from
            if self._carry_given:
                pos = n
        if raw_from < pos:
            out.append((data[raw_from:pos], None))
        return out

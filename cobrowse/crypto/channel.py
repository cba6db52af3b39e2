"""The sealed channel: reliable, in-order, end-to-end authenticated delivery.

Two streams share one direction key, told apart by the frame kind (which is in the nonce
and the authenticated header):

- DATA frames carry application payloads. Their sequence numbers start at 1 and have no
  gaps; each is sealed exactly once and kept until acknowledged, so a retransmission is
  byte-for-byte the original (no nonce is ever reused for different plaintext). The
  receiver applies frame ``n`` only right after ``n-1``: anything older is a duplicate
  (a replay, or a retransmission that crossed an acknowledgement) and anything newer
  means a frame went missing. Neither is applied; both are reported.
- ACK frames carry ``(received_up_to, flags)``. They are not retransmitted and their own
  counter only has to increase, so an old ACK cannot be replayed. The RESEND flag asks the
  peer to send everything after ``received_up_to`` again: after a gap, and after a reconnect.

Sequence numbers belong to the end-to-end channel, not the transport: the same frames can
travel through the relay or a direct path, and a switch of path or a reconnect loses and
duplicates nothing.
"""

from __future__ import annotations

import struct
from collections import OrderedDict
from dataclasses import dataclass

from cobrowse.crypto.aead import Opener, Sealer
from cobrowse.errors import TamperedFrame

DATA = 0x10
ACK = 0x11
SEALED_KINDS = (DATA, ACK)
RESEND = 0x01
_ACK_BODY = struct.Struct(">QB")


@dataclass(frozen=True)
class Delivered:
    seq: int
    payload: bytes


@dataclass(frozen=True)
class Duplicate:
    """A frame older than the next expected one: not applied."""

    seq: int
    expected: int


@dataclass(frozen=True)
class Gap:
    """A frame newer than the next expected one: not applied, a resend is needed."""

    seq: int
    expected: int


@dataclass(frozen=True)
class StaleAck:
    """An acknowledgement whose counter did not increase (a replay): ignored."""

    seq: int


@dataclass(frozen=True)
class Acknowledged:
    up_to: int


ChannelEvent = Delivered | Duplicate | Gap | Acknowledged | StaleAck


class SecureChannel:
    """Both directions of one paired session, for one side."""

    def __init__(self, send_key: bytes, receive_key: bytes, *, retransmit_after: float = 2.0) -> None:
        self._sealer = Sealer(send_key)
        self._opener = Opener(receive_key)
        self.retransmit_after = retransmit_after
        self.next_send = 1
        self.next_expected = 1
        self._ack_send = 0
        self._ack_seen = 0
        self._unacked: OrderedDict[int, tuple[bytes, float]] = OrderedDict()
        self.peer_has = 0
        self._resend_asked_for = -1
        self._last_acked_sent = 0

    # sending

    def seal(self, payload: bytes, now: float) -> bytes:
        seq = self.next_send
        self.next_send += 1
        frame = self._sealer.seal(DATA, seq, payload)
        self._unacked[seq] = (frame, now)
        return frame

    def unacked_bytes(self) -> int:
        return sum(len(frame) for frame, _ in self._unacked.values())

    def ack(self, *, resend: bool = False) -> bytes:
        """An ACK frame for what arrived so far; with ``resend``, ask for the rest again."""
        self._ack_send += 1
        self._last_acked_sent = self.next_expected - 1
        body = _ACK_BODY.pack(self.next_expected - 1, RESEND if resend else 0)
        return self._sealer.seal(ACK, self._ack_send, body)

    def ack_due(self) -> bool:
        return self.next_expected - 1 > self._last_acked_sent

    def retransmit_due(self, now: float) -> list[bytes]:
        """Frames unacknowledged for too long: resend them (duplicates are harmless)."""
        out = []
        for seq, (frame, sent_at) in self._unacked.items():
            if now - sent_at >= self.retransmit_after:
                out.append(frame)
                self._unacked[seq] = (frame, now)
        return out

    # receiving

    def open(self, frame: bytes, now: float) -> tuple[ChannelEvent, list[bytes]]:
        """Open one sealed frame; return its event and the frames to send in answer.

        Raises TamperedFrame for anything that does not authenticate: the session must end.
        """
        kind, seq, plain = self._opener.open(frame)
        if kind == ACK:
            return self._open_ack(seq, plain, now)
        if kind != DATA:
            raise TamperedFrame("a sealed frame of an unknown kind arrived")
        if seq == self.next_expected:
            self.next_expected += 1
            self._resend_asked_for = -1
            return Delivered(seq, plain), []
        if seq < self.next_expected:
            # The sender retransmitted: our acknowledgement was lost. Repeat it.
            return Duplicate(seq, self.next_expected), [self.ack()]
        answer = []
        if self._resend_asked_for != self.next_expected:
            self._resend_asked_for = self.next_expected
            answer.append(self.ack(resend=True))
        return Gap(seq, self.next_expected), answer

    def _open_ack(self, seq: int, plain: bytes, now: float) -> tuple[ChannelEvent, list[bytes]]:
        if seq <= self._ack_seen:
            return StaleAck(seq), []
        if len(plain) != _ACK_BODY.size:
            raise TamperedFrame("an acknowledgement had the wrong size")
        self._ack_seen = seq
        up_to, flags = _ACK_BODY.unpack(plain)
        if up_to >= self.next_send:
            raise TamperedFrame("the peer acknowledged frames that were never sent")
        while self._unacked and next(iter(self._unacked)) <= up_to:
            self._unacked.popitem(last=False)
        self.peer_has = max(self.peer_has, up_to)
        answer = []
        if flags & RESEND:
            for seq_, (frame, _) in self._unacked.items():
                answer.append(frame)
                self._unacked[seq_] = (frame, now)
        return Acknowledged(up_to), answer

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
  A duplicate is answered with an ACK (the sender evidently missed ours), but only when that
  ACK says more than the last one sent, or none answered a duplicate within
  ``duplicate_ack_every``: a relay replaying a frame a thousand times gets at most one ACK
  per interval back, not one per replay, while a genuine retransmission (at most one round
  per ``retransmit_after``, 4 times the interval) still gets its own.
- DATA_ACKED frames are DATA frames (same sequence numbers, same rules) whose sealed
  plaintext starts with the sender's ``received_up_to`` (8 bytes): the acknowledgement rides
  inside the frame that answers, so a key and its echo need no ACK frames of their own. A
  side sends them only once the peer said it reads them (the CARRIES flag in the peer's
  ACK; a channel from before this flag ignores unknown flags and never sets it, so it never
  receives a DATA_ACKED frame). The carried value is authenticated with the frame; it is
  taken from a frame that is applied (in order, exactly once), and it can only move the
  acknowledged point forward, so a replayed or retransmitted frame's older value changes
  nothing.

Sequence numbers belong to the end-to-end channel, not the transport: the same frames can
travel through the relay or a direct path, and a switch of path or a reconnect loses and
duplicates nothing.

The peer is not trusted to be reasonable, so what it can make this side send is bounded
(a peer that never acknowledged made the relay carry 24.6 MB of retransmissions in 120 s,
and tiny "resend everything" ACKs 63 MB a minute):

- **a window**: at most ``max_unacked_frames`` / ``max_unacked_bytes`` in flight. Frames
  sealed past it are held (sealed once, in order) and go out as acknowledgements make room:
  a peer that stops acknowledging stalls the sender instead of receiving more;
- **retransmission backoff**: a frame is retransmitted ``retransmit_after`` after it was
  sent, again ``retransmit_after`` later, then at doubling intervals up to ``max_backoff``;
- **RESEND is paced**: it retransmits a frame at once only if that frame was not
  (re)transmitted within the last ``retransmit_after`` seconds, so a flood of RESENDs
  retransmits each frame at most once per interval, and it counts as a retransmission;
- **an end**: a frame that was retransmitted ``max_tries`` times and is due again marks the
  channel :attr:`SecureChannel.stalled` (so do held frames past ``max_held_bytes``); the
  session ends with that reason. Retransmissions only happen while the peer is present, so
  a peer that is merely away (its grace period on the relay) does not count.

Per frame and per ``max_tries`` at most ``max_tries`` copies go out again: in all, at most
``max_tries`` windows of retransmissions before the session ends.
"""

from __future__ import annotations

import struct
from collections import OrderedDict, deque

from cobrowse.crypto.aead import Opener, Sealer
from cobrowse.errors import TamperedFrame
from cobrowse.wire.frozen import frozen

DATA = 0x10
ACK = 0x11
DATA_ACKED = 0x12
SEALED_KINDS = (DATA, ACK, DATA_ACKED)
RESEND = 0x01
#: In an ACK's flags: this side reads DATA_ACKED frames (older channels ignore the bit).
CARRIES = 0x02
_ACK_BODY = struct.Struct(">QB")
_CARRIED = struct.Struct(">Q")

MAX_UNACKED_FRAMES = 256
MAX_UNACKED_BYTES = 256 * 1024
MAX_HELD_BYTES = 4 * 1024 * 1024
MAX_BACKOFF = 30.0
MAX_TRIES = 6  # with retransmit_after=2: copies at 2, 4, 8, 16, 32, 62 s; stalled at 92 s
#: At most one ACK per this many seconds answers duplicates that bring nothing new: a quarter
#: of the 2 s a sender waits at least between two retransmissions of a frame.
DUPLICATE_ACK_EVERY = 0.5


@frozen
class Delivered:
    seq: int
    payload: bytes


@frozen
class Duplicate:
    """A frame older than the next expected one: not applied."""

    seq: int
    expected: int


@frozen
class Gap:
    """A frame newer than the next expected one: not applied, a resend is needed."""

    seq: int
    expected: int


@frozen
class StaleAck:
    """An acknowledgement whose counter did not increase (a replay): ignored."""

    seq: int


@frozen
class Acknowledged:
    up_to: int


ChannelEvent = Delivered | Duplicate | Gap | Acknowledged | StaleAck


class _Pending:
    """A frame in flight: when it last went out and how many times it went out again."""

    __slots__ = ("frame", "sent_at", "tries")

    def __init__(self, frame: bytes, sent_at: float) -> None:
        self.frame = frame
        self.sent_at = sent_at
        self.tries = 0


class SecureChannel:
    """Both directions of one paired session, for one side."""

    def __init__(
        self, send_key: bytes, receive_key: bytes, *, retransmit_after: float = 2.0,
        max_unacked_frames: int = MAX_UNACKED_FRAMES, max_unacked_bytes: int = MAX_UNACKED_BYTES,
        max_held_bytes: int = MAX_HELD_BYTES, max_backoff: float = MAX_BACKOFF, max_tries: int = MAX_TRIES,
        carry_acks: bool = True, duplicate_ack_every: float = DUPLICATE_ACK_EVERY,
    ) -> None:
        """``carry_acks=False``: the format before DATA_ACKED (no CARRIES flag, DATA_ACKED
        refused), as an older peer speaks it."""
        self._sealer = Sealer(send_key)
        self._opener = Opener(receive_key)
        self.retransmit_after = retransmit_after
        self.max_unacked_frames = max_unacked_frames
        self.max_unacked_bytes = max_unacked_bytes
        self.max_held_bytes = max_held_bytes
        self.max_backoff = max(max_backoff, retransmit_after)
        self.max_tries = max_tries
        self.next_send = 1
        self.next_expected = 1
        self._ack_send = 0
        self._ack_seen = 0
        self._unacked: OrderedDict[int, _Pending] = OrderedDict()
        self._in_flight = 0  # bytes in _unacked
        self._held: deque[bytes] = deque()  # sealed, waiting for room in the window, in order
        self._held_bytes = 0
        self.peer_has = 0
        self._resend_asked_for = -1
        self._last_acked_sent = 0
        self.duplicate_ack_every = duplicate_ack_every
        self._duplicate_acked_at = float("-inf")
        #: Why the peer is considered gone although the relay says it is there (None: it is not).
        self.stalled: str | None = None
        #: Bytes retransmitted so far (timer and RESEND), for tests and figures.
        self.retransmitted_bytes = 0
        self.carry_acks = carry_acks
        #: The peer reads DATA_ACKED frames (its ACK said so): frames sent now carry our ACK.
        self.peer_carries = False
        #: When the path last showed it loses frames (this side retransmitted, met a gap and
        #: asked for a resend, or was asked for one): the peer's honest copies cross ours for a
        #: while after it, so duplicates then are expected, not evidence of a replay.
        self.loss_seen_at = float("-inf")

    # sending

    def seal(self, payload: bytes, now: float) -> bytes | None:
        """Seal the next DATA frame; None when the window is full (it is held and goes out,
        in order, among the frames an acknowledgement answers)."""
        seq = self.next_send
        self.next_send += 1
        carried = self.peer_carries and self.carry_acks
        if carried:
            frame = self._sealer.seal(DATA_ACKED, seq, _CARRIED.pack(self.next_expected - 1) + payload)
        else:
            frame = self._sealer.seal(DATA, seq, payload)
        if self._held or not self._room():
            self._held.append(frame)
            self._held_bytes += len(frame)
            if self._held_bytes > self.max_held_bytes and self.stalled is None:
                self.stalled = (f"the other side acknowledged nothing while {self._held_bytes} bytes waited "
                                "to be sent to it")
            return None
        self._track(seq, frame, now)
        if carried:
            self._last_acked_sent = self.next_expected - 1
        return frame

    @property
    def window_full(self) -> bool:
        """Whether what is sealed now is held: a sender that can coalesce should wait."""
        return bool(self._held) or not self._room()

    def unacked_bytes(self) -> int:
        return self._in_flight + self._held_bytes

    def _room(self) -> bool:
        return len(self._unacked) < self.max_unacked_frames and self._in_flight < self.max_unacked_bytes

    def _track(self, seq: int, frame: bytes, now: float) -> None:
        self._unacked[seq] = _Pending(frame, now)
        self._in_flight += len(frame)

    def _interval(self, tries: int) -> float:
        """How long after its last copy a frame is due again (first two equal, then doubling)."""
        return min(self.retransmit_after * 2.0 ** max(0, tries - 1), self.max_backoff)

    def ack(self, *, resend: bool = False) -> bytes:
        """An ACK frame for what arrived so far; with ``resend``, ask for the rest again."""
        self._ack_send += 1
        self._last_acked_sent = self.next_expected - 1
        body = _ACK_BODY.pack(self.next_expected - 1, (RESEND if resend else 0) | (CARRIES if self.carry_acks else 0))
        return self._sealer.seal(ACK, self._ack_send, body)

    def ack_due(self) -> bool:
        return self.next_expected - 1 > self._last_acked_sent

    def retransmit_due(self, now: float) -> list[bytes]:
        """Frames unacknowledged for too long: resend them (duplicates are harmless).

        A frame already sent ``max_tries`` times again is not: the channel is stalled."""
        out = []
        for p in self._unacked.values():
            if now >= p.sent_at + self._interval(p.tries):  # (as retransmit_at adds: the same float)
                if p.tries >= self.max_tries:
                    if self.stalled is None:
                        self.stalled = f"the other side acknowledged nothing after {p.tries} retransmissions"
                    break
                out.append(self._again(p, now))
        return out

    def retransmit_at(self) -> float | None:
        """When ``retransmit_due`` next has a frame to give (None: nothing in flight), so that a
        caller may sleep until then instead of asking at a fixed pace."""
        if not self._unacked:
            return None
        return min(p.sent_at + self._interval(p.tries) for p in self._unacked.values())

    def _again(self, p: _Pending, now: float) -> bytes:
        p.sent_at = now
        p.tries += 1
        self.loss_seen_at = now
        self.retransmitted_bytes += len(p.frame)
        return p.frame

    def peer_back(self, now: float) -> None:
        """The peer is attached again after being away (a drop, a relay restart): what it
        never acknowledged starts a fresh count of retransmissions. Frames retransmitted
        into a connection that was already dead (a partition is noticed only after the
        keepalive times out) must not count towards :attr:`stalled`: the bound is for a
        peer that is present and does not acknowledge, and each fresh count costs the peer
        a reconnect."""
        for p in self._unacked.values():
            p.tries = 0
            p.sent_at = min(p.sent_at, now - self.retransmit_after)

    # receiving

    def open(self, frame: bytes, now: float) -> tuple[ChannelEvent, list[bytes]]:
        """Open one sealed frame; return its event and the frames to send in answer.

        Raises TamperedFrame for anything that does not authenticate: the session must end.
        """
        kind, seq, plain = self._opener.open(frame)
        if kind == ACK:
            return self._open_ack(seq, plain, now)
        if kind == DATA_ACKED and self.carry_acks:
            if len(plain) < _CARRIED.size:
                raise TamperedFrame("a frame with an acknowledgement was too short for one")
        elif kind != DATA:
            raise TamperedFrame("a sealed frame of an unknown kind arrived")
        if seq == self.next_expected:
            self.next_expected += 1
            self._resend_asked_for = -1
            if kind == DATA:
                return Delivered(seq, plain), []
            (up_to,) = _CARRIED.unpack_from(plain)
            return Delivered(seq, plain[_CARRIED.size:]), self._acknowledged(up_to, now)
        if seq < self.next_expected:
            return Duplicate(seq, self.next_expected), self._answer_duplicate(now)
        answer = []
        self.loss_seen_at = now
        if not self.resend_pending():
            self._resend_asked_for = self.next_expected
            answer.append(self.ack(resend=True))
        return Gap(seq, self.next_expected), answer

    def resend_pending(self) -> bool:
        """This side asked for a resend after a gap and the frame it waits for has not come:
        further gaps until it comes are the same loss, not new evidence."""
        return self._resend_asked_for == self.next_expected

    def _answer_duplicate(self, now: float) -> list[bytes]:
        """The sender retransmitted (our acknowledgement was lost) or the relay replayed: one
        ACK, unless the last one already said as much and went out within the interval."""
        if not self.ack_due() and now - self._duplicate_acked_at < self.duplicate_ack_every:
            return []
        self._duplicate_acked_at = now
        return [self.ack()]

    def _open_ack(self, seq: int, plain: bytes, now: float) -> tuple[ChannelEvent, list[bytes]]:
        if seq <= self._ack_seen:
            return StaleAck(seq), []
        if len(plain) != _ACK_BODY.size:
            raise TamperedFrame("an acknowledgement had the wrong size")
        self._ack_seen = seq
        up_to, flags = _ACK_BODY.unpack(plain)
        if flags & CARRIES:
            self.peer_carries = True
        self._forget(up_to)
        answer = []
        if flags & RESEND:
            self.loss_seen_at = now
            for p in self._unacked.values():
                if p.tries == 0 or now - p.sent_at >= self.retransmit_after:
                    if p.tries < self.max_tries:
                        answer.append(self._again(p, now))
        return Acknowledged(up_to), answer + self._release(now)

    def _acknowledged(self, up_to: int, now: float) -> list[bytes]:
        """An acknowledgement carried in a DATA_ACKED frame: the held frames it makes room for."""
        self._forget(up_to)
        return self._release(now)

    def _forget(self, up_to: int) -> None:
        """The peer has every frame up to ``up_to``: stop keeping them."""
        if up_to >= self.next_send:
            raise TamperedFrame("the peer acknowledged frames that were never sent")
        while self._unacked and next(iter(self._unacked)) <= up_to:
            _, p = self._unacked.popitem(last=False)
            self._in_flight -= len(p.frame)
        self.peer_has = max(self.peer_has, up_to)

    def _release(self, now: float) -> list[bytes]:
        """Held frames that fit in the window now, in order, to send."""
        answer = []
        while self._held and self._room():
            frame = self._held.popleft()
            self._held_bytes -= len(frame)
            self._track(self.next_send - len(self._held) - 1, frame, now)
            answer.append(frame)
        return answer

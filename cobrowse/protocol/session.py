"""The Session machine: one side of a paired, sealed conversation. Pure (sans-I/O).

It joins the handshake and the sealed channel and speaks application messages. The I/O
layer tells it what the relay said (peer joined/left/back), feeds it binary frames, and
sends whatever ``data_to_send()`` returns; ``events_received()`` says what happened.

States: ``know_code`` (waiting for the peer) → ``know_key``/handshaking → ``paired`` →
``closed``; any failed cryptographic check → ``scared``. After pairing, ``scared`` is
terminal: the caller must end the session and tell the user. Before pairing it ends only
this attempt (:attr:`Session.retryable`): the side that created the session calls
:meth:`Session.reset` once the relay let the failed claimant go, and waits for the next
one with fresh SPAKE2 randomness on the same code; nothing of the failed attempt (its
randomness, the peer's message, keys) survives a reset.
"""

from __future__ import annotations

from typing import Callable, Protocol

from cobrowse.crypto.channel import Delivered, Duplicate, Gap, SecureChannel, StaleAck
from cobrowse.crypto.handshake import HANDSHAKE_KINDS, Confirmed, Handshake
from cobrowse.errors import SecurityError, TamperedFrame
from cobrowse.protocol import messages
from cobrowse.protocol.messages import AppMessage, MalformedPayload
from cobrowse.wire.code import Code
from cobrowse.wire.frozen import frozen

ACK_DELAY = 0.05
#: An acknowledgement waiting at least this long leaves with the next frame this side sends
#: (in the same wake-up) instead of waking the loop at ACK_DELAY for a frame of its own.
#: With a peer that reads DATA_ACKED frames (crypto/channel.py) every DATA frame carries
#: the acknowledgement itself, and an ACK frame goes only when nothing was sent for ACK_DELAY.
ACK_RIDE = 0.03
#: A screen frame (the customer's screen, to an agent that may only be watching, so that
#: nothing of its own carries the acknowledgement) is acknowledged this late: one ACK frame
#: for ~4 frames at the steady 15 frames/s instead of one each (a stand-alone ACK is a
#: wake-up, a websocket read and an open on the customer, the relay and this side). Any
#: other message (a key's answer, End, Leave: what ``settle()`` waits on) brings the
#: acknowledgement back to ACK_DELAY, and so do LAZY_FRAMES frames or LAZY_BYTES waiting,
#: far below the sender's window (256 frames / 256 KiB), so it never stalls on us.
SCREEN_ACK_DELAY = 0.25
LAZY_FRAMES = 8
#: How long after the path last lost frames (SecureChannel.loss_seen_at) duplicates and gaps
#: are taken for the honest peer's retransmissions crossing ours: its timer resends after 2
#: and 4 s, so copies of what an outage held up arrive within this.
LOSS_EXPLAINS = 10.0
LAZY_BYTES = 64 * 1024


@frozen
class Paired:
    sas: str


@frozen
class Received:
    message: AppMessage


@frozen
class Integrity:
    """Something arrived that must not be applied: a replay, a gap, an injected frame."""

    kind: str
    detail: str
    #: A duplicate or gap the path's own recent loss explains (the peer's honest copies of
    #: frames a relay-side outage held up): counted against the hostile bound, not shown.
    expected: bool = False


SessionEvent = Paired | Received | Integrity


class PairingHandshake(Protocol):
    """What a session needs of a handshake: SPAKE2 on a code (``Handshake``) or the help
    queue's signed exchange (``cobrowse.crypto.handshake_queue.QueueHandshake``)."""

    state: str

    def data_to_send(self) -> list[bytes]: ...
    def events_received(self) -> list[Confirmed]: ...
    def receive_data(self, frame: bytes) -> None: ...
    def resend(self) -> None: ...
    @property
    def peer_tried(self) -> bool: ...


class Session:
    def __init__(self, role: str, code: Code, entropy: Callable[[int], bytes], *,
                 handshake: Callable[[], PairingHandshake] | None = None, carry_acks: bool = True) -> None:
        """``handshake``: makes each attempt's handshake (default: SPAKE2 on ``code``);
        ``carry_acks=False``: the channel format before DATA_ACKED (an older peer, for tests)."""
        self.role = role
        self.code = code
        self.state = "know_code"
        self.sas: str | None = None
        #: Once paired: this session's binding value (``SessionKeys.binding``), for identity proofs.
        self.binding: bytes | None = None
        self._entropy = entropy
        self._carry_acks = carry_acks
        self._new_handshake: Callable[[], PairingHandshake] = (
            handshake if handshake is not None else lambda: Handshake(role, code, entropy))
        self._handshake = self._new_handshake()
        self._channel: SecureChannel | None = None
        self._outbox: list[bytes] = []
        self._events: list[SessionEvent] = []
        self._queued: list[AppMessage] = []
        self._ack_at: float | None = None
        self._ack_since = 0.0  # when the oldest frame not acknowledged yet arrived
        self._unacked_in = 0  # frames and bytes received since the last acknowledgement
        self._unacked_in_bytes = 0
        self.peer_present = False
        #: ``begin`` sent the handshake with the claim: the relay's first "joined" needs no resend.
        self._sent_early = False
        #: Frames taken in and handed out, in bytes, whichever path carried them (relay or direct).
        self.bytes_received = 0
        self.bytes_sent = 0

    # I/O layer -> machine

    def begin(self) -> list[bytes]:
        """The claimant's opening frames (its SPAKE2 message), to send right behind its claim
        on the same connection: they depend on nothing from the peer, and the relay handles one
        connection's frames in order, so they reach the creator just after its "joined" (a
        refused claim drops them). Saves the round trip of waiting for ``claimed`` first."""
        if self.state != "know_code":
            raise ValueError(f"begin() is for a fresh attempt, not one {self.state}")
        self.state = "handshaking"
        self._sent_early = True
        return self._handshake.data_to_send()

    def peer_joined(self, now: float) -> None:
        """The relay says the peer is attached (first time or again)."""
        self.peer_present = True
        if self.state == "know_code":
            self.state = "handshaking"
            self._outbox.extend(self._handshake.data_to_send())
        elif self.state == "handshaking" and self._sent_early:
            self._sent_early = False  # the "joined" that answers our claim: begin() already sent it
        elif self.state == "handshaking":
            self._handshake.resend()
            self._outbox.extend(self._handshake.data_to_send())
        elif self.state == "paired":
            assert self._channel is not None
            self._channel.peer_back(now)
            self._outbox.append(self._channel.ack(resend=True))

    def peer_left(self) -> None:
        self.peer_present = False

    @property
    def retryable(self) -> bool:
        """Scared before any pairing: only this attempt failed; the code may still pair."""
        return self.state == "scared" and self._channel is None

    @property
    def peer_tried(self) -> bool:
        """Whether the current attempt's peer made its guess (sent its SPAKE2 message)."""
        return self._channel is None and self._handshake.peer_tried

    def reset(self) -> None:
        """Start a fresh attempt on the same code: new SPAKE2 randomness, nothing of the old
        one kept, waiting for the next peer. Only before pairing: a paired session that
        failed a check stays scared (ValueError)."""
        if self._channel is not None or self.state == "closed":
            raise ValueError(f"a session cannot start over once {self.state}")
        self._handshake = self._new_handshake()
        self.state = "know_code"
        self.peer_present = False
        self._sent_early = False
        self._outbox.clear()

    def receive_data(self, frame: bytes, now: float) -> None:
        """Take one binary frame from the link. Raises SecurityError (state turns scared)."""
        if self.state in ("scared", "closed") or not frame:
            return
        self.bytes_received += len(frame)
        try:
            if frame[0] in HANDSHAKE_KINDS:
                self._receive_handshake(frame, now)
            elif self._channel is None:
                self._events.append(Integrity("early", "a sealed frame arrived before pairing; ignored"))
            else:
                self._receive_sealed(frame, now)
        except SecurityError:
            self.state = "scared"
            self._outbox.clear()
            raise

    def send(self, message: AppMessage, now: float) -> None:
        """Seal and queue a message; before pairing it waits, and goes out once paired."""
        if self.state in ("scared", "closed"):
            return
        if self._channel is None:
            self._queued.append(message)
            return
        self._outbox.extend(self._seal(message, now))
        if self._ack_at is not None and not self._channel.ack_due():
            self._ack_at = None  # the frame carried it (DATA_ACKED)
        elif self._ack_at is not None and now >= self._ack_since + ACK_RIDE:
            self._ack_at = None
            if self._channel.ack_due():
                self._outbox.append(self._channel.ack())

    def _seal(self, message: AppMessage, now: float) -> list[bytes]:
        frame = self._channel.seal(messages.encode(message), now) if self._channel is not None else None
        return [frame] if frame is not None else []  # None: held until the peer makes room

    @property
    def stalled(self) -> str | None:
        """Why the peer counts as gone although the relay says it is there (None: it does not)."""
        return self._channel.stalled if self._channel is not None else None

    @property
    def window_full(self) -> bool:
        """Whether what is sent now waits for the peer's acknowledgements (coalesce meanwhile)."""
        return self._channel is not None and self._channel.window_full

    def tick(self, now: float) -> int:
        """Send a pending acknowledgement and retransmit what waited too long; return how many
        frames were retransmitted (a path that needs retransmissions is not working)."""
        if self._channel is None or self.state != "paired":
            return 0
        if self._ack_at is not None and now >= self._ack_at:
            self._ack_at = None
            if self._channel.ack_due():
                self._outbox.append(self._channel.ack())
        if not self.peer_present:
            return 0
        again = self._channel.retransmit_due(now)
        self._outbox.extend(again)
        return len(again)

    def path_changed(self) -> None:
        """The path sealed frames took went away (the direct path closed or stalled): frames
        in flight on it may be lost, so ask the peer to resend everything after what we have.
        Sequence numbers make the resent copies harmless if they did arrive."""
        if self._channel is not None and self.state == "paired":
            self._outbox.append(self._channel.ack(resend=True))

    def next_deadline(self) -> float | None:
        return self._ack_at

    def retransmit_at(self) -> float | None:
        """When ``tick`` next has a frame to retransmit (None: none in flight, or the peer away).
        Frames sent from a callback (io/customer.py) do not keep the ticker at its busy pace, so
        a retransmission is a deadline of its own, not something a pass finds by chance."""
        if self._channel is None or self.state != "paired" or not self.peer_present:
            return None
        return self._channel.retransmit_at()

    def close(self) -> None:
        self.state = "closed"

    # machine -> I/O layer

    def data_to_send(self) -> list[bytes]:
        out, self._outbox = self._outbox, []
        self.bytes_sent += sum(map(len, out))
        return out

    def not_sent(self, frames: list[bytes]) -> None:
        """Frames from ``data_to_send`` the I/O layer could not write at once: first again,
        ahead of anything newer, for its next ``data_to_send``."""
        self.bytes_sent -= sum(map(len, frames))
        self._outbox[:0] = frames

    def events_received(self) -> list[SessionEvent]:
        out, self._events = self._events, []
        return out

    @property
    def unacked_bytes(self) -> int:
        return self._channel.unacked_bytes() if self._channel else 0

    # internals

    def _receive_handshake(self, frame: bytes, now: float) -> None:
        if self.state == "know_code":
            self.state = "handshaking"
            self._outbox.extend(self._handshake.data_to_send())
        self._handshake.receive_data(frame)
        self._outbox.extend(self._handshake.data_to_send())
        for event in self._handshake.events_received():
            self._on_confirmed(event, now)

    def _on_confirmed(self, event: Confirmed, now: float) -> None:
        keys = event.keys
        self._channel = SecureChannel(keys.sending(self.role), keys.receiving(self.role), carry_acks=self._carry_acks)
        self.state = "paired"
        self.sas = event.sas
        self.binding = keys.binding
        self._events.append(Paired(event.sas))
        queued, self._queued = self._queued, []
        for message in queued:
            self._outbox.extend(self._seal(message, now))

    def _ack_after(self, now: float, size: int, *, lazy: bool) -> None:
        """Plan the acknowledgement of a frame just applied: ACK_DELAY, or SCREEN_ACK_DELAY
        for a screen frame while few frames wait for it (never later than already planned)."""
        if self._ack_at is None:
            self._ack_since = now
            self._unacked_in = self._unacked_in_bytes = 0
        self._unacked_in += 1
        self._unacked_in_bytes += size
        if self._unacked_in >= LAZY_FRAMES or self._unacked_in_bytes >= LAZY_BYTES:
            due = now
        else:
            due = self._ack_since + (SCREEN_ACK_DELAY if lazy else ACK_DELAY)
        if self._ack_at is None or due < self._ack_at:
            self._ack_at = due

    def _receive_sealed(self, frame: bytes, now: float) -> None:
        assert self._channel is not None
        channel = self._channel
        lossy = now - channel.loss_seen_at < LOSS_EXPLAINS  # before this frame's own gap says so
        pending = channel.resend_pending()
        event, answer = channel.open(frame, now)
        self._outbox.extend(answer)
        if isinstance(event, Delivered):
            try:
                message = messages.decode(event.payload, messages.RECEIVING.get(self.role, messages.FROM_CUSTOMER))
            except MalformedPayload as exc:
                self._ack_after(now, len(frame), lazy=False)
                self._events.append(Integrity("malformed", str(exc)))
                return
            self._ack_after(now, len(frame), lazy=isinstance(message, messages.Screen))
            self._events.append(Received(message))
        elif isinstance(event, Duplicate):
            self._events.append(
                Integrity("duplicate", f"frame #{event.seq} arrived again (a replay or a late retransmission); ignored",
                          lossy)
            )
        elif isinstance(event, Gap):
            self._events.append(
                Integrity("gap", f"frame #{event.seq} arrived before #{event.expected}; not applied, asked for a resend",
                          lossy or pending)
            )
        elif isinstance(event, StaleAck):
            self._events.append(Integrity("replayed_ack", f"acknowledgement #{event.seq} arrived again; ignored"))


__all__ = ["Session", "Paired", "Received", "Integrity", "SessionEvent", "TamperedFrame"]

"""What a peer can make this side send: a bounded window, paced RESENDs, and an end.

Before these bounds a peer that never acknowledged made the relay carry 24.6 MB of
retransmissions in 120 s, and tiny "resend everything" ACKs 63 MB a minute.
"""

from __future__ import annotations

import struct

from cobrowse.crypto.aead import Sealer
from cobrowse.crypto.channel import (
    ACK,
    MAX_TRIES,
    MAX_UNACKED_BYTES,
    MAX_UNACKED_FRAMES,
    RESEND,
    Delivered,
    SecureChannel,
)

K_AB = bytes(range(32))
K_BA = bytes(range(32, 64))
PAYLOAD = b"x" * 1000  # a screen diff's size
FRAME = 9 + len(PAYLOAD) + 16


def ack_frame(counter: int, up_to: int, resend: bool) -> bytes:
    """What a hostile peer can send: any properly sealed ACK (it holds the key)."""
    return Sealer(K_BA).seal(ACK, counter, struct.pack(">QB", up_to, RESEND if resend else 0))


def test_a_peer_that_never_acknowledges_stalls_the_sender_and_ends_it() -> None:
    a = SecureChannel(K_AB, K_BA)
    sent = 0
    now = 0.0
    for step in range(4000):  # 200 s of a 30 frames/s sender, ticking every 50 ms
        now = step * 0.05
        if step % 2 == 0:
            frame = a.seal(PAYLOAD, now)
            sent += len(frame) if frame is not None else 0
        sent += sum(len(f) for f in a.retransmit_due(now))
        if a.stalled is not None:
            break
    assert a.stalled is not None and "acknowledged nothing" in a.stalled
    originals = sent - a.retransmitted_bytes
    assert originals <= MAX_UNACKED_BYTES + FRAME
    assert a.retransmitted_bytes <= MAX_TRIES * (MAX_UNACKED_BYTES + FRAME)
    assert sent < 2_000_000  # was 24.6 MB in 120 s
    assert a.window_full


def test_a_flood_of_resend_acks_retransmits_each_frame_at_most_once_per_interval() -> None:
    a = SecureChannel(K_AB, K_BA)
    for _ in range(MAX_UNACKED_FRAMES):
        assert a.seal(PAYLOAD, 0.0) is not None
    window = MAX_UNACKED_FRAMES * FRAME
    resent = 0
    counter = 0
    for step in range(60 * 200):  # a minute of 200 tiny RESEND ACKs a second, no progress
        counter += 1
        _, answer = a.open(ack_frame(counter, 0, resend=True), step / 200)
        resent += sum(len(f) for f in answer)
    assert resent == a.retransmitted_bytes
    assert resent <= MAX_TRIES * window  # was 63 MB a minute
    assert counter * 40 * 100 > resent  # no longer an amplifier: under 100 bytes out per byte in


def test_resend_acks_with_progress_are_paced_per_frame() -> None:
    """A peer that acknowledges one more frame each time and asks for the rest again."""
    a = SecureChannel(K_AB, K_BA)
    now = 0.0
    counter = 0
    for _ in range(MAX_UNACKED_FRAMES):
        a.seal(PAYLOAD, now)
    resent = 0
    for step in range(1, 61 * 10):  # 61 s, 10 ACKs a second, the sender keeps the window full
        now = step / 10
        counter += 1
        _, answer = a.open(ack_frame(counter, a.peer_has + 1, resend=True), now)
        resent += sum(len(f) for f in answer)
        a.seal(PAYLOAD, now)
    intervals = 61 / a.retransmit_after + 1
    assert a.retransmitted_bytes <= intervals * MAX_UNACKED_FRAMES * FRAME
    assert a.stalled is None  # it makes progress: not stalled


def test_held_frames_go_out_in_order_once_acknowledged_and_nothing_is_lost() -> None:
    a = SecureChannel(K_AB, K_BA, max_unacked_frames=4)
    b = SecureChannel(K_BA, K_AB)
    wire = [f for f in (a.seal(f"m{i}".encode(), 0.0) for i in range(10)) if f is not None]
    assert len(wire) == 4 and a.window_full
    delivered = []
    for _ in range(10):
        for frame in wire:
            event, _ = b.open(frame, 0.0)
            if isinstance(event, Delivered):
                delivered.append(event.payload)
        _, wire = a.open(b.ack(), 0.0)
        if not wire:
            break
    assert delivered == [f"m{i}".encode() for i in range(10)]
    assert a.unacked_bytes() == 0 and not a.window_full and a.stalled is None


def test_too_much_held_marks_the_channel_stalled() -> None:
    a = SecureChannel(K_AB, K_BA, max_unacked_frames=1, max_held_bytes=10 * FRAME)
    for _ in range(12):
        a.seal(PAYLOAD, 0.0)
    assert a.stalled is not None and "waited" in a.stalled


def test_first_resend_after_a_reconnect_is_answered_at_once() -> None:
    """Resume stays fast: frames never retransmitted go out on the first RESEND, whenever."""
    a = SecureChannel(K_AB, K_BA)
    frames = [a.seal(f"{i}".encode(), 10.0) for i in range(3)]
    _, answer = a.open(ack_frame(1, 0, resend=True), 10.1)
    assert answer == frames
    _, answer = a.open(ack_frame(2, 0, resend=True), 10.2)
    assert answer == []  # paced: each went out 0.1 s ago
    _, answer = a.open(ack_frame(3, 0, resend=True), 12.1)
    assert answer == frames


def test_a_session_whose_peer_stops_acknowledging_says_it_is_stalled_and_sends_in_bounds() -> None:
    """The Session over the channel: the customer's side keeps sending while the agent's
    side (present on the relay) answers nothing; what goes out is bounded and the session
    reports the stall (the runtime then ends it as ``peer_unresponsive``)."""
    import os

    from cobrowse.protocol.messages import Chat
    from cobrowse.protocol.session import Session
    from cobrowse.wire.code import Code

    code = Code("42", "71930518")
    a, b = Session("agent", code, os.urandom), Session("customer", code, os.urandom)
    a.peer_joined(0.0)
    b.peer_joined(0.0)
    for _ in range(10):  # pair
        for frame in a.data_to_send():
            b.receive_data(frame, 0.0)
        for frame in b.data_to_send():
            a.receive_data(frame, 0.0)
    assert a.state == b.state == "paired"
    sent = 0
    step = 0
    while b.stalled is None and step < 4000:  # up to 200 s, a message every 50 ms; the agent never answers
        now = step * 0.05
        if not b.window_full:
            b.send(Chat("x" * 900), now)
        b.tick(now)
        sent += sum(len(f) for f in b.data_to_send())
        step += 1
    assert b.stalled is not None
    assert sent < (MAX_TRIES + 1) * (MAX_UNACKED_BYTES + 2 * FRAME)


def test_frames_retransmitted_into_a_dead_connection_count_afresh_once_the_peer_is_back() -> None:
    """A partition is noticed only when the keepalive times out (up to 30 s): the frames
    retransmitted meanwhile went nowhere. After the resume they get a fresh count, so a
    peer that is back and acknowledging is never taken for an unresponsive one."""
    a = SecureChannel(K_AB, K_BA)
    frame = a.seal(PAYLOAD, 0.0)
    assert frame is not None
    now, copies = 0.0, 0
    while now < 60.0:  # the connection is dead but nobody knows yet: 5 copies into the void
        now += 0.5
        copies += len(a.retransmit_due(now))
    assert copies == 5 and a.stalled is None
    a.peer_back(now)
    _, again = a.open(ack_frame(1, 0, resend=True), now)  # the peer's RESEND after the resume
    assert again == [frame]
    later = now
    while later < now + 61.0:  # the peer stays silent: the full bound applies again, no sooner
        later += 0.5
        a.retransmit_due(later)
    assert a.stalled is None
    while a.stalled is None and later < now + 200.0:
        later += 0.5
        a.retransmit_due(later)
    assert a.stalled is not None and later >= now + 90.0

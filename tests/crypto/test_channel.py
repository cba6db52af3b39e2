"""The sealed channel: in-order, exactly-once delivery, and rejection of every alteration."""

from __future__ import annotations

import os
import struct
from collections import defaultdict

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cobrowse.crypto.aead import HEADER, TAG_BYTES, Opener, Sealer
from cobrowse.crypto.channel import (
    ACK,
    DATA,
    DATA_ACKED,
    Acknowledged,
    Delivered,
    Duplicate,
    Gap,
    SecureChannel,
    StaleAck,
)
from cobrowse.errors import SecurityError, TamperedFrame

K_AB = bytes(range(32))  # a -> b
K_BA = bytes(range(32, 64))  # b -> a


def channels(retransmit_after: float = 2.0) -> tuple[SecureChannel, SecureChannel]:
    a = SecureChannel(K_AB, K_BA, retransmit_after=retransmit_after)
    b = SecureChannel(K_BA, K_AB, retransmit_after=retransmit_after)
    return a, b


def header(frame: bytes) -> tuple[int, int]:
    return HEADER.unpack_from(frame)


def test_in_order_delivery() -> None:
    a, b = channels()
    payloads = [b"one", b"", b"three" * 100, os.urandom(1000)]
    frames = [a.seal(p, now=0.0) for p in payloads]
    assert [header(f) for f in frames] == [(DATA, 1), (DATA, 2), (DATA, 3), (DATA, 4)]
    for seq, (frame, payload) in enumerate(zip(frames, payloads), start=1):
        assert payload not in frame or payload == b""
        event, answer = b.open(frame, now=0.0)
        assert event == Delivered(seq, payload)
        assert answer == []
    assert b.next_expected == 5
    assert b.ack_due()


def test_frame_size_is_header_plus_payload_plus_tag() -> None:
    a, _ = channels()
    assert len(a.seal(b"x" * 10, 0.0)) == HEADER.size + 10 + TAG_BYTES


@pytest.fixture(scope="module")
def data_and_ack() -> tuple[bytes, bytes]:
    a, b = channels()
    data = a.seal(b"a payload worth protecting", 0.0)
    b.open(data, 0.0)
    return data, b.ack(resend=True)


@settings(max_examples=300)
@given(st.data())
def test_any_single_byte_change_raises_tampered(data_and_ack: tuple[bytes, bytes], data: st.DataObject) -> None:
    frame = data.draw(st.sampled_from(data_and_ack))
    pos = data.draw(st.integers(0, len(frame) - 1))
    flip = data.draw(st.integers(1, 255))
    tampered = bytearray(frame)
    tampered[pos] ^= flip
    a, b = channels()
    receiver = b if frame[0] == DATA else a
    if frame[0] == ACK:
        a.seal(b"so that an ack of #1 is plausible", 0.0)
    with pytest.raises(TamperedFrame):
        receiver.open(bytes(tampered), 0.0)


@pytest.mark.parametrize("which", ["data", "ack"])
def test_every_header_and_body_position_is_covered(data_and_ack: tuple[bytes, bytes], which: str) -> None:
    frame = data_and_ack[0] if which == "data" else data_and_ack[1]
    for pos in range(len(frame)):
        for flip in (0x01, 0x80, 0xFF):
            a, b = channels()
            a.seal(b"x", 0.0)
            tampered = bytearray(frame)
            tampered[pos] ^= flip
            with pytest.raises(TamperedFrame):
                (b if which == "data" else a).open(bytes(tampered), 0.0)


def test_genuine_frames_still_open_in_the_fixture(data_and_ack: tuple[bytes, bytes]) -> None:
    # control for the tamper tests: unaltered, the same frames open
    data, ack = data_and_ack
    a, b = channels()
    assert b.open(data, 0.0)[0] == Delivered(1, b"a payload worth protecting")
    a.seal(b"x", 0.0)
    assert a.open(ack, 0.0)[0] == Acknowledged(1)


def test_truncation_and_extension_raise_tampered() -> None:
    a, b = channels()
    frame = a.seal(b"hello there", 0.0)
    for n in range(len(frame)):
        with pytest.raises(TamperedFrame):
            b.open(frame[:n], 0.0)
    with pytest.raises(TamperedFrame):
        b.open(frame + b"\x00", 0.0)
    with pytest.raises(TamperedFrame):
        b.open(frame[:HEADER.size] + frame[HEADER.size + 1:], 0.0)  # a byte cut from the middle
    assert b.open(frame, 0.0)[0] == Delivered(1, b"hello there")


def test_wrong_direction_key_fails() -> None:
    a, b = channels()
    frame = a.seal(b"to b", 0.0)
    with pytest.raises(TamperedFrame):
        a.open(frame, 0.0)  # reflected back to its sender: sealed under a->b, opened with b->a
    ack = b.ack()
    with pytest.raises(TamperedFrame):
        b.open(ack, 0.0)
    other = SecureChannel(os.urandom(32), os.urandom(32))
    with pytest.raises(TamperedFrame):
        other.open(frame, 0.0)


def test_relabelled_kind_or_seq_fails() -> None:
    a, b = channels()
    a.seal(b"1", 0.0)
    frame = a.seal(b"2", 0.0)
    kind, seq = header(frame)
    for new_kind, new_seq in ((ACK, seq), (DATA, 1), (DATA, 3), (0x42, seq)):
        forged = HEADER.pack(new_kind, new_seq) + frame[HEADER.size:]
        with pytest.raises(TamperedFrame):
            b.open(forged, 0.0)


def test_properly_sealed_unknown_kind_is_rejected() -> None:
    _, b = channels()
    frame = Sealer(K_AB).seal(0x42, 1, b"payload")
    with pytest.raises(TamperedFrame, match="unknown kind"):
        b.open(frame, 0.0)


def test_replay_is_duplicate_and_not_delivered() -> None:
    a, b = channels()
    f1, f2 = a.seal(b"1", 0.0), a.seal(b"2", 0.0)
    assert b.open(f1, 0.0) == (Delivered(1, b"1"), [])

    def duplicate(frame: bytes, expected: int, now: float = 0.0) -> None:
        event, answer = b.open(frame, now)
        assert event == Duplicate(int.from_bytes(frame[1:9], "big"), expected)
        # the answer re-acknowledges (the sender evidently missed our ACK), nothing else
        assert len(answer) == 1
        assert a.open(answer[0], now)[0] == Acknowledged(expected - 1)

    duplicate(f1, 2)
    assert b.open(f2, 0.0) == (Delivered(2, b"2"), [])
    duplicate(f1, 3)  # at once: this ACK says more than the last
    assert b.open(f2, 0.0) == (Duplicate(2, 3), [])  # it would not (test_channel_duplicates.py)
    duplicate(f2, 3, now=1.0)
    assert b.next_expected == 3


class Recorder:
    """Records every frame a channel ever emits, to check nonce (kind, seq) uniqueness."""

    def __init__(self) -> None:
        self.by_nonce: dict[tuple[int, int], set[bytes]] = defaultdict(set)

    def __call__(self, frames: list[bytes]) -> list[bytes]:
        for f in frames:
            self.by_nonce[header(f)].add(f)
        return frames

    def check(self) -> None:
        for nonce, variants in self.by_nonce.items():
            assert len(variants) == 1, f"nonce {nonce} sealed {len(variants)} different frames"


def test_reorder_is_gap_with_resend_then_everything_once_in_order() -> None:
    a, b = channels()
    rec_a, rec_b = Recorder(), Recorder()
    f1, f2, f3 = rec_a([a.seal(b"1", 0.0), a.seal(b"2", 0.0), a.seal(b"3", 0.0)])
    delivered: list[bytes] = []

    def deliver(frame: bytes) -> tuple[object, list[bytes]]:
        event, answer = b.open(frame, 0.0)
        if isinstance(event, Delivered):
            delivered.append(event.payload)
        return event, rec_b(answer)

    assert deliver(f1)[0] == Delivered(1, b"1")
    event, answer = deliver(f3)
    assert event == Gap(3, 2)
    assert len(answer) == 1 and header(answer[0])[0] == ACK
    ev, resent = a.open(answer[0], 0.1)
    assert ev == Acknowledged(1)
    assert rec_a(resent) == [f2, f3]  # byte-identical retransmissions
    assert deliver(f2)[0] == Delivered(2, b"2")  # the late original
    assert deliver(resent[0])[0] == Duplicate(2, 3)
    assert deliver(resent[1])[0] == Delivered(3, b"3")
    assert delivered == [b"1", b"2", b"3"]
    rec_a.check()
    rec_b.check()


def test_one_resend_request_per_missing_frame() -> None:
    a, b = channels()
    frames = [a.seal(bytes([i]), 0.0) for i in range(1, 6)]
    b.open(frames[0], 0.0)
    answers = [b.open(f, 0.0) for f in frames[2:]]  # frame 2 dropped
    assert [e for e, _ in answers] == [Gap(3, 2), Gap(4, 2), Gap(5, 2)]
    assert [len(ans) for _, ans in answers] == [1, 0, 0]
    _, resent = a.open(answers[0][1][0], 0.0)
    assert resent == frames[1:]
    got = [b.open(f, 0.0)[0] for f in resent]
    assert got == [Delivered(i, bytes([i])) for i in range(2, 6)]
    # a later gap asks again
    f6, f7 = a.seal(b"6", 0.0), a.seal(b"7", 0.0)
    event, answer = b.open(f7, 0.0)
    assert event == Gap(7, 6) and len(answer) == 1
    event, answer = b.open(f6, 0.0)
    assert event == Delivered(6, b"6") and answer == []


def test_ack_releases_unacked_and_replayed_ack_is_stale() -> None:
    a, b = channels()
    frames = [a.seal(bytes([i]) * 10, 0.0) for i in range(1, 4)]
    total = sum(len(f) for f in frames)
    assert a.unacked_bytes() == total
    b.open(frames[0], 0.0)
    b.open(frames[1], 0.0)
    ack = b.ack()
    assert not b.ack_due()
    assert a.open(ack, 0.5) == (Acknowledged(2), [])
    assert a.peer_has == 2
    assert a.unacked_bytes() == len(frames[2])
    assert a.retransmit_due(100.0) == [frames[2]]
    assert a.open(ack, 0.6) == (StaleAck(1), [])
    b.open(frames[2], 0.0)
    ack2 = b.ack()
    assert a.open(ack2, 1.0) == (Acknowledged(3), [])
    assert a.unacked_bytes() == 0
    assert a.retransmit_due(1000.0) == []
    assert a.open(ack2, 1.0) == (StaleAck(2), [])
    assert a.open(ack, 1.0) == (StaleAck(1), [])  # an older ack replayed after a newer one


def test_stale_resend_ack_does_not_trigger_retransmission() -> None:
    a, b = channels()
    f1 = a.seal(b"1", 0.0)
    resend_ack = b.ack(resend=True)
    assert a.open(resend_ack, 0.0) == (Acknowledged(0), [f1])
    assert a.open(resend_ack, 0.0) == (StaleAck(1), [])  # replay cannot make a resend traffic


def test_ack_for_never_sent_frames_is_tampered() -> None:
    a, _ = channels()
    a.seal(b"1", 0.0)
    forged = Sealer(K_BA).seal(ACK, 1, struct.pack(">QB", 2, 0))
    with pytest.raises(TamperedFrame, match="never sent"):
        a.open(forged, 0.0)
    a2, _ = channels()
    a2.seal(b"1", 0.0)
    assert a2.open(Sealer(K_BA).seal(ACK, 1, struct.pack(">QB", 1, 0)), 0.0) == (Acknowledged(1), [])


@pytest.mark.parametrize("body", [b"", b"\x00" * 8, b"\x00" * 10])
def test_ack_with_wrong_size_is_tampered(body: bytes) -> None:
    a, _ = channels()
    with pytest.raises(TamperedFrame):
        a.open(Sealer(K_BA).seal(ACK, 1, body), 0.0)


def test_retransmit_due_respects_the_timeout() -> None:
    a, _ = channels(retransmit_after=2.0)
    f1 = a.seal(b"1", 10.0)
    f2 = a.seal(b"2", 11.0)
    assert a.retransmit_due(10.0) == []
    assert a.retransmit_due(11.99) == []
    assert a.retransmit_due(12.0) == [f1]
    assert a.retransmit_due(12.5) == []  # f1's timer restarted at 12.0
    assert a.retransmit_due(13.0) == [f2]
    assert a.retransmit_due(14.0) == [f1]
    assert a.retransmit_due(100.0) == [f1, f2]


def test_resend_answer_restarts_the_retransmit_timer() -> None:
    a, b = channels(retransmit_after=2.0)
    f1 = a.seal(b"1", 0.0)
    assert a.open(b.ack(resend=True), 5.0) == (Acknowledged(0), [f1])
    assert a.retransmit_due(6.9) == []
    assert a.retransmit_due(7.0) == [f1]


def test_retransmissions_are_byte_identical_and_every_seq_is_sealed_once() -> None:
    a, b = channels(retransmit_after=1.0)
    rec = Recorder()
    originals = rec([a.seal(f"m{i}".encode(), float(i)) for i in range(20)])
    for now in (5.0, 30.0, 60.0):
        rec(a.retransmit_due(now))
    _, answer = a.open(b.ack(resend=True), 61.0)
    rec(answer)
    rec([a.seal(b"later", 62.0)])
    rec.check()
    seqs = [header(f) for f in originals]
    assert len(set(seqs)) == len(seqs) == 20
    # the peer's ACK said it reads carried acknowledgements: the frame sealed after it carries one
    assert set(rec.by_nonce) == {(DATA, s) for s in range(1, 21)} | {(DATA_ACKED, 21)}
    acks = [b.ack() for _ in range(5)]
    assert [header(f) for f in acks] == [(ACK, s) for s in range(2, 7)]  # its own counter


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_lossy_reordering_duplicating_network_loses_and_duplicates_nothing(data: st.DataObject) -> None:
    """Any mix of drops, duplicates and reorders, followed by a working network, delivers all once, in order."""
    a, b = channels(retransmit_after=1.0)
    rec_a, rec_b = Recorder(), Recorder()
    n = data.draw(st.integers(1, 12))
    to_b: list[bytes] = []
    to_a: list[bytes] = []
    delivered: list[bytes] = []
    sent = 0
    now = 0.0

    def to_b_recv(frame: bytes) -> None:
        event, answer = b.open(frame, now)
        if isinstance(event, Delivered):
            delivered.append(event.payload)
        to_a.extend(rec_b(answer))

    def to_a_recv(frame: bytes) -> None:
        _, answer = a.open(frame, now)
        to_b.extend(rec_a(answer))

    for _ in range(data.draw(st.integers(0, 60))):
        op = data.draw(st.sampled_from(["send", "deliver", "drop", "dup", "ack", "tick", "ackback"]))
        if op == "send" and sent < n:
            sent += 1
            to_b.extend(rec_a([a.seal(f"p{sent}".encode(), now)]))
        elif op == "deliver" and to_b:
            to_b_recv(to_b.pop(data.draw(st.integers(0, len(to_b) - 1))))
        elif op == "ackback" and to_a:
            to_a_recv(to_a.pop(data.draw(st.integers(0, len(to_a) - 1))))
        elif op == "drop" and (to_b or to_a):
            queue = to_b if to_b else to_a
            queue.pop(data.draw(st.integers(0, len(queue) - 1)))
        elif op == "dup" and to_b:
            to_b.append(to_b[data.draw(st.integers(0, len(to_b) - 1))])
        elif op == "ack":
            to_a.append(rec_b([b.ack(resend=data.draw(st.booleans()))])[0])
        elif op == "tick":
            now += data.draw(st.sampled_from([0.1, 0.5, 1.0, 2.0]))
            to_b.extend(rec_a(a.retransmit_due(now)))
    while sent < n:
        sent += 1
        to_b.extend(rec_a([a.seal(f"p{sent}".encode(), now)]))
    # the network heals: deliver everything, ack, retransmit on timeout
    for _ in range(50):
        while to_b or to_a:
            if to_b:
                to_b_recv(to_b.pop(0))
            if to_a:
                to_a_recv(to_a.pop(0))
        if b.ack_due():
            to_a.append(rec_b([b.ack()])[0])
            continue
        if a.unacked_bytes() == 0:
            break
        now += 1.0
        to_b.extend(rec_a(a.retransmit_due(now)))
    assert delivered == [f"p{i}".encode() for i in range(1, n + 1)]
    assert a.unacked_bytes() == 0
    rec_a.check()
    rec_b.check()


def test_opener_and_sealer_agree_and_errors_are_security_errors() -> None:
    frame = Sealer(K_AB).seal(DATA, 7, b"x")
    assert Opener(K_AB).open(frame) == (DATA, 7, b"x")
    with pytest.raises(SecurityError):
        Opener(K_BA).open(frame)

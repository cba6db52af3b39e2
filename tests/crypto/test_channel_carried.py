"""Acknowledgements carried in DATA frames (DATA_ACKED) and the flag that enables them: a
key and its echo need no ACK frames, and an older peer (no CARRIES flag) never gets one."""

from __future__ import annotations

import struct

import pytest

from cobrowse.crypto.aead import HEADER, Sealer
from cobrowse.crypto.channel import ACK, CARRIES, DATA, DATA_ACKED, RESEND, Delivered, Duplicate, SecureChannel
from cobrowse.errors import TamperedFrame

K_AB = bytes(range(32))
K_BA = bytes(range(32, 64))


def pair(*, a_new: bool = True, b_new: bool = True, **kw: int) -> tuple[SecureChannel, SecureChannel]:
    return (SecureChannel(K_AB, K_BA, carry_acks=a_new, **kw),  # type: ignore[arg-type]
            SecureChannel(K_BA, K_AB, carry_acks=b_new, **kw))  # type: ignore[arg-type]


def kind(frame: bytes) -> int:
    return HEADER.unpack_from(frame)[0]


def acks_exchanged(a: SecureChannel, b: SecureChannel) -> None:
    """What a session does in its first 50 ms: a frame each way and an ACK each way."""
    b.open(a.seal(b"hello a", 0.0), 0.0)
    a.open(b.seal(b"hello b", 0.0), 0.0)
    a.open(b.ack(), 0.05)
    b.open(a.ack(), 0.05)


def test_after_the_first_acks_each_data_frame_carries_the_acknowledgement() -> None:
    a, b = pair()
    acks_exchanged(a, b)
    assert a.peer_carries and b.peer_carries
    key = a.seal(b"x", 1.0)
    assert kind(key) == DATA_ACKED
    event, answer = b.open(key, 1.0)
    assert event == Delivered(2, b"x") and answer == []  # the payload alone, the ack taken off
    assert b.ack_due()
    echo = b.seal(b"echo of x", 1.001)
    assert not b.ack_due()  # the echo carried it: no ACK frame needed
    assert a.unacked_bytes() > 0
    event, answer = a.open(echo, 1.002)
    assert event == Delivered(2, b"echo of x") and answer == []
    assert a.unacked_bytes() == 0 and a.peer_has == 2
    key2 = a.seal(b"y", 1.01)
    b.open(key2, 1.01)
    assert b.unacked_bytes() == 0  # the next key carried a's acknowledgement of the echo


def test_an_older_peer_never_receives_a_carried_acknowledgement() -> None:
    new, old = pair(a_new=True, b_new=False)
    acks_exchanged(new, old)
    assert not new.peer_carries
    frames = [new.seal(f"k{i}".encode(), 1.0 + i) for i in range(5)]
    assert {kind(f) for f in frames} == {DATA}
    for i, f in enumerate(frames):
        assert old.open(f, 1.0 + i)[0] == Delivered(2 + i, f"k{i}".encode())
    ack = old.ack()
    assert struct.unpack(">QB", Opener_plain(ack, K_BA))[1] == 0  # the old format: no flag bits
    new.open(ack, 9.0)
    assert new.unacked_bytes() == 0


def test_the_new_flag_is_one_an_older_channel_ignores() -> None:
    """An older channel read flags with ``flags & RESEND`` only: CARRIES is another bit."""
    assert CARRIES & RESEND == 0
    new, old = pair(a_new=True, b_new=False)
    old.open(new.seal(b"1", 0.0), 0.0)
    new.open(old.seal(b"2", 0.0), 0.0)
    ack = new.ack()
    assert struct.unpack(">QB", Opener_plain(ack, K_AB))[1] == CARRIES
    assert old.open(ack, 0.1)[1] == []  # acknowledged, nothing resent


def test_an_older_channel_refuses_a_carried_acknowledgement_as_it_always_did() -> None:
    _, old = pair(b_new=False)
    with pytest.raises(TamperedFrame):
        old.open(Sealer(K_AB).seal(DATA_ACKED, 1, struct.pack(">Q", 0) + b"x"), 0.0)


def test_a_carried_acknowledgement_of_frames_never_sent_is_tampering() -> None:
    a, b = pair()
    a.seal(b"1", 0.0)
    with pytest.raises(TamperedFrame):
        a.open(Sealer(K_BA).seal(DATA_ACKED, 1, struct.pack(">Q", 2) + b"x"), 0.0)


@pytest.mark.parametrize("plain", [b"", b"\x00" * 7])
def test_a_frame_too_short_to_carry_an_acknowledgement_is_tampering(plain: bytes) -> None:
    a, _ = pair()
    with pytest.raises(TamperedFrame):
        a.open(Sealer(K_BA).seal(DATA_ACKED, 1, plain), 0.0)


def test_a_replayed_data_acked_frame_is_a_duplicate_and_changes_nothing() -> None:
    a, b = pair()
    acks_exchanged(a, b)
    key = a.seal(b"x", 1.0)
    echo = b.seal(b"e", 1.0)  # carries b's acknowledgement of 2 (before the key arrived)
    b.open(key, 1.0)
    a.open(echo, 1.0)
    assert a.unacked_bytes() > 0  # the key (3) is not acknowledged by the echo sealed before it
    event, answer = a.open(echo, 1.1)
    assert isinstance(event, Duplicate)
    assert [kind(f) for f in answer] == [ACK]
    assert a.unacked_bytes() > 0


def test_a_carried_acknowledgement_releases_held_frames_in_order() -> None:
    a, b = pair(max_unacked_frames=1)
    acks_exchanged(a, b)
    sent = a.seal(b"1", 1.0)
    assert sent is not None and a.seal(b"2", 1.0) is None  # the window is full: held
    b.open(sent, 1.0)
    event, answer = a.open(b.seal(b"reply", 1.0), 1.0)
    assert event == Delivered(2, b"reply")
    (released,) = answer
    assert b.open(released, 1.0)[0] == Delivered(3, b"2")


def test_held_frames_do_not_count_as_acknowledging() -> None:
    a = SecureChannel(K_AB, K_BA, max_unacked_frames=1)
    b = SecureChannel(K_BA, K_AB)
    acks_exchanged(a, b)
    assert a.seal(b"1", 1.0) is not None  # in flight: the window (1 frame) is full
    a.open(b.seal(b"from b", 1.0), 1.0)
    assert a.ack_due()
    assert a.seal(b"2", 1.0) is None  # held: its carried value does not reach b yet
    assert a.ack_due()


def test_a_retransmission_is_byte_identical_with_its_old_acknowledgement() -> None:
    a, b = pair(retransmit_after=1)
    acks_exchanged(a, b)
    key = a.seal(b"x", 1.0)
    assert a.retransmit_due(2.0) == [key]
    assert kind(key) == DATA_ACKED and key[0] == DATA_ACKED != DATA


def Opener_plain(frame: bytes, key: bytes) -> bytes:
    from cobrowse.crypto.aead import Opener
    return Opener(key).open(frame)[2]

"""Duplicates are answered with coalesced ACKs: a relay replaying a frame a thousand times
made the receiver send a thousand sealed ACKs back through it (one per replay, until the
session's replay limit ended it); now at most one per ``DUPLICATE_ACK_EVERY`` unless the ACK
says something new, while a sender whose ACK was lost still gets one and stops."""

from __future__ import annotations

from cobrowse.crypto.aead import HEADER
from cobrowse.crypto.channel import ACK, DUPLICATE_ACK_EVERY, Acknowledged, Delivered, Duplicate, SecureChannel

K_AB = bytes(range(32))
K_BA = bytes(range(32, 64))
REPLAYS = 1000


def channels() -> tuple[SecureChannel, SecureChannel]:
    return SecureChannel(K_AB, K_BA), SecureChannel(K_BA, K_AB)


def acks(frames: list[bytes]) -> int:
    assert all(HEADER.unpack_from(f)[0] == ACK for f in frames)
    return len(frames)


def delivered_and_acknowledged(a: SecureChannel, b: SecureChannel, n: int, now: float) -> list[bytes]:
    frames = [a.seal(f"p{i}".encode(), now) for i in range(n)]
    assert all(f is not None for f in frames)
    sealed = [f for f in frames if f is not None]
    for f in sealed:
        assert isinstance(b.open(f, now)[0], Delivered)
    return sealed


def test_a_thousand_replays_at_once_get_one_ack_and_each_is_still_reported() -> None:
    a, b = channels()
    (frame,) = delivered_and_acknowledged(a, b, 1, 0.0)
    b.ack()  # the session's own ACK went out
    events, answers = [], []
    for _ in range(REPLAYS):
        event, answer = b.open(frame, 0.01)
        events.append(event)
        answers += answer
    assert acks(answers) == 1  # was 1,000
    assert events == [Duplicate(1, 2)] * REPLAYS  # every one counted: the session's replay limit sees them all


def test_replays_spread_over_ten_seconds_get_one_ack_per_interval() -> None:
    a, b = channels()
    (frame,) = delivered_and_acknowledged(a, b, 1, 0.0)
    b.ack()
    answers: list[bytes] = []
    for i in range(REPLAYS):  # 100 a second: below the 1,024-in-10-s limit, so the session goes on
        answers += b.open(frame, i * 0.01)[1]
    assert acks(answers) <= 10.0 / DUPLICATE_ACK_EVERY + 1
    assert acks(answers) >= 10.0 / DUPLICATE_ACK_EVERY - 1  # still answered: a lost ACK is repaired in time


def test_a_sender_whose_ack_was_lost_gets_it_on_its_retransmission_and_stops() -> None:
    a, b = channels()
    delivered_and_acknowledged(a, b, 3, 0.0)
    b.ack()  # lost on the way
    resent = a.retransmit_due(2.0)
    assert len(resent) == 3
    answers = [f for r in resent for f in b.open(r, 2.01)[1]]
    assert acks(answers) == 1  # one for the whole round, not one per frame
    assert a.open(answers[0], 2.02) == (Acknowledged(3), [])
    assert a.unacked_bytes() == 0 and a.retransmit_due(100.0) == []


def test_an_ack_lost_twice_is_answered_again_at_the_next_retransmission() -> None:
    a, b = channels()
    (frame,) = delivered_and_acknowledged(a, b, 1, 0.0)
    b.ack()  # lost
    for now in (2.0, 4.0):  # the sender's first two copies; each answer lost as well
        (again,) = a.retransmit_due(now)
        assert acks(b.open(again, now + 0.01)[1]) == 1
    (again,) = a.retransmit_due(8.0)
    (answer,) = b.open(again, 8.01)[1]
    assert a.open(answer, 8.02)[0] == Acknowledged(1)
    assert a.retransmit_due(1000.0) == []


def test_replays_cannot_keep_a_genuine_retransmission_from_being_acknowledged() -> None:
    """The relay replays just before the sender's retransmission arrives: the ACK the replays
    got already says what the retransmission needs, and it reaches the sender."""
    a, b = channels()
    (frame,) = delivered_and_acknowledged(a, b, 1, 0.0)
    b.ack()  # lost
    answers: list[bytes] = []
    for i in range(200):
        answers += b.open(frame, 1.9 + i * 0.0005)[1]
    (again,) = a.retransmit_due(2.0)
    answers += b.open(again, 2.0)[1]
    assert acks(answers) == 1
    assert a.open(answers[0], 2.01)[0] == Acknowledged(1)
    assert a.retransmit_due(1000.0) == []


def test_a_duplicate_after_new_frames_acknowledges_them_at_once() -> None:
    """Coalescing holds back only ACKs that say nothing new: one per new highest frame."""
    a, b = channels()
    (first,) = delivered_and_acknowledged(a, b, 1, 0.0)
    assert acks(b.open(first, 0.01)[1]) == 1
    for i in range(2, 6):
        delivered_and_acknowledged(a, b, 1, 0.01)
        (answer,) = b.open(first, 0.02)[1]
        assert a.open(answer, 0.03)[0] == Acknowledged(i)
        assert b.open(first, 0.04)[1] == []

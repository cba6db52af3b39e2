"""The customer's echo-ack bookkeeping (cobrowse/protocol/echo_ack.py): acks ride on every frame,
a frame goes for an ack alone only when a keys message asked, at most one per keys message."""

from __future__ import annotations

import pytest

from cobrowse.protocol import messages as m
from cobrowse.protocol.echo_ack import ACK_SETTLE, EchoAcks

pytestmark = pytest.mark.pure

PLAIN, ASKING = m.Keys("a"), m.Keys("\t", True)


def test_plain_keys_get_no_frame_for_the_ack_alone_but_frames_going_anyway_carry_it() -> None:
    acks = EchoAcks()
    for i in range(5):
        assert acks.key(PLAIN, 0.1 * i) is None
        assert acks.take(0.1 * i + 0.001) is None  # the echo's frame: too soon to say
        assert not acks.alone_due(0.1 * i + 0.05) and acks.deadline(0.1 * i + 0.001) is None
    assert acks.take(0.5) == 5  # a frame that goes later says it


def test_a_key_that_asks_gets_its_frame_once_settled() -> None:
    acks = EchoAcks()
    assert acks.key(PLAIN, 0.0) is None
    assert acks.key(ASKING, 0.1) == pytest.approx(0.1 + ACK_SETTLE)
    assert acks.deadline(0.1) == pytest.approx(0.1 + ACK_SETTLE)
    assert acks.take(0.101) is None  # the Tab's echo: no ack yet
    assert not acks.alone_due(0.12)
    assert acks.alone_due(0.1 + ACK_SETTLE)
    assert acks.take(0.1 + ACK_SETTLE) == 2  # every keys message, not only those that asked
    assert not acks.alone_due(0.5) and acks.deadline(0.5) is None


def test_a_later_key_pushes_the_ack_back_and_one_frame_acks_both() -> None:
    acks = EchoAcks()
    acks.key(ASKING, 0.0)
    acks.key(PLAIN, 0.03)
    assert not acks.alone_due(0.05) and acks.deadline(0.05) == pytest.approx(0.03 + ACK_SETTLE)
    assert acks.alone_due(0.03 + ACK_SETTLE) and acks.take(0.03 + ACK_SETTLE) == 2


def test_a_frame_going_anyway_answers_the_ask() -> None:
    acks = EchoAcks()
    acks.key(ASKING, 0.0)
    assert acks.take(0.06) == 1  # output that came late carried it
    assert not acks.alone_due(0.1)


def test_an_agent_asking_on_every_key_gets_at_most_one_frame_a_keys_message() -> None:
    """A hostile agent: want_ack on each of 1,000 keys, polled every millisecond (more often
    than the runtime ever does) yields no more frames for an ack alone than keys messages."""
    acks, alone, now = EchoAcks(), 0, 0.0
    for _ in range(1000):
        acks.key(ASKING, now)
        for _ in range(60):
            now += 0.001
            if acks.alone_due(now):
                acks.take(now)
                alone += 1
    assert alone == 1000
    for _ in range(100):
        now += 0.001
        assert not acks.alone_due(now)

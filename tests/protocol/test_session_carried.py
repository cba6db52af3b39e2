"""Sessions with acknowledgements carried in DATA frames: a key and its echo are two frames
once each side has seen the other's first ACK, and a session with an older peer (the
format before DATA_ACKED) keeps its ACK frames and works as before."""

from __future__ import annotations

import os

from cobrowse.crypto.channel import ACK, DATA, DATA_ACKED
from cobrowse.protocol.messages import Chat, Keys
from cobrowse.protocol.session import ACK_DELAY, Session
from tests.protocol.test_session import CODE, Relay


def paired(*, agent_new: bool = True, customer_new: bool = True) -> Relay:
    relay = Relay(Session("agent", CODE, os.urandom, carry_acks=agent_new),
                  Session("customer", CODE, os.urandom, carry_acks=customer_new))
    relay.a.peer_joined(0.0)
    relay.b.peer_joined(0.0)
    relay.pump(0.0)
    assert relay.a.state == relay.b.state == "paired"
    relay.a.send(Chat("hello"), 0.0)
    relay.b.send(Chat("hello"), 0.0)
    relay.pump(0.0)
    relay.a.tick(ACK_DELAY)
    relay.b.tick(ACK_DELAY)
    relay.pump(ACK_DELAY)  # the first ACKs: each side learns whether the other reads DATA_ACKED
    return relay


def type_keys(relay: Relay, keys: int, start: float = 1.0, gap: float = 0.01) -> list[bytes]:
    """The key bench's pattern: a key, its echo at once, a pause; every frame either way."""
    frames: list[bytes] = []
    now = start
    for i in range(keys):
        relay.a.send(Keys("x"), now)
        for frame in relay.take_to_b():
            frames.append(frame)
            relay.deliver_to_b(frame, now + 0.0002)
        relay.b.send(Chat(f"echo {i}"), now + 0.0005)  # the screen frame that answers the key
        for frame in relay.take_to_a():
            frames.append(frame)
            relay.deliver_to_a(frame, now + 0.0007)
        now += gap
        for side in (relay.a, relay.b):
            side.tick(now)
    frames += relay.take_to_a() + relay.take_to_b()
    return frames


def test_a_key_and_its_echo_are_two_frames_and_nothing_is_left_unacknowledged() -> None:
    relay = paired()
    frames = type_keys(relay, 100)
    assert {f[0] for f in frames} == {DATA_ACKED}
    assert len(frames) == 200
    assert relay.a.unacked_bytes == 0  # b's echo carried the acknowledgement of the last key
    assert relay.b.unacked_bytes > 0  # the last echo: acknowledged by a's next frame or its ACK
    relay.a.tick(10.0)
    (ack,) = relay.take_to_b()
    assert ack[0] == ACK
    relay.deliver_to_b(ack, 10.0)
    assert relay.b.unacked_bytes == 0
    assert [m.text for m in relay.received("a") if isinstance(m, Chat)][1:] == [f"echo {i}" for i in range(100)]
    assert relay.integrity("a") == relay.integrity("b") == []


def test_with_an_older_peer_either_side_frames_stay_data_and_acks_stay_frames() -> None:
    for agent_new, customer_new in ((True, False), (False, True)):
        relay = paired(agent_new=agent_new, customer_new=customer_new)
        frames = type_keys(relay, 100)
        kinds = [f[0] for f in frames]
        assert set(kinds) == {DATA, ACK}
        assert kinds.count(DATA) == 200 and kinds.count(ACK) > 0
        end = 1.0 + 100 * 0.01 + ACK_DELAY  # the last ACKs are due; nothing is due for retransmission
        relay.a.tick(end)
        relay.b.tick(end)
        relay.pump(end)
        assert relay.a.unacked_bytes == relay.b.unacked_bytes == 0
        assert [m.text for m in relay.received("a") if isinstance(m, Chat)][1:] == [f"echo {i}" for i in range(100)]
        assert [m.data for m in relay.received("b") if isinstance(m, Keys)] == ["x"] * 100
        assert relay.integrity("a") == relay.integrity("b") == []

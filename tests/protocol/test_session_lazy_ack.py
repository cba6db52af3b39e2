"""Screen frames to a watching agent are acknowledged lazily (SCREEN_ACK_DELAY): one ACK
frame for several frames at the steady rate instead of one each, while anything else (a
key's answer, End: what ``settle()`` waits on) is acknowledged as soon as before, and a
backlog of screen frames never waits long enough to fill the sender's window."""

from __future__ import annotations

import os

from cobrowse.crypto.channel import ACK, MAX_UNACKED_BYTES, MAX_UNACKED_FRAMES
from cobrowse.protocol.messages import Chat, End, Screen
from cobrowse.protocol.session import ACK_DELAY, LAZY_BYTES, LAZY_FRAMES, SCREEN_ACK_DELAY
from tests.protocol.test_session_carried import paired

FRAME = {"kind": "diff", "rows": [[3, "a line of a log that scrolls"]], "cursor": [0, 4]}


def _watch(relay, seconds: float, fps: float = 15.0, start: float = 1.0) -> tuple[int, float]:
    """The customer (b) sends screen frames at ``fps``; the agent (a) only watches and
    ticks every 50 ms as its runtime does. Returns the ACK frames the agent sent and when."""
    acks = 0
    now = start
    next_frame = start
    end = start + seconds
    while now < end:
        if now >= next_frame:
            relay.b.send(Screen(FRAME), now)
            next_frame += 1 / fps
        for frame in relay.take_to_a():
            relay.deliver_to_a(frame, now)
        relay.a.tick(now)
        for frame in relay.take_to_b():
            acks += frame[0] == ACK
            relay.deliver_to_b(frame, now)
        now = round(now + 0.01, 6)
    return acks, now


def test_a_watching_agent_acknowledges_a_few_times_a_second_not_every_frame() -> None:
    relay = paired()
    acks, now = _watch(relay, 4.0)
    frames = sum(isinstance(m, Screen) for m in relay.received("a"))
    assert frames == 60
    assert acks <= 4.0 / SCREEN_ACK_DELAY + 1  # was one a frame (ACK_DELAY < the frame interval)
    assert acks >= 4.0 / SCREEN_ACK_DELAY - 2
    assert relay.b.unacked_bytes < 8 * 1024  # never more than a few frames in flight
    relay.a.tick(now + SCREEN_ACK_DELAY)
    relay.pump(now + SCREEN_ACK_DELAY)
    assert relay.b.unacked_bytes == 0
    assert relay.integrity("a") == relay.integrity("b") == []


def test_anything_but_a_screen_frame_is_acknowledged_as_soon_as_before() -> None:
    relay = paired()
    relay.b.send(Screen(FRAME), 1.0)
    relay.pump(1.0)
    relay.a.tick(1.0 + ACK_DELAY)
    assert relay.take_to_b() == []  # a screen frame alone: not yet
    relay.b.send(End("customer_ended", "the customer ended the session"), 1.01)
    relay.pump(1.01)
    relay.a.tick(1.0 + ACK_DELAY)  # due ACK_DELAY after the oldest frame waiting, as before
    (ack,) = relay.take_to_b()
    assert ack[0] == ACK
    relay.deliver_to_b(ack, 1.0 + ACK_DELAY)
    assert relay.b.unacked_bytes == 0  # what settle() waits for: the screen frame and End


def test_a_backlog_of_screen_frames_is_acknowledged_at_once() -> None:
    relay = paired()
    for i in range(LAZY_FRAMES):
        relay.b.send(Screen(FRAME), 1.0)
    relay.pump(1.0)
    relay.a.tick(1.0)
    assert [f[0] for f in relay.take_to_b()] == [ACK]
    noise = os.urandom(LAZY_BYTES).hex()  # does not compress: one frame past LAZY_BYTES
    big = {"kind": "snapshot", "rows": [[i, noise[i * 100:(i + 1) * 100]] for i in range(len(noise) // 100)]}
    relay.b.send(Screen(big), 2.0)
    relay.pump(2.0)
    relay.a.tick(2.0)
    assert [f[0] for f in relay.take_to_b()] == [ACK]


def test_the_agents_own_frames_still_carry_the_acknowledgement() -> None:
    relay = paired()
    relay.b.send(Screen(FRAME), 1.0)
    relay.pump(1.0)
    relay.a.send(Chat("typing"), 1.02)  # a key, a chat line: the ack rides inside it
    relay.deliver_to_b(relay.take_to_b()[0], 1.02)
    assert relay.b.unacked_bytes == 0
    relay.a.tick(1.0 + SCREEN_ACK_DELAY)
    assert relay.take_to_b() == []


def test_either_channel_format_watches_and_settles() -> None:
    for agent_new, customer_new in ((True, False), (False, True)):
        relay = paired(agent_new=agent_new, customer_new=customer_new)
        acks, now = _watch(relay, 2.0)
        assert sum(isinstance(m, Screen) for m in relay.received("a")) == 30
        relay.a.tick(now + SCREEN_ACK_DELAY)
        relay.pump(now + SCREEN_ACK_DELAY)
        assert relay.b.unacked_bytes == 0
        assert relay.integrity("a") == relay.integrity("b") == []


def test_the_lazy_bounds_stay_far_below_the_senders_window() -> None:
    assert LAZY_FRAMES * 4 <= MAX_UNACKED_FRAMES and LAZY_BYTES * 2 <= MAX_UNACKED_BYTES

"""The pace after frames change path (relay <-> direct: screen/pace.py ``reset``): the old
path's round trip is forgotten at once, and the new path's first sample sets the pace, where
the 1/8 average alone took ~8 samples (16 s of pings) to follow. A fake clock throughout."""

from __future__ import annotations

import pytest

from cobrowse.screen.pace import MAX_INTERVAL, LinkPace
from cobrowse.screen.sync import STEADY_FPS, ScreenSender
from cobrowse.voice.path import PathPolicy
from tests.screen.test_screen_pace import customer_sender, rate, stream


def test_reset_forgets_the_round_trip_and_the_next_sample_seeds_it() -> None:
    pace = LinkPace()
    for _ in range(50):
        pace.sample(0.300)
    assert pace.interval == pytest.approx(0.150)
    pace.reset()
    assert pace.srtt is None and pace.interval == 0.0
    assert pace.sample(0.004)
    assert pace.srtt == 0.004 and pace.interval == pytest.approx(0.002)  # not 7/8 of the old path's
    pace.reset()
    assert not pace.sample(float("nan"))  # an implausible first sample seeds nothing either
    assert pace.srtt is None
    assert pace.sample(0.300) and pace.interval == pytest.approx(0.150)


def test_without_reset_the_old_path_lingers_for_samples() -> None:
    """Why reset: after a switch from a 300 ms relay path to a 4 ms direct one, the average
    still allows fewer frames than the steady rate after 6 samples (12 s of pings)."""
    pace = LinkPace()
    for _ in range(50):
        pace.sample(0.300)
    for _ in range(6):
        pace.sample(0.004)
    assert pace.interval > 1 / STEADY_FPS


def test_a_switch_to_a_faster_path_brings_the_steady_rate_back_at_once() -> None:
    s = customer_sender(0.300)
    slow = stream(s, 0.0, 4.0)
    assert rate(slow, 2.0, 4.0) <= 1 / 0.150 + 0.5
    s.link_reset()
    assert s.link_interval == 0.0  # the sender's own rate until the new path's first sample
    s.link_rtt(0.004)
    fast = stream(s, 4.0, 4.0)
    assert rate(fast, 5.0, 8.0) >= STEADY_FPS - 1


def test_a_switch_to_a_slower_path_slows_frames_at_its_first_sample() -> None:
    s = customer_sender(0.004)
    stream(s, 0.0, 2.0)
    s.link_reset()
    s.link_rtt(0.400)
    assert s.link_interval == pytest.approx(0.200)
    times = stream(s, 2.0, 4.0)
    assert rate(times, 3.0, 6.0) <= 1 / 0.200 + 0.5
    assert all(b - a >= 0.200 - 1e-6 for a, b in zip(times[4:], times[5:]))


def test_reset_keeps_the_floor_the_sender_had_without_a_round_trip() -> None:
    """Forgotten means the sender's own frame rate, never faster: what it did before the first ping."""
    fresh = customer_sender()
    s = customer_sender(4.9)
    stream(s, 0.0, 1.0)
    assert s.link_interval == MAX_INTERVAL
    s.link_reset()
    stream(fresh, 0.0, 1.0)
    assert rate(stream(s, 1.0, 3.0), 2.0, 4.0) == pytest.approx(rate(stream(fresh, 1.0, 3.0), 2.0, 4.0), abs=0.5)


def test_only_a_change_that_moves_frames_says_so() -> None:
    """The pace is reset when frames really changed path: a direct path that never opened and
    is given up (the connect deadline) leaves frames where they were, on the relay."""
    policy = PathPolicy()
    policy.direct_lost("no direct path found")
    assert [(c.path, c.moved) for c in policy.changes()] == [("relay", False)]
    policy.retry()
    policy.direct_open()
    policy.direct_lost("closed")
    assert [(c.path, c.moved) for c in policy.changes()] == [("direct", True), ("relay", True)]
    policy.retry()
    policy.direct_open()
    assert policy.retransmitted(1)
    assert [(c.path, c.moved) for c in policy.changes()] == [("direct", True), ("relay", True)]


def test_a_sender_without_a_redactor_resets_too() -> None:
    s = ScreenSender(20, 3, burst=4, steady_fps=None)
    s.link_rtt(0.300)
    s.link_reset()
    assert s.link_interval == 0.0

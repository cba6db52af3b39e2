"""Frame pacing by the link's round trip (screen/pace.py, ScreenSender.link_rtt): mosh's
SSP interval, SRTT/2 clamped to 250 ms, under the sender's own frame rate; keys' echoes
still go at once; timing from the peer cannot stop frames. A fake clock throughout."""

from __future__ import annotations

import math

import pytest

from cobrowse.screen.pace import MAX_INTERVAL, MAX_SAMPLE, LinkPace
from cobrowse.screen.sync import DEFAULT_FPS, KEY_HOLD, STEADY_AFTER, STEADY_FPS, ScreenSender

STEP = 0.005  # output every 5 ms: faster than any frame rate here


def stream(s: ScreenSender, start: float, seconds: float, *, keys_every: float | None = None) -> list[float]:
    """Output changing every STEP for ``seconds`` (the agent typing every ``keys_every`` s,
    each key's echo expedited); the times frames went."""
    out: list[float] = []
    next_key = start + keys_every if keys_every is not None else math.inf
    for i in range(round(seconds / STEP)):
        now = start + (i + 1) * STEP
        s.feed(b"\r%d " % i)
        if now >= next_key - 1e-9:
            s.expedite(now)
            next_key += keys_every or math.inf
        if s.poll(now) is not None:
            out.append(now)
    return out


def rate(times: list[float], since: float, until: float) -> float:
    return sum(1 for t in times if since <= t < until) / (until - since)


def customer_sender(rtt: float | None = None) -> ScreenSender:
    """The customer's sender (burst 4, as io/customer.py makes it), its first snapshot sent."""
    s = ScreenSender(20, 3, burst=4)
    if rtt is not None:
        s.link_rtt(rtt)
    assert s.poll(0.0) is not None
    return s


def test_the_smoothed_round_trip_is_tcps() -> None:
    pace = LinkPace()
    assert pace.srtt is None and pace.interval == 0.0
    assert pace.sample(0.2)
    assert pace.srtt == 0.2 and pace.interval == pytest.approx(0.1)  # the first sample as it is
    assert pace.sample(0.1)
    assert pace.srtt == pytest.approx(0.2 + (0.1 - 0.2) / 8)
    for _ in range(100):
        pace.sample(0.15)
    assert pace.srtt == pytest.approx(0.15) and pace.interval == pytest.approx(0.075)
    for _ in range(100):
        pace.sample(4.0)
    assert pace.interval == MAX_INTERVAL  # however long the round trip, 4 frames a second


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, -0.001, -1e9, MAX_SAMPLE, 1e9, 1e308])
def test_an_implausible_sample_is_ignored(bad: float) -> None:
    pace = LinkPace()
    assert not pace.sample(bad)
    assert pace.srtt is None and pace.interval == 0.0
    pace.sample(0.15)
    assert not pace.sample(bad)
    assert pace.srtt == 0.15


def test_steady_output_at_150ms_goes_once_per_half_round_trip() -> None:
    """150 ms RTT: ~13.3 frames/s of a log scrolling on, where the steady rate alone is 15."""
    s = customer_sender(0.150)
    times = stream(s, 0.0, 6.0)
    assert s.steady
    got = rate(times, 2.0, 6.0)
    assert 1 / 0.075 - 0.5 <= got <= 1 / 0.075 + 0.5
    assert all(b - a >= 0.075 - 1e-6 for a, b in zip(times[4:], times[5:]))  # past the burst


def test_interactive_output_at_150ms_goes_once_per_half_round_trip() -> None:
    """The agent typing (fps, not the steady rate): ~13.3 frames/s of output where 30 went,
    plus one at once per key (its echo)."""
    base = customer_sender()
    times = stream(base, 0.0, 6.0, keys_every=0.5)
    assert not base.steady
    assert rate(times, 2.0, 6.0) >= DEFAULT_FPS - 1  # as before: the full rate while the agent types
    s = customer_sender(0.150)
    times = stream(s, 0.0, 6.0, keys_every=0.5)
    assert not s.steady
    keys = 2 / 0.5  # per second
    assert 1 / 0.075 - 0.5 <= rate(times, 2.0, 6.0) <= 1 / 0.075 + keys + 0.5
    s = ScreenSender(20, 3, burst=4, steady_fps=None)  # no steady rate at all: the same bound
    s.link_rtt(0.150)
    assert s.poll(0.0) is not None
    assert 1 / 0.075 - 0.5 <= rate(stream(s, 0.0, 6.0), 2.0, 6.0) <= 1 / 0.075 + 0.5


@pytest.mark.parametrize("rtt", [0.0, 0.001, 0.010, 0.060])
def test_a_short_round_trip_changes_nothing(rtt: float) -> None:
    """Loopback (1 ms) or a LAN: every frame at the very time it went before."""
    for keys in (None, 0.3):
        before = customer_sender()
        after = customer_sender(rtt)
        assert stream(after, 0.0, 4.0, keys_every=keys) == stream(before, 0.0, 4.0, keys_every=keys)
        assert after.ready_at(4.001) == before.ready_at(4.001)
        assert after.link_interval <= 0.030


def test_a_100ms_round_trip_slows_interactive_frames_only() -> None:
    """SRTT/2 = 50 ms: 20 frames/s instead of 30 while the agent types; the steady rate
    (15/s, 67 ms) is already slower and stays."""
    s = customer_sender(0.100)
    assert rate(stream(s, 0.0, 3.0, keys_every=0.4), 1.0, 3.0) <= 20 + 2.5 + 0.5
    s = customer_sender(0.100)
    times = stream(s, 0.0, 6.0)
    assert s.steady and abs(rate(times, 2.0, 6.0) - STEADY_FPS) <= 0.5


def test_an_expedited_key_goes_at_once_whatever_the_round_trip() -> None:
    """The echo of the agent's key never waits for the link's interval, even at its longest."""
    for rtt in (0.150, 4.9):
        s = customer_sender(rtt)
        times = stream(s, 0.0, 3.0)  # a log scrolling: the bucket is empty
        now = times[-1] + 0.001
        s.feed(b"k")
        assert s.poll(now) is None  # the rate says wait
        s.expedite(now)
        assert s.next_deadline(now) == now and s.ready_at(now) == now
        assert s.poll(now) is not None
        s.feed(b"l")
        assert s.poll(now + 0.001) is None  # one frame per key, then the link's pace again
        assert s.ready_at(now + 0.001) == pytest.approx(now + min(rtt / 2, MAX_INTERVAL))


def test_timing_from_the_peer_cannot_stop_frames() -> None:
    """Samples the relay or the agent can make up: nonsense is ignored, and the longest
    plausible round trip still leaves 4 frames a second."""
    s = customer_sender()
    for bad in (math.nan, math.inf, -1.0, 1e12, -math.inf):
        s.link_rtt(bad)
    assert s.link_interval == 0.0
    assert rate(stream(s, 0.0, 2.0), 1.0, 2.0) >= STEADY_FPS - 1
    for _ in range(200):
        s.link_rtt(MAX_SAMPLE - 0.001)
    assert s.link_interval == MAX_INTERVAL
    times = stream(s, 2.0, 4.0)
    assert len(times) >= 4.0 / MAX_INTERVAL - 1
    assert all(b - a <= MAX_INTERVAL + STEP + 1e-6 for a, b in zip(times, times[1:]))


def test_the_pace_follows_the_round_trip_as_it_changes() -> None:
    """A path that gets shorter (the direct path after the relay) speeds frames back up as
    the samples come in (one every 2 s in the runtime)."""
    s = customer_sender(0.150)
    stream(s, 0.0, 2.0)
    for _ in range(30):
        s.link_rtt(0.002)
    assert s.link_interval < 0.005
    times = stream(s, 2.0, 4.0)
    assert s.steady and abs(rate(times, 3.0, 6.0) - STEADY_FPS) <= 0.5


def test_steady_after_and_key_hold_keep_their_meaning() -> None:
    """The steady rate still needs STEADY_AFTER frames on time (counted at the link's pace),
    and a key still holds the interactive rate for KEY_HOLD s."""
    s = customer_sender(0.150)
    times = stream(s, 0.0, (STEADY_AFTER + 6) * 0.075)
    assert s.steady and len(times) >= STEADY_AFTER
    now = times[-1] + STEP
    s.expedite(now)
    assert not s.steady
    typing = stream(s, now, KEY_HOLD * 0.9)
    assert not s.steady  # the agent typed: no steady rate for KEY_HOLD s
    assert 1 / 0.075 - 1.5 <= len(typing) / (KEY_HOLD * 0.9) <= 1 / 0.075 + 1.5

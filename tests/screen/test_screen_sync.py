"""Sender/mirror synchronisation: properties and coalescing under floods."""

import json
import os
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cobrowse.screen import Emulator, ScreenFrame, ScreenMirror, ScreenSender, apply, diff
from cobrowse.screen.sync import KEY_HOLD, STEADY_FPS

sys.path.insert(0, str(Path(__file__).parent))
from streams import sizes, split_stream  # noqa: E402

# COBROWSE_FUZZ_EXAMPLES=5000 for a long fuzzing run.
SETTINGS = settings(max_examples=int(os.environ.get("COBROWSE_FUZZ_EXAMPLES", "150")), deadline=None, suppress_health_check=[HealthCheck.too_slow])


def wire(frame: ScreenFrame) -> ScreenFrame:
    """Through the wire form and JSON, as the real transport does."""
    return ScreenFrame.from_dict(json.loads(json.dumps(frame.to_dict())))


@SETTINGS
@given(stream=split_stream(), size=sizes, gaps=st.lists(st.floats(0, 0.1), min_size=1, max_size=20),
       fps=st.sampled_from([10.0, 30.0, 1000.0]),
       resizes=st.dictionaries(st.integers(0, 12), sizes, max_size=2))
def test_mirror_converges_to_sender(stream, size, gaps, fps, resizes):
    _, chunks = stream
    sender = ScreenSender(*size, fps=fps)
    mirror = ScreenMirror()
    frames = []
    now = 100.0
    last_frame_at = None
    for k, chunk in enumerate(chunks):
        if k in resizes:
            sender.resize(*resizes[k])
        sender.feed(chunk)
        now += gaps[k % len(gaps)]
        frame = sender.poll(now)
        if frame is not None:
            if last_frame_at is not None:
                assert now - last_frame_at >= 1 / fps - 1e-9
            last_frame_at = now
            frames.append(frame)
            mirror.apply(wire(frame))
    # Output settled: poll at the deadline until nothing is pending.
    for _ in range(3):
        deadline = sender.next_deadline(now)
        if deadline is None:
            break
        assert deadline >= now
        now = deadline
        frame = sender.poll(now)
        if frame is not None:  # None: the dirty rows changed back
            frames.append(frame)
            mirror.apply(wire(frame))
    assert sender.next_deadline(now) is None
    assert sender.poll(now + 10) is None
    truth = sender.state()
    assert mirror.state == truth
    assert sender.sent == truth
    # Frames applied in order from the first snapshot equal a fresh snapshot.
    assert frames[0].is_snapshot
    replay = None
    for f in frames:
        replay = apply(replay, f)
    assert replay == apply(None, ScreenFrame.of_state(truth))


@SETTINGS
@given(stream=split_stream(), size=sizes)
def test_diff_of_consecutive_states(stream, size):
    _, chunks = stream
    e = Emulator(*size)
    prev = e.state()
    for chunk in chunks:
        e.feed(chunk)
        cur = e.state()
        f = diff(prev, cur)
        assert not f.is_snapshot
        assert apply(prev, wire(f)) == cur
        # The rows avt reports as changed cover every row that changed.
        prev = cur
    assert apply(None, wire(ScreenFrame.of_state(prev))) == prev


@SETTINGS
@given(stream=split_stream(), size=sizes)
def test_dirty_rows_cover_all_changes(stream, size):
    _, chunks = stream
    e = Emulator(*size)
    prev = e.state()
    for chunk in chunks:
        changed = e.feed(chunk)
        cur = e.state()
        really = {i for i, (a, b) in enumerate(zip(prev.rows, cur.rows)) if a != b}
        assert really <= changed
        prev = cur


@SETTINGS
@given(stream=split_stream(), size=sizes)
def test_tracked_alt_screen_matches_avt(stream, size):
    # Our alt-screen flag (tracked from the bytes) agrees with avt's buffer, and
    # our DECCKM agrees with avt's except after RIS/DECSTR (avt keeps it set).
    data, chunks = stream
    e = Emulator(*size)
    for chunk in chunks:
        e.feed(chunk)
        dump = e._vt.dump()
        # dump() recreates both buffers and ends in the active one.
        assert e.modes().alt_screen == (dump.rfind("\x9b?1047h") > dump.rfind("\x9b?1047l"))
    if b"\x1bc" not in data and b"!p" not in data:
        assert e.modes().app_cursor == e._vt.cursor_key_app_mode
    for row in e.state().rows:
        assert row.width == size[0]


def test_resize_and_resync_force_snapshots():
    s = ScreenSender(20, 5)
    m = ScreenMirror()
    m.apply(s.poll(0.0))
    s.feed(b"hello")
    f = s.poll(1.0)
    assert not f.is_snapshot and [i for i, _ in f.rows] == [0]
    m.apply(f)
    s.resize(30, 6)
    assert s.next_deadline(1.01) == pytest.approx(1.0 + 1 / 30)
    assert s.poll(1.01) is None  # rate limited
    f = s.poll(2.0)
    assert f.is_snapshot and f.size == (30, 6)
    m.apply(f)
    assert m.state == s.state()
    s.resync()
    f = s.poll(3.0)
    assert f.is_snapshot
    assert s.poll(4.0) is None


def test_changed_and_changed_back_costs_nothing():
    s = ScreenSender(20, 5)
    s.feed(b"abc")
    s.poll(0.0)
    s.feed(b"\x1b[1;1HX\x1b[1;1Ha\x1b[1;4H")  # row 0 changes, then changes back
    assert s.next_deadline(1.0) == 1.0  # dirty: worth a look
    assert s.poll(1.0) is None
    assert s.next_deadline(1.0) is None
    s.feed(b"\x1b[2;2H")  # cursor only
    f = s.poll(2.0)
    assert f is not None and f.rows == () and f.cursor.row == 1


def test_mirror_rejects_diff_without_snapshot_or_of_other_size():
    s = ScreenSender(10, 3)
    snap = s.poll(0.0)
    s.feed(b"x")
    d = s.poll(1.0)
    with pytest.raises(ValueError):
        ScreenMirror().apply(d)
    other = ScreenSender(11, 3).poll(0.0)
    m = ScreenMirror()
    m.apply(other)
    with pytest.raises(ValueError):
        m.apply(d)
    m.apply(snap)
    m.apply(d)
    assert m.state == s.state()


def _flood_chunks(total: int, chunk: int):
    """~total bytes of numbered, coloured lines (every line differs), in chunks."""
    buf = bytearray()
    n = 0
    sent = 0
    while sent < total:
        while len(buf) < chunk:
            buf += b"\x1b[3%dmline %08d\x1b[0m some build output \x1b[1mfile_%d.c\x1b[0m ok\r\n" % (n % 8, n, n)
            n += 1
        yield bytes(buf[:chunk])
        del buf[:chunk]
        sent += chunk


def test_flood_is_coalesced():
    cols, rows, fps = 80, 24, 30.0
    s = ScreenSender(cols, rows, fps=fps)
    m = ScreenMirror()
    total = 10 * 1024 * 1024
    chunk = 16 * 1024
    now = 0.0
    times = []
    frame_bytes = 0
    for data in _flood_chunks(total, chunk):
        s.feed(data)
        now += 0.0005  # 16 KiB every 0.5 ms: ~32 MB/s of output
        f = s.poll(now)
        if f is not None:
            times.append(now)
            frame_bytes += len(json.dumps(f.to_dict(), ensure_ascii=False).encode())
            m.apply(wire(f))
    now = s.next_deadline(now) or now
    f = s.poll(now)
    if f is not None:
        times.append(now)
        frame_bytes += len(json.dumps(f.to_dict(), ensure_ascii=False).encode())
        m.apply(wire(f))
    assert m.state == s.state()
    assert all(b - a >= 1 / fps - 1e-9 for a, b in zip(times, times[1:]))
    assert len(times) <= now * fps + 2
    assert len(times) >= now * fps / 2  # the screen really kept changing
    # Each frame costs at most a screenful (text + style indexes + framing).
    per_frame_bound = cols * rows * 4 + 2048
    assert frame_bytes <= len(times) * per_frame_bound
    assert frame_bytes <= 0.02 * total


def test_steady_output_goes_at_the_steady_rate_until_a_key_or_a_pause() -> None:
    """Output streaming on: after STEADY_AFTER frames on time, frames go at STEADY_FPS; a key
    from the agent lets its echo out at once and brings back fps for KEY_HOLD s; after a
    pause the first change goes at once."""
    s = ScreenSender(20, 3, fps=30.0, burst=4)
    assert s.poll(0.0) is not None
    now, times = 0.0, []

    def stream(seconds: float) -> list[float]:
        nonlocal now
        out = []
        for i in range(int(seconds / 0.005)):
            now += 0.005
            s.feed(b"\r%d" % i)
            if s.poll(now) is not None:
                out.append(now)
        return out

    times = stream(3.0)
    assert s.steady
    late = [t for t in times if t >= 1.0]
    assert 2.0 * STEADY_FPS - 3 <= len(late) <= 2.0 * STEADY_FPS + 3
    now += 0.005
    s.feed(b"k")
    s.expedite(now)
    assert s.next_deadline(now) == now and s.poll(now) is not None  # the key's echo at once
    assert not s.steady
    times = stream(KEY_HOLD * 0.9)
    assert len(times) >= KEY_HOLD * 0.9 * 30 - 5  # full rate while the agent types
    now += 0.5  # a pause: the next change goes at once, at full rate
    s.feed(b"z")
    assert s.poll(now) is not None
    assert not s.steady


def test_burst_sends_an_echo_at_once_but_keeps_the_average_rate() -> None:
    """After a quiet spell a change goes out at once; sustained changes stay at ``fps``
    (without the steady-output rate: see the next test)."""
    s = ScreenSender(20, 3, fps=30.0, burst=4, steady_fps=None)
    assert s.poll(0.0) is not None  # the first snapshot
    now = 0.0
    for i in range(3):  # typing faster than 30/s: the burst absorbs it
        now += 0.005
        s.feed(b"x")
        assert s.next_deadline(now) == now
        assert s.poll(now) is not None
    sent = 0
    for i in range(600):  # 3 s of a change every 5 ms
        now += 0.005
        s.feed(b"\r%d" % i)
        if s.poll(now) is not None:
            sent += 1
    assert sent <= 3.0 * 30 + 4
    assert sent >= 3.0 * 30 - 5
    now += 1.0  # a quiet second refills the bucket
    s.feed(b"z")
    assert s.poll(now) is not None


def test_expedite_lets_an_echo_through_at_once() -> None:
    s = ScreenSender(20, 3, fps=30.0)
    assert s.poll(0.0) is not None
    s.feed(b"a")
    assert s.poll(0.001) is None  # the rate says wait
    s.expedite(0.002)
    assert s.next_deadline(0.002) == 0.002
    assert s.poll(0.002) is not None
    s.feed(b"b")
    assert s.poll(0.003) is None  # one frame per expedite, then the rate again


def test_ready_at_says_when_the_rate_next_allows_a_frame() -> None:
    """What the customer waits for before feeding small output: now after a pause (an echo
    goes at once), else the time the token bucket refills, which next_deadline agrees with."""
    s = ScreenSender(20, 3, fps=30.0, burst=1)
    assert s.ready_at(0.0) == 0.0
    assert s.poll(0.0) is not None
    assert abs(s.ready_at(0.01) - 1 / 30) < 1e-9
    s.feed(b"x")
    assert s.next_deadline(0.01) == s.ready_at(0.01)
    assert s.poll(s.ready_at(0.01)) is not None
    assert s.ready_at(1.0) == 1.0

"""The notice lane's per-read cost while no notice waits: output is only queued for its
mirror (fed when the mirror is next read), whatever letters it holds; a scroll region set
in that output is still noted, and what the lane writes is the same as with a mirror fed at
every read."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cobrowse.plain.notice_lane import NoticeLane

SETTINGS = settings(max_examples=int(os.environ.get("COBROWSE_FUZZ_EXAMPLES", "100")), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def _ready(cols: int = 40, rows: int = 8) -> NoticeLane:
    lane = NoticeLane(cols, rows)
    lane.start()
    lane.keys(b"\x1b[1;1R")  # the cursor report: the lane is placed and idle
    return lane


def test_an_idle_lane_feeds_its_mirror_no_log_line() -> None:
    lane = _ready()
    fed = 0
    for i in range(200):  # every line holds an "r" (and colours): it fed the mirror each read
        data = b"\x1b[32mINFO\x1b[0m worker %d: request served in 3 ms\r\n" % i
        assert lane.output(data) == b""
        fed += len(data)
    assert lane._pending_bytes == fed


def test_a_scroll_region_in_queued_output_is_still_noted() -> None:
    lane = _ready(40, 10)
    lane.output(b"reading package lists\r\n\x1b[1;9r\x1b[9;1H")
    assert lane._region == (0, 8)
    assert lane._pending  # noted without feeding the mirror
    lane.output(b"more\r\n\x1b[r")
    assert lane._region is None


TOKENS = st.sampled_from([
    b"line r\r\n", b"word ", b"\r\n", b"\x1b[31m", b"\x1b[0m", b"\x1b[2;6r", b"\x1b[r", b"\x1bc", b"\x1b[?1049h",
    b"\x1b[?1049l", b"\x1b[5;1H", b"\x1b[K", b"x" * 45, b"\x1b[", b"1;4r", b"\xe4\xb8", b"\xad",
])
STEPS = st.lists(st.one_of(
    st.tuples(st.just("out"), st.lists(TOKENS, min_size=1, max_size=8).map(b"".join)),
    st.tuples(st.just("say"), st.booleans()),
    st.tuples(st.just("key"), st.sampled_from([b"a", b"\r"])),
    st.tuples(st.just("size"), st.sampled_from([(40, 8), (30, 10)])),
), min_size=1, max_size=30)


@SETTINGS
@given(steps=STEPS)
def test_the_lane_writes_the_same_with_its_mirror_fed_at_every_read(steps) -> None:
    """Any output, notices, keys and resizes: the bytes the lane writes and its noted scroll
    region are those of a lane whose mirror is fed at every read."""
    lazy, eager = _ready(), _ready()
    for kind, arg in steps:
        outs = []
        for lane in (lazy, eager):
            if kind == "out":
                outs.append(lane.output(arg))
                if lane is eager:
                    lane._catch_up()
            elif kind == "say":
                outs.append(lane.notice(["[cobrowse] note"], urgent=arg))
            elif kind == "key":
                outs.append(lane.keys(arg))
            else:
                lane.resize(*arg)
                outs.append(b"")
        assert outs[0] == outs[1]
        assert lazy._region == eager._region

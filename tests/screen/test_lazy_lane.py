"""Plain mode's notice lane feeds its emulator only when it reads it (notice_lane.py): while
no notice is held, waiting or shown, output is queued; whatever comes, the bytes the lane
writes are those of a lane that fed every output at once."""

import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cobrowse.plain.notice_lane import NoticeLane

SETTINGS = settings(max_examples=int(os.environ.get("COBROWSE_FUZZ_EXAMPLES", "100")), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

OUTPUT = st.sampled_from([
    b"line of log\r\n", b"\x1b[31mred\x1b[0m ", b"\x1b[?1049h", b"\x1b[?1049l", b"\x1b[2J\x1b[H", b"\x1b[3;10r",
    b"\x1b[r", b"$ ", b"\x1b[5;1H", b"\x1b", b"[1m", b"\xe4\xb8", b"\xad", b"x" * 90, b"\r\n" * 12, b"\x1b[K",
])
EVENT = st.one_of(
    st.tuples(st.just("out"), st.lists(OUTPUT, min_size=1, max_size=6).map(b"".join)),
    st.tuples(st.just("notice"), st.booleans()),
    st.tuples(st.just("key"), st.sampled_from([b"a", b"\x1b[3;5R", b"x\x1b[30;90Ry"])),
    st.tuples(st.just("give_up"), st.just(None)),
    st.tuples(st.just("overdue"), st.just(None)),
)


def _run(lane: NoticeLane, events: list, eager: bool) -> list[bytes]:
    out = []
    for i, (kind, arg) in enumerate(events):
        if kind == "out":
            out.append(lane.output(arg))
        elif kind == "notice":
            out.append(lane.notice([f"[cobrowse] notice {i}"], urgent=arg))
        elif kind == "key":
            out.append(lane.keys(arg)[0])
        elif kind == "give_up":
            out.append(lane.give_up())
        else:
            out.append(lane.overdue())
        if eager:
            lane._mirror  # noqa: B018 (reading it feeds what is pending)
    return out


@SETTINGS
@given(events=st.lists(EVENT, max_size=30), size=st.sampled_from([(20, 6), (40, 12), (80, 24)]), ask=st.booleans())
def test_a_lazy_lane_writes_what_an_eager_one_does(events, size, ask):
    lazy, eager = NoticeLane(*size), NoticeLane(*size)
    if ask:
        assert lazy.start() == eager.start()
    assert _run(lazy, events, False) == _run(eager, events, True)
    assert lazy._mirror.state() == eager._mirror.state()


def test_output_without_notices_is_not_parsed_until_needed():
    lane = NoticeLane(80, 24)
    for i in range(100):
        assert lane.output(b"log line %d\r\n" % i) == b""
    assert lane._pending  # nothing fed yet
    out = lane.notice(["[cobrowse] hello"], urgent=False)
    assert b"[cobrowse] hello" in out and not lane._pending

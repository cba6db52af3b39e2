"""The notice lane at a pty read keeps only references: whether the program stopped inside a
sequence, and its last bytes (fish's own newline), are worked out when a notice is placed,
and must be what they were when worked out at every read."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cobrowse.plain.notice_lane import _RECENT, _TAIL, NoticeLane, _unfinished

SETTINGS = settings(max_examples=int(os.environ.get("COBROWSE_FUZZ_EXAMPLES", "100")), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

CHUNKS = st.one_of(
    st.binary(min_size=1, max_size=200),
    st.sampled_from([b"\x1b", b"\x1b[", b"\x1b[3", b"m", b"\xe4", b"\xe4\xb8", b"\xad", b"\r\r\n", b"\x1b[0m",
                     b"x" * 63, b"y" * 64, b"z" * 65, b"\x1b]0;title", b"\x07"]),
)


@SETTINGS
@given(st.lists(CHUNKS, min_size=1, max_size=150), st.data())
def test_the_tail_and_the_unfinished_state_are_those_of_the_stream(chunks: list[bytes], data: st.DataObject) -> None:
    lane = NoticeLane(40, 8)
    lane.start()
    lane.keys(b"\x1b[1;1R")
    stream = b""
    for chunk in chunks:
        lane.output(chunk)
        stream += chunk
        assert len(lane._recent) <= _RECENT
        if data.draw(st.booleans()):  # asked now and then, as placing a notice does
            assert lane._tail == stream[-_TAIL:]
            assert lane._mid == _unfinished(chunk)
    assert lane._tail == stream[-_TAIL:]
    assert lane._mid == _unfinished(chunks[-1])


def test_many_reads_keep_a_bounded_number_of_references() -> None:
    lane = NoticeLane(40, 8)
    for i in range(10 * _RECENT):
        lane.output(b"line %d\r\n" % i)
        assert len(lane._recent) <= _RECENT
    assert lane._tail.endswith(b"line %d\r\n" % (10 * _RECENT - 1))


def test_an_overdue_notice_ends_the_programs_unfinished_sequence() -> None:
    lane = NoticeLane(40, 8)
    lane.start()
    lane.keys(b"\x1b[1;1R")
    lane.output(b"$ \x1b[3")  # stopped inside a CSI: a notice waits for the program's next output
    assert lane.notice(["[cobrowse] hello"], urgent=False) == b""
    assert lane.waiting
    placed = lane.overdue()
    assert b"[cobrowse] hello" in placed
    assert not lane._mid


def test_the_lane_knows_when_it_awaits_the_cursor_report() -> None:
    lane = NoticeLane(40, 8)
    assert not lane.asking
    lane.start()
    assert lane.asking
    lane.keys(b"\x1b[2;1R")
    assert not lane.asking
    lane.start()
    lane.give_up()
    assert not lane.asking
    lane.start()
    lane.output(b"y" * (300 * 1024))  # past MAX_REPLAY: the lane gives up by itself
    assert not lane.asking

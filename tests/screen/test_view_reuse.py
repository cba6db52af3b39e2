"""The emulator takes avt's view once between two changes of the screen (the deferred feed's
last view is the frame's): the view it reuses must always be the screen's."""

import os
import sys
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cobrowse.screen import Emulator, ScreenSender
from cobrowse.screen.redact import Redactor

sys.path.insert(0, str(Path(__file__).parent))
from streams import sizes, split_stream  # noqa: E402

SETTINGS = settings(max_examples=int(os.environ.get("COBROWSE_FUZZ_EXAMPLES", "100")), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


class CountingVt:
    """avt's Vt, counting the views taken (a copy of every row each)."""

    def __init__(self, vt: Any) -> None:
        self._vt = vt
        self.views = 0

    def view(self) -> list[Any]:
        self.views += 1
        return self._vt.view()

    def __getitem__(self, i: int) -> Any:
        return self._vt[i]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._vt, name)


def _same_screen(e: Emulator) -> None:
    lines = e._screen_lines()
    truth = e._vt.view()
    assert len(lines) == len(truth)
    assert all(a == b for a, b in zip(lines, truth)), ([a.text for a in lines], [b.text for b in truth])


@SETTINGS
@given(stream=split_stream(), size=sizes, plain=st.lists(st.text("ab \r\n\t\x1b[31m\u4e2d", max_size=200), max_size=8),
       resize_at=st.integers(0, 12), other=sizes, ask=st.lists(st.sampled_from(["fetch", "rows", "state", "above"]),
                                                                min_size=1, max_size=6))
def test_the_view_reused_is_always_the_screens(stream, size, plain, resize_at, other, ask):
    """Any output (escapes, plain text followed piece by piece, text whose head is fed
    unfollowed), a resize half-way, any reads in between: the view the emulator hands out
    equals a fresh view of avt's screen, and a View fetched from it holds the screen's rows."""
    _, chunks = stream
    e = Emulator(*size)
    since = None
    for k, chunk in enumerate(chunks + [p.encode() for p in plain]):
        if k == resize_at:
            e.resize(*other)
            since = None
        e.feed(chunk)
        _same_screen(e)
        what = ask[k % len(ask)]
        if what == "fetch":
            since, _ = e.fetch(range(e.size[1]), since)
            assert since.rows == e.state().rows
        elif what == "rows":
            assert list(e.rows(range(e.size[1])).values()) == list(e.state().rows)
        elif what == "above":
            e.context_above(8)
        else:
            e.state()
        _same_screen(e)


def test_a_frame_of_scrolling_log_takes_one_view():
    """The deferred feed's view after its piece is the frame's, and the frame's is the next
    feed's first: one copy of the screen a frame instead of three."""
    sender = ScreenSender(100, 30, fps=1000.0, redactor=Redactor())
    sender.scroll_ops = True
    counting = CountingVt(sender.emulator._vt)
    sender.emulator._vt = counting
    now = 0.0
    for i in range(60):  # fill the screen, scrollback and caches
        sender.feed(b"line %d of the build log, long enough to mean something\r\n" % i)
        now += 1.0
        sender.poll(now)
    counting.views = 0
    for i in range(60, 80):
        sender.feed(b"line %d of the build log, long enough to mean something\r\n" % i)
        now += 1.0
        assert sender.poll(now) is not None
    assert counting.views == 20
    assert sender.emulator.rows_above(8) == sender.emulator.scrollback(8)

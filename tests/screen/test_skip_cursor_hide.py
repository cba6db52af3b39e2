"""Skip-ahead (screen/skip.py) through output that hides the cursor around each line or
redraw (DECTCEM, ``ESC [ ? 25 l`` / ``h``): the flood is still shortened, and the cursor
ends shown or hidden as when it is fed whole."""

import pytest

from cobrowse.screen import Emulator
from cobrowse.screen.skip import SkipAhead


@pytest.mark.parametrize("last", [b"", b"\x1b[?25l", b"\x1b[?25h"])
def test_a_flood_written_with_the_cursor_hidden_is_shortened_and_ends_alike(last: bytes) -> None:
    data = b"".join(b"\x1b[?25l\x1b[32mbuild step %d\x1b[0m done\x1b[?25h\r\n" % i for i in range(3000))
    data = data.replace(b"step 2000 ", b"step 2000 \x1b[?25l", 1) + last
    whole, short = Emulator(80, 24), Emulator(80, 24)
    skip = SkipAhead(10)
    whole.feed(data)
    out = skip.shorten(data, 24, short.scrolls_whole())
    assert len(out) < len(data) // 10
    short.feed(out)
    assert short.state() == whole.state()
    assert short.scrollback(10) == whole.scrollback(10)


def test_a_hidden_cursor_left_in_the_skipped_head_stays_hidden() -> None:
    head = b"".join(b"line %d\r\n" % i for i in range(2000)) + b"\x1b[?25l"
    data = head + b"".join(b"tail %d\r\n" % i for i in range(100))
    whole, short = Emulator(40, 10), Emulator(40, 10)
    whole.feed(data)
    out = SkipAhead(5).shorten(data, 10, True)
    assert len(out) < len(data) // 5 and b"\x1b[?25l" in out
    short.feed(out)
    assert not whole.state().cursor.visible
    assert short.state() == whole.state()

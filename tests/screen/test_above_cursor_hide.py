"""Output that hides the cursor around each redraw (``ESC [ ? 25 l`` ... ``ESC [ ? 25 h``,
DECTCEM) is followed above the screen like plain text (above.py), not copied from the
scrollback each frame: hiding or showing the cursor changes no cell and moves nothing."""

import os
import sys
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from cobrowse.screen import Emulator
from cobrowse.screen.above import NOT_PLAIN, is_plain
from cobrowse.screen.redact import CONTEXT_ROWS

sys.path.insert(0, str(Path(__file__).parent))
from streams import sizes  # noqa: E402
from redaction_truth import assert_redacts_as_the_scrollback  # noqa: E402

SETTINGS = settings(max_examples=int(os.environ.get("COBROWSE_FUZZ_EXAMPLES", "100")), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

HIDE, SHOW = "\x1b[?25l", "\x1b[?25h"
TOKENS = st.sampled_from([
    HIDE, SHOW, HIDE, SHOW, "\x1b[K", "\x1b[2K", "\r", "\r\n", "\n", "\t", "\b", "\x1b[31m", "\x1b[0m",
    "a", "bb", "line", "same", "same", "x" * 37, "中", "é", " ", "password:", "hunter2",
    "ghp_" + "A1b2C3d4" * 5, "token=", "AKIAIOSFODNN7EXAMPLE",
    "\x1b[A", "\x1b[1J", "\x1b[?7l",  # (not plain; a scroll region or the alternate screen would end following for good)
])


def test_cursor_hide_and_show_are_plain_and_their_neighbours_are_not():
    for seq in (HIDE, SHOW, HIDE + "\x1b[31m" + SHOW):
        assert is_plain(f"text{seq}more\r\n")
        assert NOT_PLAIN.search(f"text{seq}more\r\n") is None
    for seq in ("\x1b[?25;1049h", "\x1b[?251h", "\x1b[?2l", "\x1b[?1049h", "\x1b[?25", "\x1b[25l", "\x1b[?12l",
                "\x9b?25l"):
        assert not is_plain(f"text{seq}")
        assert NOT_PLAIN.search(f"text{seq}") is not None


def test_a_log_redrawn_with_the_cursor_hidden_is_followed_without_a_copy():
    e = Emulator(60, 12)
    for i in range(300):
        e.feed(b"\x1b[?25lline %d of the build\r\n\x1b[?25h" % i)
        if i >= 12:
            assert e._off.known  # followed since the last ask: not copied from the scrollback
        assert e.rows_above(CONTEXT_ROWS) == e.scrollback(CONTEXT_ROWS)
    assert [r.text.strip() for r in e.rows_above(2)] == ["line 287 of the build", "line 288 of the build"]
    assert e.state().cursor.visible


def test_a_progress_line_with_the_cursor_hidden_then_a_log():
    e = Emulator(30, 10)
    for i in range(40):
        e.feed(b"log line %d\r\n" % i)
        e.rows_above(CONTEXT_ROWS)
    e.feed(HIDE.encode())
    for pct in range(0, 101, 7):
        e.feed(b"\r\x1b[2Kdownloading %d%%" % pct)
        assert e._off.known and e.rows_above(3) == e.scrollback(3)
    assert not e.state().cursor.visible
    e.feed(b"\r\n" + SHOW.encode())
    for i in range(40, 60):
        e.feed(b"\x1b[?25lpassword: line %d\x1b[?25h\r\n" % i)
        assert e._off.known and e.rows_above(CONTEXT_ROWS) == e.scrollback(CONTEXT_ROWS)
    assert e.state().cursor.visible


@SETTINGS
@given(pieces=st.lists(st.lists(TOKENS, max_size=40).map("".join), min_size=1, max_size=12), size=sizes)
@example(pieces=["same\r\nsame\r\nsame\r\n" + HIDE, "same\r\n" * 9 + SHOW], size=(4, 4))
@example(pieces=["x" * 37 + HIDE + "\r\n" * 3, SHOW + "\x1b[K\r\n" * 7], size=(12, 5))
@example(pieces=[HIDE * 7 + "x" * 74 + "\x1b[A" + SHOW], size=(9, 8))  # (a cursor-up taken as plain fails here)
def test_lines_above_followed_through_cursor_hiding_equal_the_scrollback(pieces, size):
    """Any mix of text, DECTCEM, EL, colours, wraps and line feeds, fed in any pieces: the
    lines the emulator follows above the screen are the scrollback's, and the cursor's
    visibility is avt's."""
    e = Emulator(*size)
    for text in pieces:
        e.feed(text.encode())
        assert e.rows_above(CONTEXT_ROWS) == e.scrollback(CONTEXT_ROWS)
        assert e.state().cursor.visible == e._vt.cursor.visible


@SETTINGS
@given(pieces=st.lists(st.lists(TOKENS, max_size=40).map("".join), min_size=1, max_size=12), size=sizes)
def test_redaction_through_cursor_hiding_equals_redaction_with_the_scrollback(pieces, size):
    """The frames' redaction with the followed context equals redaction with avt's own
    scrollback as context (a label or a token's start that scrolled off still masks)."""
    assert_redacts_as_the_scrollback(size, (text.encode() for text in pieces), cursor=True)

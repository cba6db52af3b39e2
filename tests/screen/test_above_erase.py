"""Lines ending in EL (``ESC [ K``: ``grep --color``, compilers' colours, progress lines) are
followed above the screen like plain text (above.py), not copied from the scrollback each
frame: EL erases only in the cursor's row, which is never above the rows the move is read from."""

import os
import sys
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from cobrowse.screen import Emulator
from cobrowse.screen.above import is_plain
from cobrowse.screen.redact import CONTEXT_ROWS

sys.path.insert(0, str(Path(__file__).parent))
from streams import sizes  # noqa: E402
from redaction_truth import assert_redacts_as_the_scrollback  # noqa: E402

SETTINGS = settings(max_examples=int(os.environ.get("COBROWSE_FUZZ_EXAMPLES", "100")), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

ERASES = ["\x1b[K", "\x1b[0K", "\x1b[1K", "\x1b[2K"]
TOKENS = st.sampled_from([
    *ERASES, "\r", "\r\n", "\n", "\t", "\b", "\x1b[31m", "\x1b[1;33m", "\x1b[0m", "\x1b[41m",
    "a", "bb", "line", "same", "same", "x" * 37, "中", "é", " ", "password:", "hunter2",
    "ghp_" + "A1b2C3d4" * 5, "token=", "AKIAIOSFODNN7EXAMPLE", "\x1b[A", "\x1b[1J",  # (not plain)
])


def test_el_is_plain_and_other_erases_are_not():
    for seq in ERASES:
        assert is_plain(f"text{seq}more\r\n")
    for seq in ("\x1b[J", "\x1b[1J", "\x1b[2J", "\x1b[3K", "\x1b[?K", "\x1b[1;2K", "\x1b[A", "\x9bK"):
        assert not is_plain(f"text{seq}")


def test_a_log_of_lines_ending_in_erase_is_followed_without_a_copy():
    e = Emulator(60, 12)
    for i in range(300):
        e.feed(b"\x1b[01;31m\x1b[Kmatch %d\x1b[m\x1b[K rest of the line\r\n" % i)
        if i >= 12:
            assert e._off.known  # followed since the last ask: not copied from the scrollback
        assert e.rows_above(CONTEXT_ROWS) == e.scrollback(CONTEXT_ROWS)
    assert [r.text.strip() for r in e.rows_above(2)] == ["match 287 rest of the line", "match 288 rest of the line"]


def test_a_progress_line_rewritten_in_place_then_a_log():
    e = Emulator(30, 10)
    for i in range(40):
        e.feed(b"log line %d\r\n" % i)
        e.rows_above(CONTEXT_ROWS)  # asked each frame (a copy-free answer resets the piece budget)
    for pct in range(0, 101, 7):
        e.feed(b"\r\x1b[2Kdownloading %d%%" % pct)
        assert e._off.known and e.rows_above(3) == e.scrollback(3)
    e.feed(b"\r\n")
    for i in range(40, 60):
        e.feed(b"password: line %d\x1b[K\r\n" % i)
        assert e._off.known and e.rows_above(CONTEXT_ROWS) == e.scrollback(CONTEXT_ROWS)


@SETTINGS
@given(pieces=st.lists(st.lists(TOKENS, max_size=40).map("".join), min_size=1, max_size=12), size=sizes)
@example(pieces=["same\r\nsame\r\nsame\r\n\x1b[2K", "same\r\n" * 9], size=(4, 4))
@example(pieces=["x" * 37 + "\x1b[1K\r\n" * 3, "\x1b[K\r\n" * 7], size=(12, 5))
def test_lines_above_followed_through_erases_equal_the_scrollback(pieces, size):
    """Any mix of text, EL, colours, wraps and line feeds, fed in any pieces: the lines the
    emulator follows above the screen are the scrollback's."""
    e = Emulator(*size)
    for text in pieces:
        e.feed(text.encode())
        assert e.rows_above(CONTEXT_ROWS) == e.scrollback(CONTEXT_ROWS)


@SETTINGS
@given(pieces=st.lists(st.lists(TOKENS, max_size=40).map("".join), min_size=1, max_size=12), size=sizes)
def test_redaction_through_erases_equals_redaction_with_the_scrollback(pieces, size):
    """The frames' redaction with the followed context equals redaction with avt's own
    scrollback as context (a label or a token's start that scrolled off still masks)."""
    assert_redacts_as_the_scrollback(size, (text.encode() for text in pieces))

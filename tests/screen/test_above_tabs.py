"""TABs in the plain text above.py follows: a TAB moves the cursor up to the next tab stop
(the last column once the stops are cleared) for one character, so a piece of TABs wraps far
more often than its length says. Counted as one cell, the most a piece could move the screen
was too small, and a screen of repeated lines could take a smaller move for the real one:
the lines above the screen (redaction's context) were then not the scrollback's."""

import os

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from cobrowse.screen import Emulator
from cobrowse.screen.above import most_moved
from cobrowse.screen.redact import CONTEXT_ROWS

SETTINGS = settings(max_examples=int(os.environ.get("COBROWSE_FUZZ_EXAMPLES", "100")), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

TOKENS = st.sampled_from(["\t", "\t\t\t", "x", "same", "\r\n", "\n", "\r", "\b", "ab", "\t" * 9 + "y", "中", "\x1b[K",
                          "\x1b[32m"])


def test_a_piece_of_tabs_on_a_screen_of_repeated_lines():
    """Found by hypothesis: the second piece moves the screen 6 rows; counted as 3 at most, a
    move of 3 matched the repeated lines and 3 lines above the screen were missing."""
    e = Emulator(16, 8)
    e.rows_above(CONTEXT_ROWS)
    for piece in ["\t\t\tsame\t\txsame\tsamesame\txsamex\t\t\tsame\t\txx\t\t\tsamex\t\t\tsame\t\txsame\tsamesame\t",
                  "xsamex\t\tsame\t\txx\t\t\tsamex\t\t\tsame\t\txx"]:
        e.feed(piece.encode())
        assert e.rows_above(CONTEXT_ROWS) == e.scrollback(CONTEXT_ROWS)


@SETTINGS
@given(before=st.lists(TOKENS, max_size=30).map("".join), piece=st.lists(TOKENS, max_size=60).map("".join),
       cols=st.integers(2, 40), rows=st.integers(2, 12), cleared=st.booleans())
@example(before="", piece="\t\t\t\txy" * 10, cols=16, rows=4, cleared=False)  # a wrap every 6 characters
@example(before="", piece="\txy" * 20, cols=30, rows=4, cleared=True)  # every TAB to the last column
def test_most_moved_bounds_the_real_move(before, piece, cols, rows, cleared):
    """Whatever the cursor's state and the tab stops (default or cleared), feeding a plain
    piece moves the screen up by at most ``most_moved`` rows (counted by the scrollback's growth)."""
    e = Emulator(cols, rows)
    e.feed((("\x1b[3g" if cleared else "") + before).encode())
    lines = len(e._vt.lines())
    e.feed(piece.encode())
    moved = len(e._vt.lines()) - lines
    wide = 1 if piece.isascii() else 2
    assert moved <= most_moved(piece, 0, len(piece), cols, wide)


@SETTINGS
@given(pre=st.integers(0, 30), pieces=st.lists(st.lists(TOKENS, max_size=60).map("".join), min_size=1, max_size=6),
       cols=st.integers(4, 40), rows=st.integers(4, 12), cleared=st.booleans())
def test_lines_above_followed_through_tabs_equal_the_scrollback(pre, pieces, cols, rows, cleared):
    e = Emulator(cols, rows)
    if cleared:
        e.feed(b"\x1b[3g")
    for _ in range(pre):
        e.feed(b"same\r\n")
    e.rows_above(CONTEXT_ROWS)
    for piece in pieces:
        e.feed(piece.encode())
        assert e.rows_above(CONTEXT_ROWS) == e.scrollback(CONTEXT_ROWS)

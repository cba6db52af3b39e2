"""Insert mode (IRM, ``ESC [ 4 h``: ncurses inserts characters with it where the terminal has
it, as xterm's terminfo does) shifts the row right by a character's width. avt shifts by one
cell for a wide character (``ab`` then ``ｗ`` inserted at column 0 gave ``ｗb``); the filter makes
room for the second cell. Cases measured in a real tmux 3.3a pane (`cat` of the bytes,
capture-pane, cursor_x)."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from cobrowse.screen import Emulator
from cobrowse.screen.cluster import cell_count

# bytes -> (the first row as tmux 3.3a shows it, cursor column), on a 10x3 screen
TMUX_33A = {
    "fullwidth": ("\x1b[4hab\rｗ", "ｗab", 2),
    "full_row": ("\x1b[4habcdefghij\rｗ", "ｗabcdefgh", 2),
    "cjk_then_ascii": ("\x1b[4hab\r中x", "中xab", 3),
    "insert_off_again": ("\x1b[4hab\r中\x1b[4lx", "中xb", 3),
    "bold_and_faint": ("\x1b[4hab\r\x1b[1;2m中x", "中xab", 3),
    "zwj_sequence": ("\x1b[4habcd\r\U0001F468\u200d\U0001F469x", "\U0001F468\u200d\U0001F469xabcd", 3),
    "with_another_mode": ("\x1b[4;20hab\r中", "中ab", 2),
    "reset_ends_it": ("\x1b[4hab\x1bc中", "中", 2),
}


@pytest.mark.parametrize("name", sorted(TMUX_33A))
def test_insert_mode_as_tmux_33a_draws_it(name: str) -> None:
    data, line, col = TMUX_33A[name]
    for cut in range(len(data) + 1):  # in any two pieces
        emu = Emulator(10, 3)
        emu.feed_text(data[:cut])
        emu.feed_text(data[cut:])
        assert emu.lines()[0] == line, f"cut at {cut}"
        assert emu.cursor().col == col


PIECES = st.sampled_from(["a", "xy", "中", "ｗ", "é", "e\u0301", "\U0001F44D", "\x1b[31m", "\x1b[0m"])


@given(row=st.text(alphabet="abcdefghij", max_size=20), pieces=st.lists(PIECES, max_size=12))
@example(row="", pieces=["a", "a", *["xy"] * 8, "中", "中"])
def test_inserting_at_the_start_of_a_row_puts_the_text_before_it(row: str, pieces: list[str]) -> None:
    """Typed in insert mode at column 0, text lands before the row's old text, whatever the
    widths: the same row as the text written first, then the old text, cut at the edge."""
    text = "".join(pieces)
    cells = cell_count("".join(p for p in pieces if not p.startswith("\x1b")))
    if cells > 20:
        return
    inserted = Emulator(20, 2)
    inserted.feed_text(f"\x1b[4h{row}\r{text}")
    written = Emulator(20, 2)
    written.feed_text(text + row[: 20 - cells])
    assert inserted.lines()[0] == written.lines()[0]


def test_a_wide_character_that_wraps_in_insert_mode_is_kept() -> None:
    """At the pending wrap no room is made on the full row (a blank inserted there cut the
    character drawn before it); the character wraps to the next row."""
    for data, first in (("\x1b[4hab中中", "ab中"), ("\x1b[4hab中\x1b[31m中", "ab中"), ("\x1b[4habc中", "abc")):
        for cut in range(len(data) + 1):
            emu = Emulator(4, 3)
            emu.feed_text(data[:cut])
            emu.feed_text(data[cut:])
            assert emu.lines()[:2] == [first, "中"], f"{data!r} cut at {cut}"
            assert emu.cursor().col == 2

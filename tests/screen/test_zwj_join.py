"""What a ZWJ joins, as tmux 3.3a draws it (measured in a real tmux 3.3a pane, `cat` of the
bytes, capture-pane and cursor_x/cursor_y). tmux keeps a ZWJ pending (it is not stored) and
joins the next character that goes through its cell path (screen_write_cell) to the cell left
of the cursor, wherever the cursor then is: controls, cursor moves and SGRs in between do not
break it. ASCII goes through the collect path instead and is never joined."""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from cobrowse.screen import Emulator, ScreenFrame, ScreenState, apply
from cobrowse.screen.cluster import cell_count, cluster_split

sys.path.insert(0, str(Path(__file__).parent))
from streams import sizes, split_stream  # noqa: E402

ZWJ = "\u200d"

# bytes -> (first two rows as tmux 3.3a shows them, cursor (col, row)), on a 10x3 screen
TMUX_33A = {
    "ascii_right_after": ("ab\u200dx", (["abx", ""], (3, 0))),
    "tab_then_space": ("a\u200d\t b", (["a        b", ""], (10, 0))),
    "tab_then_e": ("a\u200d\t\u00e9", (["a       \u200d\u00e9", ""], (8, 0))),
    "cr_then_ascii": ("ab\u200d\rx", (["xb", ""], (1, 0))),
    "cr_then_e": ("ab\u200d\r\u00e9", (["ab", ""], (0, 0))),  # column 0: nothing to join, dropped
    "lf_then_ascii": ("ab\u200d\nx", (["ab", "  x"], (3, 1))),
    "lf_then_e": ("ab\u200d\n\u00e9", (["ab", "  \u200d\u00e9"], (2, 1))),
    "bs_then_ascii": ("ab\u200d\bx", (["ax", ""], (2, 0))),
    "bs_then_e": ("ab\u200d\b\u00e9", (["a\u200d\u00e9b", ""], (1, 0))),
    "cuf_then_ascii": ("ab\u200d\x1b[Cx", (["ab x", ""], (4, 0))),
    "cuf_then_e": ("ab\u200d\x1b[C\u00e9", (["ab \u200d\u00e9", ""], (3, 0))),
    "cha_then_ascii": ("ab\u200d\x1b[6Gx", (["ab   x", ""], (6, 0))),
    "cha_then_e": ("ab\u200d\x1b[6G\u00e9", (["ab   \u200d\u00e9", ""], (5, 0))),
    "sgr_then_ascii": ("ab\u200d\x1b[31mx", (["abx", ""], (3, 0))),
    "sgr_then_space": ("ab\u200d\x1b[31m x", (["ab x", ""], (4, 0))),
    "sgr_then_e": ("ab\u200d\x1b[31m\u00e9", (["ab\u200d\u00e9", ""], (2, 0))),
    "right_after_e": ("ab\u200d\u00e9", (["ab\u200d\u00e9", ""], (2, 0))),
    "column0_ascii": ("\u200dx", (["x", ""], (1, 0))),
    "column0_e": ("\u200d\u00e9", (["", ""], (0, 0))),
    "column0_mark": ("\u200d\u0301x", (["x", ""], (1, 0))),
    # insert mode (IRM): the joined cell is drawn again over itself, never inserted twice
    "insert_zwsp_after_escape": ("\x1b[4ha\x1b[?25l\u200bb", (["a\u200bb", ""], (2, 0))),
    "insert_mark_after_sgr": ("\x1b[4ha\x1b[31m\u0301b", (["a\u0301b", ""], (2, 0))),
    "insert_mark_moved_left": ("\x1b[4hab\x1b[D\x1b[m\u0301x", (["a\u0301xb", ""], (2, 0))),
    "insert_zwj_then_e": ("\x1b[4hab\u200d\x1b[31m\u00e9x", (["ab\u200d\u00e9x", ""], (3, 0))),
}


@pytest.mark.parametrize("name", sorted(TMUX_33A))
def test_zwj_joins_as_tmux_33a_draws_it(name: str) -> None:
    data, (lines, cursor) = TMUX_33A[name]
    emu = Emulator(10, 3)
    emu.feed(data.encode())
    assert [line.rstrip(" ") for line in emu.state().lines()[:2]] == lines
    assert (emu.cursor().col, emu.cursor().row) == cursor
    assert all(row.width == 10 for row in emu.state().rows)


@pytest.mark.parametrize("name", sorted(TMUX_33A))
def test_zwj_joins_alike_whatever_the_chunks(name: str) -> None:
    data = TMUX_33A[name][0].encode()
    whole = Emulator(10, 3)
    whole.feed(data)
    for cut in range(len(data) + 1):
        emu = Emulator(10, 3)
        emu.feed(data[:cut])
        emu.feed(data[cut:])
        assert emu.state().rows == whole.state().rows, f"cut at byte {cut}"
        assert emu.cursor() == whole.cursor()


def test_zwj_tab_space_on_two_columns_leaves_a_blank_row() -> None:
    """The hypothesis find: the space after the TAB had been joined to cell 0, which the cursor
    had left, and to_dict's trailing-space trim then cut that cell's text."""
    emu = Emulator(2, 1)
    emu.feed(b"\xe2\x80\x8d\t ")
    row = emu.state().rows[0]
    assert row.text == "  " and row.width == 2
    frame = ScreenFrame.of_state(emu.state())
    assert ScreenFrame.from_dict(json.loads(json.dumps(frame.to_dict()))) == frame


def test_an_emoji_sequence_split_by_an_sgr_still_joins() -> None:
    """tmux joins through an SGR: a colour change inside a ZWJ sequence keeps one cell."""
    emu = Emulator(10, 1)
    emu.feed("\U0001F468\u200d\x1b[31m\U0001F469|".encode())
    assert emu.state().lines()[0].rstrip() == "\U0001F468\u200d\U0001F469|"
    assert emu.cursor().col == 3


_ASCII_AFTER_ZWJ = re.compile(f"{ZWJ}[\\x00-\\x7f]")


@settings(max_examples=int(os.environ.get("COBROWSE_FUZZ_EXAMPLES", "150")), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stream=split_stream(), size=sizes)
def test_rows_hold_exactly_their_columns_through_json(stream, size) -> None:
    """Whatever the stream, a row's text covers exactly the screen's columns, counted either
    way, no cell holds ASCII after a ZWJ (it would not survive to_dict's trim), and the frame
    rebuilds the same rows after JSON."""
    _, chunks = stream
    emu = Emulator(*size)
    for c in chunks:
        emu.feed(c)
    state = emu.state()
    cols = size[0]
    for row in state.rows:
        assert cell_count(row.text) + len(row.wide) == cols
        assert len(cluster_split(row.text)) + len(row.wide) == cols
        assert _ASCII_AFTER_ZWJ.search(row.text) is None, row.text
    frame = ScreenFrame.from_dict(json.loads(json.dumps(ScreenFrame.of_state(state).to_dict())))
    rebuilt = apply(ScreenState.blank(*size), frame)
    assert rebuilt.rows == state.rows

"""The fidelity items of issue 14, as tmux 3.3a draws them (measured: tests/e2e/test_screen_fidelity.py
compares the same bytes in a real tmux), checked on the emulator, the sender/mirror and the
headless `screen` event."""

from __future__ import annotations

import json

import pytest

from cobrowse.io.agent import screen_event
from cobrowse.screen import Emulator, ScreenFrame, ScreenMirror, ScreenSender
from cobrowse.screen.state import (
    BOLD,
    CURLY_UNDERLINE,
    DOTTED_UNDERLINE,
    DOUBLE_UNDERLINE,
    FAINT,
    HIDDEN,
    OVERLINE,
    UNDERLINE,
)

# (bytes, the first row's text as tmux shows it, cursor column)
CLUSTERS = {
    "cafe": ("cafe\u0301|", "cafe\u0301|", 5),
    "hindi": ("नमस्ते|", "नमस्ते|", 5),
    "thai": ("สวัสดี|", "สวัสดี|", 5),
    "heart_vs16": ("\u2764\ufe0f|", "\u2764\ufe0f|", 2),
    "family_zwj": ("\U0001F468\u200d\U0001F469\u200d\U0001F467|", "\U0001F468\u200d\U0001F469\u200d\U0001F467|", 3),
    "zwsp": ("a\u200bb|", "a\u200bb|", 3),
    "arabic": ("سَلامٌ|", "سَلامٌ|", 5),
    "persian": ("کِتاب|", "کِتاب|", 5),
    "jamo": ("\u1100\u1161\u11a8|", "\u1100\u1161\u11a8|", 3),
    "keycap": ("1\ufe0f\u20e3|", "1\ufe0f\u20e3|", 2),
    "stray_mark": ("\u0301a|", "a|", 2),
}


@pytest.mark.parametrize("name", sorted(CLUSTERS))
def test_a_cluster_takes_one_cell_as_in_tmux(name: str) -> None:
    data, text, col = CLUSTERS[name]
    emu = Emulator(20, 2)
    emu.feed(data.encode())
    assert emu.state().lines()[0] == text
    assert emu.cursor().col == col
    assert emu.row(0).width == 20


def test_a_stream_split_at_every_byte_draws_the_same_screen() -> None:
    """A pty read may end anywhere: inside a cluster (after its base, after a ZWJ), inside an
    escape sequence, in hidden text. Zero-width characters that arrive after the cut join the
    cell left of the cursor, as tmux does, with that cell's style."""
    data = ("x cafe\u0301 \x1b[31mn\x1b[0m\u0301 \U0001F468\u200d\U0001F469\u200d\U0001F467 y "
            "\u0915\u094d\u0937 \x1b[8mhid\x1b[0m \x1b[1;2mbd\x1b[0m \u0e2a\u0e27\u0e31\u0e2a").encode()
    whole = Emulator(40, 1)
    whole.feed(data)
    assert whole.state().lines()[0] == "x cafe\u0301 n\u0301 \U0001F468\u200d\U0001F469\u200d\U0001F467 y \u0915\u094d\u0937     bd \u0e2a\u0e27\u0e31\u0e2a"
    assert [s.fg for t, s in whole.row(0).runs if t == "n\u0301"] == [1]
    for cut in range(len(data) + 1):
        emu = Emulator(40, 1)
        emu.feed(data[:cut])
        emu.feed(data[cut:])
        assert emu.state().rows == whole.state().rows, f"cut at byte {cut}"
        assert emu.cursor() == whole.cursor()


def styles_of(data: bytes, cols: int = 20) -> list[tuple[str, int]]:
    emu = Emulator(cols, 1)
    emu.feed(data)
    return [(text, style.attrs) for text, style in emu.row(0).runs]


def test_sgr_attributes_avt_lacks_are_kept() -> None:
    runs = styles_of(b"\x1b[21ma\x1b[0m\x1b[4:3mb\x1b[4:4mc\x1b[0m\x1b[53md\x1b[0m\x1b[1;2me\x1b[0m\x1b[1m\x1b[2mf\x1b[22mg\x1b[4mh")
    assert runs[:7] == [("a", DOUBLE_UNDERLINE), ("b", CURLY_UNDERLINE), ("c", DOTTED_UNDERLINE), ("d", OVERLINE),
                        ("ef", BOLD | FAINT), ("g", 0), ("h", UNDERLINE)]


def test_hidden_text_is_blank_in_rows_frames_and_headless_events() -> None:
    secret = b"hunter2"
    data = b"pw: \x1b[8m" + secret + b"\x1b[0m ok\r\n\x1b[8;1;31m\xe6\x97\xa5\xe6\x9c\xac\x1b[28mvisible"
    sender = ScreenSender(20, 3)
    sender.feed(data)
    frame = sender.poll(0.0)
    assert frame is not None
    wire = json.dumps(frame.to_dict())
    assert "hunter2" not in wire and "日" not in wire
    mirror = ScreenMirror()
    state = mirror.apply(ScreenFrame.from_dict(json.loads(wire)))
    assert state.lines()[:2] == ["pw:         ok", "    visible"]
    hidden = [style for _, style in state.rows[0].runs if style.attrs & HIDDEN]
    assert hidden, "the hidden cells say so"
    event = json.dumps(screen_event(state, styles=True))
    assert "hunter2" not in event
    runs = screen_event(state, styles=True)["styles"][0]
    assert [4, 11, {"hidden": True}] in runs


def test_screen_event_styles_are_off_by_default() -> None:
    emu = Emulator(10, 1)
    emu.feed(b"\x1b[1;38;2;1;2;3mab\x1b[0m")
    assert "styles" not in screen_event(emu.state())
    assert screen_event(emu.state(), styles=True)["styles"] == [[[0, 2, {"fg": "#010203", "bold": True}]]]


def test_scroll_region_past_the_last_row_is_clamped() -> None:
    emu = Emulator(20, 8)
    emu.feed(b"\x1b[2J\x1b[H1\r\n2\r\n3\r\n4\r\n5\r\n6\r\n7\r\n8\x1b[3;99r\x1b[8;1Hx\nY")
    assert emu.state().lines() == ["1", "2", "4", "5", "6", "7", "x", " Y"]


def test_deccolm_clears_and_homes() -> None:
    emu = Emulator(20, 4)
    emu.feed(b"abc\r\ndef\x1b[?3l")
    assert emu.state().lines() == ["", "", "", ""] and emu.cursor().col == 0 and emu.cursor().row == 0


@pytest.mark.parametrize("data, want", [
    (b"\x1b(0\x1b7\x1b(Bqqq\x1b8qqq\x1b(B", "\u2500\u2500\u2500"),
    (b"\x1b7\x1b(0qq\x1b8qq\x1b(B", "qq"),
    (b"\x1b(0\x1b[s\x1b(Bqq\x1b[uqq\x1b(B", "\u2500\u2500"),
])
def test_decrc_restores_the_line_drawing_charset(data: bytes, want: str) -> None:
    emu = Emulator(20, 1)
    emu.feed(data)
    assert emu.state().lines()[0] == want


def test_reverse_index_under_origin_mode_moves_up_one_row() -> None:
    """avt's RI under DECOM jumped to the region's top + row - 1 (measured against tmux)."""
    base = b"\x1b[2J\x1b[H1\r\n2\r\n3\r\n4\r\n5\r\n6\r\n7\r\n8\x1b[3;6r\x1b[?6h"
    emu = Emulator(20, 8)
    emu.feed(base + b"\x1b[9;1HX\x1bMY\x1b[?6l\x1b[r")
    assert emu.state().lines() == ["1", "2", "3", "4", "5Y", "X", "7", "8"]
    emu = Emulator(20, 8)
    emu.feed(base + b"\x1b[1;1H" + b"\x1bM" * 5 + b"Z\x1b[?6l\x1b[r")
    assert emu.state().lines() == ["1", "2", "Z", "", "", "", "7", "8"]


def test_redaction_masks_whole_clusters_and_frames_stay_valid() -> None:
    """The redactor masks character by character; a cluster (a base and its marks) is masked
    as one cell, so the row keeps its width and the agent accepts the frame."""
    from cobrowse.screen.redact import MASK_CHAR, Redactor

    sender = ScreenSender(20, 2, redactor=Redactor([r"secre\w*"], builtin=False))
    sender.feed("secrete\u0301 cafe\u0301\r\n\U0001F468\u200d\U0001F469\u200d\U0001F467 secret\u200bx".encode())
    frame = sender.poll(0.0)
    assert frame is not None
    state = ScreenMirror().apply_dict(json.loads(json.dumps(frame.to_dict())))
    assert [row.width for row in state.rows] == [20, 20]
    line0, line1 = state.lines()
    assert "secret" not in line0 and line0.endswith(" cafe\u0301") and line0.startswith(MASK_CHAR * 7 + " ")
    assert line1.startswith("\U0001F468\u200d\U0001F469\u200d\U0001F467 ") and "secret" not in line1

"""Faint text without bold bypasses the stream filter (the filter follows avt's intensity
instead of reading its dump): every screen must be what the filter made of the same output
before, when it parsed every chunk with a faint SGR and read the pen from avt's dump each
time (the reference: an emulator whose filter never knows the pen)."""

from __future__ import annotations

import sys
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from cobrowse.screen import Emulator

sys.path.insert(0, str(Path(__file__).parent))
from streams import sizes, split_stream  # noqa: E402

_LOG_PIECES = st.sampled_from([
    "\x1b[2m", "\x1b[0m", "\x1b[1;31m", "\x1b[33m", "\x1b[22m", "\x1b[1m", "\x1b[2;36m", "\x1b[m", "\x1b[38;2;1;2;3m",
    "\x1b[48;5;2m", "\x1b[58;5;2m", "\x1b[2;1m", "\x1b[1;2m", "\x1b[21m", "\x1b[53m", "\x1b7", "\x1b8", "\x1b[s",
    "\x1b[u", "\x1bc", "\x1b[?1049h", "\x1b[?1049l", "\x1b[!p", "\r\n", "DEBUG line", "INFO x", "é", "\x9b2m",
])


@st.composite
def log_stream(draw: st.DrawFn) -> tuple[bytes, list[bytes]]:
    data = "".join(draw(st.lists(_LOG_PIECES, max_size=40))).encode("utf-8")
    cuts = sorted(set(draw(st.lists(st.integers(0, len(data)), max_size=10))))
    chunks, prev = [], 0
    for c in [*cuts, len(data)]:
        chunks.append(data[prev:c])
        prev = c
    return data, chunks


def _check(size: tuple[int, int], chunks: list[bytes]) -> None:
    cols, rows = size
    fast, ref = Emulator(cols, rows), Emulator(cols, rows)
    for chunk in chunks:
        fast.feed(chunk)
        ref._filter.pen = None  # never known: faint chunks are parsed, the pen read from the dump
        ref.feed(chunk)
        assert fast.state() == ref.state(), chunk


@settings(max_examples=400, deadline=None)
@given(sizes, log_stream())
def test_log_like_streams_match_the_filter(size: tuple[int, int], stream: tuple[bytes, list[bytes]]) -> None:
    _check(size, stream[1])


@settings(max_examples=300, deadline=None)
@given(sizes, split_stream())
def test_any_stream_matches_the_filter(size: tuple[int, int], stream: tuple[bytes, list[bytes]]) -> None:
    _check(size, stream[1])


def test_faint_and_bold_lines_bypass_the_filter_until_both_are_on() -> None:
    emu = Emulator(40, 5)
    emu.feed(b"\x1b[2mDEBUG one\x1b[0m\r\n")
    assert emu._filter.pen == (False, False)
    emu.feed(b"\x1b[1;31mERROR\x1b[0m\r\n\x1b[2mDEBUG two\x1b[0m\r\n")
    assert emu._filter.pen == (False, False)
    row = emu.state().rows[2]
    assert row.text.startswith("DEBUG two") and row.runs[0][1].attrs
    emu.feed(b"\x1b[1mbold \x1b[2mand faint")  # avt keeps one intensity: the filter takes over
    assert emu._filter.pen is None and emu._filter.bold and emu._filter.faint


def test_the_pen_read_from_avts_dump_keeps_bold_beside_an_rgb_colour() -> None:
    """avt dumps an RGB colour with colons (38:2:r:g:b): the pen's bold was lost reading it."""
    emu = Emulator(10, 2)
    emu.feed(b"\x1b[1;38;2;1;2;3m")
    emu._filter.pen = None  # read it from the dump
    emu.feed(b"\x1b[2mX")
    style = emu.state().rows[0].runs[0][1]
    both = Emulator(10, 2)
    both.feed(b"\x1b[38;2;1;2;3m\x1b[1;2mX")
    assert style == both.state().rows[0].runs[0][1]


def test_the_alternate_screen_switch_restores_avts_pen() -> None:
    """Leaving the alternate screen (1049l) restores the pen avt saved, in a later chunk than
    the faint SGR that bypassed the filter (found by the property above)."""
    _check((2, 1), [b"\x1b[2m\x1b", b"[?1049l\x1b[1;31mDEBUG line"])
    _check((5, 3), [b"\x1b[2m", b"\x1b[?1049h\x1b[1mx\x1b[?1049l\x1b[1;31mDEBUG line"])
    _check((5, 3), [b"\x1b[2m\x1b[?1048h\x1b[22m\x1b[?1048l\x1b[1mX"])

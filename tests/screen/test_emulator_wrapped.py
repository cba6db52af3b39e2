"""``Emulator.wrapped``: whether a row ran on into the next by auto-wrap, which plain mode's
notice lane needs to find where a wrapped command line starts (a row merely filled to its
last column looks the same in the row's text)."""

from __future__ import annotations

import pytest

from cobrowse.plain.notice_lane import NoticeLane
from cobrowse.screen.emulator import Emulator


def flags(emu: Emulator) -> list[bool]:
    return [emu.wrapped(i) for i in range(emu.size[1])]


def test_a_row_that_wrapped_and_a_row_that_only_filled_up() -> None:
    emu = Emulator(10, 5)
    emu.feed(b"0123456789abc\r\n0123456789\r\n$ ")
    assert flags(emu) == [True, False, False, False, False]
    assert emu.row(0).text == emu.row(2).text == "0123456789"


def test_the_last_column_written_waits_to_wrap_until_the_next_character() -> None:
    emu = Emulator(10, 3)
    emu.feed(b"0123456789")
    assert not emu.wrapped(0)
    emu.feed(b"x")
    assert emu.wrapped(0)


def test_rows_count_from_the_top_of_the_screen_after_scrolling() -> None:
    emu = Emulator(10, 3)
    emu.feed(b"line\r\n" * 20 + b"0123456789abc")
    assert flags(emu) == [False, True, False]


def test_a_wide_character_that_does_not_fit_wraps_the_row() -> None:
    emu = Emulator(10, 3)
    emu.feed("012345678漢".encode())
    assert flags(emu) == [True, False, False]


def test_erasing_the_row_ends_its_wrap_as_terminals_do() -> None:
    emu = Emulator(10, 3)
    emu.feed(b"0123456789abc\x1b[1;5H\x1b[K")
    assert flags(emu) == [False, False, False]


@pytest.mark.parametrize("i", [-1, 3])
def test_a_row_off_the_screen_is_an_error(i: int) -> None:
    with pytest.raises(IndexError):
        Emulator(10, 3).wrapped(i)


def test_the_lanes_mirror_keeps_the_wraps_through_a_skipped_flood() -> None:
    """Skip-ahead (screen/skip.py) leaves the mirror's rows as feeding everything would: their
    wraps too, which the lane reads to place a notice."""
    lane = NoticeLane(40, 10)
    reference = Emulator(40, 10)
    flood = b"".join(b"%d " % i + b"w" * (i % 97) + b"\r\n" for i in range(20000)) + b"=" * 40 + b"\r\n$ " + b"x" * 50
    for i in range(0, len(flood), 65536):
        chunk = flood[i:i + 65536]
        lane.output(chunk)
        reference.feed(chunk)
    mirror = lane._mirror
    assert mirror.state() == reference.state()
    assert lane._skip.skipped_bytes > len(flood) // 2
    assert flags(mirror) == flags(reference)
    assert flags(reference)[-4:] == [False, False, True, False]

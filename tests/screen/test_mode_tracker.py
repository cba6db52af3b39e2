"""The modes followed on the raw output: a terminal executes C0 controls inside an escape
sequence without ending it (avt does too), so ``ESC CR [?1049h`` enters the alternate screen;
missed, the emulator followed the lines above the screen as if it were the main one."""

from __future__ import annotations

import pytest

from cobrowse.screen.emulator import Emulator
from cobrowse.screen.mode_tracker import ModeTracker
from cobrowse.screen.redact import CONTEXT_ROWS

pytestmark = pytest.mark.pure


def tracked(*chunks: bytes) -> ModeTracker:
    t = ModeTracker()
    for chunk in chunks:
        t.track(chunk)
    return t


@pytest.mark.parametrize("chunks", [
    (b"\x1b\r[?1049h",), (b"\x1b[\n?1049h",), (b"\x1b[?10\x0849h",), (b"\x1b[?1049\rh",),
    (b"\x1b", b"\r", b"[?1049h"), (b"\x1b\r", b"[?10", b"\t49h"), (b"x\x1b[?\x07", b"47h"),
])
def test_controls_inside_the_sequence_do_not_hide_the_alternate_screen(chunks: tuple[bytes, ...]) -> None:
    assert tracked(*chunks).alt


@pytest.mark.parametrize("chunks", [(b"\x1b\x18[?1049h",), (b"\x1b[\x1a?1049h",), (b"\x1b[?1049",)])
def test_can_sub_and_an_unfinished_sequence_set_nothing(chunks: tuple[bytes, ...]) -> None:
    assert not tracked(*chunks).alt


def test_a_reset_with_a_control_inside_resets_the_modes() -> None:
    t = tracked(b"\x1b[?1h\x1b[?2004h\x1b[?1049h", b"text\x1b\rc")
    assert (t.app_cursor, t.paste, t.alt) == (False, False, False)


def test_the_lines_above_stay_the_scrollback_in_the_alternate_screen() -> None:
    """The case hypothesis found (tests/screen/test_screen_scroll.py): a CR between ESC and
    ``[?1049h``, then lines scrolling in the alternate screen, which keeps no scrollback."""
    e = Emulator(2, 4)
    for chunk in [b"0"] * 5 + [b"1111", b"0", b"1", b"\x1b", b"\r", b"[?1049h", b"1111", b"1", b"\r"]:
        e.feed(chunk)
        assert e.rows_above(CONTEXT_ROWS) == e.scrollback(CONTEXT_ROWS)
    assert e.modes().alt_screen

"""``ESC [ 3 J`` (erase saved lines: `clear` writes it) empties the lines above the screen, as the
customer's terminal does. avt ignores it: a cleared screen grown taller pulled the cleared lines
back into the agent's mirror, and redaction read them as context."""

import os

import avt
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from cobrowse.screen import Emulator

SETTINGS = settings(max_examples=int(os.environ.get("COBROWSE_FUZZ_EXAMPLES", "100")), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
CLEAR = "\x1b[H\x1b[2J\x1b[3J"  # what `clear` writes (ncurses' clear + E3)


def _texts(rows) -> list[str]:
    return ["".join(text for text, _ in row.runs).rstrip() for row in rows]


def test_clear_then_a_taller_terminal_shows_no_cleared_line():
    e = Emulator(40, 10)
    e.feed_text("".join(f"secret {i}\r\n" for i in range(30)))
    e.feed_text(CLEAR + "$ ")
    assert e.scrollback(100) == ()
    assert e.context_above(8) == ()
    e.resize(40, 20)
    assert not any("secret" in line for line in e.lines())
    assert e.lines()[0] == "$"
    assert e.cursor().row == 0 and e.cursor().col == 2


def test_without_erase_saved_a_taller_terminal_pulls_lines_back():
    e = Emulator(40, 10)
    e.feed_text("".join(f"line {i}\r\n" for i in range(30)))
    e.feed_text("\x1b[H\x1b[2J$ ")
    e.resize(40, 20)
    assert e.lines()[0].startswith("line ")  # as xterm, VTE and tmux do


def test_lines_after_the_clear_in_the_same_read_are_kept():
    e = Emulator(20, 5)
    e.feed_text("old\r\n" * 12 + CLEAR + "".join(f"new {i}\r\n" for i in range(9)) + "$ ")
    assert _texts(e.scrollback(100)) == [f"new {i}" for i in range(5)]
    assert [line.rstrip() for line in e.lines()] == ["new 5", "new 6", "new 7", "new 8", "$"]


def test_the_c1_form_and_the_alternate_screen():
    e = Emulator(20, 5)
    e.feed_text("old\r\n" * 12 + "\x1b[?1049h\x1b[2Jfull screen\x9b3J")
    e.feed_text("\x1b[?1049l")
    assert e.scrollback(100) == ()
    assert e.lines() == ["old"] * 4 + [""]  # the main screen comes back whole


TOKENS = st.sampled_from([
    "a", "word", "x" * 23, "\r\n", "\n", "\r", "\t", "\b", "\x1b[31m", "\x1b[0m", "\x1b[A", "\x1b[2;3H",
    "\x1b[2J", "\x1b[3J", "\x9b3J", CLEAR, "\x1b[?1049h", "\x1b[?1049l", "\x1b[?7l", "\x1b[?7h",
    "\x1b7", "\x1b8", "\x1b[3;4r", "\x1b[r", "\x1b(0q", "\x1b(B", "\x1bH", "\x1b[3g", "中",
])


def _primary_lines(cols: int, rows: int, text: str) -> int:
    """The primary screen's lines and the lines above it on a plain avt (which keeps them all and
    ignores the erases), counted off the alternate screen: an erase written there empties the
    lines above the primary screen too, as tmux 3.3a does (checked: history_size 0 after it)."""
    ref = avt.Vt(cols, rows, scrollback_limit=100_000)
    ref.feed_str(text + "\x1b[?1049l")
    return len(ref.lines())


@SETTINGS
@given(size=st.tuples(st.integers(2, 24), st.integers(1, 8)), tokens=st.lists(TOKENS, max_size=60),
       cuts=st.lists(st.integers(0, 400), max_size=6))
@example(size=(20, 5), tokens=["old\r\n"] * 8 + [CLEAR, "new\r\n"] * 3, cuts=[41, 42])
@example(size=(20, 5), tokens=["old\r\n"] * 8 + [CLEAR, "new\r\n"], cuts=[49])  # ESC [ 3 | J
@example(size=(2, 1), tokens=["a", "a", "a", "\x1b[?1049h", "\x1b[3J", "\x1b[?1049l"], cuts=[])
def test_erases_change_only_the_lines_above_the_screen(size, tokens, cuts):
    """Fed in any pieces (an ``ESC [ 3 J`` may be cut in two), the screen and cursor are those of
    the same output without the erases, and the lines above the screen exactly the last of its
    lines that scrolled off after the last erase (counted on a plain avt, which keeps them all)."""
    cols, rows = size
    text = "".join(tokens)
    e = Emulator(cols, rows)
    at = 0
    for cut in sorted(cuts):
        e.feed_text(text[at:cut])
        at = max(at, cut)
    e.feed_text(text[at:])
    same = Emulator(cols, rows)
    same.feed_text(text.replace("\x1b[3J", "").replace("\x9b3J", ""))

    esc, c1 = text.rfind("\x1b[3J"), text.rfind("\x9b3J")
    last = max(esc + 4 if esc >= 0 else 0, c1 + 3 if c1 >= 0 else 0)
    before = _primary_lines(cols, rows, text[:last]) if last else rows
    after = _primary_lines(cols, rows, text) - before
    assert e.lines() == same.lines()
    assert e.cursor() == same.cursor()
    assert e.scrollback(100_000) == (same.scrollback(after) if after > 0 else ())

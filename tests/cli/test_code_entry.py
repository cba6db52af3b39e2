"""The line the session code is typed on (cobrowse/cli/code_entry.py): keys as a terminal sends them."""

from __future__ import annotations

from cobrowse.cli.code_entry import BELL, ERASE, MAX_TYPED, CodeEntry, Outcome, ascii_digits
from cobrowse.wire.code import parse_code


def test_typed_digits_are_echoed_and_enter_submits() -> None:
    entry = CodeEntry()
    assert entry.feed("42-7193").echo == "42-7193"
    step = entry.feed("-0518\rignored")
    assert step.outcome is Outcome.ENTER and step.echo == "-0518"
    assert entry.text == "42-7193-0518"


def test_a_newline_submits_too() -> None:
    entry = CodeEntry()
    assert entry.feed("4271930518\n").outcome is Outcome.ENTER


def test_backspace_ctrl_u_and_ctrl_w_erase() -> None:
    entry = CodeEntry()
    entry.feed("42 7193 0519")
    assert entry.feed("\x7f").echo == ERASE
    entry.feed("8")
    assert entry.text == "42 7193 0518"
    assert entry.feed("\x17").echo == ERASE * 4  # the last group
    assert entry.text == "42 7193 "
    assert entry.feed("\x15").echo == ERASE * 8
    assert entry.text == ""
    assert entry.feed("\b").echo == ""  # nothing left to erase


def test_escape_sequences_are_ignored_whole() -> None:
    entry = CodeEntry()
    step = entry.feed("42\x1b[D\x1b[1;5C\x1bOA\x1bx-7193")
    assert step.echo == "42-7193" and entry.text == "42-7193"


def test_an_escape_sequence_split_across_reads() -> None:
    entry = CodeEntry()
    entry.feed("1\x1b")
    entry.feed("[")
    entry.feed("3~2")
    assert entry.text == "12"


def test_ctrl_d_leaves_only_on_an_empty_line() -> None:
    entry = CodeEntry()
    assert entry.feed("42").outcome is None
    step = entry.feed("\x04")
    assert step.outcome is None and step.echo == BELL
    entry.feed("\x15")
    assert entry.feed("\x04").outcome is Outcome.LEAVE


def test_other_control_characters_are_not_kept() -> None:
    entry = CodeEntry()
    entry.feed("4\x002\x07\x1f")
    assert entry.text == "42"


def test_the_line_is_bounded() -> None:
    entry = CodeEntry()
    step = entry.feed("1" * (MAX_TYPED + 3))
    assert len(entry.text) == MAX_TYPED and step.echo.endswith(BELL * 3)


def test_a_refused_line_comes_back_as_typed() -> None:
    entry = CodeEntry()
    entry.feed("42-7193-05\r")
    assert entry.again() == "42-7193-05"
    assert entry.feed("18\r").outcome is Outcome.ENTER
    assert entry.text == "42-7193-0518"


def test_wide_characters_erase_two_columns() -> None:
    entry = CodeEntry()
    entry.feed("４")
    assert entry.feed("\x7f").echo == ERASE * 2


def test_other_scripts_digits_read_as_digits() -> None:
    assert ascii_digits("۴۲-۷۱۹۳-۰۵۱۸") == "42-7193-0518"  # Persian
    assert ascii_digits("４２－７１９３") == "42－7193"  # full width: the digits only
    assert ascii_digits("²") == "²"  # not a decimal digit: parse_code refuses it
    assert str(parse_code(ascii_digits("٤٢ ٧١٩٣ ٠٥١٨"))) == "42-7193-0518"  # Arabic-Indic

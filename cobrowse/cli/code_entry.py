"""The line a person types a session code on: what each key does and what to echo.

``cobrowse join`` with no code reads the code with the terminal out of canonical mode (it
connects to the relay meanwhile, cobrowse.cli.code_prompt), so it edits the line itself:
printable characters are added, Backspace, Ctrl-U and Ctrl-W erase, Enter submits, Ctrl-D
on an empty line leaves; arrow keys and other escape sequences are ignored whole (never
echoed), and other control characters too. Sans-I/O: text in, echo and outcome out.

What was typed is kept when the code is refused (:meth:`CodeEntry.again`): the person fixes
it instead of typing it all again. Other scripts' decimal digits (a Persian keyboard's ۴۲,
an IME's full-width ４２) are read as the digits they are (:func:`ascii_digits`); the code
itself stays ASCII (cobrowse.wire.code.parse_code decides what a code is).
"""

from __future__ import annotations

import unicodedata
from enum import StrEnum

from cobrowse.wire.frozen import frozen

#: The longest line kept (a code is at most 14 digits and its separators); more rings the bell.
MAX_TYPED = 64
BELL = "\a"
ERASE = "\b \b"


class Outcome(StrEnum):
    ENTER = "enter"  # the line is submitted: ``CodeEntry.text``
    LEAVE = "leave"  # Ctrl-D on an empty line


class _Escape(StrEnum):
    NONE = "none"
    ESC = "esc"
    CSI = "csi"
    SS3 = "ss3"


@frozen
class Step:
    """What feeding some input did: the text to echo, and the outcome once there is one
    (the input after it is not read)."""

    echo: str
    outcome: Outcome | None = None


def width(char: str) -> int:
    """Columns ``char`` takes on a terminal (wide East Asian 2, combining marks 0)."""
    if unicodedata.combining(char):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def ascii_digits(text: str) -> str:
    """``text`` with every decimal digit of any script as its ASCII digit."""
    return "".join(str(unicodedata.decimal(c)) if not c.isascii() and unicodedata.decimal(c, None) is not None
                   else c for c in text)


class CodeEntry:
    """One prompt's line being typed."""

    def __init__(self, typed: str = "") -> None:
        self._chars = list(typed[:MAX_TYPED])
        self._escape = _Escape.NONE

    @property
    def text(self) -> str:
        return "".join(self._chars)

    def again(self) -> str:
        """Start the line over with what was typed (a refused code): the echo that shows it."""
        self._escape = _Escape.NONE
        return self.text

    def feed(self, data: str) -> Step:
        echo: list[str] = []
        for char in data:
            outcome = self._key(char, echo)
            if outcome is not None:
                return Step("".join(echo), outcome)
        return Step("".join(echo))

    def _key(self, char: str, echo: list[str]) -> Outcome | None:
        if self._escape is not _Escape.NONE:
            self._skip(char)
            return None
        if char in ("\r", "\n"):
            return Outcome.ENTER
        if char == "\x04":  # Ctrl-D
            if not self._chars:
                return Outcome.LEAVE
            echo.append(BELL)
        elif char == "\x1b":
            self._escape = _Escape.ESC
        elif char in ("\x7f", "\b"):
            if self._chars:
                echo.append(ERASE * width(self._chars.pop()))
        elif char == "\x15":  # Ctrl-U
            echo.append(self._erase(len(self._chars)))
        elif char == "\x17":  # Ctrl-W: back to the start of the word
            end = len(self._chars)
            while end and self._chars[end - 1] == " ":
                end -= 1
            while end and self._chars[end - 1] != " ":
                end -= 1
            echo.append(self._erase(len(self._chars) - end))
        elif char.isprintable():
            if len(self._chars) >= MAX_TYPED:
                echo.append(BELL)
            else:
                self._chars.append(char)
                echo.append(char)
        return None

    def _erase(self, count: int) -> str:
        gone = self._chars[len(self._chars) - count:]
        del self._chars[len(self._chars) - count:]
        return "".join(ERASE * width(c) for c in gone)

    def _skip(self, char: str) -> None:
        """Inside an escape sequence: ESC [ params final, ESC O x, or ESC x."""
        if self._escape is _Escape.ESC:
            self._escape = {"[": _Escape.CSI, "O": _Escape.SS3}.get(char, _Escape.NONE)
        elif self._escape is _Escape.SS3 or "\x40" <= char <= "\x7e":
            self._escape = _Escape.NONE

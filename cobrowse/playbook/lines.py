"""The lines a program printed, for auto-advance: ``LineTap.feed(bytes) -> completed lines``.

Patterns are matched against every line the shared program printed since the step became
active, not against the visible screen, so a fast scroll cannot hide a success (or a
failure). The tap sees the raw pty output:

- UTF-8 is decoded incrementally (a character split across two reads is whole), invalid
  bytes become U+FFFD;
- escape sequences are dropped: CSI (colours, cursor moves), OSC/DCS/SOS/PM/APC strings
  (titles, hyperlinks, clipboard) and the short ESC sequences, also when they are split
  across reads, and their 8-bit C1 forms;
- ``\\n`` (or ``\\r\\n``, VT, FF) ends a line; a bare ``\\r`` starts overwriting it: the next
  text replaces the line (keeping the text after the last ``\\r``, as progress bars mean
  it); backspace removes the last character; tab pads with spaces to the next multiple of
  8; other control characters are dropped;
- completed lines lose their trailing whitespace; a line longer than ``MAX_LINE``
  characters is cut into pieces of ``MAX_LINE`` (each piece is a line), so memory stays
  bounded and the text of a very long line can still match.

Pure: no I/O, splitting the same bytes differently gives the same lines.
"""

from __future__ import annotations

import codecs
import re

MAX_LINE = 4096

_NORMAL, _ESC, _ESC_INTER, _CSI, _STRING, _STRING_ESC = range(6)
_SPECIAL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_STRING_END = re.compile(r"[\x07\x18\x1a\x1b\x9c]")
_STRING_STARTERS = "]PX^_"  # OSC, DCS, SOS, PM, APC
_C1_STRINGS = "\x90\x98\x9d\x9e\x9f"


class LineTap:
    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._state = _NORMAL
        self._line = ""
        self._overwrite = False  # a bare \r was seen: the next text starts the line again
        self._done: list[str] = []

    def feed(self, data: bytes) -> list[str]:
        """Take the next bytes of output; return the lines they completed, in order."""
        text = self._decoder.decode(data)
        if text:
            self._consume(text)
        done, self._done = self._done, []
        return done

    def partial(self) -> str:
        """The unfinished line (a prompt, a command being typed, a progress bar)."""
        return self._line

    # --- the state machine ------------------------------------------------------------------

    def _consume(self, text: str) -> None:
        pos, end = 0, len(text)
        while pos < end:
            state = self._state
            if state == _NORMAL:
                match = _SPECIAL.search(text, pos)
                stop = match.start() if match else end
                if stop > pos:
                    self._text(text[pos:stop])
                if match:
                    self._control(text[stop])
                pos = stop + 1
            elif state == _STRING:
                match = _STRING_END.search(text, pos)
                if match is None:
                    return
                char = match.group()
                self._state = _STRING_ESC if char == "\x1b" else _NORMAL
                pos = match.end()
            else:
                if self._escape(text[pos]):
                    pos += 1

    def _escape(self, char: str) -> bool:
        """One character inside ESC, ESC-intermediate, CSI or string-ESC; False: reprocess it."""
        code = ord(char)
        state = self._state
        if char in "\x18\x1a":  # CAN, SUB: abort the sequence
            self._state = _NORMAL
            return True
        if state == _STRING_ESC:
            if char == "\\":  # ST
                self._state = _NORMAL
                return True
            self._state = _ESC  # the string was cut by a new escape sequence
            return False
        if char == "\x1b":
            self._state = _ESC
            return True
        if code < 0x20:  # C0 controls are executed in the middle of a sequence
            self._control(char)
            return True
        if state == _ESC:
            if char == "[":
                self._state = _CSI
            elif char in _STRING_STARTERS:
                self._state = _STRING
            elif 0x20 <= code <= 0x2F:
                self._state = _ESC_INTER
            elif 0x30 <= code <= 0x7E:
                self._state = _NORMAL
            else:
                self._state = _NORMAL
                return False
            return True
        if state == _ESC_INTER:
            if 0x20 <= code <= 0x2F:
                return True
            self._state = _NORMAL
            return 0x30 <= code <= 0x7E
        # _CSI: parameters and intermediates 0x20-0x3F, then one final byte 0x40-0x7E
        if 0x20 <= code <= 0x3F:
            return True
        self._state = _NORMAL
        return 0x40 <= code <= 0x7E

    def _control(self, char: str) -> None:
        if char in "\n\x0b\x0c":
            self._finish()
        elif char == "\r":
            self._overwrite = True
        elif char == "\b":
            if not self._overwrite:
                self._line = self._line[:-1]
        elif char == "\t":
            self._text(" " * (8 - (0 if self._overwrite else len(self._line)) % 8))
        elif char == "\x1b":
            self._state = _ESC
        elif char == "\x9b":
            self._state = _CSI
        elif char in _C1_STRINGS:
            self._state = _STRING
        # every other control character is dropped

    def _text(self, text: str) -> None:
        if self._overwrite:
            self._line, self._overwrite = "", False
        while text:
            if len(self._line) >= MAX_LINE:
                self._finish()
            room = MAX_LINE - len(self._line)
            self._line += text[:room]
            text = text[room:]

    def _finish(self) -> None:
        self._done.append(self._line.rstrip())
        self._line, self._overwrite = "", False

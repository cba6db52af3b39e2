"""The terminal modes the emulator must report but avt does not (or reports wrongly),
followed on the raw output bytes before they are decoded.

* bracketed paste (``?2004``): avt ignores it;
* the alternate screen (``?1049``/``?1047``/``?47``): avt honours it but does not expose it;
* application cursor keys (``?1``): avt exposes it but keeps it set across a RIS, where a
  real terminal resets it.

RIS (``ESC c``) resets all three, DECSTR (``CSI ! p``) resets DECCKM. A sequence split across
two chunks is still seen: an unfinished one at the end of a chunk is kept for the next. C0
controls inside a sequence (``ESC CR [?1049h``) are executed by a terminal without ending it
(avt too): they are skipped here as well, or the alternate screen went unseen.
DECCOLM and DECOM (``?3``, ``?6``) change no mode here, but the stream filter rewrites or
tracks them (prefilter.py): ``track`` says when one went by, so that chunk goes through it.
"""

from __future__ import annotations

import re

from .state import Modes

__all__ = ["ModeTracker"]

# Sequences that change a tracked mode, matched on the raw UTF-8 bytes (a C1
# CSI is U+009B, i.e. b"\xc2\x9b"). Group 1: the private-mode parameters,
# group 2: h (set) or l (reset). "!p" is DECSTR, "\x1bc" is RIS.
# Between any two bytes of a sequence, C0 controls a terminal executes without ending it (not
# CAN, SUB or ESC, which end or restart it).
_C0 = rb"[\x00-\x17\x19\x1c-\x1f]*"
_C0_BYTES = bytes([*range(0x18), 0x19, *range(0x1c, 0x20)])
_MODE_RE = re.compile(rb"(?:\x1b" + _C0 + rb"\[|\xc2\x9b)" + _C0 + rb"(?:\?((?:[0-9;:]|" + _C0[:-1] + rb")*)([hl])|!"
                      + _C0 + rb"p)|\x1b" + _C0 + rb"c")
# An unfinished prefix of one of those at the very end of a chunk.
_PARTIAL_RE = re.compile(rb"(?:\x1b" + _C0 + rb"(?:\[" + _C0 + rb"(?:\?(?:[0-9;:]|" + _C0[:-1] + rb")*|!" + _C0
                         + rb")?)?|\xc2(?:\x9b" + _C0 + rb"(?:\?(?:[0-9;:]|" + _C0[:-1] + rb")*|!" + _C0 + rb")?)?)\Z")
_ESC_C0 = re.compile(rb"\x1b[\x00-\x17\x19\x1c-\x1f]")  # a RIS may hide as ESC CR c
_TAIL_MAX = 40

_ALT_MODES = frozenset({b"47", b"1047", b"1049"})


class ModeTracker:
    """The modes as the output so far set them; fed every chunk, in order."""

    __slots__ = ("app_cursor", "paste", "alt", "_tail")

    def __init__(self) -> None:
        self.app_cursor = False
        self.paste = False
        self.alt = False
        self._tail = b""

    def modes(self) -> Modes:
        return Modes(self.app_cursor, self.paste, self.alt)

    def track(self, data: bytes) -> bool:
        """Follow the modes ``data`` sets; True if it holds DECCOLM or DECOM (the stream
        filter must see this chunk)."""
        # Hot path: single-byte memchr scans only (multi-byte needles cost ~10x
        # more on escape-heavy output). RIS matters only while a mode is on.
        geometry = False
        tail = self._tail
        if (
            tail
            or b"?" in data
            or (b"!" in data and self.app_cursor)
            or ((self.app_cursor or self.paste or self.alt) and (b"\x1bc" in data or b"c" in data and _ESC_C0.search(data)))
        ):
            buf = tail + data if tail else data
            for m in _MODE_RE.finditer(buf):
                params, final = m.group(1, 2)
                if final is not None:
                    on = final == b"h"
                    for p in params.translate(None, _C0_BYTES).split(b";"):
                        if p == b"1":
                            self.app_cursor = on
                        elif p == b"2004":
                            self.paste = on
                        elif p in _ALT_MODES:
                            self.alt = on
                        elif p in (b"3", b"6"):  # DECCOLM, DECOM: the filter rewrites or tracks them
                            geometry = True
                elif m.group(0)[-1:] == b"p":  # DECSTR
                    self.app_cursor = False
                else:  # RIS
                    self.app_cursor = self.paste = self.alt = False
        else:
            buf = data
        # Keep an unfinished sequence for the next chunk.
        start = max(0, len(buf) - _TAIL_MAX)
        i = max(buf.rfind(b"\x1b", start), buf.rfind(b"\xc2", start))
        self._tail = buf[i:] if i >= 0 and _PARTIAL_RE.match(buf, i) else b""
        return geometry

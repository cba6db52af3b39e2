"""What avt gets wrong against tmux, fixed on the text before avt sees it.

avt drops SGR 8 (hidden), 21 / 4:2-4:5 (double, curly, dotted, dashed underline), 53
(overline) and keeps one intensity (SGR 1;2 becomes faint only); it gives zero-width
characters a cell; it ignores ``CSI t;b r`` with b past the last row (tmux clamps it) and
DECCOLM (tmux clears the screen and homes the cursor); its DECSC/DECRC do not save the
character sets; in insert mode it shifts a row by one cell for a wide character. :class:`StreamFilter` rewrites exactly those: SGRs are cleaned of what avt
cannot hold (tracked here instead), printable runs become tokens (:mod:`.cluster`) while an
extended attribute is on or where clusters need joining, DECSTBM is clamped, DECCOLM becomes
``CSI H CSI 2 J``, DECRC is followed by the saved character set designations, and in insert
mode a wide character is preceded by ``CSI @`` (room for its second cell).

Speed: most output never comes here. :meth:`StreamFilter.wants` answers from substring
checks (memchr speed); only chunks that may hold one of those sequences or characters, and
every chunk while a tracked state is on, are parsed here in Python.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from .cluster import (
    NEEDS_TOKEN_ASTRAL_RE,
    NEEDS_TOKEN_BMP_RE,
    NEEDS_TOKEN_RE,
    STRAY_RE,
    TokenTable,
    base_width,
)
from .lazy_re import LazyRe
from .state import (
    BOLD,
    CURLY_UNDERLINE,
    DASHED_UNDERLINE,
    DOTTED_UNDERLINE,
    DOUBLE_UNDERLINE,
    FAINT,
    HIDDEN,
    OVERLINE,
    UNDERLINE_STYLES,
)

__all__ = ["StreamFilter"]

_SEQ_RE = LazyRe(
    r"(?:\x1b\[|\x9b)([\x30-\x3f]*)([\x20-\x2f]*)([\x40-\x7e])"  # CSI
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"  # strings
    r"|\x1b([\x20-\x2f]*)([\x30-\x4f\x51-\x57\x59\x5a\x5c\x60-\x7e])"  # other ESC
    r"|[\x00-\x1f\x7f-\x9f]"  # other controls
)
_PARTIAL_RE = re.compile(r"(?:\x1b(?:\[[\x30-\x3f]*[\x20-\x2f]*|[\x20-\x2f]*)?|\x9b[\x30-\x3f]*[\x20-\x2f]*)\Z")
_TAIL_MAX = 64
# C0 controls a terminal executes inside an escape sequence without ending it (not CAN, SUB
# or ESC, which end or restart it).
_INNER_C0_RE = re.compile(r"[\x00-\x17\x19\x1c-\x1f]")
# Zero-width characters joined to the cell left of the cursor, at most, per chunk (the rest of
# such characters are dropped: only a stream of stray marks gets there).
_MAX_JOINS = 256
# Triggers, searched in the chunk's bytes (a literal ESC prefix: the regex engine skips to
# each ESC): SGR parameters avt drops (false hits on colour sub-parameters only cost a parse),
# a scroll region whose bottom may lie past the last row, a line-drawing designation. SO is
# checked alone (one memchr).
_TRIGGER_RE = re.compile(rb"\x1b(?:\[(?:(?:[0-9:]*;)*?(?:2|8|21|53|4:\d)[;:m]|\d*;(\d+)r|[0-9;]*h)|[()]0)")
_ASCII = bytes(range(128))
_UL_STYLE = {"2": DOUBLE_UNDERLINE, "3": CURLY_UNDERLINE, "4": DOTTED_UNDERLINE, "5": DASHED_UNDERLINE}
_PEN_RE = re.compile(r"\x1b\[([0-9;:]*)m")  # avt dumps RGB colours with colons
# Every SGR of a chunk, and what changes avt's pen otherwise (RIS, DECRC, SCORC, DECSTR,
# DECALN, the alternate screen), after which its intensity is read from its dump again.
_SGR_BYTES = re.compile(rb"\x1b\[([0-9;:]*)m")
_PEN_LOST = re.compile(rb"\x1b(?:c|8|#8|\[[0-9;]*u|\[!p|\[\?[0-9;]*104[789][0-9;]*[hl])")
_PEN_LOST_TEXT = re.compile(r"\x1b(?:c|8|#8|\[[0-9;]*u|\[!p|\[\?[0-9;]*104[789][0-9;]*[hl])|\x9b")
# SGR parameters the filter passes to avt unchanged and that set no extended attribute
# (bold and faint are, as long as they are not on together).
_PLAIN_SGR = frozenset(b"%d" % n for n in (0, 1, 2, 3, 4, 5, 7, 9, 22, 23, 24, 25, 27, 29, 39, 49, *range(30, 38),
                                            *range(40, 48), *range(90, 98), *range(100, 108))) | {b""}

# (ext, bold, faint, g0 drawing, g1 drawing, shifted out)
_State = tuple[int, "bool | None", "bool | None", bool, bool, bool]
_DEFAULT: _State = (0, False, False, False, False, False)


def _wide(ch: str) -> bool:
    """Whether avt gives ``ch`` two cells (East Asian wide, or a token of a wide cluster)."""
    return ch >= "\u1100" and (base_width(ch) == 2 or "\U0003c000" <= ch <= "\U0003fffd")


def _intensity(pen: list[str]) -> tuple[bool, bool]:
    """(bold, faint) of avt's pen as its dump writes it (colour parameters skipped)."""
    bold = faint = False
    i = 0
    while i < len(pen):
        p = pen[i]
        if p in ("38", "48"):
            i += 3 if pen[i + 1 : i + 2] == ["5"] else 5
            continue
        bold = bold or p == "1"
        faint = faint or p == "2"
        i += 1
    return bold, faint


@lru_cache(maxsize=512)
def _sgr_intensity(params: bytes, bold: bool, faint: bool, faint_only: bool) -> tuple[bool, bool] | None:
    """avt's (bold, faint) after an SGR with ``params``, as :meth:`StreamFilter._sgr` reads
    them; None when avt would hold both (it keeps one) or, with ``faint_only``, when the
    filter would change the SGR (a log repeats a few SGRs: cached)."""
    parts = params.split(b";")
    i = 0
    n = len(parts)
    while i < n:
        p = parts[i]
        if p in (b"38", b"48", b"58") and i + 1 < n:
            if faint_only and p == b"58":
                return None
            i += {b"5": 3, b"2": 5}.get(parts[i + 1], 1)
            continue
        i += 1
        if faint_only and p not in _PLAIN_SGR:
            return None
        if p in (b"", b"0", b"22"):
            bold = faint = False
        elif p == b"1":
            bold = True
        elif p == b"2":
            faint = True
        if bold and faint:
            return None
    return bold, faint


class StreamFilter:
    """Tracks what avt cannot, and rewrites the text it is fed (see the module docstring)."""

    __slots__ = (
        "_joins",
        "_plain",
        "_saved_origin",
        "_translate",
        "after_zwj",
        "bold",
        "ext",
        "faint",
        "g0",
        "g1",
        "insert",
        "origin",
        "pen",
        "saved",
        "shifted",
        "tail",
        "tokens",
        "top",
    )

    def __init__(self, translate: Callable[[str], str]) -> None:
        self.tokens = TokenTable()
        self._translate = translate  # DEC special graphics, for characters we turn into tokens
        self.ext = 0
        self.bold: bool | None = None  # None: not tracked (avt knows)
        self.faint: bool | None = None
        self.g0 = self.g1 = self.shifted = False
        self.saved: _State = _DEFAULT
        self.tail = ""
        self.origin = False  # DECOM (?6): avt's RI is wrong under it
        self.insert = False  # IRM (4): avt inserts one cell for a wide character, not two
        self._saved_origin = False
        self.top = 0  # the scroll region's top row, as avt holds it
        self.after_zwj = False  # the last run ended in a ZWJ: the next non-ASCII character joins
        #: (bold, faint) of avt's pen after the last chunk, when known (None: read it from avt's
        #: dump when it matters): followed through chunks that bypass the filter, so faint text
        #: (a log's DEBUG lines) needs no Python pass while bold is off.
        self.pen: tuple[bool, bool] | None = (False, False)
        self._joins = 0
        self._plain = True  # the chunk being processed has no zero-width or token-range character

    def active(self) -> bool:
        """True while some state avt cannot hold is on: every chunk must come here."""
        s = self.saved
        return bool(
            self.ext or self.g0 or self.g1 or self.shifted or (self.bold and self.faint) or self.tail
            or self.origin or self._saved_origin or self.after_zwj or self.insert
            or s[0] or s[3] or s[4] or s[5] or (s[1] and s[2])
        )

    def wants(self, data: bytes, text: str, rows: int) -> bool:
        """Does ``text`` (decoded from ``data``, which may begin with the undecoded end of the
        previous chunk) need :meth:`process`? Cheap checks first."""
        if self.active():
            return True
        if not text.isascii():
            # Only the non-ASCII characters (deleting ASCII bytes keeps UTF-8 valid).
            wide = data.translate(None, _ASCII)
            chars = wide.decode("utf-8", "ignore")
            if NEEDS_TOKEN_BMP_RE.search(chars):
                return True
            if (b"\xf0" in wide or b"\xf3" in wide or b"\xf4" in wide) and NEEDS_TOKEN_ASTRAL_RE.search(chars):
                return True
        if b"\x0e" in data:
            return True
        if b"\xc2\x9b" in data:  # a C1 CSI: an SGR this side does not follow
            self.pen = None
        if b"\x1b" not in data:
            return False
        sgr = False
        for m in _TRIGGER_RE.finditer(data):
            bottom = m.group(1)
            if bottom is None:
                if _SGR_BYTES.match(data, m.start()) is None:  # a designation, another CSI
                    return True
                sgr = True
            elif int(bottom) > rows:
                return True
        if sgr:
            return not self._follow_pen(data, True)
        self._follow_pen(data, False)
        return False

    def _follow_pen(self, data: bytes, faint_only: bool) -> bool:
        """Follow avt's intensity through ``data``, which bypasses the filter; False when it
        cannot (then :attr:`pen` is unknown, or, with ``faint_only``, the chunk must be
        processed after all). ``faint_only``: the chunk's triggers are SGRs; it may bypass
        only if every SGR in it is one :meth:`_sgr` passes on unchanged and bold and faint are
        never on together (avt keeps one intensity): then avt holds faint text as tmux does."""
        pen = self.pen
        if pen is None or _PEN_LOST.search(data) is not None:
            self.pen = None
            return False
        bold, faint = pen
        for params in _SGR_BYTES.findall(data):
            after = _sgr_intensity(params, bold, faint, faint_only)
            if after is None:
                if not faint_only:
                    self.pen = None
                return False
            bold, faint = after
        self.pen = (bold, faint)
        return True

    def hold_partial(self, text: str) -> str:
        """Keep an unfinished escape sequence at the end of ``text`` for the next chunk (so no
        sequence is ever seen in two halves); returns the rest."""
        i = text.rfind("\x1b", max(0, len(text) - _TAIL_MAX))
        j = text.rfind("\x9b", max(0, len(text) - _TAIL_MAX))
        i = max(i, j)
        if i < 0:
            return text
        held = text[i:]
        if _PARTIAL_RE.match(held) is None:
            # C0 controls inside a sequence are executed where they stand and the sequence
            # goes on (ESC CR [ M is a CR, then CSI M): pass them on now, hold the rest
            rest = _INNER_C0_RE.sub("", held)
            if rest == held or _PARTIAL_RE.match(rest) is None:
                return text
            self.tail += rest
            return text[:i] + "".join(_INNER_C0_RE.findall(held))
        self.tail += held
        return text[:i]

    def process(self, text: str, rows: int, flush: Callable[[str], str], cursor_row: Callable[[], int],
                join_left: Callable[[str], str] | None = None,
                wide_fits: Callable[[str], bool] | None = None) -> str:
        """``text`` rewritten for avt. ``flush(pending)`` feeds ``pending`` to avt and returns
        its dump (to read the pen, when the intensity must be known); ``cursor_row()`` is avt's
        cursor row (after a flush); ``join_left(chars)`` (after a flush) returns what makes avt
        join zero-width ``chars`` to the cell left of the cursor, as tmux does when they
        follow an escape sequence or arrive in a later chunk than their base;
        ``wide_fits(pending)`` feeds ``pending`` to avt and says whether a wide character fits
        on the cursor's row (insert mode makes room for it only then)."""
        if self.tail:
            text = self.tail + text
            self.tail = ""
        text = self.hold_partial(text)
        if self.bold is None and self.faint is None and self.pen is not None:
            self.bold, self.faint = self.pen
        self._joins = 0
        self._plain = text.isascii() or not NEEDS_TOKEN_RE.search(text)
        out: list[str] = []
        pos = 0
        for m in _SEQ_RE.finditer(text):
            start = m.start()
            if start > pos:
                out.append(self._run(self._join(text[pos:start], out, flush, join_left), out, wide_fits))
            pos = m.end()
            final = m.group(3)
            if final is not None:
                out.append(self._csi(m.group(0), m.group(1), m.group(2), final, rows, out, flush))
            elif m.group(5) is not None:
                if m.group(5) == "M" and not m.group(4) and self.origin:
                    # avt's RI under DECOM moves to the region's top + row - 1; tmux (and the
                    # VT100) move up one row, scrolling only at the top margin.
                    flush("".join(out))
                    out.clear()
                    out.append("\x1bM" if cursor_row() == self.top else "\x1b[A")
                else:
                    out.append(self._esc(m.group(0), m.group(4), m.group(5)))
            else:
                seq = m.group(0)
                if seq == "\x0e":
                    self.shifted = True
                elif seq == "\x0f":
                    self.shifted = False
                out.append(seq)
        if pos < len(text):
            out.append(self._run(self._join(text[pos:], out, flush, join_left), out, wide_fits))
        bold, faint = self.bold, self.faint
        known = bold is not None and faint is not None and not (bold and faint)
        self.pen = (bool(bold), bool(faint)) if known and _PEN_LOST_TEXT.search(text) is None else None
        if not (self.ext or (self.bold and self.faint)):
            self.bold = self.faint = None  # nothing of ours to keep: avt's pen is the truth
        return "".join(out)

    # -- pieces ------------------------------------------------------------------------

    def _join(self, run: str, out: list[str], flush: Callable[[str], str],
              join_left: Callable[[str], str] | None) -> str:
        """Join a zero-width start of ``run`` (or its first non-ASCII character, after a run
        that ended in a ZWJ) to the cell left of the cursor; returns the rest. As in tmux 3.3a,
        the ZWJ stays pending across controls, escape sequences and cursor moves (the character
        joins wherever the cursor then is), but ASCII is never joined: it ends the pending ZWJ
        here (tmux keeps it pending for a later non-ASCII character; not followed, so a stray
        ZWJ does not keep plain output off the fast path)."""
        after_zwj = self.after_zwj
        if self._plain and not after_zwj:
            return run
        self.after_zwj = run.endswith("\u200d")
        if join_left is None or run.isascii():
            return run
        if after_zwj and run[0] < "\x80":
            after_zwj = False
        m = STRAY_RE.match("\u200d" + run if after_zwj else run)
        if m is None:
            return run
        self._joins += 1
        if self._joins > _MAX_JOINS:  # bounded work a chunk (each join reads avt's cell and pen)
            return run[m.end() - (1 if after_zwj else 0):]
        flush("".join(out))
        out.clear()
        out.append(join_left(m.group(0)))
        return run[m.end() - (1 if after_zwj else 0):]

    def _run(self, run: str, out: list[str], wide_fits: Callable[[str], bool] | None) -> str:
        ext = self.ext
        if self.bold and self.faint:
            ext |= BOLD | FAINT
        if ext:
            drawing = self.g1 if self.shifted else self.g0
            run = self.tokens.tokenize(run, ext, self._translate if drawing else None)
        elif not self._plain and not run.isascii() and NEEDS_TOKEN_RE.search(run):
            run = self.tokens.tokenize(run, 0)
        if self.insert and not run.isascii():
            run = self._insert_wide(run, out, wide_fits)
        return run

    def _insert_wide(self, run: str, out: list[str], wide_fits: Callable[[str], bool] | None) -> str:
        """tmux (and xterm) shift the row right by two cells for a wide character, avt by one:
        one more blank inserted first. Not where the character does not fit (it wraps, or is
        at the pending wrap): a blank inserted there would cut the last cell, the character's
        own half once drawn (bounded: past ``_MAX_JOINS`` checks a chunk, room is made blind)."""
        parts: list[str] = []
        for ch in run:
            if _wide(ch):
                room = True
                if wide_fits is not None and self._joins < _MAX_JOINS:
                    self._joins += 1
                    room = wide_fits("".join(out) + "".join(parts))
                    out.clear()
                    parts.clear()
                if room:
                    parts.append("\x1b[@")
            parts.append(ch)
        return "".join(parts)

    def _esc(self, seq: str, inter: str, final: str) -> str:
        if inter in ("(", ")"):
            drawing = final == "0"
            if inter == "(":
                self.g0 = drawing
            else:
                self.g1 = drawing
        elif not inter and final == "7":
            self._save()
        elif not inter and final == "8":
            return seq + self._restore()
        elif not inter and final == "c":
            self._reset()
        return seq

    def _csi(self, seq: str, params: str, inter: str, final: str, rows: int,
             out: list[str], flush: Callable[[str], str]) -> str:
        if inter:
            if inter == "!" and final == "p":  # DECSTR
                self._reset()
            return seq
        if final == "m" and (not params or params[0] != "?"):
            return self._sgr(params, out, flush)
        if final == "r" and (not params or params[0] != "?"):
            top, _, bottom = params.partition(";")
            if bottom.isdigit() and int(bottom) > rows:
                seq = f"\x1b[{top};{rows}r"
                bottom = str(rows)
            t = int(top) - 1 if top.isdigit() and int(top) > 0 else 0
            b = int(bottom) - 1 if bottom.isdigit() and int(bottom) > 0 else rows - 1
            if t < b < rows:
                self.top = t
            return seq
        if final in "hl" and params.startswith("?"):
            modes = params[1:].split(";")
            if "6" in modes:
                self.origin = final == "h"
            if "1047" in modes or "1048" in modes or "1049" in modes:
                self.bold = self.faint = None  # avt saved or restored its pen: read it when it matters
            if "3" in modes:  # DECCOLM: tmux clears the screen and homes the cursor
                rest = [p for p in modes if p != "3"]
                return (f"\x1b[?{';'.join(rest)}{final}" if rest else "") + "\x1b[H\x1b[2J"
            return seq
        if final in "hl" and "4" in params.split(";"):
            self.insert = final == "h"
        if final == "s" and not params:
            self._save()
        elif final == "u" and not params:
            return seq + self._restore()
        return seq

    def _sgr(self, params: str, out: list[str], flush: Callable[[str], str]) -> str:
        parts = params.split(";") if params else [""]
        if (self.bold is None or self.faint is None) and ("1" in parts or "2" in parts):
            dump = flush("".join(out))
            out.clear()
            pens = _PEN_RE.findall(dump)
            self.bold, self.faint = _intensity(pens[-1].split(";") if pens else [])
        keep: list[str] = []
        i = 0
        n = len(parts)
        while i < n:
            p = parts[i]
            if p in ("38", "48", "58") and i + 1 < n:
                k = {"5": 3, "2": 5}.get(parts[i + 1], 1)
                if p != "58":
                    keep.extend(parts[i : i + k])
                i += k
                continue
            i += 1
            if ":" in p:
                head, _, sub = p.partition(":")
                if head != "4":
                    keep.append(p)
                    continue
                style = sub.split(":")[0]
                self.ext &= ~UNDERLINE_STYLES
                if style == "1":
                    keep.append("4")
                else:
                    self.ext |= _UL_STYLE.get(style, 0)
                    keep.append("24")
                continue
            if p in ("", "0"):
                self.ext = 0
                self.bold = self.faint = False
                keep.append("0")
            elif p == "1":
                self.bold = True
                keep.append(p)
            elif p == "2":
                self.faint = True
                keep.append(p)
            elif p == "22":
                self.bold = self.faint = False
                keep.append(p)
            elif p == "8":
                self.ext |= HIDDEN
            elif p == "28":
                self.ext &= ~HIDDEN
            elif p == "21":
                self.ext = (self.ext & ~UNDERLINE_STYLES) | DOUBLE_UNDERLINE
                keep.append("24")
            elif p in ("4", "24"):
                self.ext &= ~UNDERLINE_STYLES
                keep.append(p)
            elif p == "53":
                self.ext |= OVERLINE
            elif p == "55":
                self.ext &= ~OVERLINE
            else:
                keep.append(p)
        return f"\x1b[{';'.join(keep)}m" if keep else ""

    # -- saved state -------------------------------------------------------------------

    def _save(self) -> None:
        self.saved = (self.ext, self.bold, self.faint, self.g0, self.g1, self.shifted)
        self._saved_origin = self.origin

    def _restore(self) -> str:
        """Restore what DECRC restores in tmux; returns the designations avt must be fed."""
        self.ext, self.bold, self.faint, self.g0, self.g1, self.shifted = self.saved
        self.origin = self._saved_origin
        return ("\x1b(0" if self.g0 else "\x1b(B") + ("\x1b)0" if self.g1 else "\x1b)B") + (
            "\x0e" if self.shifted else "\x0f")

    def resized(self) -> None:
        """avt resets the scroll region on a resize."""
        self.top = 0

    def _reset(self) -> None:
        self.origin = self._saved_origin = self.insert = False
        self.top = 0
        self.ext = 0
        self.bold = self.faint = False
        self.g0 = self.g1 = self.shifted = False
        self.saved = _DEFAULT

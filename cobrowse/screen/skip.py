"""Skip-ahead: lines that scroll through the screen between two frames need not be parsed.

A flood (``cat`` of a big log, a build) writes far more lines between two frames than the
screen holds; the agent only ever sees the last screenful, yet feeding the emulator every
line cost ~15 ms per MB and made the view lag the output by up to a second. Here a queued
batch of output is shortened before it is fed, so that the final screen, cursor and pen
are exactly those of feeding it whole.

What may be skipped is a *safe run*: printable text (UTF-8, invalid bytes included), CR,
LF, TAB, DEL, SGR (``ESC [ ... m``), EL (``ESC [ ... K``, erasing within the row) and DECTCEM
(``ESC [ ? 25 l`` / ``h``: hides or shows the cursor, written around redraws). In safe text
the cursor never moves up and only LF (and a wrap) moves it down; every other sequence or
control (cursor moves, erases of the screen, modes, character sets, strings, BS, C1) is
*unsafe* and ends the run; whatever is not skipped is fed as it came.

Why the final state is the same. Cut a safe run after a CR LF into a head H and a tail T,
where T holds at least ``2 * rows - 1 + margin`` line feeds before anything unsafe, and
feed R (H's SGRs from its last full reset on, H's last DECTCEM, then CR) instead of H.
Before T both ways the cursor is at column 0, shown or hidden alike, with the same pen, the
parser in its ground state (proved: see
below) and every mode, tab stop and character set untouched (safe text changes none).
While T is fed the column follows the same path both ways (it depends on T alone); the
row too once the cursor has reached the bottom row, which it does within ``rows - 1``
line feeds both ways; from then on the cursor never goes up, so the at least
``rows + margin`` line feeds that follow scroll every row the two ways did not share out
of the screen and ``margin`` rows beyond: the screen and the ``margin`` lines above it
hold only rows scrolled in blank (filled with the same pen) and written the same way.
This needs the whole screen to scroll: the caller does not skip under a scroll region or
on the alternate screen (``Emulator.scrolls_whole``).

The parser must be in its ground state at the cut (an OSC string left open swallows text,
CR and LF): it is after any complete ``ESC [ ... final`` (ESC aborts any sequence or string),
so the cut is proved by an SGR/EL in the head or by an unsafe sequence that ends in the
ground state just before the run (a complete CSI or escape, a BEL- or ST-ended OSC), or,
at the start of a batch, by :attr:`SkipAhead.ground`, followed across every batch fed.

What skipping loses: the scrollback beyond ``margin`` lines above the screen. ``margin``
covers redaction's context rows (``CONTEXT_ROWS``: a key's base64 lines above its END
marker, a label above a wrapped token) and a terminal grown taller by up to ``rows``
(which pulls lines back from the scrollback). Tests: tests/screen/test_skip.py (property
tests against the real emulator).
"""

from __future__ import annotations

import re

__all__ = ["GROW_ROWS", "MIN_SKIP", "SkipAhead", "needed_lines", "skip_run"]

#: Rows kept beyond the screen for a terminal that grows taller after a skip (it pulls lines
#: back from the scrollback); callers add what else they read above the screen.
GROW_ROWS = 50
#: Heads shorter than this are fed anyway (the scan and the cut cost more than they save).
MIN_SKIP = 4096
#: Unsafe escapes looked at in a batch before looking from its end instead, and SGRs looked
#: at walking back before the run is taken to start there (bounds on Python-level work).
MAX_UNSAFE = 256
MAX_ESC_BACK = 4096

# An ESC that starts a safe sequence: SGR, EL (whatever its parameters: it erases in the row),
# DECTCEM.
_SAFE_ESC = re.compile(rb"\x1b\[(?:[0-9;:]*[mK]|\?25[lh])")
# The unsafe sequence an ESC starts. Group 1: a complete CSI or escape, or an OSC ended by
# BEL or ST: ESC aborts whatever the parser was in, so it is in its ground state after one.
_ESC_TOKEN = re.compile(
    rb"(\x1b\[[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]"
    rb"|\x1b[\x20-\x2f]*[\x30-\x4f\x51-\x57\x59\x5a\x5c\x60-\x7e]"
    rb"|\x1b\][^\x07\x1b\x18\x1a]*(?:\x07|\x1b\\))?"
)
# Bytes that are surely safe text on their own (everything but C0 controls other than TAB,
# LF, CR, and 0xc2, the first byte of a C1 control in UTF-8).
_PLAIN = bytes(b for b in range(256) if not (b < 0x20 and b not in (0x09, 0x0A, 0x0D)) and b != 0xC2)
# An ESC that does not start a safe sequence (or ends the data unfinished).
_UNSAFE_ESC = re.compile(rb"\x1b(?!\[\?25[lh])(?:\[[0-9;:]*(?:[^0-9;:mK]|\Z)|[^\[]|\Z)")
_HIDE, _SHOW = b"\x1b[?25l", b"\x1b[?25h"
_C1 = re.compile(rb"\xc2[\x80-\x9f]")
_ZWJ = "\u200d".encode()
# What may make a line feed scroll less than the whole screen: DECSTBM, the alternate screen.
_SCROLLING = re.compile(rb"(?:\x1b\[|\xc2\x9b)(?:[0-9;]*r|\?(?:[0-9;]*;)?(?:47|1047|1049)(?:;[0-9;]*)?h)")
_NOT_TEXT = bytes(range(0x20)) + b"\x7f"
_RESETS = (b"\x1b[0m", b"\x1b[m", b"\x1b[0;")
_SGR = re.compile(rb"\x1b\[[0-9;:]*m")


def needed_lines(rows: int, margin: int) -> int:
    """Line feeds the kept tail of a safe run must hold (see the module docstring)."""
    return 2 * rows - 1 + margin


def _pen(head: bytes) -> bytes:
    """The SGRs of ``head`` from its last full reset on: they leave the pen as all do."""
    last = -1
    for reset in _RESETS:  # each looks only after the latest found so far
        i = head.rfind(reset, last + 1)
        while i > last and _SGR.match(head, i) is None:  # ESC[0;...K: an EL, not a reset
            i = head.rfind(reset, last + 1, i)
        last = max(last, i)
    return b"".join(_SGR.findall(head, max(last, 0)))


def skip_run(data: bytes, start: int, end: int, ground: bool, need: int,
             min_skip: int = MIN_SKIP) -> tuple[bytes, int] | None:
    """Shorten the safe run ``data[start:end]`` (the parser in its ground state at ``start``
    if ``ground``): (its replacement, bytes left out), or None when it is too short or the
    ground state at the cut is not proved."""
    if end - start < min_skip + need:
        return None
    pos = end
    for _ in range(need):
        pos = data.rfind(b"\n", start, pos)
        if pos < 0:
            return None
    cut = data.rfind(b"\r\n", start, pos)
    if cut < 0 or cut + 2 - start < min_skip:
        return None
    cut += 2
    near = max(start, cut - 4096)
    zwj = data.rfind(_ZWJ, near, cut)
    if zwj < 0 and near > start and not _SAFE_ESC.sub(b"", data[near:cut]).translate(None, _NOT_TEXT):
        zwj = data.rfind(_ZWJ, start, cut)  # no text lately: a ZWJ further back may still count
    if zwj >= 0 and not _SAFE_ESC.sub(b"", data[zwj + 3 : cut]).translate(None, _NOT_TEXT):
        return None  # the head's last text ends in a ZWJ: it would join the tail's first character
    head = start
    if not ground:  # the run may start inside a sequence or string: skip from its first SGR/EL on
        head = data.find(b"\x1b", start, cut)
        if head < 0 or cut - head < min_skip:
            return None
    skipped = data[head:cut]
    shown = max(skipped.rfind(_HIDE), skipped.rfind(_SHOW))
    visibility = skipped[shown : shown + 6] if shown >= 0 else b""
    return data[start:head] + _pen(skipped) + visibility + b" \r" + data[cut:end], cut - head


class SkipAhead:
    """Shortens batches of output before they are fed (see the module docstring), and
    follows the parser's ground state across every batch, shortened or not."""

    def __init__(self, margin: int, min_skip: int = MIN_SKIP) -> None:
        self.margin = margin
        self.min_skip = min_skip
        #: Whether the parser is surely in its ground state after what was fed.
        self.ground = True
        #: Totals left out (statistics, benchmarks).
        self.skipped_bytes = 0
        self.skips = 0

    def shorten(self, data: bytes, rows: int, may_skip: bool) -> bytes:
        """What to feed instead of ``data`` (``data`` itself when nothing can go), to be fed
        now. ``may_skip``: the whole screen scrolls (no scroll region, not the alternate
        screen)."""
        out, ground = self.plan(data, rows, may_skip)
        self.commit(data, out, ground)
        return out

    def plan(self, data: bytes, rows: int, may_skip: bool) -> tuple[bytes, bool]:
        """:meth:`shorten` without changing anything: (what to feed, the ground state after
        it), for a caller that may feed it later (then pieces of it go through
        :meth:`shorten` again: the shortened stream is as good as the original)."""
        start, ground = self._last_run(data)
        end_ground = ground or data.find(b"\x1b", start) >= 0
        need = needed_lines(rows, self.margin)
        if start and _SCROLLING.search(data, 0, start) is not None:
            may_skip = False  # the batch itself may set a scroll region or the alternate screen
        if may_skip and len(data) - start >= self.min_skip + need:
            cut = skip_run(data, start, len(data), ground, need, self.min_skip)
            if cut is not None:
                return data[:start] + cut[0], end_ground
        return data, end_ground

    def commit(self, data: bytes, out: bytes, ground: bool) -> None:
        """``out`` (planned for ``data``) was fed: the ground state after it, and statistics."""
        self.ground = ground
        if len(out) < len(data):
            self.skipped_bytes += len(data) - len(out)
            self.skips += 1

    def _last_run(self, data: bytes) -> tuple[int, bool]:
        """Where the last safe run of ``data`` starts, and whether the parser is surely in
        its ground state there. Every step runs at C speed (~1-2 ms per MB in all)."""
        controls = set(data.translate(None, _PLAIN))
        start, ground = 0, self.ground
        if 0xC2 in controls:
            controls.discard(0xC2)
            c1 = None
            for c1 in _C1.finditer(data):
                pass
            if c1 is not None:
                start, ground = c1.end(), False
        escapes = 0x1B in controls
        controls.discard(0x1B)
        for c in controls:
            p = data.rfind(bytes((c,))) + 1
            if p > start:
                start, ground = p, c in (0x18, 0x1A)
        if not escapes:
            return start, ground
        last = None
        for count, last in enumerate(_UNSAFE_ESC.finditer(data, start)):
            if count >= MAX_UNSAFE:  # escape-heavy output (a full-screen program): walk back instead
                return self._walk_back(data, start)
        if last is None:
            return start, ground
        return _after_escape(data, last.start())

    @staticmethod
    def _walk_back(data: bytes, start: int) -> tuple[int, bool]:
        """:meth:`_last_run` from the end: escapes before the last unsafe one, at most
        MAX_ESC_BACK safe ones back (the run is then taken to start at an SGR/EL)."""
        hi = len(data)
        for _ in range(MAX_ESC_BACK):
            i = data.rfind(b"\x1b", start, hi)
            if i < 0:
                return start, False
            if _SAFE_ESC.match(data, i) is None:
                return _after_escape(data, i)
            hi = i
        return hi, True  # an SGR starts the run: the ground state after it


def _after_escape(data: bytes, i: int) -> tuple[int, bool]:
    """Where the unsafe sequence at ``i`` ends, and whether the parser is surely in its ground
    state after it."""
    m = _ESC_TOKEN.match(data, i)
    end = m.end() if m is not None and m.group(1) is not None else i + 1
    return end, end > i + 1

"""The lines just above the screen, followed as plain text scrolls instead of copied.

Redaction needs the few scrollback lines above the top row (a label or a token's start that
scrolled off, :data:`~cobrowse.screen.redact.CONTEXT_ROWS`), and avt only hands out its
whole scrollback (``Vt.lines()``: ~2 ms for 1,000 lines, every frame of a build log). So
plain text (characters, SGR colours, CR, LF, BS, TAB, EL, ``ESC [ K`` with 0, 1 or 2,
which erases within the cursor's row, and DECTCEM, ``ESC [ ? 25 l`` / ``h``, which hides or
shows the cursor and changes no cell: nothing that moves the cursor up, erases another row,
or sets a scroll region) is fed in pieces that cannot move the screen by more than its
height, and after each piece the one move that explains the new screen says which lines
left the top. The move is only taken when it is certain:

* the cursor can only go down in plain text, so it ends above the last row only if nothing
  scrolled (then the move is 0);
* otherwise the rows above the cursor's starting row must reappear moved up by exactly one
  k in 0..most (``most``: what the piece's line feeds and wraps could do at most), with at
  least two rows of evidence; two candidate moves (repeated lines) or none: unknown.

Text and EL change only the cursor's row, and the cursor never goes above its starting row,
so the rows above it (the evidence, and the lines that move off: k is below the starting
row) hold what they held before the piece. Lines ending in EL are common (``grep --color``,
compilers' colours, progress lines): taken for other output, each of their frames copied the
whole scrollback (~1.3 ms a frame at 10 KB/s; docs/benchmarks.md, cpu6). Programs hide the
cursor around each redraw (``ESC [ ? 25 l`` ... ``ESC [ ? 25 h``): the same copy (cpu7).

A feed longer than two pieces (1 MB/s of log reaches the emulator ~100 lines a feed) has its
head fed unfollowed: only its last pieces are followed, enough of them to move ``tail`` lines
off, and the record then holds only what they moved off (:meth:`ScrolledOff.has`). That is
all a frame needs above the screen, at one or two pieces a feed (~30 us each) instead of a
copy of the scrollback (0.25-1 ms) once a frame.

Unknown (and any other output, the alternate screen, a scroll region ever set) makes the
record :attr:`ScrolledOff.known` false; the emulator then copies the scrollback once and
follows from there. Lines are avt's (they compare cells and pens in Rust, ~0.2 us).
``tests/screen/test_screen_scroll.py`` checks the lines given are the scrollback's.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Sequence
from typing import Any, Protocol

__all__ = ["NOT_PLAIN", "REGION", "ScrolledOff", "is_plain", "last_region"]

#: Output that may do more than write at the cursor and move down: any escape but SGR, EL
#: (erase in the cursor's row) and DECTCEM (hide or show the cursor), C1.
NOT_PLAIN = re.compile(r"\x1b(?!\[[0-9;:]*m|\[[012]?K|\[\?25[lh])|[\x80-\x9f]")
#: DECSTBM (set a scroll region), CSI or C1 form; group 1 holds its parameters.
REGION = re.compile(r"(?:\x1b\[|\x9b)([0-9;]*)r")
# The same, split so that the regex engine scans for a literal first character (~20x faster
# than the alternations above on 10 KB of log: 4 vs 87 us); C1 only where text is not ASCII.
_ESCAPE = re.compile(r"\x1b(?!\[[0-9;:]*m|\[[012]?K|\[\?25[lh])")
_C1 = re.compile(r"[\x80-\x9f]")
_REGION_CSI = re.compile(r"\x1b\[([0-9;]*)r")


def is_plain(text: str) -> bool:
    """Whether ``text`` holds no :data:`NOT_PLAIN` match."""
    return not (_ESCAPE.search(text) or (not text.isascii() and _C1.search(text)))


def last_region(text: str) -> str | None:
    """The parameters of the last :data:`REGION` in ``text``, None when there is none."""
    last = None
    for m in (_REGION_CSI if text.isascii() else REGION).finditer(text):
        last = m.group(1)
    return last
#: Rows of evidence a move needs.
EVIDENCE = 2
#: The most pieces followed at the end of a long feed (whose head is fed unfollowed).
TAIL_PIECES = 4


class _Vt(Protocol):
    def feed_str(self, s: str) -> Any: ...
    def view(self) -> list[Any]: ...
    @property
    def cursor(self) -> Any: ...


def find_move(before: Sequence[Any], after: Sequence[Any], start_row: int, end_row: int, most: int) -> int | None:
    """The rows the screen moved up while plain text was written from ``start_row`` (the
    cursor's row before) to ``end_row``; None when not certain (see the module doc)."""
    n = len(after)
    if end_row < n - 1:
        return 0
    if most >= start_row - EVIDENCE + 1:
        return None  # a bigger move, with too little evidence to tell, is possible too
    found: int | None = None
    for k in range(0, most + 1):
        if after[0] == before[k] and all(after[i] == before[i + k] for i in range(1, start_row - k)):
            if found is not None:
                return None
            found = k
    return found


def most_moved(text: str, start: int, end: int, cols: int, wide: int) -> int:
    """The most rows plain ``text[start:end]`` can move the screen up: one a line feed, and one
    a wrap, which needs a row's worth of cells after the first: a character takes up to
    ``wide`` cells, a TAB up to ``cols - 1`` (to the next tab stop, the last column when the
    stops were cleared: counted as ``cols`` characters)."""
    tabs = text.count("\t", start, end)
    return text.count("\n", start, end) + wide * (end - start + (cols - 1) * tabs) // cols + 1


class ScrolledOff:
    """The last ``keep`` lines that moved off the top, oldest first, while :attr:`known`."""

    def __init__(self, keep: int, budget: int, blind_piece: int = 32768, tail: int | None = None) -> None:
        self.keep = keep
        self.tail = keep if tail is None else tail  # lines a long feed's followed end moves off
        self.budget = budget  # pieces followed between two asks; past it, copying is cheaper
        self.blind_piece = blind_piece  # the most text one feed_str call gets when not followed
        self._lines: deque[Any] = deque(maxlen=keep)
        self._pieces = 0
        self.known = False
        #: Whether ``_lines`` holds the last ``keep`` lines (or all there are); after a head fed
        #: unfollowed it holds only those that moved off since (:meth:`has`).
        self._complete = False
        #: The screen's lines as the last :meth:`feed` left them (its last piece's view), None
        #: when it did not end on a followed piece: the caller's next view, without a copy.
        self.after: list[Any] | None = None

    def seed(self, lines: Sequence[Any]) -> None:
        """Start from the scrollback's last lines (copied from the emulator)."""
        self._lines.clear()
        self._lines.extend(lines[-self.keep:])
        self._pieces = 0
        self.known = True
        self._complete = True

    def has(self, n: int) -> bool:
        """Whether the last ``n`` (≤ keep) lines above the screen are known."""
        return self.known and (self._complete or len(self._lines) >= n)

    def forget(self) -> None:
        self.known = False
        self._lines.clear()

    def last(self, n: int) -> list[Any]:
        """Up to ``n`` lines, oldest first; resets the piece budget."""
        self._pieces = 0
        return list(self._lines)[-n:] if n > 0 else []

    @staticmethod
    def _piece(text: str, pos: int, cols: int, limit: int, wide: int) -> tuple[int, int]:
        """Where the next piece ends, and the most it can move the screen (:func:`most_moved`)."""
        n = len(text)
        size = max(cols, cols * limit // (2 * wide))
        while True:
            end = min(n, pos + size)
            if end < n:
                cut = text.rfind("\n", pos, end)
                if cut >= 0:
                    end = cut + 1
            most = most_moved(text, pos, end, cols, wide)
            if most <= limit or size <= 1:
                return end, most
            size //= 2

    @staticmethod
    def _piece_back(text: str, end: int, cols: int, limit: int, wide: int) -> int:
        """Where a piece ending at ``end`` can start, after a line feed, so that it moves the
        screen by at most ``limit`` rows; -1 when it cannot."""
        lines = limit - 1
        while lines > 0:
            start = end
            for _ in range(lines):
                start = text.rfind("\n", 0, start)
                if start < 0:
                    return -1
            start += 1
            if most_moved(text, start, end, cols, wide) <= limit:
                return start
            lines //= 2
        return -1

    def _tail(self, text: str, cols: int, limit: int, wide: int) -> int:
        """Where the last pieces of ``text`` start when what comes before them could move the
        screen by more than ``limit`` rows (else 0): the fewest pieces (up to TAIL_PIECES)
        holding ``tail`` line feeds, which move as many lines off once the cursor is on the
        last row; only those are needed above the screen."""
        n = len(text)
        if most_moved(text, 0, n, cols, wide) <= 2 * limit:
            return 0  # one or two pieces: followed whole
        start = n
        for _ in range(TAIL_PIECES):
            start = self._piece_back(text, start, cols, limit, wide)
            if start <= 0:
                return 0
            if text.count("\n", start) >= self.tail:
                break
        return start

    def _blind(self, vt: _Vt, text: str) -> set[int]:
        changed: set[int] = set()
        for i in range(0, len(text), self.blind_piece):
            changed.update(vt.feed_str(text[i : i + self.blind_piece])[0])
        return changed

    def feed(self, vt: _Vt, text: str, cols: int, rows: int, before: list[Any] | None = None) -> set[int]:
        """Feed plain ``text`` to ``vt`` piece by piece, following what scrolls off; the
        changed rows. Text longer than two pieces has its head fed unfollowed and only its
        last piece followed (the lines above the screen are then known from that piece on).
        Forgets (and feeds the rest whole) when a move is not certain. ``before``: ``vt``'s
        view as it is now, when the caller holds one (a view copies every row: at one piece a
        feed, the before and after views were most of this call's own cost)."""
        self.after = None
        changed: set[int] = set()
        limit = rows - 1 - EVIDENCE  # the most a piece may move the screen
        wide = 1 if text.isascii() else 2  # a character may take two cells
        n = len(text)
        pos = 0
        if limit >= 1 and self._pieces < self.budget:
            pos = self._tail(text, cols, limit, wide)
            if pos:
                changed = self._blind(vt, text[:pos])
                self._lines.clear()
                self._complete = False
                before = None
        if before is None:
            before = vt.view()
        while pos < n:
            if limit < 1 or self._pieces >= self.budget:
                self.forget()
                changed.update(self._blind(vt, text[pos:]))
                return changed
            end, most = self._piece(text, pos, cols, limit, wide)
            start_row = vt.cursor.row
            changed.update(vt.feed_str(text[pos:end])[0])
            pos = end
            self._pieces += 1
            after = vt.view()
            k = find_move(before, after, start_row, vt.cursor.row, most) if most <= limit else None
            if k is None:
                self.forget()
                if pos < n:
                    changed.update(self._blind(vt, text[pos:]))
                return changed
            if k:
                self._lines.extend(before[:k])
            before = after
        self.after = before
        return changed

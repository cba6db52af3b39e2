"""The lines just above the screen, followed as plain text scrolls instead of copied.

Redaction needs the few scrollback lines above the top row (a label or a token's start that
scrolled off, :data:`~cobrowse.screen.redact.CONTEXT_ROWS`), and avt only hands out its
whole scrollback (``Vt.lines()``: ~2 ms for 1,000 lines, every frame of a build log). So
plain text (characters, SGR colours, CR, LF, BS, TAB: nothing that moves the cursor up,
erases, or sets a scroll region) is fed in pieces that cannot move the screen by more than
its height, and after each piece the one move that explains the new screen says which
lines left the top. The move is only taken when it is certain:

* the cursor can only go down in plain text, so it ends above the last row only if nothing
  scrolled (then the move is 0);
* otherwise the rows above the cursor's starting row must reappear moved up by exactly one
  k in 0..most (``most``: what the piece's line feeds and wraps could do at most), with at
  least two rows of evidence; two candidate moves (repeated lines) or none: unknown.

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

__all__ = ["NOT_PLAIN", "REGION", "ScrolledOff"]

#: Output that may do more than write at the cursor and move down: any escape but SGR, C1.
NOT_PLAIN = re.compile(r"\x1b(?!\[[0-9;:]*m)|[\x80-\x9f]")
#: DECSTBM (set a scroll region), CSI or C1 form; group 1 holds its parameters.
REGION = re.compile(r"(?:\x1b\[|\x9b)([0-9;]*)r")
#: Rows of evidence a move needs.
EVIDENCE = 2


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
    found: int | None = None
    for k in range(0, min(most, start_row - EVIDENCE) + 1):
        if all(after[i] == before[i + k] for i in range(start_row - k)):
            if found is not None:
                return None
            found = k
    if found is None or most >= start_row - EVIDENCE + 1:
        return None  # a bigger move, with too little evidence to tell, is possible too
    return found


class ScrolledOff:
    """The last ``keep`` lines that moved off the top, oldest first, while :attr:`known`."""

    def __init__(self, keep: int, budget: int) -> None:
        self.keep = keep
        self.budget = budget  # pieces followed between two asks; past it, copying is cheaper
        self._lines: deque[Any] = deque(maxlen=keep)
        self._pieces = 0
        self.known = False

    def seed(self, lines: Sequence[Any]) -> None:
        """Start from the scrollback's last lines (copied from the emulator)."""
        self._lines.clear()
        self._lines.extend(lines[-self.keep:])
        self._pieces = 0
        self.known = True

    def forget(self) -> None:
        self.known = False
        self._lines.clear()

    def last(self, n: int) -> list[Any]:
        """Up to ``n`` lines, oldest first; resets the piece budget."""
        self._pieces = 0
        return list(self._lines)[-n:] if n > 0 else []

    @staticmethod
    def _piece(text: str, pos: int, cols: int, limit: int, wide: int) -> tuple[int, int]:
        """Where the next piece ends, and the most it can move the screen: one row per line
        feed and one per ``cols`` cells (the sum of each line's wraps is at most that)."""
        n = len(text)
        size = max(cols, cols * limit // (2 * wide))
        while True:
            end = min(n, pos + size)
            if end < n:
                cut = text.rfind("\n", pos, end)
                if cut >= 0:
                    end = cut + 1
            most = text.count("\n", pos, end) + wide * (end - pos) // cols + 1
            if most <= limit or size <= 1:
                return end, most
            size //= 2

    def feed(self, vt: _Vt, text: str, cols: int, rows: int) -> set[int]:
        """Feed plain ``text`` to ``vt`` piece by piece, following what scrolls off; the
        changed rows. Forgets (and feeds the rest whole) when a move is not certain."""
        changed: set[int] = set()
        limit = rows - 1 - EVIDENCE  # the most a piece may move the screen
        wide = 1 if text.isascii() else 2  # a character may take two cells
        n = len(text)
        pos = 0
        before = vt.view()
        while pos < n:
            if limit < 1 or self._pieces >= self.budget:
                self.forget()
                changed.update(vt.feed_str(text[pos:])[0])
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
                    changed.update(vt.feed_str(text[pos:])[0])
                return changed
            if k:
                self._lines.extend(before[:k])
            before = after
        return changed

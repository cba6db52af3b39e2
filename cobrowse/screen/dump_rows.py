"""Many screen rows at once from avt's dump instead of its cells.

Building a row from avt's cells makes a Python object for every cell and for every cell's
pen and compares the pens one by one (~14 us for a 100-column row: ~12 rows a frame of a
log scrolling at 10 KB/s, all 30 of them at 100 KB/s). ``Vt.dump()`` renders the whole
view as text and SGR sequences in ~18 us; cutting that text back into rows costs a few
microseconds a row.

Nothing here is trusted blindly: the dump is cut into rows of one character a cell and each
cut must be its row's own text (which avt gives cheaply); from the first row where it is
not (a wide character), and for every row that is not ASCII (clusters, tokens), the caller
builds the row from its cells (``None``). A style comes from
an SGR parameter string through ``style_of``, which the emulator answers by letting avt
parse the same string (so a style means exactly what avt meant by it).
"""

from __future__ import annotations

import re
from typing import Callable, Collection, Sequence

from .state import DEFAULT_STYLE, Row, Style

__all__ = ["rows_from_dump", "VIEW_END"]

#: What ends the view's rows in a dump of the primary screen: the pen reset before the
#: cursor's position (a C1 CSI, which no cell holds).
VIEW_END = "\x1b[m\x9b"
_SEQUENCE = re.compile(r"\[([0-9;:]*)([mb])")  # after an ESC: SGR or REP


def rows_from_dump(dump: str, texts: Sequence[str], cols: int, style_of: Callable[[str], Style],
                   wanted: Collection[int] | None = None) -> list[Row | None]:
    """The rows of the view whose texts are ``texts`` (one per row), cut from ``dump``
    (``Vt.dump()`` of the primary screen): a :class:`Row` for each wanted (default: every)
    ASCII row, else ``None``. The cut must give every row's text exactly, in order: from the
    first row where it does not (a wide character, a dump this does not read), every row is
    ``None``; so is every row when the dump holds anything but text, SGR, REP and line breaks
    before :data:`VIEW_END`."""
    n = len(texts)
    out: list[Row | None] = [None] * n
    lines = _lines(dump, cols * n, style_of)
    if lines is None:
        return out
    i = 0
    last = n - 1 if wanted is None else max(wanted, default=-1)
    for runs in lines:
        if i > last:
            return out  # the rows below are not asked for
        text = "".join([t for t, _ in runs])
        k = max(1, -(-len(text) // cols))  # the rows a line of one character a cell covers
        if i + k > n:
            return out
        if len(text) < k * cols:
            text += " " * (k * cols - len(text))
        for j in range(k):
            row_text = texts[i + j]
            if text[j * cols:(j + 1) * cols] != row_text:
                return out  # cut wrongly: this row and the rest are built from their cells
            if (wanted is None or i + j in wanted) and row_text.isascii():
                out[i + j] = Row(_slice(runs, j * cols, (j + 1) * cols))
        i += k
    while i < n:  # the blank rows the dump leaves out at the end
        if texts[i] != " " * cols:
            return out
        if wanted is None or i in wanted:
            out[i] = Row(((texts[i], DEFAULT_STYLE),))
        i += 1
    return out


def _lines(dump: str, most: int, style_of: Callable[[str], Style]) -> list[list[tuple[str, Style]]] | None:
    """The dump's lines (a wrapped line is one) as runs of text and style; None when it
    holds anything else or a repeat of more than ``most`` characters."""
    end = dump.find(VIEW_END)
    if end < 0:
        return None
    body = dump[:end]
    if "\x9b" in body:
        return None
    lines: list[list[tuple[str, Style]]] = []
    style = DEFAULT_STYLE
    last = ""
    for line in body.split("\r\n"):
        runs: list[tuple[str, Style]] = []
        pieces = line.split("\x1b")
        if pieces[0]:
            last = pieces[0]
            runs.append((last, style))
        for piece in pieces[1:]:
            seq = _SEQUENCE.match(piece)
            if seq is None:
                return None  # any other sequence: not a dump this cuts
            if seq.group(2) == "m":
                style = style_of(seq.group(1))
            else:
                count = int(seq.group(1) or "1")
                if not last or count > most:
                    return None
                runs.append((last[-1] * count, style))
            text = piece[seq.end():]
            if text:
                last = text
                runs.append((text, style))
        lines.append(runs)
    return lines


def _slice(runs: list[tuple[str, Style]], start: int, stop: int) -> tuple[tuple[str, Style], ...]:
    """Canonical runs of the characters ``start:stop`` of ``runs`` (default blanks past their end)."""
    out: list[tuple[str, Style]] = []
    at = 0
    for text, style in runs:
        end = at + len(text)
        if end > start and at < stop:
            piece = text[max(start - at, 0):stop - at]
            if out and out[-1][1] == style:
                out[-1] = (out[-1][0] + piece, style)
            else:
                out.append((piece, style))
        at = end
        if at >= stop:
            break
    if at < stop:
        blank = " " * (stop - max(at, start))
        if out and out[-1][1] == DEFAULT_STYLE:
            out[-1] = (out[-1][0] + blank, DEFAULT_STYLE)
        else:
            out.append((blank, DEFAULT_STYLE))
    return tuple(out)

"""The mask: how a secret's cells look once redacted, and masking text and rows by span.

A masked cell holds :data:`MASK_CHAR` in the style :data:`MASK_STYLE` (default colours and
the :data:`~cobrowse.screen.state.REDACTED` attribute); a wide character that is masked
becomes two masked cells, so the mask keeps the secret's length in cells. The agent reads
the masks back from the attribute (:func:`redacted_spans`), never from the character.
"""

from __future__ import annotations

from typing import Sequence

from .state import REDACTED, Row, Style

MASK_CHAR = "\u2591"  # ░ light shade
MASK_STYLE = Style(None, None, REDACTED)

#: ``(start, end)`` text offsets in a line.
Span = tuple[int, int]


def merge_spans(spans: list[Span]) -> tuple[Span, ...]:
    """Sorted, overlapping and touching spans joined, empty ones dropped."""
    spans = sorted(s for s in spans if s[1] > s[0])
    out: list[Span] = []
    for s, e in spans:
        if out and s <= out[-1][1]:
            if e > out[-1][1]:
                out[-1] = (out[-1][0], e)
        else:
            out.append((s, e))
    return tuple(out)


def mask_text(text: str, spans: Sequence[Span]) -> str:
    """``text`` with the (merged, sorted) ``spans`` replaced by :data:`MASK_CHAR`."""
    if not spans:
        return text
    parts = []
    pos = 0
    for s, e in spans:
        parts.append(text[pos:s])
        parts.append(MASK_CHAR * (e - s))
        pos = e
    parts.append(text[pos:])
    return "".join(parts)


def col_to_offset(row: Row, col: int) -> int:
    """The text offset of cell column ``col`` of ``row`` (wide characters take two cells)."""
    if not row.wide:
        return min(col, len(row.text))
    for k, (c, _ch, _w, _style) in enumerate(row.cells()):
        if c >= col:
            return k
    return len(row.text)


def mask_row(row: Row, spans: Sequence[Span]) -> Row:
    """``row`` with the characters at text offsets in ``spans`` masked (a wide one: twice)."""
    masked = [False] * len(row.text)
    for s, e in spans:
        for k in range(s, e):
            masked[k] = True
    wide = set(row.wide)
    runs: list[tuple[str, Style]] = []
    new_wide: list[int] = []
    k = 0
    out_len = 0
    for text, style in row.runs:
        for ch in text:
            if masked[k]:
                w = 2 if k in wide else 1
                runs.append((MASK_CHAR * w, MASK_STYLE))
                out_len += w
            else:
                if k in wide:
                    new_wide.append(out_len)
                runs.append((ch, style))
                out_len += 1
            k += 1
    return Row.from_runs(runs, tuple(new_wide))


def redacted_spans(row: Row) -> list[tuple[int, int]]:
    """``[first_col, end_col)`` cell ranges of the masked cells of ``row`` (agent side)."""
    out: list[tuple[int, int]] = []
    if not any(style.attrs & REDACTED for _text, style in row.runs):
        return out
    for col, _ch, w, style in row.cells():
        if style.attrs & REDACTED:
            if out and out[-1][1] == col:
                out[-1] = (out[-1][0], col + w)
            else:
                out.append((col, col + w))
    return out

"""Which part of a remote screen a pane shows, and which of its lines need repainting.

When the pane is smaller than the remote screen the view is cropped and *follows the
cursor*: it starts at the top-left and scrolls the least needed to keep the cursor in
view (so a shell prompt at the bottom of a 50-row screen is visible in a 24-row pane).
Pure arithmetic on sizes and row keys, so the widget repaints only what changed.
"""

from __future__ import annotations

from typing import Any, Sequence

__all__ = ["changed_spans", "follow_cursor"]


def follow_cursor(origin: tuple[int, int], cursor: tuple[int, int] | None, pane: tuple[int, int],
                  screen: tuple[int, int]) -> tuple[int, int]:
    """The top-left screen cell ``(col, row)`` to show at the pane's (0, 0): ``origin`` moved
    the least that keeps ``cursor`` (``(row, col)``, or None) in a ``pane`` of ``(width,
    height)``, within a ``screen`` of ``(cols, rows)``."""
    width, height = pane
    cols, rows = screen
    ox, oy = origin
    if cursor is not None:
        cy, cx = cursor
        if width > 0:
            if cx < ox:
                ox = cx
            elif cx >= ox + width:
                ox = cx - width + 1
        if height > 0:
            if cy < oy:
                oy = cy
            elif cy >= oy + height:
                oy = cy - height + 1
    return max(0, min(ox, cols - width)), max(0, min(oy, rows - height))


def changed_spans(old_keys: Sequence[Any], keys: Sequence[Any], top: int, height: int) -> list[tuple[int, int]]:
    """The pane's line ranges ``[start, end)`` whose row keys changed, for a view starting at
    screen row ``top`` and ``height`` lines tall (consecutive changed lines are one range)."""
    spans: list[tuple[int, int]] = []
    start = -1
    hi = min(len(keys), top + height)
    for y in range(top, hi):
        if keys[y] != old_keys[y]:
            if start < 0:
                start = y
        elif start >= 0:
            spans.append((start - top, y - top))
            start = -1
    if start >= 0:
        spans.append((start - top, hi - top))
    return spans

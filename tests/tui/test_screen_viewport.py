"""The remote screen's viewport: a smaller pane follows the cursor; only changed lines repaint."""

from __future__ import annotations

from tui.widgets.screen_viewport import changed_spans, follow_cursor


def test_a_pane_as_large_as_the_screen_stays_at_the_top_left() -> None:
    assert follow_cursor((0, 0), (23, 79), (80, 24), (80, 24)) == (0, 0)


def test_a_smaller_pane_scrolls_the_least_to_keep_the_cursor_in_view() -> None:
    assert follow_cursor((0, 0), (49, 2), (80, 24), (80, 50)) == (0, 26)  # the prompt at the bottom
    assert follow_cursor((0, 26), (30, 2), (80, 24), (80, 50)) == (0, 26)  # still in view: no move
    assert follow_cursor((0, 26), (3, 2), (80, 24), (80, 50)) == (0, 3)
    assert follow_cursor((0, 0), (0, 150), (80, 24), (200, 24)) == (71, 0)


def test_no_cursor_keeps_the_origin_within_the_screen() -> None:
    assert follow_cursor((5, 40), None, (80, 24), (80, 50)) == (0, 26)
    assert follow_cursor((0, 0), None, (0, 0), (80, 24)) == (0, 0)


def test_consecutive_changed_lines_are_one_span_in_pane_coordinates() -> None:
    old = list("abcdefgh")
    new = list("aXYdeZgW")
    assert changed_spans(old, new, 0, 8) == [(1, 3), (5, 6), (7, 8)]
    assert changed_spans(old, new, 2, 4) == [(0, 1), (3, 4)]  # rows 2-5 shown: Y, and Z
    assert changed_spans(old, old, 0, 8) == []

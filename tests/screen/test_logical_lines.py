"""Which rows make one logical line (key_blocks.logical_lines): a row runs on into the next
when its last cell is not blank, or only its last cell is; the last row ends its line."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from cobrowse.screen.key_blocks import logical_lines
from cobrowse.screen.state import Row, Style


def spec(texts: list[str]) -> list[tuple[int, int]]:
    groups = []
    start = 0
    for i, text in enumerate(texts):
        if i + 1 < len(texts) and len(text) >= 2 and text[-2] != " ":
            continue
        groups.append((start, i + 1))
        start = i + 1
    return groups


@settings(max_examples=500, deadline=None)
@given(st.lists(st.text(alphabet="ab \u00e9", max_size=5), max_size=8))
def test_rows_run_on_where_their_last_but_one_cell_is_not_blank(texts: list[str]) -> None:
    rows = [Row(((t, Style()),)) if t else Row(()) for t in texts]
    assert logical_lines(rows) == spec(texts)


def test_a_wrapped_log_line_and_a_short_one() -> None:
    rows = [Row(((t, Style()),)) for t in ("abcd", "ef  ", "gh  ", "ijkl")]
    assert logical_lines(rows) == [(0, 2), (2, 3), (3, 4)]

"""The headless ``screen`` event's masked cells, read faster from each row's style runs,
stay exactly what every row's ``redacted_spans`` says."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from cobrowse.policy.agent_events import ScreenChanged, screen_json
from cobrowse.screen.emulator import Emulator
from cobrowse.screen.mask import mask_row, redacted_spans
from cobrowse.screen.state import ScreenState

COLS, ROWS = 20, 6

spans = st.lists(st.tuples(st.integers(0, COLS - 1), st.integers(1, 6)).map(lambda t: (t[0], min(COLS, t[0] + t[1]))),
                 max_size=3)


def fit(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """``spans`` as text offsets inside ``text`` (a wide character is one offset, two cells)."""
    return [(a, min(b, len(text))) for a, b in spans if a < len(text)]


def masked_screen(masks: list[list[tuple[int, int]]]) -> ScreenState:
    emulator = Emulator(COLS, ROWS)
    emulator.feed("".join(f"row {i} 漢字 text here\r\n" for i in range(ROWS - 1)).encode())
    state = emulator.state()
    rows = tuple(mask_row(row, fit(row.text, masks[i])) if i < len(masks) else row for i, row in enumerate(state.rows))
    return ScreenState(state.size, state.cursor, rows, state.modes)


@settings(max_examples=60, deadline=None)
@given(st.lists(spans, max_size=ROWS))
def test_redacted_cells_are_every_rows_masked_spans(masks: list[list[tuple[int, int]]]) -> None:
    state = masked_screen(masks)
    expected = [[i, a, b] for i, row in enumerate(state.rows) for a, b in redacted_spans(row)]
    assert screen_json(state)["redacted"] == expected
    assert ScreenChanged(state).to_json()["redacted"] == expected


def test_an_unmasked_screen_has_no_redacted_cells() -> None:
    assert screen_json(masked_screen([]))["redacted"] == []
    assert screen_json(masked_screen([[(0, 3)]]))["redacted"] == [[0, 0, 3]]

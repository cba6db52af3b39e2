"""The customer app's key help (Ctrl-] ?), as seen in tmux: a key's line too long for the box
wrapped at the box's left edge, so "(Enter sends; Escape goes back to" or "Enter)" read like
another key's line (three at 80x24, most of them at 40x10). Continuations now sit under the
description. The help opened with the bytes a terminal sends, in English and Persian."""

from __future__ import annotations

from typing import Any, Iterator

import pytest
from textual.geometry import Region

from cobrowse.i18n.language import Language
from tests.speaking import speaking
from tests.tui.terminal_keys import type_bytes
from tests.waiting import until
from tui.customer_app import CustomerApp
from tui.customer_screens import HelpScreen
from tui.customer_texts import NO_ISOLATES


@pytest.fixture(params=[Language.EN, Language.FA])
def language(request: pytest.FixtureRequest) -> Iterator[Language]:
    with speaking(request.param) as language:
        yield language


def rows_of(widget: Any) -> list[str]:
    return [strip.text.translate(NO_ISOLATES).rstrip() for strip in widget.render_lines(Region(0, 0, *widget.size))]


@pytest.mark.parametrize("size", [(80, 24), (40, 10), (200, 50)])
async def test_a_wrapped_key_line_continues_under_its_description(relay_url: str, language: Language,
                                                                   size: tuple[int, int]) -> None:
    app = CustomerApp(relay_url, None, "cat")
    async with app.run_test(size=size) as pilot:
        await until(lambda: app.code is not None and app.process is not None, what="the code and the shell")
        await type_bytes(pilot, b"\x1d?")
        await until(lambda: isinstance(app.screen, HelpScreen), what="the help")
        await pilot.pause()
        rows = rows_of(app.screen.query_one("#help-text"))
        assert not any("\\u20" in row for row in rows)  # the isolates stay balanced, none shown escaped
        block = rows[rows.index("") + 1:]
        block = block[:block.index("")]  # the keys, between the two blank lines
        assert len(block) >= 20, rows
        keys = [row for row in block if row[2:3].strip()]
        assert len(keys) >= 20 and all(row.startswith("  ") for row in keys), block
        for row in block:
            assert row in keys or row.startswith(" " * 11), (row, block)

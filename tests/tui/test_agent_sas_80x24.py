"""The SAS words are what the agent reads to the customer: at 80×24 a Russian customer's words
with their romanisation (~75 cells) and the consent badge did not fit the status row, and the
row cut them. They stay whole: beside the badge when they fit, on a row of their own when not."""

from __future__ import annotations

from typing import Callable

import pytest

from cobrowse.crypto.sas import ROMANIZED, WORD_LISTS, WORDS, for_agent
from cobrowse.i18n.language import Language
from cobrowse.policy.session_events import PeerHello
from relay.server import RelayServer
from tests.tui.test_agent_app import Customer, customers, paired_session
from tests.tui.test_agent_team_panel import wait
from tui.agent_app import AgentApp

__all__ = ["customers"]


def screen_rows(app: AgentApp) -> list[str]:
    """The console's rows as the terminal shows them."""
    return ["".join(segment.text for segment in strip) for strip in app.screen._compositor.render_strips()]


def longest_words(language: Language) -> str:
    """The three English words whose words in ``language``, romanised, are the longest."""
    by_length = sorted(range(256), key=lambda i: len(WORD_LISTS[language][i]) + len(ROMANIZED[language][i]))
    return " ".join(WORDS[i] for i in by_length[-3:])


@pytest.mark.parametrize("language", [Language.RU, Language.FA, Language.ZH])
async def test_long_sas_words_stay_whole_at_80x24(relay: RelayServer, customers: Callable[[], Customer],
                                                  language: Language) -> None:
    customer = customers()
    customer.runtime.lang = language.value
    app = AgentApp(relay.url, None, "Alice")
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await paired_session(pilot, customer)
        await wait(pilot, lambda: pane.sas and "(" in pane.sas, "the customer's words with their romanisation")
        # the words this key gave are random: the longest of the language, as the hello brings them
        pane._on_hello(PeerHello("customer", "", "cobrowse", language.value, for_agent(longest_words(language), language)))
        await pilot.pause(0.2)
        said = f"SAS {pane.sas}"
        assert any(said in row for row in screen_rows(app)), "\n".join(screen_rows(app))
        assert any("VIEW ONLY" in row for row in screen_rows(app))
        await app.end_all()


async def test_short_sas_words_keep_the_status_row(relay: RelayServer, customers: Callable[[], Customer]) -> None:
    customer = customers()
    app = AgentApp(relay.url, None, "Alice")
    async with app.run_test(size=(80, 24)) as pilot:
        pane = await paired_session(pilot, customer)
        await pilot.pause(0.2)
        row = next(row for row in screen_rows(app) if f"SAS {pane.sas}" in row)
        assert "VIEW ONLY" in row and "connected" in row, row
        assert not pane.query_one("#sas-line").display
        await app.end_all()

"""The customer's top banner at 80 columns: in Persian (and with a long agent name in any
language) the sentence did not fit and was cut, "… Ctrl-] e…" without what the key does (seen
in tmux). When the sentence does not fit, the banner keeps its " · " items that fit (who sees
it, what they may do), else says the short form: whole, either way."""

from __future__ import annotations

import pytest
from rich.cells import cell_len

from cobrowse.i18n.language import Language
from cobrowse.io.agent import AgentRuntime
from cobrowse.io.link import RelayLink
from cobrowse.policy.events import as_json
from tests.speaking import speaking
from tests.tui.test_customer_app import BASH, Agent, _shell_env
from tests.waiting import until
from tui.customer_app import CustomerApp

__all__ = ["_shell_env"]

LONG_NAME = "Alexandra Konstantinopolskaya-Smith"


def banner_text(app: CustomerApp) -> str:
    return str(app.query_one("#banner").render())


@pytest.mark.parametrize("name", ["Alice", LONG_NAME])
@pytest.mark.parametrize("lang", [Language.EN, Language.FA, Language.RU, Language.ZH])
async def test_the_banner_is_whole_at_80_columns(relay_url: str, lang: Language, name: str) -> None:
    with speaking(lang):
        agent = Agent(relay_url)
        agent.rt = AgentRuntime(RelayLink(relay_url, "agent"), lambda e: agent.events.append(as_json(e)), name=name)
        try:
            code = await agent.create()
            app = CustomerApp(relay_url, code, BASH)
            async with app.run_test(size=(80, 24)) as pilot:
                agent_name = name
                await until(lambda: app.sas is not None and agent.rt.paired, what="pairing")
                await until(lambda: app.agent_name == agent_name, what="the agent's hello")
                await pilot.pause(0.3)
                text = banner_text(app)
                assert cell_len(text) <= 80 - 2, (cell_len(text), text)  # its padding: 1 a side
                assert "…" not in text, text  # whole items: the keys are in the bottom line too
                if lang is Language.EN and name == "Alice":  # the whole sentence where it fits
                    assert text == "Your terminal is visible to Alice · view only · Ctrl-] p pauses, Ctrl-] e ends"
        finally:
            await agent.close()

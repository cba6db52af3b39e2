"""At 80 columns and more the banner keeps the " · " items that fit. Walked in tmux with
``--lang fa`` at 80x24: an unverified agent given control, the banner said "your terminal is
visible to the agent · they can type in it" and dropped "Ctrl-] r revokes"; the bottom line is
the unverified warning, which has no Ctrl-] r either: the key that takes control back was
nowhere on the screen. While an agent may type, the banner keeps the revoke key."""

from __future__ import annotations

import pytest
from rich.cells import cell_len

from cobrowse.i18n.language import Language
from cobrowse.io.agent import AgentRuntime
from cobrowse.io.link import RelayLink
from cobrowse.policy.events import as_json
from tests.speaking import speaking
from tests.tui.test_customer_app import BASH, Agent, _shell_env, agent, pane_lines, prefix  # noqa: F401 (fixtures)
from tests.waiting import until
from tui.customer_app import CustomerApp
from tui.customer_texts import bare

__all__ = ["_shell_env", "agent"]


@pytest.mark.parametrize("name", ["", "Alexandra Petrova"])
@pytest.mark.parametrize("language", [Language.FA, Language.RU, Language.ZH, Language.EN])
async def test_control_by_an_unverified_agent_at_80_columns_names_the_revoke_key(
        agent: Agent, relay_url: str, language: Language, name: str) -> None:  # noqa: F811
    agent.rt = AgentRuntime(RelayLink(relay_url, "agent"), lambda e: agent.events.append(as_json(e)), name=name)
    with speaking(language):
        code = await agent.create()
        app = CustomerApp(relay_url, code, BASH, control_cooldown=0.0)
        async with app.run_test(size=(80, 24)) as pilot:
            await until(lambda: app.sas is not None and agent.rt.paired, what="pairing")
            await agent.event("hello")
            await until(lambda: any(line.startswith("$") for line in pane_lines(app)), what="the shell prompt")
            await until(lambda: app.identity is not None, what="the identity verdict")
            await prefix(pilot, "g")  # the tripwire: the first press only warns
            await prefix(pilot, "g")
            await until(lambda: app.runtime is not None and str(app.runtime.level) == "control", what="control granted")
            await pilot.pause()
            text = bare(app.banner_text)
            status = bare(str(app.query_one("#status").render()))
            assert "Ctrl-] r" in text or "Ctrl-] r" in status, (text, status)
            assert cell_len(text) <= 80, text

"""The consent bar at 40 columns: the question and the countdown were whole, the buttons cut
("Deny (Ct"). Each button shows its whole label, inside the screen, in English and Russian
(longer words), and the bar is answered with the bytes a terminal sends (Ctrl-] n)."""

from __future__ import annotations

import asyncio
from typing import Any, Iterator

import pytest
from rich.cells import cell_len
from textual.geometry import Region
from textual.widgets import Button

from cobrowse.i18n.catalogues import translator
from cobrowse.i18n.language import Language
from cobrowse.i18n.text import ENGLISH, install
from cobrowse.protocol.prompts import ARMING
from tests.speaking import speaking
from tests.tui.terminal_keys import type_bytes
from cobrowse.io.agent import AgentRuntime
from cobrowse.io.link import RelayLink
from cobrowse.policy.events import as_json
from tests.tui.test_customer_app import BASH, Agent, _shell_env, agent, paired_app  # noqa: F401
from tests.waiting import until
from tui.customer_app import CustomerApp

CTRL_RIGHT_BRACKET = b"\x1d"  # what a terminal sends for Ctrl-]


@pytest.fixture(params=[Language.EN, Language.RU])
def language(request: pytest.FixtureRequest) -> Iterator[Language]:
    with speaking(request.param) as language:
        yield language


def shown(widget: Any) -> str:
    return "".join(strip.text for strip in widget.render_lines(Region(0, 0, *widget.outer_size)))


@pytest.mark.parametrize("size", [(40, 10), (80, 24)])
async def test_the_consent_buttons_are_whole(agent: Agent, relay_url: str, language: Language,  # noqa: F811
                                             size: tuple[int, int]) -> None:
    code = await agent.create()
    app = CustomerApp(relay_url, code, BASH, consent_timeout=30.0)
    async with app.run_test(size=size) as pilot:
        await paired_app(pilot, agent)
        await agent.rt.command({"cmd": "request_control", "level": "control"})
        await until(lambda: app.prompt_visible, what="the consent prompt")
        await pilot.pause(0.3)
        for button in app.query("#consent-buttons Button").results(Button):
            label = str(button.label).strip()
            region = button.region
            assert region.width and region.x >= 0 and region.right <= size[0], (label, region)
            assert cell_len(label) <= region.width and label in shown(button), (label, shown(button))
        allow, deny = app.query_one("#allow", Button), app.query_one("#deny", Button)
        assert not allow.region.overlaps(deny.region)
        question = str(app.query_one("#consent-text").render())
        for button, key in ((allow, "Ctrl-] y"), (deny, "Ctrl-] n")):
            assert key in str(button.label) or key in question  # the key is still named
        await asyncio.sleep(ARMING + 0.1)  # a new question ignores answers for ARMING s
        await type_bytes(pilot, CTRL_RIGHT_BRACKET + b"n")
        await until(lambda: not app.prompt_visible, what="the question answered")
        await agent.event("consent", level="view")



def screen_rows(app: Any) -> list[str]:
    return [strip.text for strip in app.screen._compositor.render_strips()]


LONG_NAME = "Alexandra Konstantinopolskaya-Smith"


@pytest.mark.parametrize("name", ["Alice", LONG_NAME])
@pytest.mark.parametrize("lang", [Language.EN, Language.RU, Language.ZH, Language.FA])
async def test_an_unverified_agents_question_and_its_countdown_fit_40x10(relay_url: str, lang: Language, name: str) -> None:
    """In Russian the question of an unverified agent took 8 rows at 40×10 and the countdown
    row ("denied automatically in N seconds") fell off the screen: the customer did not see
    how long was left. Now the countdown and the buttons are always on the screen: the
    question whole with a short name in every language (shorter Russian words), its last
    words cut only when a long name leaves no room."""
    install(translator(lang))
    agent = Agent(relay_url)
    agent.rt = AgentRuntime(RelayLink(relay_url, "agent"), lambda e: agent.events.append(as_json(e)), name=name)
    try:
        code = await agent.create()
        app = CustomerApp(relay_url, code, BASH, consent_timeout=30.0)
        async with app.run_test(size=(40, 10)) as pilot:
            await until(lambda: app.sas is not None and agent.rt.paired, what="pairing")
            await until(lambda: app.agent_name == name, what="the agent's hello")
            await until(lambda: app.identity is not None, what="the identity verdict")
            await agent.rt.command({"cmd": "request_control", "level": "control"})
            await until(lambda: app.prompt_visible, what="the consent prompt")
            await pilot.pause(0.3)
            rows = [row.lstrip("┃ ").rstrip() for row in screen_rows(app)]
            countdown = str(app.query_one("#consent-countdown").content).strip()
            assert countdown and countdown in rows, rows  # a row of its own, whole
            buttons = rows[rows.index(countdown) - 1]
            for button in app.query("#consent-buttons Button").results(Button):
                assert str(button.label).strip() in buttons, rows
            if name == "Alice":  # the question whole: its end is on the screen
                question = "".join(str(app.query_one("#consent-text").render()).split())
                assert question[-12:] in "".join("".join(rows).split()), rows
    finally:
        await agent.close()
        install(ENGLISH)

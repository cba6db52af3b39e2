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
from tests.tui.terminal_keys import type_bytes
from tests.tui.test_customer_app import BASH, Agent, _shell_env, agent, paired_app  # noqa: F401
from tests.waiting import until
from tui.customer_app import CustomerApp

CTRL_RIGHT_BRACKET = b"\x1d"  # what a terminal sends for Ctrl-]


@pytest.fixture(params=[Language.EN, Language.RU])
def language(request: pytest.FixtureRequest) -> Iterator[Language]:
    install(translator(request.param))
    try:
        yield request.param
    finally:
        install(ENGLISH)


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

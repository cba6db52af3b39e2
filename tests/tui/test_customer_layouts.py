"""The customer app with another keyboard layout on: Ctrl-] then the key marked y sends н
(Russian) or غ (Persian); it showed "unknown cobrowse key" and the question stayed unanswered.
The keys are the bytes a terminal sends."""

from __future__ import annotations

import asyncio

import pytest

from cobrowse.i18n.language import Language
from cobrowse.protocol.prompts import ARMING
from tests.speaking import speaking
from tests.tui.terminal_keys import type_bytes
from tests.tui.test_customer_app import BASH, Agent, _shell_env, agent, paired_app  # noqa: F401
from tests.waiting import until
from tui.customer_app import CustomerApp

CTRL_RIGHT_BRACKET = b"\x1d"


@pytest.mark.parametrize(("lang", "yes", "no"), [(Language.RU, "н", "т"), (Language.FA, "غ", "د"),
                                                 (Language.EN, "υ", "ν")])  # Greek, English messages
async def test_the_keys_marked_y_and_n_answer_in_another_layout(agent: Agent, relay_url: str,  # noqa: F811
                                                               lang: Language, yes: str, no: str) -> None:
    with speaking(lang):
        code = await agent.create()
        app = CustomerApp(relay_url, code, BASH, consent_timeout=30.0)
        async with app.run_test(size=(80, 24)) as pilot:
            await paired_app(pilot, agent)
            await agent.rt.command({"cmd": "request_control", "level": "suggest"})
            await until(lambda: app.prompt_visible, what="the consent prompt")
            await asyncio.sleep(ARMING + 0.1)  # a new question ignores answers for ARMING s
            await type_bytes(pilot, CTRL_RIGHT_BRACKET + "ж".encode())  # a letter on ; : no key
            await pilot.pause(0.2)
            assert app.prompt_visible
            await type_bytes(pilot, CTRL_RIGHT_BRACKET + yes.encode())
            await until(lambda: not app.prompt_visible, what="the question answered")
            await agent.event("consent", level="suggest")
            await agent.rt.command({"cmd": "request_control", "level": "control"})
            await until(lambda: app.prompt_visible, what="the second question")
            await asyncio.sleep(ARMING + 0.1)
            await type_bytes(pilot, CTRL_RIGHT_BRACKET + no.encode())
            await until(lambda: not app.prompt_visible, what="the second question denied")
            assert app.runtime is not None and app.runtime.level == "suggest"

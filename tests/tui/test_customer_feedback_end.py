"""The agent ends asking for feedback, as seen in tmux with `--lang zh`: the dialog began "the
agent ended the session。。" (the stock end sentence in English, two full stops), and the
"connected / compare these words" and "UNVERIFIED" toasts of the session covered it. A real
relay and agent; the app in Chinese and Russian."""

from __future__ import annotations

import asyncio
from typing import Iterator

import pytest
from textual.geometry import Region

from cobrowse.i18n.language import Language
from tests.speaking import speaking
from tests.tui.test_customer_app import BASH, Agent, _shell_env, agent, paired_app  # noqa: F401
from tests.waiting import until
from tui.customer_app import CustomerApp
from tui.customer_texts import NO_ISOLATES
from tui.feedback_dialog import FeedbackDialog

@pytest.fixture(params=[Language.ZH, Language.RU])
def language(request: pytest.FixtureRequest) -> Iterator[Language]:
    with speaking(request.param) as language:
        yield language


async def test_the_feedback_question_says_the_end_in_the_customers_language_on_top(
        agent: Agent, relay_url: str, language: Language) -> None:
    code = await agent.create()
    app = CustomerApp(relay_url, code, BASH)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await paired_app(pilot, agent)
        await until(lambda: len(app._notifications) > 0, what="the session's toasts")
        ending = asyncio.create_task(agent.rt.command({"cmd": "end", "feedback": True}))  # waits for the answer
        await until(lambda: isinstance(app.screen, FeedbackDialog), what="the feedback question")
        await pilot.pause()
        said = app.screen.query_one("#feedback-message")
        text = "".join(strip.text for strip in said.render_lines(Region(0, 0, *said.size))).translate(NO_ISOLATES)
        assert "the agent" not in text and "。。" not in text and ".." not in text, text
        assert not list(app._notifications), [n.message for n in app._notifications]
        await pilot.press("y", "5")
        await until(lambda: app.return_code is not None, what="the app closed once answered")
        await asyncio.wait_for(ending, 10)

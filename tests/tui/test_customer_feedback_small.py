"""The feedback question at 40×10 (seen in tmux): the dialog kept its 64 columns, so its right
half and the end of every line were off the screen. It now fits the window, narrower and
scrolling, and the keys answer it as before."""

from __future__ import annotations

import asyncio

import pytest
from textual.containers import Vertical

from tests.tui.test_customer_app import BASH, Agent, _shell_env, agent, paired_app  # noqa: F401 (fixtures)
from tests.waiting import until
from tui.customer_app import CustomerApp
from tui.feedback_dialog import FeedbackDialog

__all__ = ["_shell_env", "agent"]


@pytest.mark.parametrize("size", [(40, 10), (60, 15), (80, 24)])
async def test_the_feedback_dialog_fits_a_small_window(agent: Agent, relay_url: str, size: tuple[int, int]) -> None:  # noqa: F811
    code = await agent.create()
    app = CustomerApp(relay_url, code, BASH)
    async with app.run_test(size=size) as pilot:
        await paired_app(pilot, agent)
        ending = asyncio.create_task(agent.rt.command({"cmd": "end", "feedback": True}))
        await until(lambda: isinstance(app.screen, FeedbackDialog), what="the feedback question")
        await pilot.pause()
        box = app.screen.query_one(Vertical).region
        assert box.x >= 0 and box.y >= 0 and box.right <= size[0] and box.bottom <= size[1], box
        question = app.screen.query_one("#solved-question").region
        assert question.height >= 1 and question.right <= size[0], question
        await pilot.press("y", "4")
        await until(lambda: app.return_code is not None, what="the app closed once answered")
        await asyncio.wait_for(ending, 10)
    said = [e["feedback"] for e in agent.events if e.get("event") == "ended" and "feedback" in e]
    assert said and said[-1]["solved"] is True and said[-1]["rating"] == 4, agent.events[-3:]

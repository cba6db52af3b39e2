"""The customer app's prompt bar shows one question at a time, says what Allow gives, and its
buttons answer the question they show: a real relay, an in-process agent, a real shell."""

from __future__ import annotations

import asyncio
from pathlib import Path

from textual.widgets import Button

from cobrowse.protocol.prompts import ARMING
from tests.tui.test_customer_app import (  # noqa: F401
    BASH,
    Agent,
    _shell_env,
    agent,
    paired_app,
    until,
)
from tui.customer_app import CustomerApp


async def test_control_then_record_one_bar_at_a_time_buttons_answer_what_they_show(
        agent: Agent, relay_url: str, tmp_path: Path) -> None:
    code = await agent.create()
    agent.rt.recordings = tmp_path
    app = CustomerApp(relay_url, code, BASH, control_cooldown=0.3)
    async with app.run_test(size=(120, 36)) as pilot:
        await paired_app(pilot, agent)
        await agent.rt.command({"cmd": "request_control", "level": "control"})
        await agent.rt.command({"cmd": "record", "on": True})
        await until(lambda: app.prompt_visible, what="the first prompt")
        text = str(app.query_one("#consent-text").content)
        assert "asks to CONTROL your terminal" in text and "gives the agent CONTROL of your terminal" in text
        assert "RECORD" not in text and "control" in str(app.query_one("#allow", Button).label)
        await until(lambda: app.query_one("#deny").region.width > 0, what="the Deny button laid out")
        await pilot.click("#allow")  # within the arming delay: answers nothing
        await pilot.pause()
        assert app.runtime is not None and app.runtime.consent.level == "view"
        assert any("the question on screen is new" in line for line in app.log_lines)
        await asyncio.sleep(ARMING)
        await pilot.click("#deny")
        await until(lambda: "RECORD" in str(app.query_one("#consent-text").content), what="the recording prompt")
        assert "lets the agent RECORD this session" in str(app.query_one("#consent-text").content)
        assert "recording" in str(app.query_one("#allow", Button).label)
        await pilot.click("#allow")  # the second click of a double click: too soon for the new question
        await pilot.pause()
        assert not app.runtime.recording.recording and app.prompt_visible
        await asyncio.sleep(ARMING)
        await pilot.click("#allow")
        await agent.event("recording", state="on")
        await until(lambda: not app.prompt_visible, what="the bar to close")
        assert app.runtime.consent.level == "view"

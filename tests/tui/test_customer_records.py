"""The customer app at the end of a session (the rating dialog) and when the agent asks to
record: a real relay on 127.0.0.1, an in-process AgentRuntime, a real shell in a pty."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from cobrowse.protocol.prompts import ARMING
from tests.tui.test_customer_app import BASH, Agent, agent, paired_app, prefix, until, _shell_env  # noqa: F401
from tui.customer_app import CustomerApp
from tui.feedback_dialog import FeedbackDialog


async def test_the_rating_dialog_sends_the_answer_to_the_agent(agent: Agent, relay_url: str, data_dir: Path) -> None:
    code = await agent.create()
    app = CustomerApp(relay_url, code, BASH)
    async with app.run_test(size=(120, 36)) as pilot:
        await paired_app(pilot, agent)
        ending = asyncio.create_task(agent.rt.command({"cmd": "end", "feedback": True}))  # waits for the answer
        await until(lambda: isinstance(app.screen, FeedbackDialog) and app.screen.query("#feedback-message"),
                    what="the feedback dialog, composed")
        dialog = app.screen
        assert "the agent ended the session" in str(dialog.query_one("#feedback-message").content)
        # nothing is streamed while the customer answers: the banner must not say it is
        assert "Session ended: nothing is shared." in app.banner_text, app.banner_text
        await pilot.press("n")
        await pilot.pause()
        assert "→ no" in str(dialog.query_one("#solved-question").content)
        await pilot.click("#fb-2")
        ended = await agent.event("ended")
        await ending
        await until(lambda: not app.is_running, what="the app to exit")
    assert ended["feedback"] == {"status": "answered", "solved": False, "rating": 2}
    assert app.return_code == 0
    (receipt,) = (data_dir / "receipts").glob("*.jsonl")
    entries = [json.loads(line) for line in receipt.read_text().splitlines()]
    assert {"event": "feedback", "solved": "no", "rating": 2}.items() <= entries[-2].items()


async def test_escape_skips_the_question(agent: Agent, relay_url: str) -> None:
    code = await agent.create()
    app = CustomerApp(relay_url, code, BASH)
    async with app.run_test(size=(120, 36)) as pilot:
        await paired_app(pilot, agent)
        ending = asyncio.create_task(agent.rt.command({"cmd": "end", "feedback": True}))  # waits for the answer
        await until(lambda: isinstance(app.screen, FeedbackDialog), what="the feedback dialog")
        await pilot.press("escape")
        ended = await agent.event("ended")
        await ending
        await until(lambda: not app.is_running, what="the app to exit")
    assert ended["feedback"]["status"] == "skipped"


async def test_recording_needs_the_customers_yes_and_stops_at_ctrl_bracket_x(agent: Agent, relay_url: str, data_dir: Path) -> None:
    agent.rt.recordings = data_dir / "recordings"
    agent.rt.recordings.mkdir()
    code = await agent.create()
    app = CustomerApp(relay_url, code, BASH)
    async with app.run_test(size=(120, 36)) as pilot:
        await paired_app(pilot, agent)
        await agent.rt.command({"cmd": "record", "on": True})
        await until(lambda: app.prompt_visible, what="the recording prompt")
        await asyncio.sleep(ARMING)  # a new prompt ignores answers for ARMING s
        assert "RECORD" in str(app.query_one("#consent-text").content)
        await pilot.press("y")  # a bare key answers nothing: it goes to the shell
        await pilot.pause()
        assert agent.rt.recorder is None and app.prompt_visible
        await prefix(pilot, "y")
        await agent.event("recording", state="on")
        await until(lambda: "RECORDING" in app.banner_text, what="the recording banner")
        assert not app.prompt_visible
        await prefix(pilot, "x")
        await agent.event("recording", state="stopped", by="customer")
        await until(lambda: "RECORDING" not in app.banner_text, what="the banner without recording")
        assert agent.rt.recorder is not None and agent.rt.recorder.closed
    assert len(list(agent.rt.recordings.glob("*.cast"))) == 1


async def test_after_the_end_the_status_line_offers_only_what_still_works(agent: Agent, relay_url: str) -> None:
    """After "Session ended" the bottom line still listed ``c chat · y allow · n deny ...``."""
    code = await agent.create()
    app = CustomerApp(relay_url, code, BASH)
    async with app.run_test(size=(120, 36)) as pilot:
        await paired_app(pilot, agent)
        status = app.query_one("#status")
        assert "e end" in str(status.content)  # (the unverified agent warning, here)
        ending = asyncio.create_task(agent.rt.command({"cmd": "end", "feedback": True}))  # waits for the answer
        await until(lambda: isinstance(app.screen, FeedbackDialog), what="the feedback dialog")
        await pilot.pause()
        shown = str(status.content)
        assert shown == "Ctrl-] then: b panel · ? help", shown
        await pilot.press("escape")
        await ending
        await until(lambda: not app.is_running, what="the app to exit")

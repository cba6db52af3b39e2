"""Recording consent and the end-of-session question between two real runtimes over a
real relay on 127.0.0.1: the agent's client records only after the customer's yes."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

import cobrowse.io.customer as customer_module
from cobrowse.io.agent import CommandError
from cobrowse.protocol import messages as m
from tests.io.test_resume import paired_runtimes, stop


async def test_an_unsolicited_granted_records_nothing_and_record_needs_a_folder(relay_url: str, tmp_path: Path) -> None:
    agent, agent_events, customer, _, _, tasks = await paired_runtimes(relay_url)
    try:
        with pytest.raises(CommandError, match="not available"):
            await agent.command({"cmd": "record", "on": True})  # no recordings folder in this client
        with pytest.raises(CommandError, match='"on"'):
            await agent.command({"cmd": "record", "on": "yes"})
        agent.recordings = tmp_path
        await customer.send(m.Recording("granted"))  # a customer client cannot make the agent record unasked
        await customer.send(m.Chat("after"))
        await agent_events.until(lambda: agent_events.of("chat"))
        assert agent.recorder is None and agent.recording_state == "off" and not list(tmp_path.iterdir())
    finally:
        await stop(tasks, agent, customer)


async def test_an_unanswered_recording_prompt_is_refused(relay_url: str, tmp_path: Path) -> None:
    agent, agent_events, customer, customer_events, _, tasks = await paired_runtimes(relay_url)
    customer.prompts.timeout = 0.3
    agent.recordings = tmp_path
    try:
        await agent.command({"cmd": "record", "on": True})
        await customer_events.until(lambda: customer_events.of("recording_prompt"))
        await agent_events.until(lambda: agent_events.of("recording") and agent_events.of("recording")[-1]["state"] == "denied")
        assert customer_events.of("recording")[-1] == {"event": "recording", "state": "denied", "by": "timeout",
                                                      "message": "recording refused: the agent may not record this session"}
        assert agent.recorder is None and not list(tmp_path.iterdir())
        with pytest.raises(CommandError, match="not recording"):
            await agent.command({"cmd": "record", "on": False})
    finally:
        await stop(tasks, agent, customer)


async def test_the_agent_stops_recording_and_the_customer_hears_of_it(relay_url: str, tmp_path: Path) -> None:
    agent, agent_events, customer, customer_events, _, tasks = await paired_runtimes(relay_url)
    agent.recordings = tmp_path
    try:
        await agent.command({"cmd": "record", "on": True})
        await customer_events.until(lambda: customer_events.of("recording_prompt"))
        await customer.run_command("allow")
        await agent_events.until(lambda: any(e["state"] == "on" for e in agent_events.of("recording")))
        with pytest.raises(CommandError, match="already recording"):
            await agent.command({"cmd": "record", "on": True})
        await agent.command({"cmd": "record", "on": False})
        await customer_events.until(lambda: customer_events.of("recording")[-1]["state"] == "stopped")
        assert customer_events.of("recording")[-1]["by"] == "agent" and not customer.recording.recording
        assert agent.recorder is not None and agent.recorder.closed and agent.recorder.cast_path.exists()
    finally:
        await stop(tasks, agent, customer)


async def test_an_unanswered_question_is_skipped_within_its_bound(relay_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(customer_module, "FEEDBACK_ANSWER", 0.5)
    agent, agent_events, customer, customer_events, _, tasks = await paired_runtimes(relay_url)
    customer.ask_feedback = True
    try:
        await agent_events.until(lambda: agent_events.of("hello"))
        async with asyncio.timeout(10):
            await agent.command({"cmd": "end", "feedback": True})
        assert agent_events.of("ended")[-1]["feedback"] == {"status": "skipped", "solved": None, "rating": None}
        assert customer_events.of("feedback_sent")[-1]["message"] == "feedback skipped"
    finally:
        await stop(tasks, agent, customer)


async def test_the_agent_gives_up_waiting_after_its_bound(relay_url: str) -> None:
    agent, agent_events, customer, customer_events, _, tasks = await paired_runtimes(relay_url)
    customer.ask_feedback = True
    agent.feedback_timeout = 0.5
    try:
        await agent_events.until(lambda: agent_events.of("hello"))
        async with asyncio.timeout(10):
            await agent.command({"cmd": "end", "feedback": True})
        assert agent_events.of("ended")[-1]["feedback"]["status"] == "timeout"
        await customer_events.until(lambda: customer_events.of("ended"))  # the agent closed: the customer's side ends too
    finally:
        await stop(tasks, agent, customer)

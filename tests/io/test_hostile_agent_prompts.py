"""A hostile agent against the real customer runtime, through a real relay: confusing prompts,
floods, control bytes in suggestions, decompression bombs. The agent here is the real
AgentRuntime sending sealed messages its own commands would refuse (a modified client)."""

from __future__ import annotations

import asyncio
import json
import zlib

from cobrowse.protocol import messages as m
from cobrowse.protocol.prompts import PromptKind
from tests.io.test_resume import paired_runtimes, stop

ARMED = 0.3  # the customer's arming delay in these tests


def notices(events: list[dict], needle: str) -> list[dict]:
    return [e for e in events if e.get("event") == "notice" and needle in e["message"]]


async def until_chat(customer_events, text: str) -> None:  # type: ignore[no-untyped-def]
    await customer_events.until(lambda: any(e.get("text") == text for e in customer_events.of("chat")))


async def test_record_then_control_a_double_y_allows_only_the_recording(relay_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    agent, agent_events, customer, events, _, tasks = await paired_runtimes(relay_url)
    customer.prompts.arming = ARMED
    agent.recordings = tmp_path
    try:
        await agent.command({"cmd": "record", "on": True})
        await agent.command({"cmd": "request_control", "level": "control"})
        await events.until(lambda: events.of("recording_prompt"))
        await agent.send(m.Chat("sync"))
        await until_chat(events, "sync")
        assert not events.of("consent_prompt")  # one question at a time
        (asked,) = events.of("recording_prompt")
        assert asked["kind"] == "recording" and "Ctrl-] y lets the agent RECORD" in asked["message"]
        await asyncio.sleep(ARMED)
        await customer.run_command("allow")
        await customer.run_command("allow")  # the customer's second y, "to be sure"
        assert customer.recording.recording and customer.consent.level == "view"
        (control,) = events.of("consent_prompt")
        assert control["kind"] == "control" and control["id"] == asked["id"] + 1
        assert "Ctrl-] y gives the agent CONTROL of your terminal" in control["message"]
        assert notices(events.events, "you allowed: recording of this session")
        assert notices(events.events, "ignored that answer: the question on screen is new")
        await asyncio.sleep(ARMED)
        await customer.run_command("deny")
        assert customer.consent.level == "view" and customer.prompts.shown is None
        assert notices(events.events, "you refused: CONTROL of your terminal")
        await agent_events.until(lambda: any(e["state"] == "on" for e in agent_events.of("recording")))
        assert agent.consent == "view"
    finally:
        await stop(tasks, agent, customer)


async def test_control_then_record_the_tripwire_still_guards_control(relay_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    agent, _, customer, events, _, tasks = await paired_runtimes(relay_url)
    customer.prompts.arming = ARMED
    agent.recordings = tmp_path
    try:
        await agent.command({"cmd": "request_control", "level": "control"})
        await agent.command({"cmd": "record", "on": True})
        await agent.send(m.Chat("sync"))
        await until_chat(events, "sync")
        (control,) = events.of("consent_prompt")
        assert control["kind"] == "control" and control["confirm_twice"] and not events.of("recording_prompt")
        await asyncio.sleep(ARMED)
        await customer.run_command("allow")  # unverified agent: the first press only warns
        assert events.of("control_confirm")[-1]["state"] == "armed" and customer.consent.level == "view"
        assert customer.prompts.shown is not None and customer.prompts.shown.kind == PromptKind.CONTROL
        await customer.run_command("deny")
        (recording,) = events.of("recording_prompt")
        await customer.run_command("allow", str(control["id"]))  # a stale click on the old bar
        assert notices(events.events, "no longer on screen") and not customer.recording.recording
        await customer.run_command("allow", str(recording["id"]))  # too soon, even by id
        assert not customer.recording.recording
        await asyncio.sleep(ARMED)
        await customer.run_command("allow", str(recording["id"]))
        assert customer.recording.recording and customer.consent.level == "view"
    finally:
        await stop(tasks, agent, customer)


async def test_floods_of_requests_and_keys_make_one_prompt_and_one_notice(relay_url: str) -> None:
    agent, _, customer, events, program, tasks = await paired_runtimes(relay_url)
    try:
        for _ in range(200):
            await agent.send(m.RequestControl("control"))
            await agent.send(m.RecordRequest(True))
            await agent.send(m.Keys("touch pwned\r"))
        await agent.send(m.Chat("sync"))
        await until_chat(events, "sync")
        assert len(events.of("consent_prompt")) == 1 and not events.of("recording_prompt")
        ignored = notices(events.events, "keys from the agent") + notices(events.events, "keystroke messages")
        assert len(ignored) == 1 and ignored[0]["count"] == 1
        dropped = [e for e in events.events if e.get("kind") == "ignored"]
        assert len(dropped) <= 4  # keys, and at most one line per rate-limited type
        assert len([e for e in events.events if e.get("event") == "notice"]) <= 6
        assert bytes(program) == b""
        # the summary comes once, with the count
        await events.until(lambda: any("more keystroke messages" in n["message"] for n in events.of("notice")), timeout=10)
        (summary,) = notices(events.events, "more keystroke messages")
        assert summary["count"] == 199
    finally:
        await stop(tasks, agent, customer)


async def test_repeated_denials_stop_the_questions_and_the_agent_is_told(relay_url: str) -> None:
    agent, agent_events, customer, events, _, tasks = await paired_runtimes(relay_url)
    try:
        for i in range(3):
            await agent.send(m.RequestControl("control"))
            await events.until(lambda i=i: len(events.of("consent_prompt")) == i + 1)
            await customer.run_command("deny")
        for _ in range(5):
            await agent.send(m.RequestControl("control"))
        await agent_events.until(lambda: any("refused without asking" in e["text"] for e in agent_events.of("chat")))
        await agent.send(m.Chat("sync"))
        await until_chat(events, "sync")
        assert len(events.of("consent_prompt")) == 3 and customer.consent.level == "view"
        assert len(notices(events.events, "without asking you")) == 1
        await customer.run_command("grant_control")  # the customer can still decide on their own
        await customer.run_command("grant_control")  # (an unverified agent: the second press grants)
        assert customer.consent.level == "control"
    finally:
        await stop(tasks, agent, customer)


async def test_a_suggestion_with_control_bytes_is_refused_on_both_sides(relay_url: str) -> None:
    agent, agent_events, customer, events, program, tasks = await paired_runtimes(relay_url)
    try:
        for command in ("sleep 9\x1a touch pwned", "sleep 9\x1c touch pwned", "true\rtouch pwned"):
            agent._suggested[99] = command  # the hostile client's own bookkeeping
            await agent.send(m.Suggest(99, command))
            await agent_events.until(lambda: agent_events.of("suggestion"))
            (answer,) = agent_events.of("suggestion")
            assert answer["answer"] == "refused" and "character" in answer["reason"]
            agent_events.events.clear()
        assert not events.of("suggestion") and len(notices(events.events, "refused a command the agent suggested")) == 3
        await customer.run_command("paste_suggestion")
        assert bytes(program) == b""
    finally:
        await stop(tasks, agent, customer)


async def test_nothing_is_pasted_into_a_full_screen_program(relay_url: str) -> None:
    agent, agent_events, customer, events, program, tasks = await paired_runtimes(relay_url)
    try:
        await agent.command({"cmd": "suggest", "command": "ls -la"})
        await events.until(lambda: events.of("suggestion"))
        customer.program_output(b"\x1b[?1049h\x1b[?2004h")  # vim, say
        await customer.run_command("paste_suggestion")
        assert bytes(program) == b"" and customer.suggestion is not None
        assert notices(events.events, "full-screen program")
        customer.program_output(b"\x1b[?1049l")
        await customer.run_command("paste_suggestion")
        assert bytes(program) == b"\x1b[200~ls -la\x1b[201~"
        await agent_events.until(lambda: agent_events.of("suggestion"))
        assert agent_events.of("suggestion")[0]["answer"] == "pasted"
    finally:
        await stop(tasks, agent, customer)


async def test_a_decompression_bomb_is_refused_and_the_session_goes_on(relay_url: str) -> None:
    agent, _, customer, events, _, tasks = await paired_runtimes(relay_url)
    try:
        bomb = bytes([m.ZLIB]) + zlib.compress(json.dumps({"t": "chat", "text": "x" * 4_000_000}).encode(), 9)
        assert len(bomb) < 8_000
        session = agent.session
        assert session is not None and session._channel is not None
        for _ in range(5):
            frame = session._channel.seal(bomb, agent.now)
            assert frame is not None
            session._outbox.append(frame)
        await agent.flush()
        await agent.send(m.Chat("after"))
        await until_chat(events, "after")
        malformed = [e for e in events.of("warning") if e["kind"] == "malformed"]
        # each one refused; past 3 of a kind the warnings are coalesced (cobrowse.io.runtime)
        assert len(malformed) == 4 and "too large once decompressed" in malformed[0]["message"]
        assert malformed[-1].get("coalesced") is True
        assert not [e for e in events.of("chat") if len(e["text"]) > 100]
    finally:
        await stop(tasks, agent, customer)

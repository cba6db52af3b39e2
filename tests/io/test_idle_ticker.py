"""An idle session costs (almost) nothing: the runtime's ticker ran a pass every TICK (50 ms)
whether or not anything was due, ~20 wake-ups a second per process for a customer reading and
an agent talking (0.5-0.9 % of a core each, tmux ~0). Once nothing happened for QUIET_AFTER s it
now sleeps until its next deadline (pings, retransmissions, calls, the policy's timers), at most
IDLE_TICK; any message in either direction brings the TICK pace back. Real relay and runtimes."""

from __future__ import annotations

import asyncio

from cobrowse.io import runtime as rt
from cobrowse.protocol import messages as m
from cobrowse.voice.call import CallMachine
from tests.io.test_resume import paired_runtimes, stop


async def _quiet(*runtimes: rt.SessionRuntime) -> None:
    """Until every side's TICK pace ran out (bounded)."""
    async with asyncio.timeout(15):
        while any(r.now < r._busy_until for r in runtimes):
            await asyncio.sleep(0.1)


async def test_an_idle_session_wakes_its_ticker_seldom(relay_url: str) -> None:
    agent, agent_events, customer, events, program, tasks = await paired_runtimes(relay_url)
    try:
        await _quiet(agent, customer)
        before = (agent.passes, customer.passes)
        await asyncio.sleep(3)
        agent_passes, customer_passes = agent.passes - before[0], customer.passes - before[1]
        # at TICK that is ~60 passes each; idle: a pass a second plus the pings' (every 2 s) and
        # their acknowledgements'
        assert agent_passes < 20 and customer_passes < 20, (agent_passes, customer_passes)
        assert agent.outcome is None and customer.outcome is None
    finally:
        await stop(tasks, agent, customer)


async def test_a_message_brings_the_pace_back_and_keys_still_reach_the_program(relay_url: str) -> None:
    agent, agent_events, customer, events, program, tasks = await paired_runtimes(relay_url)
    try:
        await customer.run_command("grant_control")
        await customer.run_command("grant_control")  # an unverified agent: the second press grants
        await agent_events.until(lambda: any(e["level"] == "control" for e in agent_events.of("consent")))
        await _quiet(agent, customer)
        await agent.send(m.Chat("still there?"))
        assert agent.now < agent._busy_until  # what it sent
        await events.until(lambda: any(e["text"] == "still there?" for e in events.of("chat")))
        assert customer.now < customer._busy_until  # what it received
        await _quiet(agent, customer)
        await agent.send(m.Keys("ls\r"))
        async with asyncio.timeout(10):
            while bytes(program) != b"ls\r":
                await asyncio.sleep(0.01)
        assert customer.now < customer._busy_until
    finally:
        await stop(tasks, agent, customer)


async def test_pings_are_not_activity(relay_url: str) -> None:
    """The runtimes' own pings and pongs (every PING_EVERY s) must not keep the TICK pace on."""
    agent, agent_events, customer, events, program, tasks = await paired_runtimes(relay_url)
    try:
        await _quiet(agent, customer)
        pings = agent._ping_id
        async with asyncio.timeout(10):
            while agent._ping_id == pings:  # a ping went and (most likely) its pong came
                await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)
        assert agent.now >= agent._busy_until and customer.now >= customer._busy_until
    finally:
        await stop(tasks, agent, customer)


def test_a_ringing_call_has_a_deadline_an_idle_one_none() -> None:
    call = CallMachine("agent", ring_timeout=30)
    assert call.next_deadline() is None
    call.invite(100.0)
    assert call.next_deadline() == 130.0
    call.hangup()
    assert call.next_deadline() is None

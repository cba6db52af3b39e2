"""Plain mode: a revoke (Ctrl-] r) read from the customer's terminal takes effect in stdin's
read callback, before an agent's key frame handled after it in the same loop turn (keys5
handles key frames from the link's read callback). The customer's keys used to wait in a
queue for a task: a key frame read in that turn was written to the pty after the revoke was
typed. Real relay and runtimes on 127.0.0.1; the agent's key goes through ``message_now``,
what the link's read callback calls."""

from __future__ import annotations

import asyncio

from cobrowse.plain.inputs import LocalInputs
from cobrowse.protocol import messages as m
from tests.io.test_keys_at_once import _control
from tests.io.test_resume import paired_runtimes, stop

REVOKE = b"\x1dr"  # Ctrl-] r


async def test_a_revoke_read_before_a_key_frame_in_the_same_turn_stops_that_key(relay_url: str) -> None:
    agent, agent_events, customer, events, program, tasks = await paired_runtimes(relay_url)
    inputs = LocalInputs(customer)
    applying = asyncio.create_task(inputs.run())
    try:
        await _control(agent_events, customer)
        later = customer.message_now(m.Keys("before;"))
        assert later is None and bytes(program) == b"before;"  # control: written at once
        inputs.take(REVOKE)  # stdin's read callback ...
        later = customer.message_now(m.Keys("after"))  # ... then the link's, in the same turn
        if later is not None:
            await later
        assert bytes(program) == b"before;"
        await agent_events.until(lambda: agent_events.of("consent")[-1]["level"] == "view", 10)
        inputs.take(b"typed by the customer")  # their own keys still reach the program, in order
        async with asyncio.timeout(10):
            while bytes(program) != b"before;typed by the customer":
                assert len(program) <= len(b"before;typed by the customer"), bytes(program)
                await asyncio.sleep(0.01)
    finally:
        applying.cancel()
        await asyncio.gather(applying, return_exceptions=True)
        await stop(tasks, agent, customer)

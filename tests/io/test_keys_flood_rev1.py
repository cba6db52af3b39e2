"""Review of keys5 (rev1): a hostile agent flooding keys at a program that does not read its
input: what the customer holds stays bounded. Real relay, runtimes and pty on 127.0.0.1."""

from __future__ import annotations

import asyncio

from cobrowse.io.pty_process import PtyProcess
from cobrowse.protocol import messages as m
from tests.io.test_resume import paired_runtimes, stop


async def test_keys_flooding_a_program_that_does_not_read_stay_bounded(relay_url: str) -> None:
    agent, agent_events, customer, events, _program, tasks = await paired_runtimes(relay_url)
    try:
        async with await PtyProcess.spawn(["sleep", "60"], 80, 24) as proc:
            customer.write_program = proc.write
            await customer.run_command("grant_control")
            await customer.run_command("grant_control")
            await agent_events.until(lambda: any(e["level"] == "control" for e in agent_events.of("consent")))
            chunk = "x" * 4000
            for i in range(10000):  # 8 MB of keys
                await agent.send(m.Keys(chunk))
                if i % 100 == 0:
                    await asyncio.sleep(0)
            await agent.send(m.Chat("sync"))
            await events.until(lambda: any(e["text"] == "sync" for e in events.of("chat")), timeout=60)
            assert proc._input.max_buffered < 4 * 1024 * 1024  # (1.9 MB here: the policy's cap)
            assert customer.frames_taken > 0 and customer.link.items.peak_bytes < 1024 * 1024
    finally:
        await stop(tasks, agent, customer)

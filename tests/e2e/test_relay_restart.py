"""A relay restart as the people see it: `cobrowse agent --headless` and `cobrowse join` on a
`python -m relay` process that is killed with SIGKILL mid-session and started again on the
same port and data directory. The session goes on: what was said while the relay was down
arrives, nobody is told to start a new session, and the agent learns why it was cut off."""

from __future__ import annotations

import asyncio
from pathlib import Path

from harness import Proc, pair

from tests.relay.soak import RelayProc


async def test_kill_9_of_the_relay_mid_session_is_survived_and_explained(tmp_path: Path) -> None:
    relay = RelayProc(tmp_path / "relay-data")
    relay.start()
    agent: Proc | None = None
    customer: Proc | None = None
    try:
        agent, customer, _ = await pair(relay.url)
        await agent.event("hello", role="customer")
        await agent.send({"cmd": "chat", "text": "before the restart"})
        await customer.stderr_line("before the restart")
        relay.kill9()
        reconnecting = await agent.event("connection", state="reconnecting")
        assert "resumes by itself" in reconnecting["message"], reconnecting
        await agent.send({"cmd": "chat", "text": "said while the relay was down"})
        await asyncio.to_thread(relay.start)
        resumed = await agent.event("connection", state="resumed")
        assert resumed["message"], resumed
        await customer.stderr_line("said while the relay was down")  # resent end to end, once
        await customer.send(b"\x1dc" + b"after the restart" + b"\r")
        await agent.event("chat", text="after the restart")
        causes = {e.get("cause") for e in agent.all("connection") if e.get("state") == "reconnecting"}
        assert causes <= {"network", "relay_down", "relay_restart"} and "relay_down" in causes, causes
        assert not agent.all("ended")
        await agent.send({"cmd": "end"})
        assert await customer.wait() == 0
        said = "\n".join(customer.stderr_lines)
        assert "start a new session" not in said and said.count("said while the relay was down") == 1, said
    finally:
        for proc in (agent, customer):
            if proc is not None:
                await proc.kill()
        relay.stop()

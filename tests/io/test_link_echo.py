"""A key's echo on its shortest way (issue 17): the customer sends the echo's frame from the
pty's read (``CustomerRuntime.echo_frame``), the link writes frames without websockets' send
task and hands received frames to the session from the socket's read callback (``_Connection``).

Real relay and runtimes on 127.0.0.1, a real ``cat`` on a real pty; behaviour only (each
echo arrives, one frame each, redaction still masks, the link keeps the order messages came
in), no timing asserted; every wait bounded.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve

from cobrowse.io.agent import AgentRuntime
from cobrowse.io.customer import CustomerRuntime
from cobrowse.io.link import _CONNECT_OPTIONS, Frame, PeerChanged, RelayLink, _Connection
from cobrowse.wire import envelope as env
from relay.server import RelayServer
from tests.io.runtime_pair import runtime_pair
from tests.io.test_resume import Recorder

ENV = {"PATH": "/usr/bin:/bin", "TERM": "xterm-256color"}


@dataclass
class Control:
    agent: AgentRuntime
    agent_events: Recorder
    customer: CustomerRuntime
    customer_events: Recorder

    def lines(self) -> list[str]:
        return [line for e in self.agent_events.of("screen") for line in e["lines"]]

    async def key(self, key: str, shown: str) -> None:
        """The agent types one key; its echo reaches the agent's screen (``shown`` on a line)."""
        await self.agent.command({"cmd": "keys", "data": key})
        shown = shown.rstrip()  # a screen line has no trailing blanks
        await self.agent_events.until(lambda: any(shown in line for line in self.agent_events.of("screen")[-1]["lines"]),
                                      timeout=10, what=f"the echo of {key!r} on the agent's screen")


@pytest.fixture
async def control(relay: RelayServer) -> AsyncIterator[Control]:
    async with runtime_pair(relay, ["cat"], ENV, predict=False, control_cooldown=0, prompt_arming=0) as pair:
        agent_events = pair.agent_events
        await agent_events.until(lambda: agent_events.of("paired") and agent_events.of("screen"))
        await pair.customer.run_command("grant_control")
        await pair.customer.run_command("grant_control")  # an unverified agent: the second press grants
        await agent_events.until(lambda: any(e["level"] == "control" for e in agent_events.of("consent")))
        yield Control(pair.agent, agent_events, pair.customer, pair.customer_events)


async def test_each_key_echo_reaches_the_agent_in_one_frame(control: Control) -> None:
    typed = ""
    for key in "hello-world":
        before = control.customer.frames_sent
        typed += key
        await control.key(key, typed)
        assert control.customer.frames_sent == before + 1  # its own frame, sent once
    await control.key("\r", typed)
    await control.key("!", "!")
    assert control.lines().count(typed) >= 1


async def test_echo_frames_are_redacted_like_any_frame(control: Control) -> None:
    await control.agent.command({"cmd": "redact", "patterns": [r"ACME-\d{4}"]})
    events = control.customer_events
    await events.until(lambda: any("masks 1 more" in e["message"] for e in events.of("notice")))
    for i, key in enumerate("id ACME-123"):
        await control.key(key, "id ACME-123"[: i + 1])
    await control.agent.command({"cmd": "keys", "data": "4"})
    await control.agent_events.until(lambda: any("id ░░░░░░░░░" in line for line in control.lines()), timeout=10)
    assert not any("ACME-1234" in line for line in control.lines())


async def test_the_link_keeps_the_order_binary_and_text_messages_came_in() -> None:
    """Binary messages skip websockets' queue only when nothing waits in it: a burst mixing the
    relay's text messages and frames reaches ``items`` in the order it was sent."""
    burst: list[str | bytes] = []
    for i in range(60):
        burst.append(f"frame {i}".encode())
        if i % 7 == 3:
            burst.append(env.Peer("joined").encode())
    done = asyncio.Event()

    async def server(ws: ServerConnection) -> None:
        for _ in range(3):
            for message in burst:  # written back to back: several arrive in one read
                await ws.send(message)
        await done.wait()

    async with serve(server, "127.0.0.1", 0) as relay:
        port = relay.sockets[0].getsockname()[1]
        link = RelayLink(f"ws://127.0.0.1:{port}", "agent")
        async with connect(f"ws://127.0.0.1:{port}", **_CONNECT_OPTIONS) as ws:
            assert isinstance(ws, _Connection)
            link._attach(ws, "12", "a")
            pump = asyncio.create_task(link._pump(ws))
            got: list[Any] = []
            try:
                async with asyncio.timeout(10):
                    while len(got) < 3 * len(burst):
                        got.append(await link.items.get())
            finally:
                done.set()
                pump.cancel()
    want = [Frame(m) if isinstance(m, bytes) else PeerChanged("joined") for m in burst] * 3
    assert got == want
    assert link.bytes_received == 3 * sum(len(m) for m in burst if isinstance(m, bytes))

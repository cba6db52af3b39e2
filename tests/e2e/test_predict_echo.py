"""Predictive local echo end to end: a headless agent behind a slow link sees its keys at once.

The link: bench/netlink.py's userspace shaper (60 ms each way, no loss) between the agent and
a real relay on 127.0.0.1; the customer runs bash. No timing is asserted: only the order of
the agent's events (the prediction comes before the customer's echo) and what they show.
"""

from __future__ import annotations

import asyncio
import socket
import sys
from pathlib import Path
from typing import Any

from cobrowse.trust.tripwire import COOLDOWN
from tests.e2e.harness import pair

NETLINK = Path(__file__).resolve().parents[2] / "bench" / "netlink.py"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def shown(event: dict[str, Any], row: int, col: int, text: str) -> bool:
    return [row, col, text] in (event.get("predicted") or {}).get("cells", [])


async def test_keys_are_shown_before_the_echo_and_never_into_read_s(relay_url: str) -> None:
    relay_port = int(relay_url.rsplit(":", 1)[1])
    port = free_port()
    shaper = await asyncio.create_subprocess_exec(sys.executable, str(NETLINK), "shaper", "0.06", "0", "1",
                                                  f"{port}:127.0.0.1:{relay_port}", stdout=asyncio.subprocess.PIPE)
    assert shaper.stdout is not None
    async with asyncio.timeout(10):
        assert await shaper.stdout.readline() == b"ready\n"
    agent, customer, _ = await pair(relay_url, agent_relay=f"ws://127.0.0.1:{port}")
    try:
        await customer.send(b"\x1dg")  # an unverified agent: the first press only warns
        await asyncio.sleep(COOLDOWN + 0.2)
        await customer.send(b"\x1dg")
        await agent.event("consent", level="control")
        await agent.screen(lambda lines: lines[0] == "$")
        await agent.send({"cmd": "keys", "data": "e"})  # the first key: tentative, confirmed by the echo
        await agent.screen(lambda lines: lines[0] == "$ e")
        before = len(agent.events)
        await agent.send({"cmd": "keys", "data": "c"})
        await agent.send({"cmd": "keys", "data": "h"})
        await agent.screen(lambda lines: lines[0] == "$ ech")
        later = agent.events[before:]
        first_echo = next(i for i, e in enumerate(later) if e.get("event") == "screen" and e["lines"][0].startswith("$ ec"))
        first_shown = next(i for i, e in enumerate(later) if e.get("event") == "screen" and shown(e, 0, 3, "c"))
        assert first_shown < first_echo
        assert later[first_shown]["lines"][0] == "$ e"  # the customer's screen, untouched; the guess beside it
        assert later[first_shown]["predicted"]["cursor"] == [4, 0]
        assert not agent.all("screen")[-1].get("predicted")  # confirmed: nothing left to draw

        # no "Password:" label (that alone turns prediction off): the keys after Enter are
        # tentative until the screen echoes one, and read -s never does
        await agent.send({"cmd": "keys", "data": "\x15read -s -p 'Secret? ' x\r"})
        await agent.screen(lambda lines: lines[1] == "Secret?")
        before = len(agent.events)
        for ch in "hunter2":
            await agent.send({"cmd": "keys", "data": ch})
            await asyncio.sleep(0.05)
        await agent.send({"cmd": "keys", "data": "\r"})
        await agent.screen(lambda lines: lines[1].startswith("Secret? $"))
        assert not any(e.get("predicted") for e in agent.events[before:] if e.get("event") == "screen")
    finally:
        await agent.kill()
        await customer.kill()
        shaper.kill()
        await shaper.wait()

"""Echo acks from the customer's runtime (``m.Screen.ack``, issue 17): real relay, runtimes and
a program on a pty on 127.0.0.1; no timing asserted, every wait bounded."""

from __future__ import annotations

import asyncio
import sys

from cobrowse.io.customer import ACK_SETTLE
from relay.server import RelayServer
from tests.io.runtime_pair import RuntimePair, runtime_pair

ENV = {"PATH": "/usr/bin:/bin", "TERM": "xterm-256color"}
#: Echoes printable keys and ignores a Tab: the Tab's ack can only come in a frame of its own.
ECHO_PRINTABLE = ("import os, tty\ntty.setraw(0)\nwhile True:\n    b = os.read(0, 64)\n"
                  "    out = bytes(c for c in b if 32 <= c < 127)\n    if out:\n        os.write(1, out)\n")


async def _control(pair: RuntimePair) -> None:
    events = pair.agent_events
    await events.until(lambda: events.of("paired") and events.of("screen"))
    await pair.customer.run_command("grant_control")
    await pair.customer.run_command("grant_control")
    await events.until(lambda: any(e["level"] == "control" for e in events.of("consent")))


async def test_plain_typing_sends_no_frame_for_an_ack_alone_and_a_tab_does(relay: RelayServer) -> None:
    """Keys the agent predicted ask for nothing: their echo is the only frame. A Tab (its
    effect unknown) asks, and the frame that acks it goes though the screen is still."""
    async with runtime_pair(relay, [sys.executable, "-c", ECHO_PRINTABLE], ENV,
                            control_cooldown=0, prompt_arming=0) as pair:
        await _control(pair)
        assert pair.agent.local_echo is not None
        predictor, acks = pair.agent.local_echo.predictor, pair.customer.echo_acks
        for n, key in enumerate("abc", start=1):
            await pair.agent.command({"cmd": "keys", "data": key})
            for _ in range(1000):  # its echo confirms the prediction: 10 s at most
                if predictor.pending == 0 and acks.keys_in == n:
                    break
                await asyncio.sleep(0.01)
            assert predictor.pending == 0 and acks.keys_in == n
        await asyncio.sleep(4 * ACK_SETTLE)
        assert acks.wanted == 0 and acks.alone_sent == 0
        assert pair.customer.screen.state().lines()[0].startswith("abc")
        await pair.agent.command({"cmd": "keys", "data": "\t"})
        for _ in range(1000):  # nothing changes on screen: only a frame for the ack says it
            if predictor.acked == 4:
                break
            await asyncio.sleep(0.01)
        assert predictor.acked == 4 and acks.wanted == 4 and acks.alone_sent == 1
        await asyncio.sleep(4 * ACK_SETTLE)
        assert acks.alone_sent == 1  # one per keys message that asked

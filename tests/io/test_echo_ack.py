"""Echo acks from the customer's runtime (``m.Screen.ack``, issue 17): real relay, runtimes and
``cat`` on a pty on 127.0.0.1; no timing asserted, every wait bounded."""

from __future__ import annotations

import asyncio

from cobrowse.io.customer import ACK_SETTLE
from relay.server import RelayServer
from tests.io.runtime_pair import runtime_pair

ENV = {"PATH": "/usr/bin:/bin", "TERM": "xterm-256color"}


async def test_the_agent_learns_which_keys_the_screen_shows_even_when_nothing_more_changes(relay: RelayServer) -> None:
    """Each key's echo leaves at once (no ack: it came within ACK_SETTLE); a frame for the ack
    alone follows, so the agent's ack reaches every key it sent though the screen is still."""
    async with runtime_pair(relay, ["cat"], ENV, control_cooldown=0, prompt_arming=0) as pair:
        events = pair.agent_events
        await events.until(lambda: events.of("paired") and events.of("screen"))
        await pair.customer.run_command("grant_control")
        await pair.customer.run_command("grant_control")
        await events.until(lambda: any(e["level"] == "control" for e in events.of("consent")))
        assert pair.agent.local_echo is not None
        predictor = pair.agent.local_echo.predictor
        for n, key in enumerate("abc\t", start=1):
            await pair.agent.command({"cmd": "keys", "data": key})
            for _ in range(1000):  # an ack alone emits no event (nothing changed on screen): polled, 10 s at most
                if predictor.acked == n:
                    break
                await asyncio.sleep(0.01)
            assert predictor.acked == n, f"no ack of key {n}"
            await asyncio.sleep(ACK_SETTLE)
            assert predictor.acked == n  # never ahead of what was sent
        assert pair.customer.screen.state().lines()[0].startswith("abc")
        screens = len(events.of("screen"))
        await asyncio.sleep(0.2)
        assert len(events.of("screen")) == screens  # the acks alone showed the agent nothing new

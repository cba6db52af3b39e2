"""A relay stopped without a session store (``--session-store off``) loses its sessions: both
sides end with status 1 ("session failed"), not 0 as after a person's end (docs/headless.md,
"Exit status"), and say so in the same words."""

from __future__ import annotations

import asyncio
from pathlib import Path

from harness import Proc, pair

from cobrowse.io.outcome import EXIT_FAILED
from tests.relay.soak import RelayProc


async def test_a_relay_stopped_without_a_store_fails_the_session_on_both_sides(tmp_path: Path) -> None:
    relay = RelayProc(tmp_path / "relay-data", "--session-store", "off")
    relay.start()
    agent: Proc | None = None
    customer: Proc | None = None
    try:
        agent, customer, _ = await pair(relay.url)
        await agent.event("hello", role="customer")
        await asyncio.to_thread(relay.terminate)
        ended = await agent.event("ended")
        assert ended["reason"] == "shutdown" and "the relay was stopped" in ended["message"], ended
        assert await agent.wait() == EXIT_FAILED
        assert await customer.wait() == EXIT_FAILED
        assert any("the relay was stopped" in line for line in customer.stderr_lines), customer.stderr_lines
    finally:
        for proc in (agent, customer):
            if proc is not None:
                await proc.kill()
        relay.stop()

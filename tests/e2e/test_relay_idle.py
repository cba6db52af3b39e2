"""A session the relay ends for idling (``--idle-timeout``) is lost like an expired one: both
sides end with status 1 ("session failed"), not 0 as after a person's end (docs/headless.md,
"Exit status"): a script must not take it for a normal end."""

from __future__ import annotations

from pathlib import Path

from harness import Proc, pair

from cobrowse.io.outcome import EXIT_FAILED
from tests.relay.soak import RelayProc


async def test_a_session_ended_for_idling_fails_on_both_sides(tmp_path: Path) -> None:
    relay = RelayProc(tmp_path / "relay-data", "--idle-timeout", "1")
    relay.start()
    agent: Proc | None = None
    customer: Proc | None = None
    try:
        agent, customer, _ = await pair(relay.url)
        ended = await agent.event("ended")
        assert ended["reason"] == "idle" and "idle longer than the relay allows" in ended["message"], ended
        assert await agent.wait() == EXIT_FAILED
        assert await customer.wait() == EXIT_FAILED
    finally:
        for proc in (agent, customer):
            if proc is not None:
                await proc.kill()
        relay.stop()

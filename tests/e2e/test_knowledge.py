"""The knowledge base in a live session: suggest_playbooks ranks the library against what the
customer's real shell shows and what was said; a playbook pushed by name. Real processes,
a real relay on 127.0.0.1, a real bash in a pty."""

from __future__ import annotations

from typing import Any

from tests.e2e.harness import Proc, pair


async def ask(agent: Proc, cmd: dict[str, Any], kind: str = "playbooks") -> dict[str, Any]:
    """Send ``cmd`` and return the next ``kind`` event it answers with."""
    before = len(agent.all(kind))
    await agent.send(cmd)
    await agent.until(lambda: len(agent.all(kind)) > before, f"the {kind} answer", 10)
    return agent.all(kind)[before]


async def test_suggest_playbooks_reads_the_customer_screen_and_chat(relay_url: str) -> None:
    agent, customer, _ = await pair(relay_url)
    try:
        first = await ask(agent, {"cmd": "suggest_playbooks"})
        assert isinstance(first["matches"], list)  # a bare prompt: little or nothing to go on
        # the customer's shell prints a real error: bash running a file without the execute bit
        await customer.send(b"cd \"$(mktemp -d)\" && touch backup.sh && ./backup.sh\r")
        await agent.screen(lambda lines: any("Permission denied" in line for line in lines))
        found = await ask(agent, {"cmd": "suggest_playbooks", "limit": 3})
        names = [m["name"] for m in found["matches"]]
        assert names[0] == "fix-permission-denied", found
        assert len(names) <= 3 and set(found["matches"][0]) == {"name", "title", "score"}
        assert 0 < found["matches"][0]["score"] < 1
        # what the agent and the customer said counts too
        await agent.send({"cmd": "chat", "text": "and docker says: Cannot connect to the Docker daemon"})
        found = await ask(agent, {"cmd": "suggest_playbooks", "limit": 5})
        assert "docker-daemon" in [m["name"] for m in found["matches"]], found
        error = await ask(agent, {"cmd": "suggest_playbooks", "limit": 0}, "error")
        assert error["cmd"] == "suggest_playbooks" and "limit" in error["message"]
        # push the best match by name
        await agent.send({"cmd": "playbook", "name": "fix-permission-denied"})
        steps = await agent.event("steps")
        assert steps["title"] == 'Fix "Permission denied" on a file or a script'
        miss = await ask(agent, {"cmd": "playbook", "name": "no-such-playbook"}, "error")
        assert "no playbook called 'no-such-playbook'" in miss["message"]
    finally:
        await agent.kill()
        await customer.kill()

"""A session the relay's admin ends (``cobrowse relay kill ID``) is no normal end: both sides
exit 1 ("session failed", as after the relay's idle timeout: docs/headless.md, "Exit status"),
their ``ended`` event carries ``reason: "killed"``, and each is told that the relay's admin (not
the other side) ended it and what to do next. Before the fix both exited 0, as after a person's end."""

from __future__ import annotations

import asyncio
import hashlib
import os
import subprocess
import sys
from pathlib import Path

from harness import Proc, pair

from cobrowse.io.outcome import EXIT_FAILED
from tests.relay.soak import ROOT, RelayProc

ADMIN = "fix10a-admin-token-0123456789"


def _relay_cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COBROWSE_")}
    env["COBROWSE_ADMIN_TOKEN"] = ADMIN
    return subprocess.run([sys.executable, "-m", "cobrowse", "relay", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=30)


async def test_an_admins_kill_fails_on_both_sides_and_says_who_ended_it(tmp_path: Path) -> None:
    config = tmp_path / "relay.toml"
    config.write_text(f'[relay]\nadmin_tokens = ["{hashlib.sha256(ADMIN.encode()).hexdigest()}"]\n')
    relay = RelayProc(tmp_path / "relay-data", "--config", str(config))
    relay.start()
    agent: Proc | None = None
    customer: Proc | None = None
    try:
        agent, customer, _ = await pair(relay.url)
        base = f"http://127.0.0.1:{relay.port}"
        listed = await asyncio.to_thread(_relay_cli, "sessions", "--url", base)
        assert listed.returncode == 0, listed.stderr
        session_id = listed.stdout.splitlines()[1].split()[0]
        killed = await asyncio.to_thread(_relay_cli, "kill", session_id, "--url", base)
        assert killed.returncode == 0, killed.stderr

        ended = await agent.event("ended")
        assert ended["reason"] == "killed", ended
        assert "relay's administrator" in ended["message"] and "new session" in ended["message"], ended
        assert "customer ended" not in ended["message"], ended
        line = await customer.stderr_line("session ended")
        assert "relay's administrator" in line and "ask" in line and "new code" in line, line
        assert await agent.wait() == EXIT_FAILED
        assert await customer.wait() == EXIT_FAILED
    finally:
        for proc in (agent, customer):
            if proc is not None:
                await proc.kill()
        relay.stop()

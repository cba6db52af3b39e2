"""An admin revokes an agent's token: the agent's next start is refused with words that
fit a token that was given (revoked, mistyped), not only a missing one. Real `cobrowse
relay` and `cobrowse agent --headless` processes on loopback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.relay.test_ops_process import ROOT, Relay, cli, env_for, relays  # noqa: F401  (fixture)

T = 20.0


def agent(tmp: Path, url: str, token: str) -> subprocess.CompletedProcess[str]:
    env = env_for(tmp, COBROWSE_DATA_DIR=str(tmp / "agent"), XDG_CONFIG_HOME=str(tmp / "cfg"))
    env.pop("COBROWSE_TOKEN", None)
    return subprocess.run(
        [sys.executable, "-m", "cobrowse", "agent", "--headless", "--relay", url, "--token", token],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=T, stdin=subprocess.DEVNULL,
    )


def test_a_revoked_agent_is_told_its_token_was_refused(tmp_path: Path, relays) -> None:  # type: ignore[no-untyped-def]
    store = tmp_path / "tokens.json"
    made = cli(tmp_path, "token", "create", "--name", "alice", "--store", str(store))
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    assert cli(tmp_path, "token", "create", "--name", "bob", "--store", str(store)).returncode == 0
    assert cli(tmp_path, "token", "revoke", "alice", "--store", str(store)).returncode == 0
    relay = Relay(tmp_path, "--token-store", str(store), "--session-store", "off")  # bob's token still counts
    relays.append(relay)
    refused = agent(tmp_path, relay.url, token)
    assert refused.returncode == 4, refused.stderr
    event = json.loads(refused.stdout.splitlines()[0])
    assert event["event"] == "error"
    for said in (event["message"], refused.stderr):
        assert "revoked" in said and "admin" in said and "--token" in said

"""An admin revokes an agent's token: the agent's next start is refused with words that
fit a token that was given (revoked, mistyped), not only a missing one. Real `cobrowse
relay` and `cobrowse agent --headless` processes on loopback."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from tests.relay.test_ops_process import ROOT, Relay, cli, env_for, relays  # noqa: F401  (fixture)

T = 20.0


def agent(tmp: Path, url: str, token: str, timeout: float = T) -> subprocess.CompletedProcess[str]:
    env = env_for(tmp, COBROWSE_DATA_DIR=str(tmp / "agent"), XDG_CONFIG_HOME=str(tmp / "cfg"))
    env.pop("COBROWSE_TOKEN", None)
    return subprocess.run(
        [sys.executable, "-m", "cobrowse", "agent", "--headless", "--relay", url, "--token", token],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL,
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


def test_the_relay_log_tells_a_revoked_token_from_a_mistyped_or_missing_one(tmp_path: Path, relays) -> None:  # type: ignore[no-untyped-def]
    """An admin reading the log after "my agent cannot connect" sees which: revoked (by
    name), unknown (mistyped or another relay's), missing. The token itself is never logged."""
    store = tmp_path / "tokens.json"
    alice = cli(tmp_path, "token", "create", "--name", "alice", "--store", str(store)).stdout.strip()
    assert cli(tmp_path, "token", "create", "--name", "bob", "--store", str(store)).returncode == 0
    assert cli(tmp_path, "token", "revoke", "alice", "--store", str(store)).returncode == 0
    relay = Relay(tmp_path, "--token-store", str(store), "--session-store", "off")
    relays.append(relay)
    mistyped = alice[:-3] + ("xyz" if not alice.endswith("xyz") else "abc")
    assert agent(tmp_path, relay.url, alice).returncode == 4
    assert agent(tmp_path, relay.url, mistyped).returncode == 4
    _, log = relay.stop()
    refusals = [line for line in log.splitlines() if "refused: unauthorized" in line]
    assert len(refusals) == 2, log
    assert "revoked" in refusals[0] and "alice" in refusals[0], refusals[0]
    assert "unknown" in refusals[1] and "mistyped" in refusals[1] and "revoked" not in refusals[1], refusals[1]
    for token in (alice, mistyped):
        assert token not in log and token[4:20] not in log


def test_a_token_revoked_while_the_relay_runs_is_named_revoked_in_its_log(tmp_path: Path, relays) -> None:  # type: ignore[no-untyped-def]
    store = tmp_path / "tokens.json"
    alice = cli(tmp_path, "token", "create", "--name", "alice", "--store", str(store)).stdout.strip()
    assert cli(tmp_path, "token", "create", "--name", "bob", "--store", str(store)).returncode == 0
    relay = Relay(tmp_path, "--token-store", str(store), "--session-store", "off", "--log-format", "json")
    relays.append(relay)
    assert cli(tmp_path, "token", "revoke", "alice", "--store", str(store)).returncode == 0
    time.sleep(1.5)  # the relay re-reads a changed store within a second; an earlier start is retried
    for _ in range(5):
        try:
            refused = agent(tmp_path, relay.url, alice, timeout=4.0)
        except subprocess.TimeoutExpired:  # accepted still (and waiting for a customer): the reload is late
            continue
        break
    assert refused.returncode == 4, refused.stderr
    _, log = relay.stop()
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    refusals = [obj for obj in lines if obj.get("event") == "refused" and obj.get("code") == "unauthorized"]
    assert refusals, log
    assert refusals[-1]["token_state"] == "revoked" and refusals[-1]["agent_token"] == "alice"
    assert alice not in log

"""Operating one node as an admin does: `cobrowse relay` processes, their signals, the token
and admin commands, JSON logs. Loopback only, every wait bounded."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from cobrowse.wire.envelope import Claim, Open
from tests.relay.listening import wait_until_listening

ROOT = Path(__file__).resolve().parents[2]
T = 10.0
ADMIN = "cba_process-admin"
CLI = [sys.executable, "-c", "import sys; from cobrowse.cli.main import main; sys.exit(main())", "relay"]


def env_for(tmp: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COBROWSE_RELAY", "COBROWSE_ADMIN"))}
    env["XDG_DATA_HOME"] = str(tmp / "data")  # never the user's own token store
    env.update(extra)
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cli(tmp: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], cwd=ROOT, env=env_for(tmp, **env), capture_output=True, text=True, timeout=T)


class Relay:
    def __init__(self, tmp: Path, *args: str, **env: str) -> None:
        self.port = free_port()
        self.proc = subprocess.Popen(
            [*CLI, "--host", "127.0.0.1", "--port", str(self.port), *args],
            cwd=ROOT, env=env_for(tmp, **env), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        self.lines: list[str] = []
        wait_until_listening(self.proc, self.lines, T)
        self.url = f"ws://127.0.0.1:{self.port}"

    def stop(self, sig: int | None = signal.SIGTERM) -> tuple[int, str]:
        """Send ``sig`` (None: it was sent already) and wait for the exit."""
        if sig is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            _, err = self.proc.communicate(timeout=T)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
        return self.proc.returncode, "".join(self.lines) + err


@pytest.fixture
def relays():
    started: list[Relay] = []
    yield started
    for r in started:
        if r.proc.poll() is None:
            r.proc.kill()
            r.proc.communicate(timeout=T)


async def recv(ws: ClientConnection) -> dict[str, Any]:
    data = await asyncio.wait_for(ws.recv(), T)
    assert isinstance(data, str)
    return json.loads(data)


async def pair(url: str, token: str | None = None) -> tuple[ClientConnection, ClientConnection]:
    agent = await asyncio.wait_for(connect(url, open_timeout=T), T)
    await agent.send(Open("agent", 1, token=token).encode())
    opened = await recv(agent)
    assert opened["type"] == "opened", opened
    customer = await asyncio.wait_for(connect(url, open_timeout=T), T)
    await customer.send(Claim("customer", 1, opened["nameplate"]).encode())
    assert (await recv(customer))["type"] == "claimed"
    await recv(customer)
    await recv(agent)
    return agent, customer


async def close_code(ws: ClientConnection) -> int | None:
    try:
        while True:
            await asyncio.wait_for(ws.recv(), T)
    except ConnectionClosed as exc:
        return exc.rcvd.code if exc.rcvd else None


# ---- token commands ----


def test_token_create_list_revoke_in_the_default_data_dir(tmp_path: Path) -> None:
    made = cli(tmp_path, "token", "create", "--name", "alice")
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    assert made.stdout.count("\n") == 1 and token.startswith("cbt_") and len(token) > 40
    assert "COBROWSE_TOKEN" in made.stderr and token not in made.stderr
    store = tmp_path / "data" / "cobrowse" / "relay-tokens.json"
    assert stat.S_IMODE(store.stat().st_mode) == 0o600
    text = store.read_text()
    assert token not in text and hashlib.sha256(token.encode()).hexdigest() in text
    assert cli(tmp_path, "token", "create", "--name", "bob").returncode == 0
    dup = cli(tmp_path, "token", "create", "--name", "alice")
    assert dup.returncode == 2 and "already exists" in dup.stderr
    listed = cli(tmp_path, "token", "list")
    assert listed.returncode == 0 and listed.stdout.splitlines()[0].split() == ["NAME", "CREATED"]
    assert [line.split()[0] for line in listed.stdout.splitlines()[1:]] == ["alice", "bob"]
    assert token not in listed.stdout
    as_json = json.loads(cli(tmp_path, "token", "list", "--json").stdout)
    assert [t["name"] for t in as_json] == ["alice", "bob"] and all(t["created"].endswith("Z") for t in as_json)
    assert cli(tmp_path, "token", "revoke", "alice").returncode == 0
    assert [t["name"] for t in json.loads(cli(tmp_path, "token", "list", "--json").stdout)] == ["bob"]
    gone = cli(tmp_path, "token", "revoke", "alice")
    assert gone.returncode == 2 and "no token named 'alice'" in gone.stderr
    bad = cli(tmp_path, "token", "create", "--name", "no spaces please")
    assert bad.returncode == 2 and "invalid token name" in bad.stderr


def test_token_store_from_flag_and_config(tmp_path: Path) -> None:
    explicit = tmp_path / "explicit.json"
    assert cli(tmp_path, "token", "create", "--name", "a", "--store", str(explicit)).returncode == 0
    assert explicit.exists()
    cfg = tmp_path / "relay.toml"
    configured = tmp_path / "configured.json"
    cfg.write_text(f'[relay]\ntoken_store = "{configured}"\n')
    assert cli(tmp_path, "--config", str(cfg), "token", "create", "--name", "b").returncode == 0
    assert cli(tmp_path, "token", "create", "--name", "c", "--config", str(cfg)).returncode == 0
    names = [t["name"] for t in json.loads(cli(tmp_path, "token", "list", "--json", "--config", str(cfg)).stdout)]
    assert names == ["b", "c"]


def test_admin_token_create_prints_the_token_and_its_digest(tmp_path: Path) -> None:
    made = cli(tmp_path, "admin-token", "create")
    token = made.stdout.strip()
    assert made.returncode == 0 and token.startswith("cba_")
    assert hashlib.sha256(token.encode()).hexdigest() in made.stderr and token not in made.stderr


# ---- the relay process ----


def test_tokens_reload_on_sighup_and_json_logs_carry_no_content(tmp_path: Path, relays: list[Relay]) -> None:
    relay = Relay(tmp_path, "--log-format", "json", COBROWSE_RELAY_TICK_INTERVAL="30")  # no polling: only SIGHUP
    relays.append(relay)
    canary = b"CANARY-" + os.urandom(6).hex().encode()

    async def scenario() -> str:
        agent, customer = await pair(relay.url)  # no tokens yet
        await agent.send(canary)
        assert await asyncio.wait_for(customer.recv(), T) == canary
        made = await asyncio.to_thread(cli, tmp_path, "token", "create", "--name", "alice")
        token = made.stdout.strip()
        await pair(relay.url)  # not reloaded yet
        relay.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + T
        while True:
            ws = await asyncio.wait_for(connect(relay.url, open_timeout=T), T)
            await ws.send(Open("agent", 1).encode())
            answer = await recv(ws)
            await ws.close()
            if answer.get("code") == "unauthorized":
                break
            assert time.monotonic() < deadline, "SIGHUP did not reload the token store"
            await asyncio.sleep(0.05)
        a2, c2 = await pair(relay.url, token)
        # SIGTERM (systemd stopping or restarting it): every socket closes "service restart"
        # and the sessions stay in the session store for the next start; exit 0
        relay.proc.send_signal(signal.SIGTERM)
        for ws in (agent, customer, a2, c2):
            assert await close_code(ws) == 1012
        return token

    t0 = time.monotonic()
    token = asyncio.run(scenario())
    code, err = relay.stop(None)
    assert code == 0 and time.monotonic() - t0 < 3 * T
    records = [json.loads(line) for line in err.splitlines() if line.strip()]  # every line is JSON
    assert all({"ts", "level", "msg"} <= set(r) for r in records)
    events = [r for r in records if r.get("event") in ("created", "paired", "ended")]
    assert events and all(r["session"] for r in events)
    assert any(r.get("event") == "paired" and r.get("agent_token") == "alice" for r in records)
    assert not any(r.get("event") == "ended" and r.get("reason") == "shutdown" for r in records)
    assert any(r.get("event") == "kept" and r.get("count") == 3 for r in records)
    assert any(r.get("event") == "refused" and r.get("code") == "unauthorized" for r in records)
    assert canary.decode() not in err and token not in err


def test_sessions_and_kill_commands(tmp_path: Path, relays: list[Relay]) -> None:
    digest = hashlib.sha256(ADMIN.encode()).hexdigest()
    relay = Relay(tmp_path, COBROWSE_RELAY_ADMIN_TOKENS=digest)
    relays.append(relay)
    url = f"http://127.0.0.1:{relay.port}"

    async def scenario() -> None:
        agent, customer = await pair(relay.url)
        await agent.send(b"z" * 2048)
        await asyncio.wait_for(customer.recv(), T)
        table = await asyncio.to_thread(cli, tmp_path, "sessions", "--url", url, COBROWSE_ADMIN_TOKEN=ADMIN)
        assert table.returncode == 0, table.stderr
        header, row = table.stdout.splitlines()
        assert header.split() == ["ID", "STATE", "AGE", "AGENT", "CUSTOMER", "BYTES", "TOKEN"]
        session_id = row.split()[0]
        assert row.split()[1:2] == ["paired"] and "connected" in row and "2.0 KiB" in row
        as_json = await asyncio.to_thread(
            cli, tmp_path, "sessions", "--json", "--url", relay.url, "--admin-token", ADMIN
        )
        assert json.loads(as_json.stdout)["sessions"][0]["id"] == session_id
        wrong = await asyncio.to_thread(cli, tmp_path, "sessions", "--url", url, "--admin-token", "nope")
        assert wrong.returncode == 1 and "refused the admin token" in wrong.stderr
        missing = await asyncio.to_thread(cli, tmp_path, "kill", "abc", "--url", url)
        assert missing.returncode == 2 and "COBROWSE_ADMIN_TOKEN" in missing.stderr
        unknown = await asyncio.to_thread(cli, tmp_path, "kill", "abc", "--url", url, COBROWSE_ADMIN_TOKEN=ADMIN)
        assert unknown.returncode == 1 and "no live session" in unknown.stderr
        killed = await asyncio.to_thread(cli, tmp_path, "kill", session_id, "--url", url, COBROWSE_ADMIN_TOKEN=ADMIN)
        assert killed.returncode == 0, killed.stderr
        for ws in (agent, customer):
            closed = await recv(ws)
            assert closed["type"] == "closed" and closed["reason"] == "killed"
        empty = await asyncio.to_thread(cli, tmp_path, "sessions", "--url", url, COBROWSE_ADMIN_TOKEN=ADMIN)
        assert empty.stdout == "no live sessions\n"

    asyncio.run(scenario())
    assert relay.stop()[0] == 0
    down = cli(tmp_path, "sessions", "--url", url, COBROWSE_ADMIN_TOKEN=ADMIN)
    assert down.returncode == 3 and "cannot reach the relay" in down.stderr


def test_bad_new_settings_exit_2_with_one_line(tmp_path: Path) -> None:
    for args in (["--log-format", "xml"], ["--tls-cert", str(tmp_path / "c.pem")],
                 ["--max-bytes-per-s", "-5"], ["--trust-proxy", "perhaps"]):
        proc = subprocess.run([*CLI, "--port", "0", *args], cwd=ROOT, env=env_for(tmp_path),
                              capture_output=True, text=True, timeout=T)
        lines = proc.stderr.strip().splitlines()
        assert proc.returncode == 2 and len(lines) == 1, (args, proc.stderr)
    proc = subprocess.run(
        [*CLI, "--port", "0", "--tls-cert", str(tmp_path / "c.pem"), "--tls-key", str(tmp_path / "k.pem")],
        cwd=ROOT, env=env_for(tmp_path), capture_output=True, text=True, timeout=T,
    )
    assert proc.returncode == 2 and "cannot read the TLS certificate" in proc.stderr and "c.pem" in proc.stderr

"""Verified agents through real processes: `cobrowse org`, `agent --credential`, `join --org`,
the control tripwire and the report key, against a real relay on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import os
import stat
import subprocess
import time
from pathlib import Path

import pytest
from harness import CLI, Proc, start_agent, start_customer
from tests.waiting import until

from relay.config import RelayConfig
from relay.server import serve_relay
from cobrowse.trust.tripwire import COOLDOWN
from cobrowse.protocol.prompts import ARMING


def org(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COBROWSE_CONFIG": os.devnull, "COBROWSE_ORG_DIR": str(tmp / "org")}
    return subprocess.run([*CLI, "org", *args], capture_output=True, text=True, timeout=30, env=env)


@pytest.fixture
def acme(tmp_path: Path) -> dict[str, Path]:
    """An organisation with one agent, Alice, and its published trust file."""
    assert org(tmp_path, "init", "--name", "Acme").returncode == 0
    alice = tmp_path / "alice.json"
    issued = org(tmp_path, "issue-agent", "Alice", "--days", "5", "--out", str(alice))
    assert issued.returncode == 0, issued.stderr
    trust = tmp_path / "acme.trust.json"
    assert org(tmp_path, "publish", "--out", str(trust)).returncode == 0
    return {"dir": tmp_path, "alice": alice, "trust": trust}


def test_org_commands_keep_secrets_private_and_explain_themselves(acme: dict[str, Path]) -> None:
    tmp = acme["dir"]
    key = tmp / "org" / "org-key.json"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(acme["alice"].stat().st_mode) == 0o600
    trust = json.loads(acme["trust"].read_text())
    assert trust["org"] == "Acme" and trust["revoked"] == []
    assert json.loads(key.read_text())["private_key"] not in acme["trust"].read_text()
    cred_id = json.loads(acme["alice"].read_text())["credential"]["id"]
    listing = org(tmp, "list")
    assert cred_id in listing.stdout and "Alice" in listing.stdout and "valid" in listing.stdout
    again = org(tmp, "init", "--name", "Other")
    assert again.returncode == 2 and "already exists" in again.stderr and "--force" in again.stderr
    unknown = org(tmp, "revoke", "nope")
    assert unknown.returncode == 2 and cred_id in unknown.stderr
    revoked = org(tmp, "revoke", cred_id)
    assert revoked.returncode == 0 and "publish" in revoked.stderr
    printed = org(tmp, "publish")
    assert json.loads(printed.stdout)["revoked"] == [cred_id]
    nothing = org(tmp / "elsewhere", "issue-agent", "Bob")
    assert nothing.returncode == 2 and "cobrowse org init --name NAME" in nothing.stderr
    for args in (["org"], ["org", "init"], ["org", "issue-agent"], ["org", "revoke"], ["org", "publish"]):
        out = subprocess.run([*CLI, *args, "--help"], capture_output=True, text=True, timeout=30)
        assert out.returncode == 0 and "usage: cobrowse org" in out.stdout


async def test_bad_trust_or_credential_files_fail_before_connecting(tmp_path: Path, relay_url: str) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "something"}')
    customer = await Proc.start("join", "1-2345-6789", "--relay", relay_url, "--org", str(bad), name="customer")
    agent = await Proc.start("agent", "--headless", "--relay", relay_url, "--credential", str(bad), name="agent")
    try:
        assert await customer.wait() == 2
        assert await agent.wait() == 2
        assert any("not a cobrowse-org-trust/1 file" in line for line in customer.stderr_lines)
        assert any("issue one with `cobrowse org issue-agent" in line for line in agent.stderr_lines)
    finally:
        await customer.kill()
        await agent.kill()


async def test_a_bad_credential_fails_before_an_embedded_relay_starts(tmp_path: Path) -> None:
    """No relay configured: the agent would start one in its process; a bad credential is said
    first and nothing listens (docs/trust.md: a bad file fails before any network)."""
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "something"}')
    agent = await Proc.start("agent", "--headless", "--credential", str(bad), name="agent")  # the default relay
    try:
        assert await agent.wait() == 2
        assert any("issue one with `cobrowse org issue-agent" in line for line in agent.stderr_lines)
        assert not any("embedded relay" in line for line in agent.stderr_lines + [str(e) for e in agent.events])
    finally:
        await agent.kill()


async def test_a_verified_agent_gets_control_with_one_press(acme: dict[str, Path], relay_url: str) -> None:
    agent = await start_agent(relay_url, "--credential", str(acme["alice"]))  # the name comes from the credential
    code = (await agent.event("code"))["code"]
    assert (await agent.event("warning"))["kind"] == "credential"  # issued for 5 days: renew soon
    customer = await start_customer(relay_url, code, "--org", str(acme["trust"]))
    try:
        await customer.stderr_line("Verified: Alice from Acme")
        await customer.stderr_line("visible to Alice")
        seen = await agent.event("identity")
        assert seen["status"] == "verified" and seen["org"] == "Acme"
        await agent.send({"cmd": "request_control", "level": "control"})
        await customer.stderr_line("asks to CONTROL")
        await asyncio.sleep(ARMING + 0.1)  # a new prompt ignores keys for ARMING s
        await customer.send(b"\x1dy")
        await agent.event("consent", level="control")
    finally:
        await agent.kill()
        await customer.kill()


async def test_an_unverified_agent_trips_the_wire_and_can_be_reported(acme: dict[str, Path], tmp_path: Path) -> None:
    audit = tmp_path / "audit.jsonl"
    server = await serve_relay(RelayConfig(host="127.0.0.1", port=0, audit_log=str(audit)))
    url = f"ws://127.0.0.1:{server.port}"
    agent = await start_agent(url, "--name", "Microsoft Support")  # no credential
    code = (await agent.event("code"))["code"]
    customer = await start_customer(url, code, "--org", str(acme["trust"]))
    try:
        warning = await customer.stderr_line("UNVERIFIED AGENT")
        assert 'calls themself "Microsoft Support"' in warning
        assert (await agent.event("identity"))["status"] == "none"
        await agent.send({"cmd": "request_control", "level": "control"})
        await customer.stderr_line("NOT VERIFIED")
        await asyncio.sleep(ARMING + 0.1)  # a new prompt ignores keys for ARMING s
        await customer.send(b"\x1dy")
        await customer.stderr_line("WAIT: this agent is NOT verified")
        first = time.monotonic()
        await customer.send(b"\x1dy")
        await customer.stderr_line("not yet: wait")
        await asyncio.sleep(COOLDOWN - (time.monotonic() - first) + 0.2)
        await customer.send(b"\x1dy")
        await agent.event("consent", level="control")
        await customer.send(b"\x1df")
        line = await customer.stderr_line("to the relay's operator")
        assert "nothing you shared" in line
        await until(lambda: '"reported"' in audit.read_text(), "the report in the customer's receipt", 10)
        record = next(json.loads(r) for r in audit.read_text().splitlines() if '"reported"' in r)
        assert record["nameplate"] == code.split("-")[0] and record["by"] == "customer"
    finally:
        await agent.kill()
        await customer.kill()
        server.close()
        await server.wait_closed()


async def test_a_revoked_agent_is_refused(acme: dict[str, Path], relay_url: str) -> None:
    cred_id = json.loads(acme["alice"].read_text())["credential"]["id"]
    assert org(acme["dir"], "revoke", cred_id).returncode == 0
    assert org(acme["dir"], "publish", "--out", str(acme["trust"])).returncode == 0
    agent = await start_agent(relay_url, "--credential", str(acme["alice"]))
    code = (await agent.event("code"))["code"]
    customer = await start_customer(relay_url, code, "--org", str(acme["trust"]))
    try:
        line = await customer.stderr_line("UNVERIFIED AGENT")
        assert "Acme revoked this credential" in line
        assert (await agent.event("identity"))["status"] == "revoked"
    finally:
        await agent.kill()
        await customer.kill()

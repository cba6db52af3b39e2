"""Verified identity through a malicious, recording relay (tests/e2e/adversary.py), real processes:
the relay never learns who the agent is or which organisation vouches for them, and a report
tells it the session and nothing else."""

from __future__ import annotations

import base64
import json
import os
import subprocess
from pathlib import Path

from adversary import Adversary
from harness import CLI, start_agent, start_customer
from test_adversarial import inflations


def org(tmp: Path, *args: str) -> None:
    env = {**os.environ, "COBROWSE_CONFIG": os.devnull, "COBROWSE_ORG_DIR": str(tmp / "org")}
    done = subprocess.run([*CLI, "org", *args], capture_output=True, text=True, timeout=30, env=env)
    assert done.returncode == 0, done.stderr


async def test_the_relay_learns_nothing_of_the_identity_and_only_the_report(relay_url: str, tmp_path: Path) -> None:
    org_name, agent_name = "OrgCanary-5d1e", "AgentCanary-a77b"
    org(tmp_path, "init", "--name", org_name)
    credential, trust = tmp_path / "agent.json", tmp_path / "trust.json"
    org(tmp_path, "issue-agent", agent_name, "--out", str(credential))
    org(tmp_path, "publish", "--out", str(trust))
    cred = json.loads(credential.read_text())["credential"]
    async with Adversary(relay_url) as adv:
        agent = await start_agent(adv.url, "--credential", str(credential), "--name", agent_name)
        code = (await agent.event("code"))["code"]
        customer = await start_customer(adv.url, code, "--org", str(trust), command="sleep 600")
        try:
            await customer.stderr_line(f"Verified: {agent_name} from {org_name}")
            assert (await agent.event("identity"))["verified"]
            await customer.send(b"\x1df")
            await customer.stderr_line("to the relay's operator")
            await agent.send({"cmd": "end"})
            assert await agent.wait() == 0
        finally:
            await agent.kill()
            await customer.kill()
        needles = [org_name, agent_name, cred["id"], cred["agent_key"], cred["signature"],
                   base64.b64decode(cred["agent_key"]).hex()]
        raw = adv.raw()
        assert len(adv.binary_frames()) > 5
        for needle in needles:
            assert needle.encode() not in raw, f"{needle!r} crossed the relay in clear"
            for frame in adv.binary_frames():
                assert all(needle.encode() not in inflated for inflated in inflations(frame)), needle
        reports = [t for t in adv.text_frames() if '"report"' in t]
        assert reports == ['{"type":"report"}'], "the report carries nothing but its type"

"""The help queue with real processes on 127.0.0.1 (docs/helpdesk.md, "The queue"):
`cobrowse help` customers, `cobrowse agent --headless --queue` agents, a real relay, and a
malicious relay in front of it. Only a verified agent of the organisation ever pairs."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from harness import CLI, Proc
from queue_adversary import QueueAdversary

from cobrowse.queue.link import PickedAgentLink, QueueWatcher
from cobrowse.queue.sessions import join_picked
from cobrowse.trust.credential import AgentIdentity, OrgKey, OrgTrust
from tests.helpqueue.test_queue_pairing import Side
from tests.waiting import until

BASH = "bash --norc --noprofile"


def org(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COBROWSE_CONFIG": os.devnull, "COBROWSE_ORG_DIR": str(tmp / "org")}
    return subprocess.run([*CLI, "org", *args], capture_output=True, text=True, timeout=30, env=env)


@pytest.fixture
def acme(tmp_path: Path) -> dict[str, Path]:
    """Acme with three agents (Mallory's credential revoked) and its published trust file."""
    assert org(tmp_path, "init", "--name", "Acme").returncode == 0
    files = {"dir": tmp_path}
    for name in ("Alice", "Bob", "Mallory"):
        files[name.lower()] = tmp_path / f"{name.lower()}.json"
        issued = org(tmp_path, "issue-agent", name, "--days", "5", "--out", str(files[name.lower()]))
        assert issued.returncode == 0, issued.stderr
    mallory = json.loads(files["mallory"].read_text())["credential"]["id"]
    assert org(tmp_path, "revoke", mallory).returncode == 0
    files["trust"] = tmp_path / "acme.trust.json"
    assert org(tmp_path, "publish", "--out", str(files["trust"])).returncode == 0
    return files


async def customer(relay: str, trust: Path, topic: str) -> Proc:
    return await Proc.start("help", "--org", str(trust), "--topic", topic, "--relay", relay, "--plain",
                            "--command", BASH, name="customer", env={"PS1": "$ ", "TERM": "xterm-256color"})


async def agent(relay: str, credential: Path, name: str) -> Proc:
    return await Proc.start("agent", "--headless", "--queue", "--relay", relay, "--credential", str(credential),
                            name=name)


def waiting_ids(event: dict[str, Any]) -> list[str]:
    return [entry["id"] for entry in event["waiting"]]


async def stop(*procs: Proc) -> None:
    for proc in procs:
        await proc.kill()


async def test_two_agents_and_a_customer_through_the_queue(relay_url: str, acme: dict[str, Path]) -> None:
    cust = await customer(relay_url, acme["trust"], "git push is rejected")
    alice = bob = None
    try:
        await cust.stderr_line("no agent is online right now")
        await cust.stderr_line("cobrowse guide fix-git-push")  # the library's best match for the topic
        alice = await agent(relay_url, acme["alice"], "alice")
        bob = await agent(relay_url, acme["bob"], "bob")
        listed = await alice.event("queue", total=1)
        assert listed["waiting"][0]["topic"] == "git push is rejected" and listed["org"] == "Acme"
        entry = waiting_ids(listed)[0]
        assert waiting_ids(await bob.event("queue", total=1)) == [entry]
        await cust.stderr_line("you are next, about")

        await alice.send({"cmd": "pick", "id": entry})
        assert (await alice.event("picked"))["id"] == entry
        await bob.event("queue", total=0)  # Bob sees the queue change
        await bob.send({"cmd": "pick", "id": entry})
        assert "already picked" in (await bob.event("error", cmd="pick"))["message"]

        sas = (await alice.event("paired"))["sas"]
        await cust.stderr_line(f"Compare these words with the agent: {sas}")
        await cust.stderr_line("Verified: Alice from Acme")
        await cust.send("echo queue-$((6*7))\n")
        await alice.screen(lambda lines: any("queue-42" in line for line in lines))
        await alice.send({"cmd": "end"})
        assert await alice.wait() == 0
        assert await cust.wait() == 0
    finally:
        await stop(*(p for p in (cust, alice, bob) if p is not None))


async def test_a_foreign_or_revoked_agent_is_refused_and_the_customer_keeps_its_place(
        relay_url: str, acme: dict[str, Path]) -> None:
    trust = OrgTrust.from_dict(json.loads(acme["trust"].read_text()))
    cust = await customer(relay_url, acme["trust"], "disk full")
    procs = [cust]
    try:
        await cust.stderr_line("you are next")
        # An agent of another organisation that watches Acme's queue anyway (a modified client):
        eve: AgentIdentity = OrgKey.generate("Other", os.urandom).issue("Eve", int(time.time()), 5, os.urandom)[1]
        seen: list[Any] = []
        watcher = QueueWatcher(relay_url, trust.key_id, None, seen.append)
        await watcher.connect()
        watching = asyncio.ensure_future(watcher.run())
        await until(lambda: seen and seen[-1].total == 1, "Acme's queue", timeout=20)
        entry = seen[-1].waiting[0]["id"]
        picked = await watcher.pick(entry)
        rogue = Side("agent", PickedAgentLink(relay_url, picked.ticket))
        await join_picked(rogue, picked.nameplate, trust.key_id, eve)
        outcome = await asyncio.wait_for(rogue.run(), 20)
        assert outcome.reason == "wrong_code" and "paired" not in rogue.kinds()
        await cust.stderr_line("could not prove they are from Acme")
        await until(lambda: seen[-1].total == 1 and seen[-1].waiting[0]["id"] == entry, "its place back", timeout=20)
        watching.cancel()
        await watcher.close()

        mallory = await agent(relay_url, acme["mallory"], "mallory")  # Acme revoked her credential
        procs.append(mallory)
        await mallory.event("queue", total=1)
        await mallory.send({"cmd": "pick", "id": entry})
        ended = await mallory.event("ended", reason="wrong_code")
        assert "refused your credential" in ended["message"] and not mallory.all("paired")

        alice = await agent(relay_url, acme["alice"], "alice")
        procs.append(alice)
        assert waiting_ids(await alice.event("queue", total=1)) == [entry]
        await alice.send({"cmd": "pick", "id": entry})
        await alice.event("paired")
        await cust.stderr_line("Verified: Alice from Acme")
        assert sum("Compare these words" in line for line in cust.stderr_lines) == 1
        await alice.send({"cmd": "end"})
        assert await alice.wait() == 0 and await cust.wait() == 0
    finally:
        await stop(*procs)


async def test_a_malicious_relay_cannot_pair_the_customer_with_anyone_but_a_verified_agent(
        relay_url: str, acme: dict[str, Path]) -> None:
    trust = OrgTrust.from_dict(json.loads(acme["trust"].read_text()))
    async with QueueAdversary(relay_url, trust) as adv:
        adv.swap_hello = True  # a man in the middle of the key exchange, a real Acme agent behind it
        cust = await customer(adv.url, acme["trust"], "printer offline")
        procs = [cust]
        try:
            alice = await agent(adv.url, acme["alice"], "alice")
            procs.append(alice)
            entry = waiting_ids(await alice.event("queue", total=1))[0]
            await alice.send({"cmd": "pick", "id": entry})
            await cust.stderr_line("could not prove they are from Acme")
            await alice.event("ended")
            assert adv.swapped == 1 and not alice.all("paired")
            assert not any("Compare these words" in line for line in cust.stderr_lines)
            assert adv.data_frames("customer->agent") == 0  # nothing sealed ever left the customer

            adv.swap_hello = False  # honest again: the next verified agent pairs
            bob = await agent(adv.url, acme["bob"], "bob")
            procs.append(bob)
            assert waiting_ids(await bob.event("queue", total=1)) == [entry]
            await bob.send({"cmd": "pick", "id": entry})
            await bob.event("paired")
            await cust.stderr_line("Verified: Bob from Acme")
            await bob.send({"cmd": "end"})
            assert await bob.wait() == 0 and await cust.wait() == 0
        finally:
            await stop(*procs)


async def test_ctrl_c_leaves_the_queue(relay_url: str, acme: dict[str, Path]) -> None:
    cust = await customer(relay_url, acme["trust"], "just looking")
    alice = await agent(relay_url, acme["alice"], "alice")
    try:
        await alice.event("queue", total=1)
        await cust.stderr_line("you are next")
        cust.proc.send_signal(signal.SIGINT)
        assert await cust.wait() == 0
        await cust.stderr_line("you left Acme's queue")
        await alice.event("queue", total=0)
        await alice.send({"cmd": "end"})
        assert await alice.wait() == 0
    finally:
        await stop(cust, alice)

"""Identity verdicts apply per agent in a team (docs/team.md, docs/trust.md): the customer trusts
Acme; agent A has no credential, agent B is Acme's. The question about B carries B's own
verdict, verified over B's own pairing; A stays unverified. Real processes on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.harness import Proc
from tests.e2e.test_team import ASKED, CUSTOMER_ENV, admit, agent
from tests.e2e.test_trust import org


async def test_each_agent_is_judged_on_its_own_pairing(tmp_path: Path, relay_url: str) -> None:
    assert org(tmp_path, "init", "--name", "Acme").returncode == 0
    bob = tmp_path / "bob.json"
    assert org(tmp_path, "issue-agent", "Bob", "--days", "30", "--out", str(bob)).returncode == 0
    trust = tmp_path / "acme.trust.json"
    assert org(tmp_path, "publish", "--out", str(trust)).returncode == 0

    a = await agent(relay_url, "--name", "Alice", name="agent A")
    procs: list[Proc] = [a]
    try:
        code = (await a.event("code"))["code"]
        customer = await Proc.start("join", code, "--relay", relay_url, "--command", "bash --norc --noprofile",
                                    "--org", str(trust), name="customer", env=CUSTOMER_ENV)
        procs.append(customer)
        assert (await a.event("identity"))["status"] != "verified"
        await a.send({"cmd": "invite"})
        invite = (await a.event("invite"))["code"]
        b = await agent(relay_url, "--credential", str(bob), "--join", invite, name="agent B")
        procs.append(b)
        asked = await customer.stderr_line(ASKED)
        assert "Bob (agent 2)" in asked and "Verified: Bob from Acme" in asked, asked
        seen = await b.event("identity")
        assert seen["status"] == "verified" and seen["org"] == "Acme"
        await admit(customer, b)
        assert all(e["status"] != "verified" for e in a.all("identity"))
    finally:
        for proc in procs:
            await proc.kill()

"""The team's newer wire against an older peer (docs/team.md): the other side runs the tree of
commit OLD (before voided codes and team calls), exported from git into a temporary folder.

- An older agent's ``invite`` does not say it reads voided codes: a wrong guess at its code
  sends it nothing (it would take the message for a code it did not ask for), and it invites
  again as before.
- A newer invited agent calling an older customer's client is declined with that client's
  reason, which the newer agent now shows (``detail``)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from cobrowse.wire.code import parse_code
from tests.e2e.harness import Proc
from tests.e2e.test_team import ASKED, CUSTOMER_ENV, ENV, agent, answer

OLD = "7e297f7"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def old_tree(tmp_path: Path) -> Path:
    """The older cobrowse, as ``git archive`` gives it (skipped without git or that commit)."""
    if shutil.which("git") is None:
        pytest.skip("needs git to export the older tree")
    found = subprocess.run(["git", "-C", str(REPO), "cat-file", "-e", f"{OLD}^{{commit}}"], capture_output=True)
    if found.returncode != 0:
        pytest.skip(f"needs commit {OLD} in the repository (a shallow clone lacks it)")
    out = tmp_path / "old"
    out.mkdir()
    archive = subprocess.run(["git", "-C", str(REPO), "archive", OLD, "cobrowse", "relay"], capture_output=True,
                             check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(out)], input=archive, check=True)
    return out


def in_tree(tree: Path) -> list[str]:
    return ["env", "-C", str(tree)]  # ``python -m cobrowse`` then imports that tree's package first


def wrong(code: str) -> str:
    parsed = parse_code(code)
    return f"{parsed.nameplate}-{'1111' if parsed.secret[:4] != '1111' else '2222'}-{parsed.secret[4:]}"


async def test_an_older_agent_is_sent_no_void_and_invites_again(relay_url: str, old_tree: Path) -> None:
    a = await Proc.start("agent", "--headless", "--relay", relay_url, "--name", "Alice", name="older agent A",
                         env=ENV, prefix=in_tree(old_tree))
    procs = [a]
    try:
        code = (await a.event("code"))["code"]
        customer = await Proc.start("join", code, "--relay", relay_url, "--command", "bash --norc --noprofile",
                                    name="customer", env=CUSTOMER_ENV)
        procs.append(customer)
        await a.event("hello", role="customer")
        await a.send({"cmd": "invite"})
        first = (await a.event("invite"))["code"]
        guesser = await agent(relay_url, "--join", wrong(first), name="a wrong guess")
        procs.append(guesser)
        assert await guesser.wait() != 0
        await customer.stderr_line("the invitation by Alice (agent 1) was not used")
        await a.send({"cmd": "invite"})
        second = await a.event("invite", agent=3)
        assert second["code"] != first
        assert not a.all("invite_void") and not a.all("warning") and not a.all("error"), a.events[-6:]
    finally:
        for proc in procs:
            await proc.kill()


async def test_a_newer_invited_agent_calling_an_older_customer_is_told_why(relay_url: str, old_tree: Path) -> None:
    a = await agent(relay_url, "--name", "Alice", name="agent A")
    procs = [a]
    try:
        code = (await a.event("code"))["code"]
        customer = await Proc.start("join", code, "--relay", relay_url, "--command", "bash --norc --noprofile",
                                    name="older customer", env=CUSTOMER_ENV, prefix=in_tree(old_tree))
        procs.append(customer)
        await a.event("hello", role="customer")
        await a.send({"cmd": "invite"})
        b = await agent(relay_url, "--name", "Bob", "--mic", "none", "--speaker", "none",  # no sound server here
                        "--join", (await a.event("invite"))["code"], name="agent B")
        procs.append(b)
        await customer.stderr_line(ASKED)
        await answer(customer, b"y")
        await b.event("sharing", active=True)
        await b.send({"cmd": "call"})
        declined = await b.event("voice", state="ended")
        assert declined["reason"] == "declined"
        assert "only the agent the customer paired with first calls the customer" in declined["detail"]
        assert not any("is calling you" in line for line in customer.stderr_lines)
    finally:
        for proc in procs:
            await proc.kill()

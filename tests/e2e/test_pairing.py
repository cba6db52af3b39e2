"""Issue-level flows through real processes: pair, chat, end, share, bad codes."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys

from harness import CLI, Proc, pair, start_agent, start_customer

from cobrowse.trust.tripwire import COOLDOWN
from cobrowse.protocol.prompts import ARMING


def test_every_command_has_help() -> None:
    for args in ([], ["relay"], ["agent"], ["join"], ["share"]):
        out = subprocess.run([*CLI, *args, "--help"], capture_output=True, text=True, timeout=30)
        assert out.returncode == 0, out.stderr
        assert "usage: cobrowse" in out.stdout
    assert shutil.which("cobrowse", path=str(__import__("pathlib").Path(sys.executable).parent)), "pip install . gives `cobrowse`"


async def test_agent_created_session_pairs_chats_and_ends(relay_url: str) -> None:
    agent, customer, code = await pair(relay_url)
    try:
        sas = (await agent.event("paired"))["sas"]
        assert len(sas.split()) == 3
        assert sas in await customer.stderr_line("Compare these words")
        await agent.event("hello", role="customer")
        await agent.send({"cmd": "chat", "text": "hello from the agent"})
        await customer.stderr_line("the agent: hello from the agent")
        await customer.send(b"\x1dchello from the customer\r")
        await agent.event("chat", text="hello from the customer")
        assert agent.all("chat")[0]["from"] == "customer"
        await agent.send({"cmd": "end"})
        assert await customer.wait() == 0
        assert await agent.wait() == 0
        await customer.stderr_line("the agent ended the session")
        assert (await agent.event("ended"))["reason"] == "agent_ended"
    finally:
        await agent.kill()
        await customer.kill()


async def test_customer_keys_reach_the_shared_program(relay_url: str) -> None:
    agent, customer, _ = await pair(relay_url)
    try:
        await customer.send(b"echo $((6*7))-marker\r")
        await agent.screen(lambda lines: any(line.startswith("42-marker") for line in lines))
        await customer.send(b"exit\r")
        assert await customer.wait() == 0
        ended = await agent.event("ended")
        assert ended["reason"] == "command_exited"
        assert await agent.wait() == 0
    finally:
        await agent.kill()
        await customer.kill()


async def test_customer_created_session(relay_url: str) -> None:
    customer = await Proc.start("share", "--relay", relay_url, "--command", "sh -c 'sleep 2; echo done-sharing; sleep 1'", name="customer")
    agent = None
    try:
        line = await customer.stderr_line("cobrowse code: ")
        assert line.startswith("cobrowse code: ")
        code = line.split("cobrowse code: ", 1)[1].strip()
        agent = await start_agent(relay_url, "--join", code)
        await agent.event("paired")
        await agent.screen(lambda lines: "done-sharing" in lines)
        ended = await agent.event("ended", timeout=15)
        assert ended["reason"] == "command_exited"
        assert await customer.wait() == 0
        assert await agent.wait() == 0
    finally:
        await customer.kill()
        if agent:
            await agent.kill()


async def wrong_code_warning(agent: Proc, attempt: int = 1) -> dict:
    """The agent's warning about the ``attempt``-th wrong code (bounded wait)."""
    return await agent.until(lambda: next((w for w in agent.all("warning")
                                           if w.get("kind") == "wrong_code" and w.get("attempt") == attempt), None),
                             f"the warning about wrong code #{attempt}", 15)


async def test_a_typo_costs_the_customer_a_retry_and_the_agents_session_stays_open(relay_url: str) -> None:
    agent = await start_agent(relay_url)
    customers: list[Proc] = []
    try:
        code = (await agent.event("code"))["code"]
        nameplate, secret = code.split("-", 1)
        wrong = f"{nameplate}-{'0000-0000' if secret != '0000-0000' else '1111-1111'}"
        customers.append(await start_customer(relay_url, wrong))
        assert await customers[0].wait() == 5
        await customers[0].stderr_line("wrong code: check the digits with your agent and try again")
        warning = await wrong_code_warning(agent)
        assert warning["attempt"] == 1 and warning["of"] == 3
        assert "someone tried a wrong code (attempt 1 of 3)" in warning["message"]
        assert agent.proc.returncode is None and not agent.all("ended") and not agent.all("error")
        customers.append(await start_customer(relay_url, code))
        sas = (await agent.event("paired"))["sas"]
        assert sas in await customers[1].stderr_line("Compare these words")
        assert len(agent.all("code")) == 1, "one typo does not change the code"
        await agent.send({"cmd": "end"})
        assert await customers[1].wait() == 0
        assert await agent.wait() == 0
    finally:
        await agent.kill()
        for customer in customers:
            await customer.kill()


async def test_unknown_code_and_unreachable_relay(relay_url: str) -> None:
    customer = await start_customer(relay_url, "987-1234-5678")
    assert await customer.wait() == 4
    await customer.stderr_line("no session with that code")
    down = await start_customer("ws://127.0.0.1:9", "12-1234-5678")
    assert await down.wait() == 3
    await down.stderr_line("cannot reach the relay at ws://127.0.0.1:9")
    bad = await start_customer(relay_url, "12-34")
    assert await bad.wait() == 2
    await bad.stderr_line("too short")


async def test_headless_rejects_bad_commands_without_changing_anything(relay_url: str) -> None:
    agent, customer, _ = await pair(relay_url)
    try:
        await agent.send("not json\n")
        await agent.send({"cmd": "keys", "data": "rm -rf /\r"})
        await agent.send({"cmd": "nope"})
        await agent.send({"cmd": "chat"})
        await agent.until(lambda: len(agent.all("error")) >= 4, "an error for each of the four bad commands")
        messages = " ".join(e["message"] for e in agent.all("error"))
        assert "not a JSON command" in messages
        assert "has not granted control" in messages
        assert "unknown command 'nope'" in messages
        assert "chat needs" in messages
        await agent.send({"cmd": "chat", "text": "still alive"})
        await customer.stderr_line("still alive")
    finally:
        await agent.kill()
        await customer.kill()


async def test_control_needs_the_customers_consent_and_revoke_is_immediate(relay_url: str) -> None:
    agent, customer, _ = await pair(relay_url)
    try:
        await agent.event("consent", level="view")
        await agent.send({"cmd": "request_control", "level": "control"})
        await customer.stderr_line("asks to CONTROL your terminal")
        await asyncio.sleep(ARMING + 0.1)  # a new prompt ignores keys for ARMING s
        await customer.send(b"\x1dy")  # an unverified agent: the first press only warns (tests/e2e/test_trust.py)
        await customer.stderr_line("WAIT: this agent is NOT verified")
        await asyncio.sleep(COOLDOWN + 0.2)
        await customer.send(b"\x1dy")
        await agent.event("consent", level="control")
        await agent.send({"cmd": "keys", "data": "echo agent-$((40+2))\r"})
        await agent.screen(lambda lines: "agent-42" in lines)
        seen = len(agent.all("consent"))
        await customer.send(b"\x1dr")
        await agent.until(lambda: len(agent.all("consent")) > seen, "the consent change", 10)
        assert agent.all("consent")[-1]["level"] == "view"
        errors = len(agent.all("error"))
        await agent.send({"cmd": "keys", "data": "echo again\r"})
        await agent.until(lambda: len(agent.all("error")) > errors, "the refusal of the keys", 10)
        assert "has not granted control" in agent.all("error")[-1]["message"]
    finally:
        await agent.kill()
        await customer.kill()


async def test_unanswered_prompt_is_denied(relay_url: str) -> None:
    agent = await start_agent(relay_url)
    customer = None
    try:
        code = (await agent.event("code"))["code"]
        customer = await start_customer(relay_url, code, "--consent-timeout", "1")
        await agent.event("paired")
        await agent.send({"cmd": "request_control", "level": "control"})
        await customer.stderr_line("asks to CONTROL")
        await customer.stderr_line("denied", timeout=10)
        await asyncio.sleep(0.3)
        assert all(e["level"] == "view" for e in agent.all("consent"))
    finally:
        await agent.kill()
        if customer:
            await customer.kill()

"""Redaction and pause through real processes, a real pty and a recording relay.

Canaries (a fake AWS key, a private-key block, a Luhn-valid card number, a password after a
``password:`` label, the customer's and the organisation's own patterns) are printed in the
customer's real terminal. Neither the relay (every byte recorded by tests/e2e/adversary.py)
nor anything the headless agent prints ever holds one; the agent sees the mask instead, and
a Luhn-invalid 16-digit number stays readable. Paused sharing sends no screen frame at all
until the customer resumes, and then the current screen.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import AsyncIterator

import pytest
from adversary import Adversary
from harness import WAIT, Proc, start_agent, start_customer

from cobrowse.screen.redact import MASK_CHAR

AWS = "AKIAQXYZCANARY7WXY2Z"
PEM_BODY = [
    "b3BlbnNzaC1rZXktdjEAAAAACANARYPEMBODYxQ2FuYXJ5UEVNQm9keUxpbmUxQUFBQUFB",
    "QyNTUxOQAAACBDYW5hcnlDQU5BUllQRU1UV09RMkZ1WVhKNVVFVk5RbTlrZVV4cGJtVXhR",
    "ZW5kQ0FOQVJZPQ==",
]
PEM = ["-----BEGIN OPENSSH PRIVATE KEY-----", *PEM_BODY, "-----END OPENSSH PRIVATE KEY-----"]
CARD = "4539 1488 0343 6467"  # passes the Luhn check
NOT_A_CARD = "4539 1488 0343 6468"  # one digit off: fails it, stays readable
PASSWORD = "hunter2xyz"
CUSTOM = "ACME-424242"  # the customer's --redact 'ACME-[0-9]{6}'
ORG = "TICKET-WXYZ"  # the agent's organisation: --redact 'TICKET-[A-Z]{4}', pushed to the customer
LATER = "LATER-98765"  # pushed mid-session by the headless redact command
# LATER is readable until the agent pushes its pattern, so it is not one of these.
SECRETS = [AWS, CARD, PASSWORD, CUSTOM, ORG, "CANARYPEMBODY", *PEM_BODY, PEM_BODY[1][:24]]


@pytest.fixture
async def adversary(relay_url: str) -> AsyncIterator[Adversary]:
    async with Adversary(relay_url) as adv:
        yield adv


async def paired(relay: str, agent_args: tuple[str, ...] = (), customer_args: tuple[str, ...] = ()) -> tuple[Proc, Proc]:
    agent = await start_agent(relay, *agent_args)
    code = (await agent.event("code"))["code"]
    customer = await start_customer(relay, code, *customer_args)
    await agent.event("paired")
    await customer.stderr_line("Compare these words")
    await agent.screen(lambda lines: any(line.startswith("$") for line in lines))
    return agent, customer


def leaks(data: bytes | bytearray | str) -> list[str]:
    text = data.decode("utf-8", "replace") if isinstance(data, (bytes, bytearray)) else data
    return [s for s in SECRETS if s in text]


async def test_canaries_reach_neither_the_relay_nor_the_agent(adversary: Adversary, tmp_path: Path) -> None:
    canaries = tmp_path / "canaries.txt"
    canaries.write_text("\n".join([
        "CANARY-START", f"aws_access_key_id {AWS}", *PEM, f"card: {CARD}", f"order: {NOT_A_CARD}",
        f"password: {PASSWORD}", f"customer ref {CUSTOM}", f"org ref {ORG}", "CANARY-END",
    ]) + "\n")
    agent, customer = await paired(adversary.url, ("--redact", "TICKET-[A-Z]{4}"),
                                   ("--redact", "ACME-[0-9]{6}"))
    try:
        await customer.stderr_line("masks 1 more pattern")  # the organisation's pattern arrived
        # Step patterns run on the customer's machine against the program's lines: they see
        # masks too, so an agent cannot probe a secret by pushing expect patterns.
        await agent.send({"cmd": "steps", "title": "Probe", "steps": [
            {"title": "start", "expect": "CANARY-START"},
            {"title": "probe the password", "expect": PASSWORD},
            {"title": "never reached", "expect": "CANARY-END"},
        ]})
        await agent.event("steps", current=0)
        await customer.send(f"cat {canaries}\r")
        screen = await agent.screen(lambda lines: "CANARY-END" in lines)
        lines = screen["lines"]
        assert f"password: {MASK_CHAR * len(PASSWORD)}" in lines
        assert f"card: {MASK_CHAR * len(CARD)}" in lines
        assert f"order: {NOT_A_CARD}" in lines  # not a card number: readable
        assert f"aws_access_key_id {MASK_CHAR * len(AWS)}" in lines
        assert f"customer ref {MASK_CHAR * len(CUSTOM)}" in lines
        assert f"org ref {MASK_CHAR * len(ORG)}" in lines
        await customer.stderr_line("the agent sees it masked")  # the customer is told, once
        begin = lines.index(PEM[0])
        assert lines[begin + 1: begin + 5] == [MASK_CHAR * len(b) for b in PEM_BODY] + [PEM[-1]]
        # The masked cells are listed, so an integration can tell a mask from text.
        row = lines.index(f"password: {MASK_CHAR * len(PASSWORD)}")
        assert [row, 10, 10 + len(PASSWORD)] in screen["redacted"]

        # A pattern pushed mid-session masks what is already on the screen, too.
        await customer.send(f"echo ref {LATER}\r")
        await agent.screen(lambda lines: f"ref {LATER}" in lines)  # no pattern covers it yet
        await agent.send({"cmd": "redact", "patterns": ["LATER-[0-9]+"]})
        await agent.screen(lambda lines: f"ref {MASK_CHAR * len(LATER)}" in lines)
        await agent.send({"cmd": "redact", "patterns": ["(unclosed"]})
        error = await agent.event("error")
        assert "not a valid regex" in error["message"]

        steps = agent.all("steps")[-1]
        assert [s["status"] for s in steps["steps"]] == ["done", "active", "pending"]
        await asyncio.sleep(0.5)  # any late frame would be in the recording too
        assert sum("the agent sees it masked" in line for line in customer.stderr_lines) == 1
    finally:
        await agent.kill()
        await customer.kill()
    assert leaks(agent.stdout_raw) == []
    assert leaks(adversary.raw()) == []
    assert adversary.binary_frames()  # the recording did see the session's frames


async def test_pause_sends_no_screen_frame_until_resume(relay_url: str) -> None:
    agent, customer = await paired(relay_url)
    try:
        await customer.send(b"echo before-$((6*7))\r")
        await agent.screen(lambda lines: "before-42" in lines)
        await agent.send({"cmd": "steps", "title": "T", "steps": [{"title": "wait", "expect": "while-paused-1002"},
                                                                 {"title": "next"}]})
        await agent.event("steps", current=0)
        await customer.send(b"\x1dp")
        await agent.event("sharing", active=False)
        await customer.stderr_line("sharing paused")
        frames_at_pause = len(agent.all("screen"))
        for k in range(5):  # the screen changes a lot while paused
            await customer.send(f"echo while-paused-$((1000+{k}))\r".encode())
            await asyncio.sleep(0.1)
        await asyncio.sleep(1.0)
        assert len(agent.all("screen")) == frames_at_pause
        assert not any("while-paused" in line for e in agent.all("screen") for line in e["lines"])
        # The step auto-advanced on the customer's machine, but progress tells what the program
        # printed: it waits for the resume too.
        assert agent.all("steps")[-1]["current"] == 0

        await customer.send(b"\x1dp")
        # Resuming first shows the customer what changed while paused; nothing goes out yet.
        await customer.stderr_line("changed while paused")
        await customer.stderr_line("| while-paused-1004")
        await asyncio.sleep(0.5)
        assert not any("while-paused" in line for e in agent.all("screen") for line in e["lines"])
        await customer.send(b"s")  # share it as it is
        await agent.event("sharing", active=True)
        screen = await agent.screen(lambda lines: "while-paused-1004" in lines, timeout=WAIT)
        assert "while-paused-1000" in screen["lines"]  # the current screen, whole
        await agent.event("steps", current=1)
    finally:
        await agent.kill()
        await customer.kill()


async def test_resuming_can_clear_what_was_typed_while_paused(relay_url: str) -> None:
    agent, customer = await paired(relay_url)
    try:
        await customer.send(b"echo before-$((6*7))\r")
        await agent.screen(lambda lines: "before-42" in lines)
        await customer.send(b"\x1dp")
        await agent.event("sharing", active=False)
        before = len(agent.all("screen"))
        await customer.send(b"echo typed-$((2000+2))\r")
        await asyncio.sleep(0.5)
        await customer.send(b"\x1dp")
        await customer.stderr_line("| typed-2002")
        await customer.send(b"c")  # clear the screen, then share
        await agent.event("sharing", active=True)
        await customer.send(b"echo after-$((3000+3))\r")
        screen = await agent.screen(lambda lines: "after-3003" in lines, timeout=WAIT)
        shown = [line for e in agent.all("screen")[before:] for line in e["lines"]]
        assert not any("typed-2002" in line or "before-42" in line for line in shown), shown  # cleared first
        assert "after-3003" in "".join(screen["lines"][:3])
    finally:
        await agent.kill()
        await customer.kill()

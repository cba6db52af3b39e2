"""The protocol through a malicious relay (tests/e2e/adversary.py) with real processes.

(a) it records every byte: no plaintext (chat, screen, the code's secret) shows in it;
(b) it tampers with, replays, reorders and drops sealed frames: the receiver detects each,
    never applies a bad frame, reports it, and recovers whatever can be recovered;
(c) it runs its own PAKE with each side: pairing fails on both sides.
"""

from __future__ import annotations

import asyncio
import zlib
from typing import AsyncIterator

import pytest
from adversary import Adversary
from harness import WAIT, Proc, pair, start_agent, start_customer
from test_pairing import wrong_code_warning

from cobrowse.errors import WRONG_CODE_RETRY_MESSAGE

C2A = "customer->agent"
A2C = "agent->customer"
QUIET = "sleep 600"  # a shared program that prints nothing: no screen frames interfere


@pytest.fixture
async def adversary(relay_url: str) -> AsyncIterator[Adversary]:
    async with Adversary(relay_url) as adv:
        yield adv


async def attacked(future: asyncio.Future[int]) -> int:
    """The seq of the frame the armed attack acted on, once it happened."""
    async with asyncio.timeout(WAIT):
        return await future


async def settle(adv: Adversary, direction: str, quiet_for: float = 0.4) -> None:
    """Wait (bounded) until the sender of ``direction`` has sent no DATA frame for a while."""
    async with asyncio.timeout(WAIT):
        while True:
            before = adv.data_frames(direction)
            await asyncio.sleep(quiet_for)
            if adv.data_frames(direction) == before:
                return


async def paired_quietly(adv: Adversary) -> tuple[Proc, Proc, str]:
    agent, customer, code = await pair(adv.url, command=QUIET)
    await agent.event("hello", role="customer")
    await agent.event("consent", level="view")
    await agent.event("screen")
    await customer.stderr_line("Your terminal is visible")
    await settle(adv, C2A)
    await settle(adv, A2C)
    return agent, customer, code


async def warning_of(agent: Proc, kind: str, timeout: float = WAIT) -> dict:
    """The first ``warning`` event of ``kind`` (Proc.event cannot match a key named kind)."""
    return await agent.until(lambda: next((e for e in agent.all("warning") if e.get("kind") == kind), None),
                             f"{kind} warning", timeout)


def chats(agent: Proc) -> list[str]:
    return [e["text"] for e in agent.all("chat")]


async def chat_from_customer(customer: Proc, text: str) -> None:
    await customer.send(b"\x1dc" + text.encode() + b"\r")


def inflations(frame: bytes) -> list[bytes]:
    """Whatever zlib can make of the frame at any of its first offsets."""
    out = []
    for start in range(min(len(frame), 16)):
        try:
            out.append(zlib.decompressobj().decompress(frame[start:], 1 << 22))
        except zlib.error:
            continue
    return out


async def test_relay_sees_no_plaintext_and_no_secret(adversary: Adversary) -> None:
    agent_canary, customer_canary, screen_canary = "AGENT-CANARY-7f3a", "CUSTOMER-CANARY-91c2", "SCREEN-CANARY-2"
    agent, customer, code = await pair(adversary.url)
    try:
        sas = (await agent.event("paired"))["sas"]
        await agent.event("hello", role="customer")
        await agent.send({"cmd": "chat", "text": agent_canary})
        await customer.stderr_line(agent_canary)
        await chat_from_customer(customer, customer_canary)
        await agent.event("chat", text=customer_canary)
        await customer.send(b"echo SCREEN-CANARY-$((1+1))\r")  # typed text differs from the output
        try:
            await agent.screen(lambda lines: any(line.startswith(screen_canary) for line in lines))
        except AssertionError as exc:
            raise AssertionError(f"{exc}; the customer's own terminal got {bytes(customer.stdout_raw)!r}; "
                                 f"agent events: {[e for e in agent.events if e.get('event') != 'screen']}; "
                                 f"{len(agent.all('screen'))} screens; customer stderr: {customer.stderr_lines}") from None
        await agent.send({"cmd": "end"})
        assert await customer.wait() == 0
        assert await agent.wait() == 0
    finally:
        await agent.kill()
        await customer.kill()

    secret = code.split("-", 1)[1]
    digits = secret.replace("-", "")
    needles = [agent_canary, customer_canary, screen_canary, secret, digits, sas]
    raw = adversary.raw()
    probe = bytes([0x10]) + bytes(8) + bytes([0x01]) + zlib.compress(screen_canary.encode())
    assert any(screen_canary.encode() in x for x in inflations(probe)), "the check would see a compressed leak"
    assert len(adversary.binary_frames()) > 10 and adversary.text_frames(), "the adversary saw the session"
    for needle in needles:
        assert needle.encode() not in raw, f"{needle!r} crossed the relay in clear"
        for frame in adversary.binary_frames():
            for inflated in inflations(frame):
                assert needle.encode() not in inflated, f"{needle!r} crossed the relay compressed"
        for text in adversary.text_frames():
            assert needle not in text, f"{needle!r} in a control message: {text}"


async def test_tampered_frame_ends_the_session_and_is_never_applied(adversary: Adversary) -> None:
    agent, customer, _ = await paired_quietly(adversary)
    try:
        tampered = adversary.tamper_next(C2A)
        await chat_from_customer(customer, "tampered-chat")
        await attacked(tampered)
        error = await agent.event("error")
        assert error.get("kind") == "security"
        assert "altered in transit" in error["message"]
        assert await agent.wait() == 5
        assert "tampered-chat" not in chats(agent)
        assert not agent.all("paired")[1:]
        assert await customer.wait() != 0
        await customer.stderr_line("a security check failed (a wrong code, or the relay or the network")
    finally:
        await agent.kill()
        await customer.kill()


async def test_tampered_frame_towards_the_customer(adversary: Adversary) -> None:
    agent, customer, _ = await paired_quietly(adversary)
    try:
        tampered = adversary.tamper_next(A2C)
        await agent.send({"cmd": "chat", "text": "tampered-agent-chat"})
        await attacked(tampered)
        assert await customer.wait() == 5
        await customer.stderr_line("altered in transit")
        assert not any("tampered-agent-chat" in line for line in customer.stderr_lines)
        ended = await agent.event("ended")
        assert ended["reason"] == "scared"
        assert await agent.wait() != 0
    finally:
        await agent.kill()
        await customer.kill()


async def test_replayed_frame_is_reported_and_ignored(adversary: Adversary) -> None:
    agent, customer, _ = await paired_quietly(adversary)
    try:
        await chat_from_customer(customer, "first")
        await agent.event("chat", text="first")
        await settle(adversary, C2A)
        seq = await adversary.replay_last(C2A)
        warning = await warning_of(agent, "duplicate")
        assert f"#{seq}" in warning["message"]
        await chat_from_customer(customer, "second")
        await agent.event("chat", text="second")
        await asyncio.sleep(0.3)
        assert chats(agent) == ["first", "second"]
        assert not agent.all("error") and agent.proc.returncode is None
    finally:
        await agent.kill()
        await customer.kill()


async def test_reordered_frames_are_reported_and_delivered_in_order(adversary: Adversary) -> None:
    agent, customer, _ = await paired_quietly(adversary)
    try:
        held = adversary.hold_next(C2A)
        await chat_from_customer(customer, "one")
        await chat_from_customer(customer, "two")
        seq = await attacked(held)
        warning = await warning_of(agent, "gap")
        assert f"before #{seq}" in warning["message"]
        await agent.event("chat", text="two")
        await asyncio.sleep(0.5)  # resent copies arrive now: they must not be applied again
        assert chats(agent) == ["one", "two"]
        await chat_from_customer(customer, "three")
        await agent.event("chat", text="three")
        assert chats(agent) == ["one", "two", "three"]
        assert not agent.all("error") and agent.proc.returncode is None
    finally:
        await agent.kill()
        await customer.kill()


async def test_dropped_frames_are_recovered_exactly_once(adversary: Adversary) -> None:
    agent, customer, _ = await paired_quietly(adversary)
    try:
        # alone: the sender's retransmit timer (~2 s) fills the hole, unless a later frame
        # (the periodic round-trip ping) exposed it first and the receiver asked for it
        dropped = adversary.drop_next(C2A)
        await chat_from_customer(customer, "lost-alone")
        await attacked(dropped)
        await agent.event("chat", text="lost-alone", timeout=10)
        assert all(w["kind"] == "gap" for w in agent.all("warning"))
        # followed by another frame: the receiver sees the gap and asks for a resend
        dropped = adversary.drop_next(C2A)
        await chat_from_customer(customer, "lost-then-exposed")
        await attacked(dropped)
        await chat_from_customer(customer, "exposer")
        await agent.event("chat", text="exposer", timeout=10)
        warning = await warning_of(agent, "gap")
        assert "asked for a resend" in warning["message"]
        await asyncio.sleep(0.5)
        assert chats(agent) == ["lost-alone", "lost-then-exposed", "exposer"]
        assert not agent.all("error") and agent.proc.returncode is None
    finally:
        await agent.kill()
        await customer.kill()


@pytest.mark.parametrize("silent_to", [(), ("customer",)], ids=["both-answered", "customer-stalled"])
async def test_man_in_the_middle_fails_pairing_on_both_sides(relay_url: str, silent_to: tuple[str, ...]) -> None:
    async with Adversary(relay_url, mitm=True, silent_to=silent_to) as adv:
        agent = await start_agent(adv.url)
        customer = None
        try:
            code = (await agent.event("code"))["code"]
            secret = code.split("-", 1)[1].replace("-", "")
            adv.guessed_secret = "12345678" if secret != "12345678" else "87654321"
            customer = await start_customer(adv.url, code, command=QUIET)
            assert await customer.wait() == 5
            await customer.stderr_line(WRONG_CODE_RETRY_MESSAGE)
            # the agent's side: one failed attempt at its code, the session stays open
            warning = await wrong_code_warning(agent)
            assert warning["attempt"] == 1
            assert agent.proc.returncode is None and not agent.all("ended")
            assert not agent.all("paired")
            assert not any("Compare these words" in line for line in customer.stderr_lines)
            assert set(adv.fakes) == {"agent", "customer"}, "the adversary ran a PAKE with each side"
            assert adv.fake_errors["agent"], "the agent's confirmation did not fool the adversary either"
            assert all(fake.state != "paired" for fake in adv.fakes.values())
            assert secret.encode() not in adv.raw()
        finally:
            await agent.kill()
            if customer:
                await customer.kill()


async def test_webrtc_signalling_and_the_direct_path_stay_out_of_the_relays_sight(adversary: Adversary) -> None:
    """The SDP (DTLS fingerprints, ICE credentials) travels sealed, so the relay can neither
    read nor swap it; once the direct path is up, chat leaves the relay entirely."""
    env = {"COBROWSE_DIRECT": "1", "COBROWSE_MIC": "tone:440", "COBROWSE_SPEAKER": "none"}
    agent = await Proc.start("agent", "--headless", "--relay", adversary.url, name="agent", env=env)
    customer = None
    try:
        code = (await agent.event("code"))["code"]
        customer = await Proc.start("join", code, "--relay", adversary.url, "--command", QUIET, name="customer",
                                    env={**env, "PS1": "$ "})
        await agent.event("paired")
        await agent.event("path", path="direct")
        await agent.send({"cmd": "call"})
        await customer.stderr_line("is calling you")
        await customer.send(b"\x1dt")
        await agent.event("voice", state="active")
        frames_before = len(adversary.binary_frames())
        await agent.send({"cmd": "chat", "text": "DIRECT-CANARY-5e1"})
        await customer.stderr_line("DIRECT-CANARY-5e1")
        await asyncio.sleep(0.3)
        assert len(adversary.binary_frames()) == frames_before, "on the direct path nothing crosses the relay"
    finally:
        await agent.kill()
        if customer is not None:
            await customer.kill()
    raw = adversary.raw()
    for needle in (b"a=fingerprint", b"a=ice-ufrag", b"a=ice-pwd", b"m=audio", b"webrtc-datachannel",
                   b"DIRECT-CANARY-5e1"):
        assert needle not in raw, f"{needle!r} crossed the relay in clear"
        for frame in adversary.binary_frames():
            for inflated in inflations(frame):
                assert needle not in inflated, f"{needle!r} crossed the relay compressed"

"""Verified agents, the control tripwire and reports, end to end through a real relay.

Both runtimes run in this process against a real relay on 127.0.0.1; the identity proof
travels sealed, the report as a relay control message that lands in the audit log.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import time
from pathlib import Path
from typing import Any

import pytest

from cobrowse.io.agent import AgentRuntime, CommandError
from cobrowse.io.customer import CustomerRuntime
from cobrowse.io.link import RelayLink
from cobrowse.trust import AgentIdentity, OrgKey, OrgTrust
from relay.config import RelayConfig
from relay.server import RelayServer, serve_relay
from tests.io.test_resume import Recorder
from tests.waiting import until

NOW = 1_800_000_000


def org(name: str, seed: int) -> OrgKey:
    rng = random.Random(seed)
    return OrgKey.generate(name, lambda n: rng.randbytes(n))


def agent_of(book: OrgKey, name: str = "Alice", days: float = 30) -> tuple[OrgKey, AgentIdentity]:
    return book.issue(name, int(time.time()), days, os.urandom)


class Pair:
    def __init__(self, agent: AgentRuntime, agent_events: Recorder, customer: CustomerRuntime,
                 customer_events: Recorder, program_input: bytearray, tasks: list[asyncio.Task[Any]]) -> None:
        self.agent, self.agent_events = agent, agent_events
        self.customer, self.customer_events = customer, customer_events
        self.program_input, self.tasks = program_input, tasks

    async def stop(self) -> None:
        for runtime in (self.agent, self.customer):
            if runtime.outcome is None:
                await runtime.end("agent_ended" if runtime.role == "agent" else "customer_ended")
        async with asyncio.timeout(10):
            await asyncio.gather(*self.tasks, return_exceptions=True)


async def paired(url: str, identity: AgentIdentity | None, trusted: list[OrgTrust], *,
                 name: str = "Alice", cooldown: float = 5.0) -> Pair:
    agent_events, customer_events = Recorder(), Recorder()
    program_input = bytearray()
    agent = AgentRuntime(RelayLink(url, "agent", reconnect_for=10), agent_events, name=name, identity=identity)
    code = await agent.create()
    customer = CustomerRuntime(RelayLink(url, "customer", reconnect_for=10), customer_events,
                               write_program=program_input.extend, trusted=trusted, control_cooldown=cooldown,
                               prompt_arming=0)
    await customer.join(code)
    tasks = [asyncio.create_task(agent.run()), asyncio.create_task(customer.run())]
    await customer_events.until(lambda: customer_events.of("identity"))
    await agent_events.until(lambda: agent_events.of("identity") and agent_events.of("consent"))
    return Pair(agent, agent_events, customer, customer_events, program_input, tasks)


async def test_a_verified_agent_is_shown_verified_on_both_sides(relay: RelayServer) -> None:
    acme, alice = agent_of(org("Acme", 1))
    pair = await paired(relay.url, alice, [acme.trust(NOW)])
    try:
        (seen,) = pair.customer_events.of("identity")
        assert seen["status"] == "verified" and seen["message"] == "Verified: Alice from Acme"
        # the identity is known before the customer is told who can see their terminal
        kinds = [e["event"] for e in pair.customer_events.events]
        assert kinds.index("identity") == kinds.index("hello") + 1
        (told,) = pair.agent_events.of("identity")
        assert told["verified"] and told["seen_by"] == "customer"
        assert told["message"] == "the customer sees you as: Verified: Alice from Acme"
        # a verified agent gets control with one press, as before
        await pair.customer.run_command("grant_control")
        await pair.agent_events.until(lambda: pair.agent_events.of("consent")[-1]["level"] == "control")
        assert not pair.customer_events.of("control_confirm")
    finally:
        await pair.stop()


@pytest.mark.parametrize("case", ["none", "wrong_org", "revoked", "expired"])
async def test_unverified_agents_are_flagged_loudly(relay: RelayServer, case: str) -> None:
    acme, alice = agent_of(org("Acme", 1))
    trusted = [acme.trust(NOW)]
    identity: AgentIdentity | None = alice
    if case == "none":
        identity = None
    elif case == "wrong_org":
        _, identity = agent_of(org("Globex", 2), "Gina")
    elif case == "revoked":
        trusted = [acme.revoke(alice.credential.id).trust(NOW)]
    else:
        _, identity = acme.issue("Alice", int(time.time()) - 40 * 86400, 30, os.urandom)
    pair = await paired(relay.url, identity, trusted, name="Alice from Acme")
    try:
        (seen,) = pair.customer_events.of("identity")
        assert seen["status"] == case and not seen["verified"]
        if case == "expired":
            assert "the credential expired" in seen["detail"]
        assert seen["message"].startswith('!! UNVERIFIED AGENT (calls themself "Alice from Acme")')
        assert "Ctrl-] f reports this session" in seen["message"]
        (told,) = pair.agent_events.of("identity")
        assert told["status"] == case and "UNVERIFIED" in told["message"]
    finally:
        await pair.stop()


async def test_unverified_control_needs_a_second_press_after_the_cooldown(relay: RelayServer) -> None:
    pair = await paired(relay.url, None, [], cooldown=0.5)
    customer, events = pair.customer, pair.customer_events
    try:
        await pair.agent.command({"cmd": "request_control", "level": "control"})
        await events.until(lambda: events.of("consent_prompt"))
        assert "NOT VERIFIED" in events.of("consent_prompt")[-1]["message"]
        await customer.run_command("allow")
        (armed,) = events.of("control_confirm")
        assert armed["state"] == "armed" and "NOT verified" in armed["message"] and "Ctrl-] y" in armed["message"]
        assert customer.consent.level == "view" and customer.prompts.shown is not None  # still asking
        await customer.run_command("allow")  # at once: too soon
        assert events.of("control_confirm")[-1]["state"] == "wait"
        assert customer.consent.level == "view"
        with pytest.raises(CommandError, match="not granted control"):  # the agent's keys are still refused
            await pair.agent.command({"cmd": "keys", "data": "x"})
        await asyncio.sleep(0.55)
        await customer.run_command("allow")
        assert customer.consent.level == "control"
        await pair.agent_events.until(lambda: pair.agent_events.of("consent")[-1]["level"] == "control")
        await pair.agent.command({"cmd": "keys", "data": "typed"})
        await until(lambda: bytes(pair.program_input) == b"typed", "the agent's keys in the program", 5)
        # after a revoke, the next grant starts over (Ctrl-] g this time)
        await customer.run_command("revoke")
        await customer.run_command("grant_control")
        assert customer.consent.level == "view" and events.of("control_confirm")[-1]["state"] == "armed"
        assert "Ctrl-] g" in events.of("control_confirm")[-1]["message"]
    finally:
        await pair.stop()


async def test_a_proof_replayed_by_another_agent_is_refused(relay: RelayServer) -> None:
    """Mallory copied Alice's credential and a proof Alice made in an earlier session."""
    acme, alice = agent_of(org("Acme", 1))
    first = await paired(relay.url, alice, [acme.trust(NOW)])
    session = first.agent.session
    assert session is not None and session.binding is not None
    captured = alice.prove(session.binding)
    await first.stop()

    class Replayer(AgentIdentity):
        def prove(self, binding: bytes) -> bytes:
            return captured

    mallory = Replayer(alice.credential, os.urandom(32))
    second = await paired(relay.url, mallory, [acme.trust(NOW)])
    try:
        (seen,) = second.customer_events.of("identity")
        assert seen["status"] == "forged" and "not for this session" in seen["detail"]
    finally:
        await second.stop()


async def test_report_reaches_the_relays_audit_log_with_no_content(tmp_path: Path) -> None:
    audit = tmp_path / "audit.jsonl"
    server = await serve_relay(RelayConfig(host="127.0.0.1", port=0, audit_log=str(audit)))
    try:
        pair = await paired(server.url, None, [])
        try:
            await pair.agent.command({"cmd": "chat", "text": "CANARY-please-give-me-control"})
            await pair.customer_events.until(lambda: pair.customer_events.of("chat"))
            await pair.customer.run_command("report")
            (reported,) = pair.customer_events.of("reported")
            nameplate = pair.customer.link.nameplate
            assert reported["nameplate"] == nameplate and f"reported session {nameplate}" in reported["message"]

            def logged() -> bool:
                return '"reported"' in audit.read_text()

            await until(logged, "the report in the receipt", 5)
            assert pair.customer.outcome is None  # reporting does not end the session by itself
        finally:
            await pair.stop()
    finally:
        server.close()
        await server.wait_closed()
    text = audit.read_text()
    (record,) = [json.loads(line) for line in text.splitlines() if '"reported"' in line]
    assert record["nameplate"] == nameplate and record["by"] == "customer"
    assert "CANARY" not in text and "Alice" not in text

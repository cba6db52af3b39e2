"""Verified agent identity in the apps: the customer app's identity line and two-step control
grant, its report key, and the agent console's "how the customer sees you". Textual pilots,
a real relay, real runtimes, a real bash. Every wait is bounded."""

from __future__ import annotations

import asyncio
import os
import random
import time
from typing import Any


from cobrowse.io.agent import AgentRuntime
from cobrowse.io.customer import CustomerRuntime
from cobrowse.io.link import RelayLink
from cobrowse.policy.events import as_json
from cobrowse.trust import AgentIdentity, OrgKey, OrgTrust
from cobrowse.wire.code import parse_code
from relay.server import RelayServer
from tui.agent_app import AgentApp
from tui.agent_session import SessionPane
from tui.customer_app import CustomerApp

from tests.waiting import until
from tests.tui.test_customer_app import BASH, PREFIX, WAIT, _shell_env  # noqa: F401  (an autouse fixture)


def acme() -> tuple[OrgTrust, AgentIdentity]:
    rng = random.Random(8)
    book, alice = OrgKey.generate("Acme", lambda n: rng.randbytes(n)).issue("Alice", int(time.time()), 30, os.urandom)
    return book.trust(int(time.time())), alice


def text(app: Any, selector: str) -> str:
    content = app.query_one(selector).content
    return getattr(content, "plain", None) or str(content)


async def agent_for(relay: RelayServer, identity: AgentIdentity | None) -> tuple[AgentRuntime, list[dict[str, Any]], asyncio.Task]:
    events: list[dict[str, Any]] = []
    runtime = AgentRuntime(RelayLink(relay.url, "agent"), lambda e: events.append(as_json(e)), name="Alice", identity=identity)
    await runtime.create()
    return runtime, events, asyncio.create_task(runtime.run())


async def finish(runtime: Any, task: asyncio.Task) -> None:
    if not task.done():
        await runtime.end("agent_ended")
        try:
            async with asyncio.timeout(5):
                await task
        except BaseException:
            task.cancel()


async def test_customer_app_shows_a_verified_agent_and_grants_control_at_once(relay: RelayServer) -> None:
    trust, alice = acme()
    agent, events, task = await agent_for(relay, alice)
    app = CustomerApp(relay.url, str(agent.code), BASH, trusted=[trust])
    try:
        async with app.run_test(size=(120, 36)) as pilot:
            await until(lambda: app.identity is not None, "the identity verdict", pilot=pilot)
            assert text(app, "#identity") == "✓ Verified: Alice from Acme"
            assert app.query_one("#identity").has_class("verified")
            assert "Alice (Acme) ✓ verified" in text(app, "#who")
            await pilot.press(PREFIX, "g")
            await until(lambda: any(e.get("event") == "consent" and e["level"] == "control" for e in events), "control at the agent", pilot=pilot)
            assert not any("NOT verified" in line for line in app.log_lines)
    finally:
        await finish(agent, task)


async def test_customer_app_warns_about_an_unverified_agent_and_needs_two_presses(relay: RelayServer) -> None:
    trust, _ = acme()
    agent, events, task = await agent_for(relay, None)
    app = CustomerApp(relay.url, str(agent.code), BASH, trusted=[trust], control_cooldown=0.5)
    try:
        async with app.run_test(size=(120, 36)) as pilot:
            await until(lambda: app.identity is not None, "the identity verdict", pilot=pilot)
            strip = text(app, "#identity")
            assert strip.startswith("⚠ UNVERIFIED AGENT: they did not present any organisation credential")
            assert "Ctrl-] f reports this session" in strip
            assert app.query_one("#identity").has_class("unverified")
            assert "⚠ UNVERIFIED" in text(app, "#who")
            runtime = app.runtime
            assert runtime is not None

            await pilot.press(PREFIX, "g")
            await until(lambda: any("WAIT: this agent is NOT verified" in line for line in app.log_lines), "the warning", pilot=pilot)
            assert runtime.consent.level == "view"
            await pilot.press(PREFIX, "g")
            await until(lambda: any(line.startswith("not yet: wait") for line in app.log_lines), "too soon", pilot=pilot)
            assert runtime.consent.level == "view"
            await asyncio.sleep(0.55)
            await pilot.press(PREFIX, "g")
            await until(lambda: runtime.consent.level == "control", "control granted on the second press", pilot=pilot)
            assert "CONTROL" in text(app, "#level")

            await pilot.press(PREFIX, "f")
            await until(lambda: any("to the relay's operator" in line for line in app.log_lines), "the report", pilot=pilot)
            assert runtime.reported
    finally:
        await finish(agent, task)


async def test_agent_console_shows_how_the_customer_sees_the_agent(relay: RelayServer) -> None:
    trust, alice = acme()
    app = AgentApp(relay.url, None, "Alice", identity=alice)
    customers: list[tuple[CustomerRuntime, asyncio.Task]] = []
    try:
        async with app.run_test(size=(140, 40)) as pilot:
            for trusted in ([trust], []):  # a customer who trusts Acme, then one who trusts nobody
                await pilot.press("f2")
                await until(lambda: len(app.query(SessionPane)) == len(customers) + 1, "a new session", pilot=pilot)
                pane = app.query(SessionPane).last()
                await until(lambda: pane.code is not None, "the code", pilot=pilot)
                customer = CustomerRuntime(RelayLink(relay.url, "customer"), lambda e: None, trusted=trusted)
                await customer.join(parse_code(str(pane.code)))
                customers.append((customer, asyncio.create_task(customer.run())))
                await until(lambda: pane.seen_as is not None, "the customer's verdict", pilot=pilot)
                if trusted:
                    assert pane.seen_as.verified
                    assert "you       ✓ verified (Acme)" in pane.facts_text()
                else:
                    assert pane.seen_as.get("status") == "wrong_org"
                    assert "you       ⚠ UNVERIFIED (wrong_org)" in pane.facts_text()
            await app.end_all()
    finally:
        for customer, task in customers:
            if not task.done():
                await customer.end("customer_ended")
            try:
                async with asyncio.timeout(5):
                    await task
            except BaseException:
                task.cancel()

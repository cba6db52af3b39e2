"""The console's facts box keeps counting bytes in and out once the direct (WebRTC) path
carries the frames (it froze before: it showed the relay link's counters). A real relay,
a real customer runtime in this process, real aiortc peers on 127.0.0.1."""

from __future__ import annotations

import asyncio
import os
import re

from cobrowse.io.customer import CustomerRuntime
from cobrowse.io.link import RelayLink
from cobrowse.policy.events import as_json
from cobrowse.protocol.inbound import Budget, RateLimits
from cobrowse.voice.settings import RtcSettings
from cobrowse.wire.code import parse_code
from relay.server import RelayServer
from tests.tui.test_agent_app import SIZE, new_session, text_of
from tests.waiting import until
from tui.agent_app import AgentApp

DIRECT = RtcSettings(direct=True, ice_hosts=("127.0.0.1",), mic="tone:440", speaker="none")
UNITS = {"B": 1, "kB": 1000, "MB": 1_000_000}


def counted(facts: str, row: str) -> float:
    """The byte total of the facts box's "in" or "out" row: ``in  1.2 kB/s (34.5 kB)``."""
    match = re.search(rf"^{row}\s+.*\(([0-9.]+) (B|kB|MB)\)$", facts, re.M)
    assert match, facts
    return float(match[1]) * UNITS[match[2]]


async def test_the_facts_keep_counting_on_the_direct_path(relay: RelayServer) -> None:
    events: list[dict] = []
    customer = CustomerRuntime(RelayLink(relay.url, "customer", reconnect_for=5), lambda e: events.append(as_json(e)),
                               rtc=DIRECT)
    customer.limits = RateLimits({}, default=Budget(1e6, 1e6))
    app = AgentApp(relay.url, None, "Alice", rtc=DIRECT)
    task = None
    async with app.run_test(size=SIZE) as pilot:
        try:
            pane = await new_session(pilot)
            await customer.join(parse_code(str(pane.code)))
            task = asyncio.create_task(customer.run())
            facts = pane.query_one("#facts")
            await until(lambda: "path      direct" in text_of(facts), "the direct path in the facts", 30, pilot=pilot)
            await pilot.pause(1.2)  # the facts are sampled every second
            before_in, before_out = counted(text_of(facts), "in"), counted(text_of(facts), "out")
            for i in range(10):  # random text: compression cannot shrink it
                await customer.run_command("chat", f"{i} {os.urandom(1500).hex()}")
            await until(lambda: counted(text_of(facts), "in") >= before_in + 10 * 1500, "the in counter to count the customer's chat on the direct path", pilot=pilot)
            assert pane.runtime is not None and pane.runtime.rtc.path == "direct"
            for i in range(5):
                pane.query_one("#chat-input").value = f"{i} {os.urandom(1500).hex()}"
                await pilot.click("#chat-input")
                await pilot.press("enter")
            await until(lambda: counted(text_of(facts), "out") >= before_out + 5 * 1500, "the out counter to count the agent's chat on the direct path", pilot=pilot)
        finally:
            await app.end_all()
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)

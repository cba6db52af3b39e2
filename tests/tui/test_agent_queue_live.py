"""The Queue tab as an agent uses it (found in tmux, QA pass): the wait of each customer
keeps counting while the queue does not change (it stayed at the relay's figure, "7 s",
for minutes); F6/F7, which step through the tabs, reach the Queue tab too, and there Down
and Enter pick (the list was not focused: they did nothing)."""

from __future__ import annotations

import asyncio
import os
import re
import time

from textual.widgets import OptionList

from cobrowse.queue.link import QueuedCustomerLink
from cobrowse.queue.sessions import start_queued
from cobrowse.trust.credential import OrgKey
from tests.helpqueue.test_queue_pairing import Side
from tests.tui.terminal_keys import press_key, type_bytes
from tests.waiting import until
from tui.agent_app import AgentApp

SIZE = (120, 40)
NOW = int(time.time())


def waited_s(options: OptionList) -> int:
    shown = str(options.get_option_at_index(0).prompt)
    match = re.match(r"\s*(\d+) (s|min)", shown)
    assert match, shown
    return int(match[1]) * (60 if match[2] == "min" else 1)


async def test_the_wait_counts_on_and_f7_then_enter_picks(relay_url: str) -> None:
    acme = OrgKey.generate("Acme", os.urandom)
    alice = acme.issue("Alice", NOW, 30, os.urandom)[1]
    link = QueuedCustomerLink(relay_url, org=acme.key_id, topic="disk full", lang="en", on_queued=lambda q: None)
    customer = Side("customer", link)
    await start_queued(customer, acme.trust(NOW))
    waiting = asyncio.ensure_future(link.wait_for_pick())
    app = AgentApp(relay_url, None, "Alice", identity=alice, queue=True)
    try:
        async with app.run_test(size=SIZE) as pilot:
            options = app.query_one("#queue-list", OptionList)
            await until(lambda: options.option_count == 1, "the customer in the queue tab", pilot=pilot)
            first = waited_s(options)
            await until(lambda: waited_s(options) >= first + 2, "the wait to count on", pilot=pilot)
            assert app.tabs.active != "queue"
            await press_key(pilot, "F7")
            assert app.tabs.active == "queue"
            await until(lambda: app.focused is options, "the list focused", pilot=pilot)
            await type_bytes(pilot, b"\x1b[B")  # Down, then Enter: picks the highlighted customer
            await type_bytes(pilot, b"\r")
            await asyncio.wait_for(asyncio.shield(waiting), 10)
            await until(lambda: app.query("PickedSessionPane"), "a session tab for the pick", pilot=pilot)
    finally:
        waiting.cancel()
        await asyncio.gather(waiting, return_exceptions=True)
        await link.close()

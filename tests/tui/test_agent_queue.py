"""The agent console's help queue (tui/agent_queue.py) with a Textual pilot against a real
relay: the Queue tab lists the customers who wait, Enter picks one, a session tab opens and
pairs through the queue handshake; a second console sees the queue change."""

from __future__ import annotations

import asyncio
import os
import time

from textual.widgets import OptionList

from cobrowse.trust.credential import OrgKey
from tests.helpqueue.test_queue_pairing import Side
from cobrowse.queue.link import QueuedCustomerLink
from cobrowse.queue.sessions import start_queued
from tests.waiting import until
from tui.agent_app import AgentApp
from tui.agent_queue import PickedSessionPane, QueuePane

SIZE = (120, 40)
NOW = int(time.time())


async def test_the_queue_tab_lists_customers_and_enter_picks_one(relay_url: str) -> None:
    acme = OrgKey.generate("Acme", os.urandom)
    alice = acme.issue("Alice", NOW, 30, os.urandom)[1]
    bob = acme.issue("Bob", NOW, 30, os.urandom)[1]
    link = QueuedCustomerLink(relay_url, org=acme.key_id, topic="[b]disk[/b] full \x1b[31m", lang="ru",
                              on_queued=lambda q: None)
    customer = Side("customer", link)
    await start_queued(customer, acme.trust(NOW))
    waiting = asyncio.ensure_future(link.wait_for_pick())

    first = AgentApp(relay_url, None, "Alice", identity=alice, queue=True)
    second = AgentApp(relay_url, None, "Bob", identity=bob, queue=True)
    async with first.run_test(size=SIZE) as pilot, second.run_test(size=SIZE) as pilot2:
        options = first.query_one("#queue-list", OptionList)
        await until(lambda: options.option_count == 1, "the customer in Alice's queue tab", pilot=pilot)
        shown = str(options.get_option_at_index(0).prompt)
        assert "[b]disk[/b] full" in shown and "\x1b" not in shown and "[ru]" in shown  # data, never markup
        others = second.query_one("#queue-list", OptionList)
        await until(lambda: others.option_count == 1, "the customer in Bob's queue tab", pilot=pilot2)
        assert str(first.tabs.get_tab("queue").label) == "Queue ● 1"  # seen from the Home tab too
        assert str(second.tabs.get_tab("queue").label) == "Queue ● 1"

        first.tabs.active = "queue"
        options.focus()
        options.highlighted = 0
        await pilot.press("enter")
        await until(lambda: first.query(PickedSessionPane), "a session tab for the picked customer", pilot=pilot)
        await until(lambda: others.option_count == 0, "the queue change in Bob's console", pilot=pilot2)
        assert str(second.tabs.get_tab("queue").label) == "Queue"
        await asyncio.wait_for(waiting, 10)
        run = asyncio.ensure_future(customer.run())
        pane = first.query_one(PickedSessionPane)
        await until(lambda: pane.sas is not None, "the picked session paired", pilot=pilot)
        assert customer.session is not None and pane.sas == customer.session.sas
        assert isinstance(second.query_one(QueuePane), QueuePane)
        await customer.end("customer_ended")
        await asyncio.wait_for(run, 10)

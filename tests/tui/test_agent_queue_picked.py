"""A picked customer's session tab as an agent reads it (found in tmux, qa6): the toast that
says customers wait names the way to the Queue tab; once paired, the facts say the link is
connected (it said "connecting" for the whole session: no code event ever came) and that
there is no code (it showed the nameplate and zeros, "77-0000-0000", and F5 copied that)."""

from __future__ import annotations

import asyncio
import os
import time

from textual.widgets import OptionList

from cobrowse.queue.link import QueuedCustomerLink
from cobrowse.queue.sessions import start_queued
from cobrowse.trust.credential import OrgKey
from tests.helpqueue.test_queue_pairing import Side
from tests.tui.terminal_keys import press_key, type_bytes
from tests.waiting import until
from tui.agent_app import AgentApp
from tui.agent_queue import PickedSessionPane

SIZE = (80, 24)
NOW = int(time.time())


async def test_the_toast_leads_to_the_queue_and_a_picked_session_has_no_code(relay_url: str) -> None:
    acme = OrgKey.generate("Acme", os.urandom)
    alice = acme.issue("Alice", NOW, 30, os.urandom)[1]
    link = QueuedCustomerLink(relay_url, org=acme.key_id, topic="disk full", lang="en", on_queued=lambda q: None)
    customer = Side("customer", link)
    await start_queued(customer, acme.trust(NOW))
    waiting = asyncio.ensure_future(link.wait_for_pick())
    app = AgentApp(relay_url, None, "Alice", identity=alice, queue=True)
    toasts: list[str] = []
    notify = app.notify
    app.notify = lambda message, *a, **kw: (toasts.append(str(message)), notify(message, *a, **kw))[1]  # type: ignore[method-assign]
    run = None
    try:
        async with app.run_test(size=SIZE) as pilot:
            options = app.query_one("#queue-list", OptionList)
            await until(lambda: options.option_count == 1, "the customer in the queue tab", pilot=pilot)
            await until(lambda: any("waiting in the help queue" in t for t in toasts), "the toast", pilot=pilot)
            assert any("F6/F7" in t and "Queue tab" in t for t in toasts), toasts
            await press_key(pilot, "F7")
            await until(lambda: app.focused is options, "the list focused", pilot=pilot)
            await type_bytes(pilot, b"\r")
            await asyncio.wait_for(asyncio.shield(waiting), 10)
            run = asyncio.ensure_future(customer.run())
            await until(lambda: app.query(PickedSessionPane), "a session tab for the pick", pilot=pilot)
            pane = app.query_one(PickedSessionPane)
            await until(lambda: pane.sas is not None, "the picked session paired", pilot=pilot)
            facts = pane.facts_text()
            assert "link      connected" in facts and "code      none (help queue)" in facts, facts
            assert "0000-0000" not in facts and pane.code is None
            await press_key(pilot, "F5")
            await until(lambda: any("no code" in t for t in toasts), "F5's answer", pilot=pilot)
            assert not any(t.startswith("Copied") for t in toasts)
            await customer.end("customer_ended")
    finally:
        waiting.cancel()
        await asyncio.gather(waiting, return_exceptions=True)
        if run is not None:
            await asyncio.wait_for(asyncio.gather(run, return_exceptions=True), 10)
        await link.close()

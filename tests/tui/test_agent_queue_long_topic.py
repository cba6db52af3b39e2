"""A customer queued with a long topic: the console's Queue tab at 80x24 shows it on one
row, cut with an ellipsis (it wrapped over several rows, pushing the others down); the whole
topic is in the picked session's chat log. Real relay, Textual pilot; the topic is the
customer's text: data, never markup."""

from __future__ import annotations

import asyncio
import os
import time

from rich.text import Text
from textual.geometry import Region
from textual.widgets import OptionList

from cobrowse.queue.link import QueuedCustomerLink
from cobrowse.queue.sessions import start_queued
from cobrowse.trust.credential import OrgKey
from tests.helpqueue.test_queue_pairing import Side
from tests.waiting import until
from tui.agent_app import AgentApp
from tui.agent_queue import PickedSessionPane, entry_line

NOW = int(time.time())
TOPIC = "[b]printer[/b] on floor 3 says PC LOAD LETTER; the whole office cannot print since this morning's update END"
assert 80 < len(TOPIC) <= 120  # the relay lists 120 characters of a topic (relay/queue.py SHOWN_TOPIC)


def rows_of(options: OptionList) -> list[str]:
    """The list's rows as drawn, without its border rows."""
    drawn = [strip.text.strip("▊▎ ") for strip in options.render_lines(Region(0, 0, *options.outer_size))]
    return [row for row in drawn if row and not set(row) <= set("▔▁")]


def test_an_entry_is_one_row_cut_with_an_ellipsis() -> None:
    line = entry_line(12, "ru", "x" * 300)
    assert isinstance(line, Text) and line.no_wrap and line.overflow == "ellipsis"
    assert "x" * 300 in line.plain  # cut where it is drawn, at the list's width, not here


async def test_a_long_topic_takes_one_row_at_80x24_and_is_whole_in_the_picked_session(relay_url: str) -> None:
    acme = OrgKey.generate("Acme", os.urandom)
    alice = acme.issue("Alice", NOW, 30, os.urandom)[1]
    customers = []
    for topic in (TOPIC, "second customer"):
        link = QueuedCustomerLink(relay_url, org=acme.key_id, topic=topic, lang="en", on_queued=lambda q: None)
        customer = Side("customer", link)
        await start_queued(customer, acme.trust(NOW))
        customers.append((customer, link, asyncio.ensure_future(link.wait_for_pick())))

    app = AgentApp(relay_url, None, "Alice", identity=alice, queue=True)
    async with app.run_test(size=(80, 24)) as pilot:
        options = app.query_one("#queue-list", OptionList)
        await until(lambda: options.option_count == 2, "both customers in the queue tab", pilot=pilot)
        app.tabs.active = "queue"
        await pilot.pause()
        await until(lambda: "second customer" in "\n".join(rows_of(options)), "the list drawn", pilot=pilot)
        rows = rows_of(options)
        assert len(rows) == 2, rows  # one row each: the long topic does not wrap
        assert rows[0].endswith("…") and "[b]printer[/b]" in rows[0] and "END" not in rows[0], rows
        assert "second customer" in rows[1]

        options.focus()
        options.highlighted = 0
        await pilot.press("enter")
        await until(lambda: app.query(PickedSessionPane), "a session tab for the picked customer", pilot=pilot)
        pane = app.query_one(PickedSessionPane)
        await until(lambda: TOPIC in pane.chat_log.plain(), "the whole topic in the session's chat log", pilot=pilot)
        await asyncio.wait_for(customers[0][2], 10)
    for customer, link, waiting in customers:
        waiting.cancel()
        await link.close()

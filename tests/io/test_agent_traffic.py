"""The console's in/out byte counters keep counting once the direct (WebRTC) path carries the
frames: they count the session's sealed frames whichever path took them. Real aiortc peers
on 127.0.0.1 and a real relay, as in tests/io/test_rtc.py."""

from __future__ import annotations

import os

from cobrowse.protocol.messages import Chat
from cobrowse.protocol.session import Session
from cobrowse.wire.code import Code
from relay.server import RelayServer
from tests.io.test_resume import stop
from tests.io.test_rtc import chats, on_path, paired

CODE = Code("42", "71930518")


async def test_traffic_counters_keep_counting_on_the_direct_path(relay: RelayServer, relay_url: str) -> None:
    agent, agent_events, customer, customer_events, tasks = await paired(relay_url)
    try:
        await on_path(agent_events, "direct")
        await on_path(customer_events, "direct")
        link_before = (agent.link.bytes_received, agent.link.bytes_sent)
        received, sent = agent.traffic()
        assert received >= link_before[0] > 0 and sent >= link_before[1] > 0
        for i in range(20):  # random text: compression cannot shrink it below 1000 bytes
            await customer.send(Chat(f"{i} {os.urandom(1000).hex()}"))
            await agent.send(Chat(f"{i} {os.urandom(1000).hex()}"))
        await agent_events.until(lambda: len(chats(agent_events)) == 20)
        await customer_events.until(lambda: len(chats(customer_events)) == 20)
        assert agent.rtc.direct_frames >= 20  # the frames did take the direct path
        now_received, now_sent = agent.traffic()
        assert now_received - received >= 20 * 1000 and now_sent - sent >= 20 * 1000
        # What the console showed before: the relay link's counters, which barely moved.
        assert agent.link.bytes_received - link_before[0] < 20 * 1000
        assert agent.link.bytes_sent - link_before[1] < 20 * 1000
    finally:
        await stop(tasks, agent, customer)


def test_the_session_counts_every_frame_it_takes_and_hands_out() -> None:
    agent = Session("agent", CODE, os.urandom)
    customer = Session("customer", CODE, os.urandom)
    for side in (agent, customer):
        side.peer_joined(0.0)
    for _ in range(4):  # the handshake, both ways
        for a, b in ((agent, customer), (customer, agent)):
            for frame in a.data_to_send():
                b.receive_data(frame, 0.0)
    assert agent.state == customer.state == "paired"
    agent.send(Chat("hello"), 0.0)
    out = agent.data_to_send()
    for frame in out:
        customer.receive_data(frame, 0.0)
    assert agent.bytes_sent >= sum(map(len, out)) > 0
    assert customer.bytes_received == agent.bytes_sent

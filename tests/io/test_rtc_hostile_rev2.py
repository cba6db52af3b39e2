"""A hostile peer's call and direct-path signalling against a real runtime, through a real
relay (rev2): ``rtc`` and ``call`` messages are handled by the session runtime before the
customer's rate limits see anything, so ``RtcManager`` bounds them itself. A ring the peer
repeats is shown a bounded number of times, an offer it repeats builds a bounded number of
peer connections, and what WebRTC says about the peer's SDP is a few short, escaped lines."""

from __future__ import annotations

import asyncio
from typing import Any

from cobrowse.io.rtc import MAX_WARNING, PEER_BUDGETS, TOO_MANY_CALLS, WARNINGS_PER_WINDOW
from cobrowse.protocol import messages as m
from cobrowse.voice.settings import RtcSettings
from tests.io.test_resume import stop
from tests.io.test_rtc import DIRECT, paired

NO_DIRECT = RtcSettings(direct=False, ice_hosts=("127.0.0.1",), mic="tone:440", speaker="none")


async def sync(agent: Any, events: Any) -> None:
    await agent.send(m.Chat("sync"))
    await events.until(lambda: any(e.get("text") == "sync" for e in events.of("chat")), timeout=30)


def tap(runtime: Any) -> list[m.Rtc | m.Call]:
    """What ``runtime``'s WebRTC side receives from its peer, in order (then handled as ever)."""
    seen: list[m.Rtc | m.Call] = []
    handle = runtime.rtc.on_message

    async def tapped(message: m.Rtc | m.Call) -> None:
        seen.append(message)
        await handle(message)

    runtime.rtc.on_message = tapped
    return seen


async def test_a_ring_flood_rings_the_customer_a_bounded_number_of_times(relay_url: str) -> None:
    agent, _, customer, events, tasks = await paired(relay_url, NO_DIRECT, NO_DIRECT)
    answers = tap(agent)
    try:
        for i in range(300):
            await agent.send(m.Call("invite"))
            await agent.send(m.Call("hangup", f"bye {i}"))
        await sync(agent, events)
        rings = [e for e in events.of("voice") if e["state"] == "ringing"]
        assert 1 <= len(rings) <= PEER_BUDGETS["call_invite"].burst
        assert len(events.of("voice")) <= 2 * PEER_BUDGETS["call_invite"].burst
        assert not events.of("error") and customer.rtc.call.state == "idle"
        declined = [a for a in answers if isinstance(a, m.Call) and a.reason == TOO_MANY_CALLS]
        assert 1 <= len(declined) <= PEER_BUDGETS["declined"].burst + 2  # said why, not once per ring
    finally:
        await stop(tasks, agent, customer)


async def test_a_mute_flood_during_a_call_is_bounded(relay_url: str) -> None:
    agent, _, customer, events, tasks = await paired(relay_url, NO_DIRECT, NO_DIRECT)
    try:
        await agent.send(m.Call("invite"))
        await events.until(lambda: customer.rtc.call.state == "ringing")
        customer.rtc.call.accept()  # the customer's yes, without opening media (none is needed here)
        customer.rtc.call.messages_to_send()
        for _ in range(300):
            await agent.send(m.Call("mute"))
            await agent.send(m.Call("unmute"))
        await sync(agent, events)
        assert len(events.of("voice")) <= 2 + PEER_BUDGETS["call"].burst
    finally:
        await stop(tasks, agent, customer)


async def test_an_offer_flood_builds_a_bounded_number_of_peer_connections(relay_url: str) -> None:
    agent, _, customer, events, tasks = await paired(relay_url, NO_DIRECT, DIRECT)
    answers = tap(agent)
    try:
        for gen in range(40):
            await agent.send(m.Rtc("data", "offer", "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\n", gen + 1))
            await asyncio.sleep(0.05)  # each one awaited by the customer: a peer connection each, before
        await sync(agent, events)
        await asyncio.sleep(1.0)  # the last answers
        assert 1 <= len([a for a in answers if isinstance(a, m.Rtc)]) <= PEER_BUDGETS["rtc_offer"].burst + 1
    finally:
        await stop(tasks, agent, customer)


async def test_webrtc_complaints_about_the_peers_sdp_are_few_short_and_escaped(relay_url: str) -> None:
    agent, _, customer, events, tasks = await paired(relay_url, NO_DIRECT, DIRECT)
    customer.rtc.limits.budgets["rtc_offer"] = PEER_BUDGETS["rtc"]  # offers enough to complain about
    try:
        for gen in range(30):
            await agent.send(m.Rtc("data", "offer", "v=0 \x1b]0;title\x07" + "9" * (m.MAX_SDP - 20), gen + 1))
            await asyncio.sleep(0.05)
        await sync(agent, events)
        await asyncio.sleep(1.0)
        warnings = events.of("warning")
        assert 1 <= len(warnings) <= WARNINGS_PER_WINDOW
        assert all(len(w["message"]) <= MAX_WARNING for w in warnings)
        assert not any(ch in w["message"] for w in warnings for ch in "\x1b\x07\r\n")
    finally:
        await stop(tasks, agent, customer)


async def test_a_peer_that_accepts_and_offers_media_itself_never_opens_the_customers_microphone(relay_url: str) -> None:
    """The agent rings, then sends what the customer's own yes would lead to (``accept``, a
    real audio offer) without the customer answering: no microphone, no answer, still ringing."""
    from cobrowse.io import webrtc

    agent, _, customer, events, tasks = await paired(relay_url, NO_DIRECT, NO_DIRECT)
    answers = tap(agent)
    pc = webrtc.peer_connection([], ("127.0.0.1",), relay_only=False)
    try:
        pc.addTransceiver("audio")
        offer = await webrtc.make_offer(pc)
        await agent.send(m.Call("invite"))
        await events.until(lambda: customer.rtc.call.state == "ringing")
        await agent.send(m.Call("accept"))
        await agent.send(m.Rtc("call", "offer", offer))
        await agent.send(m.Call("unmute"))
        await sync(agent, events)
        await asyncio.sleep(0.5)
        assert customer.rtc.call.state == "ringing" and customer.rtc._mic is None and customer.rtc._call_pc is None
        assert not [a for a in answers if isinstance(a, m.Rtc) and a.pc == "call"]
    finally:
        await pc.close()
        await stop(tasks, agent, customer)

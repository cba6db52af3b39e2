"""The help queue on a real relay (127.0.0.1, ephemeral port) with real websockets clients."""

from __future__ import annotations

import asyncio
import hashlib
import json
from typing import Any, AsyncIterator

import pytest
from websockets.asyncio.client import ClientConnection, connect

from cobrowse.wire.envelope import Claim, Confirm, Enqueue, Message, Open, Pick, Watch
from relay.config import RelayConfig
from relay.server import RelayServer, serve_relay

T = 3.0
ORG = "0123456789abcdef"


@pytest.fixture
async def relay() -> AsyncIterator[RelayServer]:
    server = await serve_relay(RelayConfig(host="127.0.0.1", port=0, tick_interval=0.05, handshake_timeout=1.0,
                                           agent_tokens=(hashlib.sha256(b"good").hexdigest(),)))
    yield server
    server.close()
    await asyncio.wait_for(server.wait_closed(), T)


async def send(ws: ClientConnection, msg: Message) -> None:
    await ws.send(msg.encode())


async def until(ws: ClientConnection, kind: str, **match: Any) -> dict[str, Any]:
    async with asyncio.timeout(T):
        while True:
            raw = await ws.recv()
            if isinstance(raw, bytes):
                continue
            obj = json.loads(raw)
            if obj["type"] == kind and all(obj.get(k) == v for k, v in match.items()):
                return obj  # type: ignore[no-any-return]


async def queued_customer(relay: RelayServer, topic: str) -> tuple[ClientConnection, str, str]:
    ws = await connect(relay.url)
    await send(ws, Open("customer", 1))
    opened = await until(ws, "opened")
    await send(ws, Enqueue(ORG, topic, "en"))
    place = await until(ws, "queued")
    return ws, opened["nameplate"], place["id"]


async def test_two_agents_one_pick_and_the_claim_needs_its_ticket(relay: RelayServer) -> None:
    c1, nameplate, entry = await queued_customer(relay, "git push is rejected")
    a1, a2 = await connect(relay.url), await connect(relay.url)
    for a in (a1, a2):
        await send(a, Watch(ORG, 1, "good"))
        listing = await until(a, "queue")
        assert [e["id"] for e in listing["waiting"]] == [entry]
    await asyncio.sleep(1.5)  # past the handshake timeout: a watcher is not closed by it
    await send(a1, Pick(entry))
    picked = await until(a1, "picked", id=entry)
    assert (await until(a2, "queue", waiting=[]))["total"] == 0
    await send(a2, Pick(entry))
    assert (await until(a2, "error"))["code"] == "picked"

    squatter = await connect(relay.url)
    await send(squatter, Claim("agent", 1, nameplate, "good"))
    assert (await until(squatter, "error"))["code"] == "taken"

    session = await connect(relay.url)
    await send(session, Claim("agent", 1, nameplate, "good", ticket=picked["ticket"]))
    await until(session, "claimed")
    await until(c1, "peer", state="joined")
    await session.send(b"\x03hello")
    assert await asyncio.wait_for(c1.recv(), T) == b"\x03hello"
    await send(c1, Confirm())
    c2, _, second = await queued_customer(relay, "disk full")
    listing = await until(a2, "queue", total=1)
    assert [e["id"] for e in listing["waiting"]] == [second] and relay.queue.size() == 1
    for ws in (c1, c2, a1, a2, squatter, session):
        await ws.close()


async def test_a_watcher_needs_a_token_and_only_a_customer_creator_queues(relay: RelayServer) -> None:
    bad = await connect(relay.url)
    await send(bad, Watch(ORG, 1, "wrong"))
    assert (await until(bad, "error"))["code"] == "unauthorized"
    agent = await connect(relay.url)
    await send(agent, Open("agent", 1, "good"))
    await until(agent, "opened")
    await send(agent, Enqueue(ORG, "x"))
    assert (await until(agent, "error"))["code"] == "not_queued"
    await agent.close()


async def test_a_customer_who_leaves_leaves_the_queue(relay: RelayServer) -> None:
    c1, _, entry = await queued_customer(relay, "x")
    watcher = await connect(relay.url)
    await send(watcher, Watch(ORG, 1, "good"))
    await until(watcher, "queue", total=1)
    await c1.close()
    await until(watcher, "queue", total=0)
    assert relay.queue.size() == 0
    await watcher.close()

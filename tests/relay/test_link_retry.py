"""What a side does and says when its relay goes away: it keeps trying through refusals
that pass (``unavailable``, ``full``, ``rate_limited``), and tells who dropped. A scripted
websockets relay on 127.0.0.1 plays the relay; the client is the real RelayLink."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from websockets.asyncio.server import ServerConnection, serve

from cobrowse.io.link import (
    DropCause,
    LinkEnded,
    Reconnecting,
    RelayLink,
    Resumed,
    gave_up_message,
    peer_left_message,
    reconnecting_message,
)

T = 15.0


async def next_of(link: RelayLink, kind: type) -> Any:
    async with asyncio.timeout(T):
        while True:
            item = await link.items.get()
            if isinstance(item, kind):
                return item


async def test_a_resume_answered_unavailable_is_tried_again_until_it_succeeds() -> None:
    answers = ["unavailable", "unavailable", "resumed"]

    async def handler(ws: ServerConnection) -> None:
        msg = json.loads(await ws.recv())
        if msg["type"] == "open":
            await ws.send(json.dumps({"type": "opened", "nameplate": "42", "side": "s" * 32, "ttl": 600}))
            await ws.close(1012, "restarting")  # the relay restarts
            return
        assert msg == {"type": "resume", "nameplate": "42", "side": "s" * 32}
        answer = answers.pop(0)
        if answer == "unavailable":
            await ws.send(json.dumps({"type": "error", "code": "unavailable", "message": "x", "retry_after": 1}))
            await ws.close(1013, "unavailable")
            return
        await ws.send(json.dumps({"type": "resumed", "nameplate": "42", "peer": True}))
        await ws.wait_closed()

    async with serve(handler, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        link = RelayLink(f"ws://127.0.0.1:{port}", "agent", reconnect_for=30)
        await link.open()
        runner = asyncio.create_task(link.run())
        try:
            first = await next_of(link, Reconnecting)
            assert first.cause is DropCause.RELAY_RESTART and 0 < first.give_up_in <= 30
            later = await next_of(link, Reconnecting)
            assert later.cause is DropCause.BUSY  # the relay is back but asked to wait: no end
            assert (await next_of(link, Resumed)).peer is True
            assert answers == []
        finally:
            runner.cancel()
            await asyncio.gather(runner, return_exceptions=True)
            await link.close()


async def test_a_relay_that_is_gone_for_good_is_named_as_the_relay_not_the_network() -> None:
    async def handler(ws: ServerConnection) -> None:
        await ws.recv()
        await ws.send(json.dumps({"type": "opened", "nameplate": "7", "side": "t" * 32, "ttl": 600}))
        await ws.wait_closed()

    server = await serve(handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    link = RelayLink(f"ws://127.0.0.1:{port}", "customer", reconnect_for=1.5)
    await link.open()
    runner = asyncio.create_task(link.run())
    server.close()  # the relay process is gone: its port refuses connections
    await server.wait_closed()
    try:
        ended = await next_of(link, LinkEnded)
        assert ended.reason == "connection_lost"
        assert "stopped and was not back" in ended.message and "check your network" not in ended.message
    finally:
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)


def test_the_messages_say_who_dropped_and_what_happens_next() -> None:
    assert "the relay is restarting" in reconnecting_message(DropCause.RELAY_RESTART, 300)
    assert "resumes by itself" in reconnecting_message(DropCause.RELAY_DOWN, 300)
    assert "5 min" in reconnecting_message(DropCause.NETWORK, 300)
    assert "start a new session" not in reconnecting_message(DropCause.RELAY_RESTART, 300)
    assert peer_left_message("customer", 300.0).startswith("the agent's connection dropped")
    assert "up to 5 min" in peer_left_message("customer", 300.0) and "yours is fine" in peer_left_message("agent", 60)
    assert "check your network" in gave_up_message("ws://x", 300, DropCause.NETWORK)
    assert "check your network" not in gave_up_message("ws://x", 300, DropCause.RELAY_DOWN)

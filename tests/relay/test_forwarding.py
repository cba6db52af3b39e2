"""Data frames between two paired sockets, both ways at once: every frame arrives once, in
order, counted, under the byte rate, with control messages in between; an oversized frame
is never forwarded."""

from __future__ import annotations

import asyncio
import json
import os
import struct
from typing import Awaitable, Callable

import pytest
from websockets.asyncio.client import ClientConnection

from cobrowse.wire.envelope import Ping
from relay.server import RelayServer
from tests.relay.test_ops_server import closed_code, make_relay, pair, send  # noqa: F401 (make_relay: a fixture)

T = 10.0


def numbered(i: int, size: int) -> bytes:
    return struct.pack(">I", i) + os.urandom(max(0, size - 4))


async def stream(ws: ClientConnection, frames: list[bytes]) -> None:
    """Send ``frames``, a control message (ping) after every seventh."""
    for i, frame in enumerate(frames):
        await ws.send(frame)
        if i % 7 == 6:
            await send(ws, Ping())


async def take(ws: ClientConnection, count: int) -> tuple[list[bytes], int]:
    """The next ``count`` binary frames, and how many pongs came meanwhile."""
    frames: list[bytes] = []
    pongs = 0
    while len(frames) < count:
        data = await asyncio.wait_for(ws.recv(), T)
        if isinstance(data, bytes):
            frames.append(data)
        else:
            assert json.loads(data)["type"] == "pong", data
            pongs += 1
    return frames, pongs


@pytest.mark.parametrize("rate", [0, 150_000])  # 0: no byte rate; 150 kB/s: the handler throttles mid-stream
async def test_frames_both_ways_arrive_once_in_order_and_counted(
    make_relay: Callable[..., Awaitable[RelayServer]], rate: int,
) -> None:
    relay = await make_relay(max_bytes_per_s=rate, max_frame_bytes=4096)
    agent, customer = await pair(relay)
    sizes = [5, 4096, 100, 2000, 37, 4096, 4096, 1] * 12
    to_customer = [numbered(i, n) for i, n in enumerate(sizes)]
    to_agent = [numbered(i, n) for i, n in enumerate(reversed(sizes))]
    before = relay.rooms.traffic_total()
    senders = [asyncio.create_task(stream(agent, to_customer)), asyncio.create_task(stream(customer, to_agent))]
    (got_customer, _), (got_agent, _) = await asyncio.gather(take(customer, len(to_customer)),
                                                              take(agent, len(to_agent)))
    await asyncio.wait_for(asyncio.gather(*senders), T)
    assert got_customer == to_customer
    assert got_agent == to_agent
    frames, nbytes = relay.rooms.traffic_total()
    assert frames - before[0] == len(to_customer) + len(to_agent)
    assert nbytes - before[1] == sum(map(len, to_customer)) + sum(map(len, to_agent))
    await agent.close()
    await customer.close()


async def test_a_frame_over_the_limit_is_never_forwarded(make_relay: Callable[..., Awaitable[RelayServer]]) -> None:
    relay = await make_relay(max_frame_bytes=1024)
    agent, customer = await pair(relay)
    await agent.send(b"a" * 10)
    assert await asyncio.wait_for(customer.recv(), T) == b"a" * 10
    await agent.send(b"b" * 2048)  # over max_frame_bytes: the handler's path refuses it
    error = json.loads(await asyncio.wait_for(agent.recv(), T))
    assert error["type"] == "error" and error["code"] == "too_large", error
    assert await closed_code(agent) == 1009
    with pytest.raises(TimeoutError):  # the customer hears of its peer, never the frame
        for _ in range(50):
            data = await asyncio.wait_for(customer.recv(), 0.5)
            assert isinstance(data, str), f"{len(data)} bytes reached the customer"

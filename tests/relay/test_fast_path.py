"""Data frames between two paired sockets take the relay's fast path (relay/connection.py:
forwarded from the read callback, found by relay/wsframes.py) when nothing has to wait, and
the handler's loop otherwise: either way every frame arrives
once, in order, counted, under the byte rate, with control messages in between."""

from __future__ import annotations

import asyncio
import json
import os
import struct
from typing import Any, AsyncIterator, Awaitable, Callable

import pytest
from websockets.asyncio.client import ClientConnection

from cobrowse.wire.envelope import Ping
from relay.config import RelayConfig
from relay.connection import FAST_PAYLOAD_MAX
from relay.server import RelayServer, serve_relay
from tests.relay.test_ops_server import closed_code, pair, send

T = 10.0


@pytest.fixture
async def make_relay() -> AsyncIterator[Callable[..., Awaitable[RelayServer]]]:
    started: list[RelayServer] = []

    async def start(**overrides: Any) -> RelayServer:
        relay = await serve_relay(RelayConfig(**{"host": "127.0.0.1", "port": 0, "tick_interval": 0.05, **overrides}))
        started.append(relay)
        return relay

    yield start
    for relay in started:
        relay.close()
        await asyncio.wait_for(relay.wait_closed(), T)


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
        while True:
            data = await asyncio.wait_for(customer.recv(), 0.5)
            assert isinstance(data, str), f"{len(data)} bytes reached the customer"


async def test_paired_frames_take_the_fast_path(make_relay: Callable[..., Awaitable[RelayServer]]) -> None:
    """Between two local sockets with nothing queued, every data frame is forwarded from the
    read callback (websockets' public API only: relay/connection.py)."""
    relay = await make_relay()
    agent, customer = await pair(relay)
    await agent.send(b"first")  # may arrive before the relay has read the agent's confirm: the loop's
    assert await asyncio.wait_for(customer.recv(), T) == b"first"
    server = relay._server
    assert server is not None
    sides = [ws for ws in server.connections if relay.rooms.route_of(ws) is not None]
    assert len(sides) == 2
    before = sum(ws.fast_frames for ws in sides)  # type: ignore[attr-defined]
    for i in range(20):
        await agent.send(b"x%d" % i)
        assert await asyncio.wait_for(customer.recv(), T) == b"x%d" % i
        await customer.send(b"y" * 300 * i)  # 16-bit lengths too
        assert await asyncio.wait_for(agent.recv(), T) == b"y" * 300 * i
    assert sum(ws.fast_frames for ws in sides) - before == 40  # type: ignore[attr-defined]
    await agent.close()
    await customer.close()


async def test_frames_over_the_fast_paths_size_take_the_loop_intact(make_relay: Callable[..., Awaitable[RelayServer]]) -> None:
    """A frame over FAST_PAYLOAD_MAX is never held back by the splitter (a big frame arriving
    in many reads would be copied many times): websockets gets it as it comes, and it arrives."""
    relay = await make_relay(max_frame_bytes=1024 * 1024)
    agent, customer = await pair(relay)
    frames = [numbered(i, n) for i, n in enumerate([10, FAST_PAYLOAD_MAX + 1, 900_000, 10, FAST_PAYLOAD_MAX])]
    sender = asyncio.create_task(stream(agent, frames))
    got, _ = await take(customer, len(frames))
    await asyncio.wait_for(sender, T)
    assert got == frames
    await agent.close()
    await customer.close()


async def test_a_receiver_over_its_write_limit_gets_every_frame_in_order(
    make_relay: Callable[..., Awaitable[RelayServer]],
) -> None:
    """The fast path fills the receiver's buffer, then frames wait in the loop (which waits for
    the buffer to drain first): nothing lost, nothing reordered."""
    relay = await make_relay(send_buffer_bytes=4096, slow_consumer_timeout=30.0)
    agent, customer = await pair(relay, max_queue=1)
    frames = [numbered(i, 4000) for i in range(1500)]  # 6 MB: more than loopback's socket buffers hold

    async def send_all() -> None:  # no control messages: the agent reads nothing here
        for frame in frames:
            await agent.send(frame)

    sender = asyncio.create_task(send_all())
    await asyncio.sleep(0.5)  # the customer reads nothing meanwhile: the relay's buffer for it fills
    got, _ = await take(customer, len(frames))
    await asyncio.wait_for(sender, T)
    assert got == frames
    await agent.close()
    await customer.close()

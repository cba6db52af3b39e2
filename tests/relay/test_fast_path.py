"""Data frames between two paired sockets take the relay's fast path (relay/connection.py:
forwarded from the read callback, found by relay/wsframes.py) when nothing has to wait, and
the handler's loop otherwise: either way every frame arrives
once, in order, counted, under the byte rate, with control messages in between."""

from __future__ import annotations

import asyncio
from typing import Awaitable, Callable

from relay.connection import FAST_PAYLOAD_MAX
from relay.server import RelayServer
from tests.relay.test_forwarding import T, numbered, stream, take
from tests.relay.test_ops_server import make_relay, pair  # noqa: F401 (make_relay: a fixture)

# Both ways at once, throttled or not, and an oversized frame: tests/relay/test_forwarding.py
# (every paired frame there takes this path now when it may).


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

"""The link's receive queue under a relay that sends faster than the session takes frames: a
websockets server on 127.0.0.1 floods a real ``RelayLink`` connection while nothing reads
``items``; the queue stops at its high-water mark (the socket's reading paused, TCP pushing
back on the sender), and once drained every frame arrives, in order, none dropped."""

from __future__ import annotations

import asyncio
import struct

from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve

from cobrowse.io.link import _CONNECT_OPTIONS, ITEMS_HIGH, ITEMS_HIGH_BYTES, MAX_FRAME, Frame, LinkEnded, RelayLink

WAIT = 20.0


async def flooded_link(frames: list[bytes]) -> tuple[RelayLink, asyncio.Event, asyncio.Task[None]]:
    """A link attached to a server that sends ``frames`` then closes; ``sent`` once all went."""
    sent = asyncio.Event()

    async def handler(ws: ServerConnection) -> None:
        for frame in frames:
            await ws.send(frame)
        sent.set()
        await ws.wait_closed()

    server = await serve(handler, "127.0.0.1", 0, compression=None, max_size=None, ping_interval=None)
    port = next(iter(server.sockets)).getsockname()[1]
    link = RelayLink(f"ws://127.0.0.1:{port}", "agent", reconnect_for=0)
    ws = await connect(link.url, proxy=None, **_CONNECT_OPTIONS)
    link._attach(ws, "1234", "a")
    runner = asyncio.create_task(link.run())
    runner.add_done_callback(lambda _: server.close())
    return link, sent, runner


async def quiet(link: RelayLink) -> None:
    """Until the queue stops growing for a while (bounded)."""
    async with asyncio.timeout(WAIT):
        while True:
            before = link.items.qsize()
            await asyncio.sleep(0.3)
            if link.items.qsize() == before:
                return


async def drain(link: RelayLink, count: int) -> list[bytes]:
    got: list[bytes] = []
    async with asyncio.timeout(WAIT):
        while len(got) < count:
            item = await link.items.get()
            if isinstance(item, Frame):
                got.append(item.data)
            elif isinstance(item, LinkEnded):
                break
    return got


async def test_small_frames_stop_at_the_high_water_mark_and_all_arrive() -> None:
    frames = [struct.pack(">I", i) + bytes(60) for i in range(20_000)]
    link, sent, runner = await flooded_link(frames)
    try:
        await quiet(link)
        assert link.items.qsize() <= ITEMS_HIGH + 4096  # at most one socket read past the mark
        got = await drain(link, len(frames))
        assert got == frames
        assert link.items.peak_bytes <= ITEMS_HIGH_BYTES + 256 * 1024
    finally:
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)


async def test_maximum_size_frames_are_held_to_a_few() -> None:
    frames = [bytes([i]) * (MAX_FRAME - 64) for i in range(24)]
    link, sent, runner = await flooded_link(frames)
    try:
        await quiet(link)
        assert not sent.is_set()
        assert link.items.qsize() <= 2
        assert link.items.peak_bytes <= ITEMS_HIGH_BYTES + 2 * MAX_FRAME
        got = await drain(link, len(frames))
        assert [g[0] for g in got] == list(range(24)) and all(len(g) == MAX_FRAME - 64 for g in got)
    finally:
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)

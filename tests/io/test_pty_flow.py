"""The one write queue both directions of plain mode use, on a real pipe."""

from __future__ import annotations

import asyncio
import os

from cobrowse.io.pty_flow import WriteQueue


def _write_nonblocking(fd: int, data: bytes | bytearray, max_block: float) -> int:
    try:
        return os.write(fd, data)
    except BlockingIOError:
        return 0


async def test_a_full_pipe_pauses_the_producer_and_a_reader_resumes_it() -> None:
    r, w = os.pipe()
    os.set_blocking(w, False)
    os.set_blocking(r, False)
    events: list[str] = []
    try:
        queue = WriteQueue(w, _write_nonblocking, high_water=4096, low_water=1024)
        queue.set_flow_control(lambda: events.append("pause"), lambda: events.append("resume"))
        chunk = b"x" * 65536
        for _ in range(4):  # a pipe holds 64 KiB: the rest must queue
            queue.write(chunk)
        assert events == ["pause"]
        assert queue.buffered > 4096
        total = 4 * len(chunk)
        got = 0
        async with asyncio.timeout(10):
            while got < total:
                await asyncio.sleep(0.001)
                try:
                    got += len(os.read(r, 65536))
                except BlockingIOError:
                    pass
            await queue.drain()
        assert events == ["pause", "resume"]
        assert queue.buffered == 0
        assert queue.max_buffered >= 3 * len(chunk)
    finally:
        os.close(r)
        os.close(w)


async def test_closing_drops_the_queue_and_wakes_drainers() -> None:
    r, w = os.pipe()
    os.set_blocking(w, False)
    os.set_blocking(r, False)
    events: list[str] = []
    try:
        queue = WriteQueue(w, _write_nonblocking, high_water=1024, low_water=0)
        queue.set_flow_control(lambda: events.append("pause"), lambda: events.append("resume"))
        queue.write(b"y" * 200_000)
        waiter = asyncio.ensure_future(queue.drain())
        await asyncio.sleep(0)
        assert not waiter.done()
        queue.close()
        async with asyncio.timeout(5):
            await waiter
        assert queue.buffered == 0 and events == ["pause", "resume"]
        queue.write(b"after close")  # dropped, no error
    finally:
        os.close(r)
        os.close(w)

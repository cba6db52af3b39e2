"""The customer's terminal write when nothing is queued goes straight out; once stdout backs
up, later writes queue behind what waits, in order, and the program is paused and resumed;
a closed stdout drops output without an error. On a real pipe."""

from __future__ import annotations

import asyncio
import os

from cobrowse.io.pty_terminal import LocalTerminal


async def test_a_free_stdout_takes_each_write_at_once() -> None:
    r, w = os.pipe()
    try:
        with LocalTerminal(r, w, max_block=0.0) as term:
            for i in range(50):
                term.write(b"line %d\r\n" % i)
                assert term.buffered == 0
            assert term.max_buffered == 0
            os.set_blocking(r, False)
            assert os.read(r, 65536) == b"".join(b"line %d\r\n" % i for i in range(50))
    finally:
        os.close(r)
        os.close(w)


async def test_writes_behind_a_backed_up_stdout_keep_their_order() -> None:
    r, w = os.pipe()
    events: list[str] = []
    try:
        with LocalTerminal(r, w, max_block=0.0, high_water=16 * 1024) as term:
            term.set_flow_control(lambda: events.append("pause"), lambda: events.append("resume"))
            chunks = [(b"%05d" % i) * 700 for i in range(60)]  # 3.5 KB each: 210 KB, a pipe holds 64 KiB
            for chunk in chunks:
                term.write(chunk)
            assert term.buffered > 0 and events == ["pause"]
            os.set_blocking(r, False)
            got = bytearray()
            async with asyncio.timeout(10):
                while len(got) < sum(map(len, chunks)):
                    try:
                        got += os.read(r, 65536)
                    except BlockingIOError:
                        await asyncio.sleep(0.001)
                    if len(got) > 100_000 and len(chunks) == 60:  # more while some still wait
                        more = [(b"%05d" % i) * 10 for i in range(60, 80)]
                        for chunk in more:
                            term.write(chunk)
                        chunks += more
                await term.drain()
            assert bytes(got) == b"".join(chunks)
            assert events == ["pause", "resume"] and term.buffered == 0
    finally:
        os.close(r)
        os.close(w)


async def test_a_partial_write_queues_only_the_rest() -> None:
    r, w = os.pipe()
    try:
        with LocalTerminal(r, w, max_block=0.0) as term:
            room = 65536 - 4096  # a page left
            term.write(b"a" * room)
            assert term.buffered == 0
            term.write(b"b" * 10_000)  # some fits now (a write above PIPE_BUF may be cut)
            assert 0 < term.buffered < 10_000
            os.set_blocking(r, False)
            got = bytearray()
            async with asyncio.timeout(10):
                while len(got) < room + 10_000:
                    try:
                        got += os.read(r, 65536)
                    except BlockingIOError:
                        await asyncio.sleep(0.001)
                await term.drain()
            assert bytes(got) == b"a" * room + b"b" * 10_000
    finally:
        os.close(r)
        os.close(w)


async def test_a_closed_stdout_drops_output_without_an_error() -> None:
    r, w = os.pipe()
    try:
        with LocalTerminal(r, w, max_block=0.0) as term:
            os.close(r)
            r = -1
            term.write(b"nobody reads this")
            assert term.output_broken and term.buffered == 0
            term.write(b"nor this")
    finally:
        if r >= 0:
            os.close(r)
        os.close(w)

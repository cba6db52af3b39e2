"""A short read from the pty ends its readiness callback (no second read that could only
fail with EAGAIN), and nothing is lost or reordered by it: slow output and a flood both
arrive whole. Real ptys and real programs; ``os.read`` is only counted, never replaced."""

from __future__ import annotations

import asyncio
import os

import pytest

from cobrowse.io import pty_process
from cobrowse.io.pty import PtyProcess
from cobrowse.io.pty_process import SHORT_READ
from tests.io.test_pty import Collector


class CountingReads:
    """``os.read`` as it is, counting calls on one fd and the EAGAIN answers among them."""

    def __init__(self) -> None:
        self.fd: int | None = None
        self.calls = 0
        self.again = 0
        self._read = os.read

    def __call__(self, fd: int, n: int) -> bytes:
        if fd != self.fd:
            return self._read(fd, n)
        self.calls += 1
        try:
            return self._read(fd, n)
        except BlockingIOError:
            self.again += 1
            raise


async def test_slow_output_costs_one_read_a_line_and_arrives_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    reads = CountingReads()
    monkeypatch.setattr(pty_process.os, "read", reads)
    out = Collector()
    script = "i=0; while [ $i -lt 20 ]; do echo line$i; sleep 0.01; i=$((i+1)); done"
    async with asyncio.timeout(10):
        proc = await PtyProcess.spawn(["sh", "-c", script], on_output=out)
        reads.fd = proc._fd
        async with proc:
            assert await proc.wait() == 0
            await proc.wait_eof()
    assert out.data.replace(b"\r\n", b"\n") == b"".join(b"line%d\n" % i for i in range(20))
    assert out.chunks <= reads.calls
    assert reads.again <= 2  # was one after every chunk (20): the read after a short one is not done
    assert SHORT_READ <= 4096  # a flood's whole chunks still drain several per wake-up


async def test_a_flood_arrives_complete_and_in_order() -> None:
    out = Collector()
    script = "i=0; while [ $i -lt 2000 ]; do echo $i; i=$((i+1)); done; head -c 3000000 /dev/zero | tr '\\0' y"
    async with asyncio.timeout(30):
        async with await PtyProcess.spawn(["sh", "-c", script], on_output=out) as proc:
            assert await proc.wait() == 0
            await proc.wait_eof()
    text = out.data.replace(b"\r\n", b"\n")
    assert text == b"".join(b"%d\n" % i for i in range(2000)) + b"y" * 3_000_000

"""bench/netlink.py, the emulated network of bench/latency.py: namespaces made and removed,
the step down to the userspace shaper said, and the shaper delivering every byte in order."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

from netlink import Link, free_port  # noqa: E402


def namespaces() -> str:
    return subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout if shutil.which("ip") else ""


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("ip") is None, reason="network namespaces need root and ip")
def test_namespaces_are_made_said_and_removed() -> None:
    link = Link(150, 0.01, tag=f"lttest{os.getpid()}")
    try:
        link.setup()
        assert link.mode in ("netem", "userspace", "loopback")
        if link.mode == "loopback":
            assert "unavailable" in link.notes[0]
            return
        assert link.cust_ns in namespaces() and link.agent_ns in namespaces()
        assert link.wrap("cust", ["true"])[:4] == ["ip", "netns", "exec", link.cust_ns]
        if link.mode == "userspace":
            assert "tc netem unavailable" in link.notes[0] and link.shaped
        ping = subprocess.run(link.wrap("agent", [sys.executable, "-c",
                                                  "import socket; socket.create_connection(('10.231.0.2', 9), 2)"]),
                              capture_output=True, text=True)
        assert "Connection refused" in ping.stderr  # across the veth: the customer's side answered
    finally:
        link.teardown()
    assert f"lttest{os.getpid()}" not in namespaces()


def test_loopback_link_says_so() -> None:
    link = Link(150, 0.01)
    link.notes.append("--loopback: namespaces not tried")
    assert link.wrap("cust", ["true"]) == ["true"] and link.shaped and link.cust_addr == "127.0.0.1"
    assert "loopback" in link.describe()


async def test_the_shaper_loses_nothing_and_keeps_order_even_at_half_loss() -> None:
    got = bytearray()
    done = asyncio.Event()

    async def sink(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        while chunk := await r.read(65536):
            got.extend(chunk)
        done.set()
        w.close()

    server = await asyncio.start_server(sink, "127.0.0.1", 0)
    target = server.sockets[0].getsockname()[1]
    port = free_port()
    shaper = await asyncio.create_subprocess_exec(sys.executable, str(BENCH / "netlink.py"), "shaper", "0.001", "0.5", "7",
                                                  f"{port}:127.0.0.1:{target}", stdout=asyncio.subprocess.PIPE)
    try:
        assert shaper.stdout is not None
        async with asyncio.timeout(10):
            assert await shaper.stdout.readline() == b"ready\n"
            _, w = await asyncio.open_connection("127.0.0.1", port)
            data = b"".join(b"%08d\n" % i for i in range(20000))
            for i in range(0, len(data), 1000):
                w.write(data[i:i + 1000])
                await w.drain()
            w.close()
            await done.wait()
        assert bytes(got) == data
    finally:
        shaper.kill()
        await shaper.wait()
        server.close()

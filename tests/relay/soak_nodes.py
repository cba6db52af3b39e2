"""A relay node lost for good under load: two ``python -m relay --redis`` nodes on a real
redis-server, N chatting sessions, one node killed with SIGKILL and never started again.

Agents reach the nodes through a TCP proxy (a load balancer) that points at node 1 and is
re-pointed at node 2 when node 1 dies, as a health check would; customers connect to node 2,
which proxies their sides to the sessions' home, node 1. So every session has a side on the
lost node and a side proxied through the survivor: node 2 must adopt all of them from Redis.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

from tests.relay.soak import ROOT, RelayProc, SoakResult, chat, close_all, delivered, free_port, pair_up, tally

sys.path.insert(0, str(ROOT / "tests" / "e2e"))
from tcp_proxy import TcpProxy  # noqa: E402


class RedisProc:
    """A real redis-server on a free loopback port, no persistence."""

    def __init__(self, folder: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise FileNotFoundError("redis-server is not installed (apt-get install redis-server)")
        self.port = free_port()
        folder.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    break
            except OSError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    self.stop()
                    raise AssertionError("redis-server did not start") from None
                time.sleep(0.05)
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)


async def node_loss_soak(data_dir: Path, sessions: int, kill_at: float, run_to: float,
                         settle: float = 30.0) -> SoakResult:
    """Two nodes, ``sessions`` chatting pairs homed on node 1, node 1 killed for good at
    ``kill_at`` s, chat until ``run_to`` s, then wait (up to ``settle`` s) for every message."""
    redis = RedisProc(data_dir / "redis")
    n1 = RelayProc(data_dir, "--redis", redis.url, "--node-id", "n1", name="n1")
    n2 = RelayProc(data_dir, "--redis", redis.url, "--node-id", "n2", name="n2")
    front: TcpProxy | None = None
    pairs = []
    try:
        n1.start()
        n2.start()
        front = await TcpProxy("127.0.0.1", n1.port).start()
        pairs = await pair_up(front.url, n2.url, sessions)
        t0 = time.monotonic()
        sender = asyncio.create_task(chat(pairs, t0 + run_to))
        await asyncio.sleep(max(0.0, t0 + kill_at - time.monotonic()))
        n1.kill9()
        killed_at = time.monotonic()
        front.upstream = ("127.0.0.1", n2.port)  # the load balancer's health check notices
        front.drop()
        await sender
        try:
            async with asyncio.timeout(settle):
                while not delivered(pairs):
                    await asyncio.sleep(0.2)
        except TimeoutError:
            pass
        result = tally(pairs, killed_at)
        result.logs = n2.text()
        return result
    finally:
        if pairs:
            await close_all(pairs)
        if front is not None:
            await front.close()
        n1.stop()
        n2.stop()
        redis.stop()

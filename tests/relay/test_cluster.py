"""Several relay nodes on a real Redis: pairing and frames across nodes, node loss, resume.

Each test starts a real `redis-server` on a free loopback port and two or three
`python -m relay --redis ...` processes; clients are real RelayLinks (what the apps use).
A client whose node is killed reaches another one through a TCP proxy the test re-points
(tests/e2e/tcp_proxy.py), as a load balancer would. Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from cobrowse.wire.envelope import Claim, Open, decode_relay
from cobrowse.io.link import Frame, LinkEnded, LinkItem, PeerChanged, RelayLink, Resumed

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "e2e"))
from tcp_proxy import TcpProxy  # noqa: E402

from tests.relay.test_cli import free_port  # noqa: E402

T = 15.0


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    """A real redis-server on a free loopback port, no persistence."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server; .ci/run does it)")
    port = free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(tmp_path), "--protected-mode", "yes"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + T
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        break
            except OSError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                pytest.fail("redis-server did not start")
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


class Node:
    """A `python -m relay` process that is one node of a cluster."""

    def __init__(self, redis_url: str, name: str, *extra: str) -> None:
        self.name = name
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("COBROWSE_RELAY")}
        env["PYTHONPATH"] = str(ROOT)
        self.log = Path(os.environ.get("TMPDIR", "/tmp")) / f"cobrowse-node-{name}-{self.port}.log"
        self._log = self.log.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "relay", "--host", "127.0.0.1", "--port", str(self.port), "--redis", redis_url,
             "--node-id", name, "--grace", "30", "--token-store", os.devnull, *extra],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=self._log, text=True,
        )
        deadline = time.monotonic() + T
        while "listening on" not in self.log.read_text():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.proc.kill()
                raise AssertionError(f"node {name} did not start: {self.log.read_text()[-2000:]}")
            time.sleep(0.05)
        self.url = f"ws://127.0.0.1:{self.port}"

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=T)

    async def terminate(self) -> int:
        """SIGTERM (a graceful stop), waiting without blocking the test's own clients."""
        self.proc.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(asyncio.to_thread(self.proc.wait), T)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=T)
        self._log.close()

    def text(self) -> str:
        return self.log.read_text()


@pytest.fixture
def nodes(redis_url: str) -> Iterator[list[Node]]:
    started: list[Node] = []

    def start(n: int, *extra: str) -> list[Node]:
        for i in range(n):
            started.append(Node(redis_url, f"n{len(started) + 1}", *extra))
        return started

    yield start  # type: ignore[misc]
    for node in started:
        node.stop()
        node.log.unlink(missing_ok=True)


def health(node: Node) -> dict:  # type: ignore[type-arg]
    import json
    import urllib.request

    with urllib.request.urlopen(f"http://127.0.0.1:{node.port}/healthz", timeout=T) as resp:
        return json.load(resp)


async def next_item(link: RelayLink, kind: type, timeout: float = T) -> LinkItem:
    """The next item of ``kind`` (others are skipped: Reconnecting, presence changes...)."""
    async with asyncio.timeout(timeout):
        while True:
            item = await link.items.get()
            if isinstance(item, kind):
                return item
            if isinstance(item, LinkEnded) and kind is not LinkEnded:
                raise AssertionError(f"the link ended while waiting for {kind.__name__}: {item}")


async def exchange(a: RelayLink, b: RelayLink, tag: bytes, n: int = 20) -> None:
    """``n`` frames each way arrive, in order."""
    for i in range(n):
        await a.send(tag + b"a%d" % i)
        await b.send(tag + b"b%d" % i)
    for link, side in ((b, b"a"), (a, b"b")):
        got = [await next_item(link, Frame) for _ in range(n)]
        assert [f.data for f in got] == [tag + side + b"%d" % i for i in range(n)]  # type: ignore[attr-defined]


class Pair:
    def __init__(self, agent: RelayLink, customer: RelayLink) -> None:
        self.agent, self.customer = agent, customer
        self.tasks = [asyncio.create_task(agent.run()), asyncio.create_task(customer.run())]

    async def close(self) -> None:
        await self.agent.close()
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


async def pair(agent_url: str, customer_url: str) -> Pair:
    agent, customer = RelayLink(agent_url, "agent", reconnect_for=40), RelayLink(customer_url, "customer", reconnect_for=40)
    nameplate = await agent.open()
    await customer.claim(nameplate)
    p = Pair(agent, customer)
    assert (await next_item(agent, PeerChanged)).state == "joined"  # type: ignore[attr-defined]
    assert (await next_item(customer, PeerChanged)).state == "joined"  # type: ignore[attr-defined]
    return p


async def test_pairing_chat_and_frames_across_two_nodes(nodes) -> None:  # type: ignore[no-untyped-def]
    a, b = nodes(2)
    p = await pair(a.url, b.url)  # the agent on node 1, the customer on node 2
    try:
        health_a, health_b = await asyncio.gather(asyncio.to_thread(health, a), asyncio.to_thread(health, b))
        assert health_a["node"] == "n1" and health_a["remote_sides"] == 1 and health_a["sessions"] == 1
        assert health_b["node"] == "n2" and health_b["proxied_here"] == 1 and health_b["sessions"] == 0
        await exchange(p.agent, p.customer, b"x")
        big = os.urandom(200_000)
        await p.customer.send(big)
        assert (await next_item(p.agent, Frame)).data == big  # type: ignore[attr-defined]
        await p.agent.close("agent_ended")
        ended = await next_item(p.customer, LinkEnded)
        assert ended.reason == "agent_ended"  # type: ignore[attr-defined]
    finally:
        await p.close()
    assert "node n1 joined the cluster" in a.text() and "node n2 joined the cluster" in b.text()


async def test_nameplates_are_unique_across_nodes(nodes) -> None:  # type: ignore[no-untyped-def]
    """120 waiting sessions opened on three nodes at once: each node alone would pick from
    short ranges at random and collide; reserved in Redis, they never do, and none is
    refused as `full` although the short codes run out cluster-wide."""
    a, b, c = nodes(3, "--unpaired-per-address", "64", "--open-burst", "64")  # 40 from 127.0.0.1 on each
    held = []

    async def open_on(url: str) -> str:
        ws = await connect(url, open_timeout=T)
        held.append(ws)
        await ws.send(Open("agent", 1).encode())
        return decode_relay(await asyncio.wait_for(ws.recv(), T)).nameplate  # type: ignore[attr-defined]

    try:
        names = await asyncio.gather(*(open_on(url) for _ in range(40) for url in (a.url, b.url, c.url)))
        assert len(set(names)) == 120
    finally:
        for ws in held:
            await ws.close()


async def test_a_claim_on_another_node_for_an_unknown_code_is_refused(nodes) -> None:  # type: ignore[no-untyped-def]
    from cobrowse.errors import RelayRejected

    a, b = nodes(2)
    agent = RelayLink(a.url, "agent")
    nameplate = await agent.open()
    try:
        customer = RelayLink(b.url, "customer")
        with pytest.raises(RelayRejected) as info:
            await customer.claim("98765")
        assert info.value.code == "unknown_nameplate"
        agent2 = RelayLink(b.url, "agent")
        with pytest.raises(RelayRejected) as info:
            await agent2.claim(nameplate)  # same role as the creator: taken, answered by the home
        assert info.value.code == "taken"
    finally:
        await agent.close()


async def test_losing_a_node_that_holds_neither_side(nodes) -> None:  # type: ignore[no-untyped-def]
    a, b, c = nodes(3)
    p = await pair(a.url, b.url)
    try:
        await exchange(p.agent, p.customer, b"before")
        c.kill()
        await asyncio.sleep(4.0)  # past the 3 s liveness expiry: every node knows n3 is gone
        await exchange(p.agent, p.customer, b"after")
        assert p.agent.items.empty() and p.customer.items.empty()  # no reconnect, no presence change
    finally:
        await p.close()


async def test_losing_a_sides_node_resumes_through_another(nodes) -> None:  # type: ignore[no-untyped-def]
    """The agent's node (the session's home) dies: the agent reconnects (the TCP proxy now
    points at node 3) and resumes there; node 2 sees node 1 lost and tells the customer to
    reconnect; node 3 adopts the session from Redis; both sides resume; frames flow again."""
    a, b, c = nodes(3)
    front = await TcpProxy("127.0.0.1", a.port).start()
    p = await pair(front.url, b.url)
    try:
        await exchange(p.agent, p.customer, b"before")
        a.kill()
        front.upstream = ("127.0.0.1", c.port)
        front.drop()
        await next_item(p.agent, Resumed, timeout=30)
        await next_item(p.customer, Resumed, timeout=30)
        await exchange(p.agent, p.customer, b"after")
        assert "took over session" in c.text() or "took over session" in b.text()
    finally:
        await p.close()
        await front.close()


async def test_graceful_stop_of_a_node_hands_its_sessions_over(nodes) -> None:  # type: ignore[no-untyped-def]
    a, b, c = nodes(3)
    front = await TcpProxy("127.0.0.1", a.port).start()
    p = await pair(front.url, b.url)
    try:
        front.upstream = ("127.0.0.1", c.port)
        assert await a.terminate() == 0  # leave the cluster, tell clients to reconnect; the session goes on
        assert "shutting down" in a.text()
        await next_item(p.agent, Resumed, timeout=30)
        await next_item(p.customer, Resumed, timeout=30)
        await exchange(p.agent, p.customer, b"after")
    finally:
        await p.close()
        await front.close()


async def test_back_pressure_across_nodes_then_a_slow_consumer_is_closed(nodes) -> None:  # type: ignore[no-untyped-def]
    """A receiver on another node that reads nothing: the sender is held back (nothing piles
    up without bound on either node), and after slow_consumer_timeout the receiver is
    closed with ``slow_consumer``, as on one node; its side may resume."""
    a, b = nodes(2, "--slow-consumer-timeout", "2")
    agent = await connect(a.url, open_timeout=T, max_size=None)
    await agent.send(Open("agent", 1).encode())
    opened = decode_relay(await asyncio.wait_for(agent.recv(), T))
    customer = await connect(b.url, open_timeout=T, max_size=None, max_queue=1)
    await customer.send(Claim("customer", 1, opened.nameplate).encode())  # type: ignore[attr-defined]
    for _ in range(2):
        await asyncio.wait_for(customer.recv(), T)
    await asyncio.wait_for(agent.recv(), T)  # peer joined
    customer.transport.pause_reading()  # the customer stops reading from its socket
    frame = os.urandom(60_000)
    sent = 0

    async def flood() -> None:
        nonlocal sent
        while True:
            await agent.send(frame)
            sent += 1

    task = asyncio.create_task(flood())
    await asyncio.sleep(1.5)
    held_at = sent
    assert held_at * len(frame) < 32 * 1024 * 1024, f"{held_at} frames went out: no back-pressure"
    texts = []
    try:
        await asyncio.sleep(3.5)  # past slow_consumer_timeout (checked every second)
        customer.transport.resume_reading()
        async with asyncio.timeout(T):
            while True:
                msg = await customer.recv()
                if isinstance(msg, str):
                    texts.append(msg)
    except ConnectionClosed:
        pass
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await agent.close()
    assert any('"slow_consumer"' in t for t in texts), (texts, customer.close_code, customer.close_reason)
    assert customer.close_code == 1008 and customer.close_reason == "slow_consumer"

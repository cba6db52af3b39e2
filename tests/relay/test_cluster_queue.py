"""The help queue across relay nodes on a real redis-server (docs/helpdesk.md, "Across
relay nodes"): customers waiting on one node are listed, counted and picked by agents on
another; the pick's claim reaches the customer's node; a node that dies or stops takes its
customers out of every queue and the others move up. Real `python -m relay` processes,
raw websockets clients; every wait bounded, nothing timed."""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from pathlib import Path
from typing import Any

from redis import Redis
from redis.exceptions import RedisError
from websockets.asyncio.client import ClientConnection, connect

from cobrowse.wire.envelope import Claim, Confirm, Enqueue, Message, Open, Pick, Watch
from relay.queue_mirror import MIRROR_TTL
from tests.relay.test_cli import free_port
from tests.relay.test_cluster import Node, health, nodes, redis_url  # noqa: F401  (fixtures)
from tests.waiting import until as until_true

T = 20.0
ORG = "0123456789abcdef"


async def send(ws: ClientConnection, msg: Message) -> None:
    await ws.send(msg.encode())


async def until(ws: ClientConnection, kind: str, timeout: float = T, **match: Any) -> dict[str, Any]:
    """The next ``kind`` message whose fields equal ``match`` (others are skipped)."""
    async with asyncio.timeout(timeout):
        while True:
            raw = await ws.recv()
            if isinstance(raw, bytes):
                continue
            obj = json.loads(raw)
            if obj["type"] == kind and all(obj.get(k) == v for k, v in match.items()):
                return obj  # type: ignore[no-any-return]


async def until_listed(ws: ClientConnection, ids: list[str], timeout: float = T) -> dict[str, Any]:
    async with asyncio.timeout(timeout):
        while True:
            listing = await until(ws, "queue")
            if [e["id"] for e in listing["waiting"]] == ids:
                return listing


async def queued_customer(url: str, topic: str, lang: str = "en") -> tuple[ClientConnection, str, str]:
    ws = await connect(url, open_timeout=T)
    await send(ws, Open("customer", 1))
    opened = await until(ws, "opened")
    await send(ws, Enqueue(ORG, topic, lang))
    place = await until(ws, "queued")
    ws.first_place = place  # type: ignore[attr-defined]  # what the test may check of it
    return ws, opened["nameplate"], place["id"]


async def until_place(ws: ClientConnection, **match: Any) -> dict[str, Any]:
    """The customer's place: the first one (already read) or a later ``queued``."""
    first = ws.first_place  # type: ignore[attr-defined]
    if all(first.get(k) == v for k, v in match.items()):
        return first  # type: ignore[no-any-return]
    return await until(ws, "queued", **match)


async def watcher(url: str) -> ClientConnection:
    ws = await connect(url, open_timeout=T)
    await send(ws, Watch(ORG, 1))
    return ws


async def test_a_customer_on_node_1_is_listed_counted_and_picked_by_an_agent_on_node_2(nodes) -> None:  # type: ignore[no-untyped-def]
    n1, n2 = nodes(2)
    c1, nameplate, first = await queued_customer(n1.url, "git push is rejected", "ru")
    agent = await watcher(n2.url)
    listing = await until_listed(agent, [first])
    assert listing["waiting"][0]["topic"] == "git push is rejected" and listing["waiting"][0]["lang"] == "ru"
    assert listing["total"] == 1 and listing["waiting"][0]["waiting_s"] >= 0
    await until(c1, "queued", position=1, agents=1)  # the agent on node 2 counts on node 1

    c2, _, second = await queued_customer(n2.url, "disk full")  # after c1: second, cluster-wide
    assert (await until_place(c2, position=2))["estimate_s"] == 120.0
    await until_listed(agent, [first, second])

    await send(agent, Pick(first))  # forwarded to node 1, which holds c1's entry
    picked = await until(agent, "picked", id=first)
    assert picked["nameplate"] == nameplate and picked["waited_s"] >= 0  # decided on node 1
    await until(c2, "queued", position=1)  # c1 is held: c2 is next
    await until_listed(agent, [second])

    squatter = await connect(n2.url, open_timeout=T)
    await send(squatter, Claim("agent", 1, nameplate))
    assert (await until(squatter, "error"))["code"] == "taken"  # node 1 wants the pick's ticket

    session = await connect(n2.url, open_timeout=T)  # proxied to node 1, the session's home
    await send(session, Claim("agent", 1, nameplate, ticket=picked["ticket"]))
    await until(session, "claimed")
    await until(c1, "peer", state="joined")
    await session.send(b"\x03end to end")
    assert await asyncio.wait_for(c1.recv(), T) == b"\x03end to end"
    await send(c1, Confirm())
    await until_listed(agent, [second])
    for ws in (c1, c2, agent, squatter, session):
        await ws.close()


async def test_a_pick_stands_once_cluster_wide(nodes) -> None:  # type: ignore[no-untyped-def]
    n1, n2, n3 = nodes(3)
    c1, _, entry = await queued_customer(n1.url, "printer")
    a2, a3 = await watcher(n2.url), await watcher(n3.url)
    await until_listed(a2, [entry])
    await until_listed(a3, [entry])
    await until_place(c1, agents=2)
    await send(a2, Pick(entry))
    await send(a3, Pick(entry))
    answers = await asyncio.gather(_answer(a2), _answer(a3))
    assert sorted(a["type"] for a in answers) == ["error", "picked"]
    assert [a["code"] for a in answers if a["type"] == "error"] == ["picked"]
    for ws in (c1, a2, a3):
        await ws.close()


async def _answer(ws: ClientConnection) -> dict[str, Any]:
    async with asyncio.timeout(T):
        while True:
            obj = json.loads(await ws.recv())
            if obj["type"] in ("picked", "error"):
                return obj  # type: ignore[no-any-return]


async def test_a_dead_node_takes_its_customers_out_and_the_others_move_up(nodes) -> None:  # type: ignore[no-untyped-def]
    n1, n2, n3 = nodes(3)
    c1, _, first = await queued_customer(n1.url, "first")
    agent = await watcher(n2.url)
    await until_listed(agent, [first])
    c3, _, second = await queued_customer(n3.url, "second")
    await until_place(c3, position=2)
    await until_listed(agent, [first, second])
    assert (await asyncio.to_thread(health, n2))["queue_nodes"] == 2
    n1.kill()  # SIGKILL: no goodbye; its liveness key expires in Redis
    await until_listed(agent, [second])
    await until(c3, "queued", position=1)
    shown = await asyncio.to_thread(health, n2)
    assert shown["queue_nodes"] == 1 and shown["queued_here"] == 0
    assert (await asyncio.to_thread(health, n3))["queued_here"] == 1
    for ws in (c3, agent):
        await ws.close()
    c1.transport.abort()  # type: ignore[union-attr]


async def test_a_node_that_stops_takes_its_customers_out_at_once(nodes) -> None:  # type: ignore[no-untyped-def]
    n1, n2 = nodes(2)
    c1, _, first = await queued_customer(n1.url, "first")
    agent = await watcher(n2.url)
    await until_listed(agent, [first])
    assert await n1.terminate() == 0
    await until_listed(agent, [])
    await agent.close()
    c1.transport.abort()  # type: ignore[union-attr]



async def test_a_node_restarted_under_its_id_drops_its_earlier_customers(nodes, redis_url: str) -> None:  # type: ignore[no-untyped-def]
    """Killed and started again at once with the same --node-id, its liveness key never
    expires: the new process says it holds nothing, and the others drop its old part."""
    n1, n2 = nodes(2)
    c1, _, first = await queued_customer(n1.url, "first")
    agent = await watcher(n2.url)
    await until_listed(agent, [first])
    n1.kill()
    again = Node(redis_url, "n1")
    try:  # told at once, not by the part expiring unrefreshed (MIRROR_TTL)
        await until_listed(agent, [], timeout=MIRROR_TTL - 5)
    finally:
        again.stop()
        again.log.unlink(missing_ok=True)
    await agent.close()
    c1.transport.abort()  # type: ignore[union-attr]


def start_redis(port: int, folder: Path) -> subprocess.Popen[bytes]:
    """A redis-server on ``port`` (the same one again after a restart), no persistence."""
    folder.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", str(folder)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            with redis_client(port) as client:
                if client.ping():
                    return proc
        except RedisError:
            time.sleep(0.05)
    proc.kill()
    raise AssertionError("redis-server did not start")


def redis_client(port: int) -> Redis:
    return Redis(host="127.0.0.1", port=port, socket_timeout=2)


async def test_after_a_redis_restart_the_queue_and_a_cross_node_pick_work_again(tmp_path: Path) -> None:
    """Redis restarts empty (no persistence): nodes resubscribe and beat again, each node
    shares its part again within SHARE_EVERY, and the customer's home writes its session
    record again (REFRESH), so an agent on another node still picks and claims it."""
    port = free_port()
    store = start_redis(port, tmp_path / "redis")
    n1 = n2 = None
    sockets: list[ClientConnection] = []
    try:
        n1, n2 = Node(f"redis://127.0.0.1:{port}/0", "n1"), Node(f"redis://127.0.0.1:{port}/0", "n2")
        c1, nameplate, first = await queued_customer(n1.url, "before the restart")
        agent = await watcher(n2.url)
        sockets += [c1, agent]
        await until_listed(agent, [first])
        store.terminate()
        store.wait(timeout=T)
        store = start_redis(port, tmp_path / "redis")
        def recorded() -> bool:
            with redis_client(port) as client:
                return bool(client.exists(f"cobrowse:session:{nameplate}"))

        await until_true(recorded, "the home wrote the session record again", timeout=30)
        c2, _, second = await queued_customer(n2.url, "after the restart")
        sockets.append(c2)
        await until_listed(agent, [first, second])
        await send(agent, Pick(first))
        picked = await until(agent, "picked", id=first)
        session = await connect(n2.url, open_timeout=T)
        sockets.append(session)
        await send(session, Claim("agent", 1, nameplate, ticket=picked["ticket"]))
        await until(session, "claimed")
        await until(c1, "peer", state="joined")
    finally:
        for ws in sockets:
            await ws.close()
        for node in (n1, n2):
            if node is not None:
                node.stop()
        store.kill()
        store.wait(timeout=T)

"""A node that was only thought lost (a stalled process, Redis restarted empty before its
liveness key was written again) is alive when the home drops the sides it proxied: the
home must tell it, so its clients reconnect and resume instead of staying connected to a
proxy whose home no longer listens. Real redis-server and `python -m relay` nodes."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

from cobrowse.io.link import Frame, Resumed
from tests.relay.test_cli import free_port
from tests.relay.test_cluster_queue import redis_client, start_redis
from tests.relay.test_cluster import Node, exchange, next_item, nodes, pair, redis_url  # noqa: F401  (fixtures)
from tests.waiting import until

T = 30.0


async def test_a_stalled_proxy_node_is_told_its_sides_were_dropped_and_they_resume(nodes) -> None:  # type: ignore[no-untyped-def]
    a, b = nodes(2)
    p = await pair(a.url, b.url)  # the session's home is n1; the customer is proxied through n2
    try:
        await p.agent.confirm()  # as the creator's client does once the handshake checks out
        await exchange(p.agent, p.customer, b"before")
        b.proc.send_signal(signal.SIGSTOP)  # n2's liveness key runs out: n1 takes n2 for lost
        try:
            await until(lambda: "node n2 is lost" in a.text(), "n1 saw n2 lost", timeout=T)
        finally:
            b.proc.send_signal(signal.SIGCONT)
        await next_item(p.customer, Resumed, timeout=T)
        await exchange(p.agent, p.customer, b"after")
    finally:
        await p.close()


async def test_after_a_redis_restart_a_side_the_home_dropped_resumes_when_it_sends(tmp_path: Path) -> None:
    """Redis restarts empty while the proxying node stalls: the home takes it for lost and
    drops its side, and the close it sends is lost (the node was not subscribed then). The
    side's next frame reaches a home that no longer knows it: the home answers with a close,
    the side resumes, and finds its session's record (the home wrote it again first)."""
    port = free_port()
    store = start_redis(port, tmp_path / "redis")
    a = b = None
    p = None
    try:
        a, b = Node(f"redis://127.0.0.1:{port}/0", "n1"), Node(f"redis://127.0.0.1:{port}/0", "n2")
        p = await pair(a.url, b.url)
        await p.agent.confirm()
        await exchange(p.agent, p.customer, b"before")
        b.proc.send_signal(signal.SIGSTOP)
        try:
            store.terminate()
            store.wait(timeout=T)
            store = start_redis(port, tmp_path / "redis")
            await until(lambda: "node n2 is lost" in a.text(), "n1 saw n2 lost", timeout=T)
        finally:
            b.proc.send_signal(signal.SIGCONT)

        def subscribed() -> bool:
            with redis_client(port) as client:
                return bool(client.pubsub_numsub("cobrowse:node:n2")[0][1])

        await until(subscribed, "n2 subscribed again", timeout=T)
        for _ in range(10):  # through n2 to a home that dropped this side (a first publish may be lost)
            await p.customer.send(b"hello?")
            try:
                await next_item(p.customer, Resumed, timeout=3)
                break
            except TimeoutError:
                continue
        else:
            raise AssertionError("the customer never resumed")
        await p.customer.send(b"after")
        while (got := await next_item(p.agent, Frame)).data == b"hello?":  # type: ignore[attr-defined]
            pass  # sent while the side was away: delivered on its resume, or not
        assert got.data == b"after"  # type: ignore[attr-defined]
        await exchange(p.agent, p.customer, b"then")
    finally:
        if p is not None:
            await p.close()
        for node in (a, b):
            if node is not None:
                node.stop()
                node.log.unlink(missing_ok=True)
        store.kill()
        store.wait(timeout=T)


async def test_a_resume_before_the_home_wrote_its_record_again_waits_instead_of_ending(tmp_path: Path) -> None:
    """Redis restarts empty while the session's home stalls: the proxying node takes the home
    for lost and tells its side to reconnect; the side's resume finds no record (the home has
    not written it again yet). That is Redis's loss, not the session's end: the side is told
    to try again (it got bad_resume, which ended the session), and resumes once the home is
    back and has written its record."""
    port = free_port()
    store = start_redis(port, tmp_path / "redis")
    a = b = None
    p = None
    try:
        a, b = Node(f"redis://127.0.0.1:{port}/0", "n1"), Node(f"redis://127.0.0.1:{port}/0", "n2")
        p = await pair(a.url, b.url)
        await p.agent.confirm()
        await exchange(p.agent, p.customer, b"before")
        a.proc.send_signal(signal.SIGSTOP)
        try:
            store.terminate()
            store.wait(timeout=T)
            store = start_redis(port, tmp_path / "redis")
            await until(lambda: "node n1 is lost" in b.text(), "n2 saw n1 lost", timeout=T)
            await asyncio.sleep(2.0)  # the customer's first resumes reach n2 while n1 is stopped
        finally:
            a.proc.send_signal(signal.SIGCONT)
        await next_item(p.customer, Resumed, timeout=T)
        await exchange(p.agent, p.customer, b"after")
        assert "refused: bad_resume" not in b.text()
    finally:
        if p is not None:
            await p.close()
        for node in (a, b):
            if node is not None:
                node.stop()
                node.log.unlink(missing_ok=True)
        store.kill()
        store.wait(timeout=T)

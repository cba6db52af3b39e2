"""A node that was only thought lost (a stalled process, Redis restarted empty before its
liveness key was written again) is alive when the home drops the sides it proxied: the
home must tell it, so its clients reconnect and resume instead of staying connected to a
proxy whose home no longer listens. Real redis-server and `python -m relay` nodes."""

from __future__ import annotations

import signal

from cobrowse.io.link import Resumed
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

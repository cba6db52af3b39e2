"""A session another node adopts keeps its age (qa9/fix8): the Redis record held no creation
time, so the adopting node counted the session's age, and its ``ended`` duration, from the
adoption. Real redis-server and relay nodes on 127.0.0.1; old records (no creation time)
are still adopted."""

from __future__ import annotations

import asyncio
import random
import re
import time

from cobrowse.io.link import LinkEnded, Resumed
from relay.cluster_wire import SessionRecord
from relay.config import RelayConfig
from relay.rooms import Rooms
from tests.relay.test_cluster import TcpProxy, exchange, next_item, nodes, pair, redis_url  # noqa: F401


async def test_an_adopted_session_keeps_its_age(nodes) -> None:  # type: ignore[no-untyped-def]
    a, b, c = nodes(3)
    front = await TcpProxy("127.0.0.1", a.port).start()
    p = await pair(front.url, b.url)
    paired = time.monotonic()
    try:
        await asyncio.sleep(6.0)  # an age the adopting node must not forget
        old = time.monotonic() - paired
        a.kill()
        front.upstream = ("127.0.0.1", c.port)
        front.drop()
        await next_item(p.agent, Resumed, timeout=30)
        await next_item(p.customer, Resumed, timeout=30)
        await exchange(p.agent, p.customer, b"after")
        await p.agent.close("agent_ended")
        await next_item(p.customer, LinkEnded)
        async with asyncio.timeout(15):
            while not re.search(r"ended \(.*lasted", b.text() + c.text()):
                await asyncio.sleep(0.05)
        lasted = float(re.findall(r"ended \(.*?lasted ([0-9.]+) s", b.text() + c.text())[0])
        assert lasted >= old, (lasted, old)
    finally:
        await p.close()
        await front.close()


def test_a_record_carries_the_creation_time_and_an_old_one_is_still_adopted() -> None:
    record = SessionRecord.from_redis("42", {b"home": b"n1", b"id": b"sid", b"creator_role": b"agent",
                                             b"creator_token": b"t", b"created": b"1000.5"})
    assert record is not None and record.adoptable and record.age(1010.5) == 10.0
    old = SessionRecord.from_redis("43", {b"home": b"n1", b"id": b"sid2", b"creator_role": b"agent",
                                          b"creator_token": b"t"})
    assert old is not None and old.adoptable and old.age(1010.5) == 0.0
    for bad in (b"nan", b"inf", b"x", b"2000", b"-1e300"):  # damaged, or a clock ahead: no age, never negative
        damaged = SessionRecord.from_redis("44", {b"home": b"n1", b"created": bad})
        assert damaged is not None and damaged.age(1010.5) == 0.0
    tokens = iter(f"tok{i}" for i in range(10))
    r = Rooms(RelayConfig(grace=30.0), random.Random(7), tokens.__next__)
    r.adopt("55", "sid", ("agent", "t1"), ("customer", "t2"), None, 100.0, age=40.0)
    assert r.snapshot(100.0)[0]["age_s"] == 40.0
    r.adopt("56", "sid2", ("agent", "t3"), None, None, 100.0)
    assert {s["nameplate"]: s["age_s"] for s in r.snapshot(100.0)}["56"] == 0.0

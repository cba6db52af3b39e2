"""The help queue's Prometheus metrics on real `python -m relay` processes (127.0.0.1), one
node alone and two nodes on a real redis-server: customers waiting, by organisation (only the
organisations the relay's config names get their own label; any other is ``other``), and how
long each waited until picked. Each node reports its own customers: a pick made on node 2 of
node 1's customer is counted on node 1. Raw websockets clients; every wait bounded, nothing timed."""

from __future__ import annotations

import asyncio
import urllib.request
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families
from websockets.asyncio.client import ClientConnection

from cobrowse.wire.envelope import Pick
from tests.relay.soak import RelayProc
from tests.relay.test_cluster import nodes, redis_url  # noqa: F401  (fixtures)
from tests.relay.test_cluster_queue import ORG, send, until, until_listed, watcher
from tests.relay.test_cluster_queue import queued_customer as acme_customer
from tests.waiting import until as until_true

from cobrowse.wire.envelope import Enqueue, Open
from websockets.asyncio.client import connect

OTHER = "fedcba9876543210"
UNNAMED = "00000000000000aa"
T = 20.0


def config(tmp_path: Path) -> Path:
    path = tmp_path / "relay.toml"
    path.write_text(f'[relay]\nqueue_orgs = {{acme = "{ORG}", other-co = "{OTHER}"}}\n')
    return path


def scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=T) as resp:
        text = resp.read().decode()
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def waiting(port: int) -> dict[str, float]:
    return {dict(labels)["org"]: v for (name, labels), v in scrape(port).items()
            if name == "cobrowse_relay_queue_waiting"}


def picks(port: int) -> dict[str, float]:
    return {dict(labels)["org"]: v for (name, labels), v in scrape(port).items()
            if name == "cobrowse_relay_queue_wait_seconds_count"}


async def customer_of(url: str, org: str, topic: str) -> ClientConnection:
    ws = await connect(url, open_timeout=T)
    await send(ws, Open("customer", 1))
    await until(ws, "opened")
    await send(ws, Enqueue(org, topic, "en"))
    await until(ws, "queued")
    return ws


async def test_one_node_counts_waiting_customers_by_named_organisation_and_times_the_pick(tmp_path: Path) -> None:
    relay = RelayProc(tmp_path / "data", "--config", str(config(tmp_path)))
    relay.start()
    clients: list[ClientConnection] = []
    try:
        assert await asyncio.to_thread(waiting, relay.port) == {"acme": 0, "other-co": 0, "other": 0}
        assert await asyncio.to_thread(picks, relay.port) == {"acme": 0, "other-co": 0, "other": 0}
        c1, _, first = await acme_customer(relay.url, "git push is rejected")
        c2, _, _ = await acme_customer(relay.url, "disk full")
        c3 = await customer_of(relay.url, OTHER, "printer")
        strangers = [await customer_of(relay.url, f"{i:016x}", "hello") for i in (0xa1, 0xa2)]
        clients += [c1, c2, c3, *strangers]
        assert await asyncio.to_thread(waiting, relay.port) == {"acme": 2, "other-co": 1, "other": 2}

        agent = await watcher(relay.url)
        clients.append(agent)
        await until_listed(agent, [first, c2.first_place["id"]])  # type: ignore[attr-defined]
        await send(agent, Pick(first))
        picked = await until(agent, "picked", id=first)
        assert await asyncio.to_thread(waiting, relay.port) == {"acme": 1, "other-co": 1, "other": 2}
        seconds = await asyncio.to_thread(scrape, relay.port)
        assert seconds[("cobrowse_relay_queue_wait_seconds_count", (("org", "acme"),))] == 1
        assert seconds[("cobrowse_relay_queue_wait_seconds_sum", (("org", "acme"),))] >= 0
        assert seconds[("cobrowse_relay_queue_wait_seconds_bucket", (("le", "+Inf"), ("org", "acme")))] == 1
        assert picked["waited_s"] <= seconds[("cobrowse_relay_queue_wait_seconds_sum", (("org", "acme"),))] + 0.1
        assert (await asyncio.to_thread(picks, relay.port))["other"] == 0

        await strangers[0].close()
        await c3.close()
        await until_true(lambda: waiting(relay.port) == {"acme": 1, "other-co": 0, "other": 1},
                         "the customers who left are no longer counted", timeout=T)
    finally:
        for ws in clients:
            await ws.close()
        relay.stop()


async def test_two_nodes_each_report_their_own_customers_and_picks(nodes, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    n1, n2 = nodes(2, "--config", str(config(tmp_path)))
    c1, _, first = await acme_customer(n1.url, "on node 1")
    c2, _, second = await acme_customer(n2.url, "on node 2")
    c3 = await customer_of(n2.url, UNNAMED, "unnamed")
    agent = await watcher(n2.url)
    try:
        await until_listed(agent, [first, second])
        assert await asyncio.to_thread(waiting, n1.port) == {"acme": 1, "other-co": 0, "other": 0}
        assert await asyncio.to_thread(waiting, n2.port) == {"acme": 1, "other-co": 0, "other": 1}
        await send(agent, Pick(first))  # node 2's agent picks node 1's customer: decided on node 1
        await until(agent, "picked", id=first)
        await until_listed(agent, [second])
        assert (await asyncio.to_thread(picks, n1.port))["acme"] == 1
        assert (await asyncio.to_thread(picks, n2.port))["acme"] == 0
        assert await asyncio.to_thread(waiting, n1.port) == {"acme": 0, "other-co": 0, "other": 0}
        assert await asyncio.to_thread(waiting, n2.port) == {"acme": 1, "other-co": 0, "other": 1}
    finally:
        for ws in (c1, c2, c3, agent):
            await ws.close()

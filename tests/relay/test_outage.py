"""Redis trouble in a node's log: once when it starts, a reminder every 30 s with a count,
once when it ends; /healthz says whether Redis answers. The pure rule, then a real
redis-server stopped and started again under a real node."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from relay.outage import Outage
from tests.relay.test_cli import free_port
from tests.relay.test_cluster import Node, health
from tests.relay.test_cluster_queue import start_redis
from tests.waiting import until


def test_an_outage_is_said_when_it_starts_every_so_often_and_when_it_ends() -> None:
    outage = Outage(every=30.0)
    assert outage.ok and outage.recovered(5.0) is None
    said = [outage.failed(10.0 + i) for i in range(65)]  # a failure a second for 65 s
    assert said[0] == "started" and said.count("lasts") == 2 and said.count(None) == 62
    assert not outage.ok and outage.failures == 65
    assert outage.recovered(80.0) == 70.0 and outage.ok and outage.failures == 0
    assert outage.failed(90.0) == "started"  # a new outage is said again


async def test_a_redis_restart_is_logged_in_a_few_lines_and_healthz_follows_it(tmp_path: Path) -> None:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    port = free_port()
    store = start_redis(port, tmp_path / "redis")
    node = None
    try:
        node = Node(f"redis://127.0.0.1:{port}/0", "n1")
        assert (await asyncio.to_thread(health, node))["redis"] == "ok"
        store.terminate()
        store.wait(timeout=10)
        await until(lambda: "Redis heartbeat failed" in node.text(), "the heartbeat's failure logged", timeout=15)
        await until(lambda: health(node)["redis"] == "unreachable", "/healthz says Redis is unreachable", timeout=15)
        await asyncio.sleep(4.0)  # four more heartbeats fail: no line for them
        text = node.text()
        assert text.count("Redis heartbeat") == 1 and text.count("Redis subscription") <= 1, text
        store = start_redis(port, tmp_path / "redis")
        await until(lambda: "Redis heartbeat works again" in node.text(), "the heartbeat's recovery logged", timeout=15)
        await until(lambda: "Redis subscription works again" in node.text(), "the subscription back", timeout=15)
        await until(lambda: health(node)["redis"] == "ok", "/healthz says Redis is ok", timeout=15)
    finally:
        if node is not None:
            node.stop()
            node.log.unlink(missing_ok=True)
        store.kill()
        store.wait(timeout=10)

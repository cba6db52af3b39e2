"""The help queue across relay nodes with the real programs: a real redis-server, two
`python -m relay --redis` nodes, `cobrowse help` waiting on node 1 and `cobrowse agent
--headless --queue` on node 2. The agent sees, picks and pairs with the customer end to end
(the nodes only forward); the history then holds the wait, and `cobrowse agent stats`
shows it. Every wait bounded; nothing timed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "e2e"))
from harness import CLI  # noqa: E402

from tests.e2e.test_help_queue import acme, agent, customer, stop, waiting_ids  # noqa: E402,F401
from tests.relay.test_cluster import nodes, redis_url  # noqa: E402,F401  (fixtures)


async def test_a_customer_on_node_1_pairs_with_an_agent_on_node_2_and_the_wait_reaches_the_stats(
        nodes, acme: dict[str, Path]) -> None:  # type: ignore[no-untyped-def]
    n1, n2 = nodes(2)
    cust = await customer(n1.url, acme["trust"], "git push is rejected")
    alice = None
    try:
        await cust.stderr_line("no agent is online right now")
        alice = await agent(n2.url, acme["alice"], "alice")
        listed = await alice.event("queue", total=1)
        assert listed["waiting"][0]["topic"] == "git push is rejected"
        await cust.stderr_line("you are next, about")  # the agent on node 2 counts on node 1
        entry = waiting_ids(listed)[0]
        await alice.send({"cmd": "pick", "id": entry})
        picked = await alice.event("picked")
        assert picked["id"] == entry and picked["org"] == "Acme" and picked["waited_s"] >= 0
        sas = (await alice.event("paired"))["sas"]
        await cust.stderr_line(f"Compare these words with the agent: {sas}")
        await cust.stderr_line("Verified: Alice from Acme")
        await cust.send("echo across-$((6*7))\n")
        await alice.screen(lambda lines: any("across-42" in line for line in lines))
        await alice.send({"cmd": "end"})
        assert await alice.wait() == 0
        assert await cust.wait() == 0
    finally:
        await stop(*(p for p in (cust, alice) if p is not None))

    stats = subprocess.run([*CLI, "agent", "stats", "--json"], capture_output=True, text=True, timeout=30)
    assert stats.returncode == 0, stats.stderr
    [waits] = json.loads(stats.stdout)["queue_waits"]
    assert waits["org"] == "Acme" and waits["sessions"] == 1
    assert waits["median_s"] == waits["p90_s"] == round(picked["waited_s"], 1)
    text = subprocess.run([*CLI, "agent", "stats"], capture_output=True, text=True, timeout=30).stdout
    assert "help queue: sessions, wait until picked (median, p90):" in text and "Acme" in text


async def test_the_customers_node_dies_it_leaves_the_queue_resumes_on_another_and_is_picked(
        nodes, acme: dict[str, Path]) -> None:  # type: ignore[no-untyped-def]
    """Node 1 (the customer's) is killed: within the liveness expiry the agent on node 2 sees
    the queue empty; the customer's client reconnects through the load balancer to node 3,
    which adopts its session from Redis, and queues again (last place, a new entry); the
    agent picks it there and they pair."""
    from tcp_proxy import TcpProxy

    from tests.waiting import until

    n1, n2, n3 = nodes(3)
    front = await TcpProxy("127.0.0.1", n1.port).start()
    cust = await customer(front.url, acme["trust"], "printer offline")
    alice = None
    try:
        alice = await agent(n2.url, acme["alice"], "alice")
        first = waiting_ids(await alice.event("queue", total=1))[0]
        await cust.stderr_line("you are next, about")
        n1.kill()
        front.upstream = ("127.0.0.1", n3.port)
        front.drop()

        def latest() -> list[str]:
            return waiting_ids(alice.all("queue")[-1]) if alice is not None else []

        await until(lambda: first not in latest(), "node 1's customer leaves the queue", timeout=30)
        await until(lambda: len(latest()) == 1, "the customer queued again through node 3", timeout=40)
        again = latest()[0]
        assert again != first and "took over session" in n3.text()
        await alice.send({"cmd": "pick", "id": again})
        await alice.event("paired", timeout=30)
        await cust.stderr_line("Verified: Alice from Acme")
        await alice.send({"cmd": "end"})
        assert await alice.wait() == 0
        assert await cust.wait() == 0
    finally:
        await stop(*(p for p in (cust, alice) if p is not None))
        await front.close()

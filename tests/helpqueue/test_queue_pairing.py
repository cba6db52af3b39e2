"""The help queue's client links and the queue handshake over a real relay on 127.0.0.1:
a customer waits, agents watch, one picks and pairs; an agent of another organisation is
refused and the customer keeps its place for the next."""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

import pytest

from cobrowse.io.runtime import SessionRuntime
from cobrowse.policy.events import as_json
from cobrowse.queue.link import PickedAgentLink, QueuedCustomerLink, QueueWatcher
from cobrowse.queue.sessions import join_picked, start_queued
from cobrowse.trust.credential import AgentIdentity, OrgKey
from cobrowse.wire import envelope as env
from tests.waiting import until

NOW = int(time.time())
ACME = OrgKey.generate("Acme", os.urandom)
OTHER = OrgKey.generate("Other", os.urandom)
T = 10.0


def identity(org: OrgKey, name: str) -> AgentIdentity:
    return org.issue(name, NOW, 30, os.urandom)[1]


class Side(SessionRuntime):
    """A runtime with no role of its own: enough to pair and say so."""

    def __init__(self, role: str, link: Any) -> None:
        self.role = role
        self.events: list[dict[str, Any]] = []
        super().__init__(link, lambda e: self.events.append(as_json(e)))

    def kinds(self) -> list[str]:
        return [str(e.get("event")) for e in self.events]


async def watcher(relay_url: str, lists: list[env.QueueList]) -> QueueWatcher:
    w = QueueWatcher(relay_url, ACME.key_id, None, lists.append)
    await w.connect()
    asyncio.get_running_loop().create_task(w.run())
    return w


async def customer(relay_url: str, positions: list[env.Queued]) -> tuple[Side, QueuedCustomerLink]:
    link = QueuedCustomerLink(relay_url, org=ACME.key_id, topic="git push is rejected", lang="en",
                              on_queued=positions.append)
    side = Side("customer", link)
    await start_queued(side, ACME.trust(NOW))
    return side, link


async def agent(relay_url: str, picked: env.Picked, who: AgentIdentity) -> Side:
    side = Side("agent", PickedAgentLink(relay_url, picked.ticket))
    await join_picked(side, picked.nameplate, ACME.key_id, who)
    return side


async def test_two_agents_one_picks_and_pairs_the_other_sees_the_queue_change(relay_url: str) -> None:
    seen1: list[env.QueueList] = []
    seen2: list[env.QueueList] = []
    w1, w2 = await watcher(relay_url, seen1), await watcher(relay_url, seen2)
    positions: list[env.Queued] = []
    cust, link = await customer(relay_url, positions)
    waiting = asyncio.ensure_future(link.wait_for_pick())
    await until(lambda: seen2 and seen2[-1].total == 1, timeout=T)
    entry = seen1[-1].waiting[0]
    assert entry["topic"] == "git push is rejected" and entry["lang"] == "en"
    await until(lambda: positions and positions[-1].position == 1 and positions[-1].agents == 2, timeout=T)

    picked = await w1.pick(entry["id"])
    await until(lambda: seen2[-1].total == 0, timeout=T)
    with pytest.raises(Exception, match="already picked"):
        await w2.pick(entry["id"])
    alice = await agent(relay_url, picked, identity(ACME, "Alice"))
    await asyncio.wait_for(waiting, T)
    runs = [asyncio.ensure_future(cust.run()), asyncio.ensure_future(alice.run())]
    await until(lambda: "paired" in cust.kinds() and "paired" in alice.kinds(), timeout=T)
    assert cust.session is not None and alice.session is not None and cust.session.sas == alice.session.sas
    assert link.paired  # confirmed: the customer no longer queues
    await alice.end("agent_ended")
    await asyncio.wait_for(asyncio.gather(*runs), T)
    for w in (w1, w2):
        await w.close()


async def test_an_agent_of_another_organisation_is_refused_and_the_customer_keeps_its_place(relay_url: str) -> None:
    seen: list[env.QueueList] = []
    w = await watcher(relay_url, seen)
    positions: list[env.Queued] = []
    cust, link = await customer(relay_url, positions)
    waiting = asyncio.ensure_future(link.wait_for_pick())
    await until(lambda: seen and seen[-1].total == 1, timeout=T)
    entry_id = seen[-1].waiting[0]["id"]

    mallory = await agent(relay_url, await w.pick(entry_id), identity(OTHER, "Mallory"))
    await asyncio.wait_for(waiting, T)
    cust_run = asyncio.ensure_future(cust.run())
    mallory_run = asyncio.ensure_future(mallory.run())
    outcome = await asyncio.wait_for(mallory_run, T)
    assert outcome.reason == "wrong_code" and "paired" not in mallory.kinds()
    assert any(e.get("kind") == "wrong_code" for e in cust.events) and "paired" not in cust.kinds()
    await until(lambda: seen[-1].total == 1 and seen[-1].waiting[0]["id"] == entry_id, timeout=T)  # its place back

    bob = await agent(relay_url, await w.pick(entry_id), identity(ACME, "Bob"))
    bob_run = asyncio.ensure_future(bob.run())
    await until(lambda: "paired" in cust.kinds() and "paired" in bob.kinds(), timeout=T)
    await bob.end("agent_ended")
    await asyncio.wait_for(asyncio.gather(cust_run, bob_run), T)
    await w.close()


async def test_a_dropped_connection_or_an_agent_gone_before_pairing_keeps_the_customer_queued(relay_url: str) -> None:
    seen: list[env.QueueList] = []
    w = await watcher(relay_url, seen)
    positions: list[env.Queued] = []
    cust, link = await customer(relay_url, positions)
    waiting = asyncio.ensure_future(link.wait_for_pick())
    await until(lambda: seen and seen[-1].total == 1, timeout=T)
    link.abort()  # the network drops: the relay forgets the entry, the link resumes and queues again
    await until(lambda: seen[-1].total == 0, "the entry gone with the connection", timeout=T)
    await until(lambda: seen[-1].total == 1, "the customer queued again after the resume", timeout=T)
    entry_id = seen[-1].waiting[0]["id"]

    picked = await w.pick(entry_id)
    quitter = await agent(relay_url, picked, identity(ACME, "Quinn"))
    await asyncio.wait_for(waiting, T)
    cust_run = asyncio.ensure_future(cust.run())
    quitter.link.abort()  # the agent's machine goes away before the handshake ends
    quitter.link.reconnect_for = 0
    await until(lambda: seen[-1].total == 1, "the customer's place back", timeout=T)
    assert "paired" not in cust.kinds()
    bob = await agent(relay_url, await w.pick(seen[-1].waiting[0]["id"]), identity(ACME, "Bob"))
    bob_run = asyncio.ensure_future(bob.run())
    await until(lambda: "paired" in cust.kinds() and "paired" in bob.kinds(), timeout=T)
    await bob.end("agent_ended")
    await asyncio.wait_for(asyncio.gather(cust_run, bob_run), T)
    await w.close()

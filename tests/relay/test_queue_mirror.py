"""Two nodes' help queues, synchronously: each node's share shown by the other, positions,
agents and estimates cluster-wide, a pick decided by the customer's node, lost and stale
nodes dropped (relay/queue_mirror.py, relay/queue.py)."""

from __future__ import annotations

from itertools import count

import pytest

from cobrowse.wire.envelope import Error, Picked, Queued, QueueList
from relay.outcome import Output
from relay.queue import HelpQueue
from relay.queue_mirror import MIRROR_TTL, BadShare, Share, decode, encode

ACME = "0123456789abcdef"


class Node:
    """One node's queue; ``changed`` collects what it would share."""

    def __init__(self, name: str) -> None:
        ids, tickets = count(1), count(1)
        self.name = name
        self.changed: list[str] = []
        self.q = HelpQueue(lambda: f"{name}q{next(ids)}", lambda: f"{name}t{next(tickets)}",
                           on_change=self.changed.append)

    def share_to(self, other: Node, now: float, sent_at: float | None = None) -> Output:
        """Our share as the other node receives it (through JSON, as on the wire)."""
        share = self.q.share(ACME, now if sent_at is None else sent_at)
        wire = decode(encode("share", self.name, {"share": share.to_json()}))
        return other.q.shared(self.name, Share.from_json(wire["share"]), now)


def places(out: Output, conn: str) -> list[tuple[int, float | None, int]]:
    return [(m.position, m.estimate_s, m.agents) for m in out.to(conn) if isinstance(m, Queued)]


def listed(out: Output, conn: str) -> list[str]:
    lists = [m for m in out.to(conn) if isinstance(m, QueueList)]
    assert lists, out.send
    return [e["id"] for e in lists[-1].waiting]


def test_a_customer_on_one_node_is_listed_and_counted_on_the_other() -> None:
    n1, n2 = Node("n1"), Node("n2")
    n1.q.enqueue("c1", "10", ACME, "git push", "ru", 0.0)
    assert n1.changed == [ACME]
    out = n2.q.watch("a2", ACME, 1.0)
    assert listed(out, "a2") == []
    out = n1.share_to(n2, 2.0)
    assert listed(out, "a2") == ["n1q1"] and n2.changed == [ACME]  # receiving never re-shares
    msg = [m for m in out.to("a2") if isinstance(m, QueueList)][-1]
    assert msg.waiting[0]["waiting_s"] == 2.0 and msg.waiting[0]["lang"] == "ru" and msg.total == 1

    out = n2.share_to(n1, 3.0)  # n2's agent reaches n1's customer as an agent watching
    assert places(out, "c1") == [(1, 60.0, 1)]

    out = n2.q.enqueue("c2", "20", ACME, "disk full", "en", 4.0)  # later than c1: second, at once
    assert places(out, "c2") == [(2, 120.0, 1)] and listed(out, "a2") == ["n1q1", "n2q1"]
    assert places(n2.share_to(n1, 4.0), "c1") == []  # c1's place did not change: nothing sent


def test_positions_follow_the_wait_not_the_node() -> None:
    n1, n2 = Node("n1"), Node("n2")
    n2.q.enqueue("c2", "20", ACME, "second", "en", 5.0)
    n1.q.enqueue("c1", "10", ACME, "first", "en", 1.0)
    n2.q.watch("a2", ACME, 6.0)
    out = n1.share_to(n2, 6.0)  # c1 waited 5 s, c2 1 s: c1 is first although it came in second here
    assert listed(out, "a2") == ["n1q1", "n2q1"]
    assert places(out, "c2")[-1] == (2, 120.0, 1)


def test_a_pick_forwarded_to_the_customers_node_is_decided_there_once() -> None:
    n1, n2 = Node("n1"), Node("n2")
    n1.q.enqueue("c1", "10", ACME, "x", "en", 0.0)
    n2.q.watch("a2", ACME, 1.0)
    n1.share_to(n2, 1.0)
    assert n2.q.home_of("n1q1") == "n1" and n1.q.home_of("n1q1") is None
    assert n2.q.watched_org("a2") == ACME
    first = n1.q.pick_for(("n2", 1), ACME, "n1q1", 2.0)
    picked = [m for m in first.to(("n2", 1)) if isinstance(m, Picked)]
    assert picked and picked[0].nameplate == "10" and n1.q.admit_claim("10", picked[0].ticket) is None
    again = n1.q.pick_for(("n3", 1), ACME, "n1q1", 2.5)
    assert [m.code for m in again.to(("n3", 1)) if isinstance(m, Error)] == ["picked"]
    assert n1.q.share(ACME, 3.0).waiting == ()  # held: no longer waiting anywhere
    assert listed(n1.share_to(n2, 3.0), "a2") == []


def test_picks_on_every_node_make_the_estimate() -> None:
    n1, n2 = Node("n1"), Node("n2")
    n2.q.watch("a2", ACME, 0.0)
    for i, now in enumerate((10.0, 20.0)):
        n2.q.enqueue(f"c{i}", str(30 + i), ACME, "x", "en", now - 1)
        n2.q.pick("a2", f"n2q{i + 1}", now)
        n2.q.paired(str(30 + i), now)
    n1.q.enqueue("c1", "10", ACME, "x", "en", 21.0)
    out = n2.share_to(n1, 22.0)
    assert places(out, "c1") == [(1, 10.0, 1)]  # the median interval of n2's picks, not a minute


def test_a_lost_node_and_a_stale_share_leave_the_queue() -> None:
    n1, n2, n3 = Node("n1"), Node("n2"), Node("n3")
    n1.q.enqueue("c1", "10", ACME, "first", "en", 0.0)
    n3.q.enqueue("c3", "30", ACME, "second", "en", 1.0)
    n2.q.watch("a2", ACME, 2.0)
    n1.share_to(n2, 2.0)
    n1.share_to(n3, 2.0)
    n2.share_to(n3, 2.0)
    assert listed(n3.share_to(n2, 2.0), "a2") == ["n1q1", "n3q1"]
    out = n2.q.node_lost("n1", 3.0)
    assert listed(out, "a2") == ["n3q1"]
    assert places(n3.q.node_lost("n1", 3.0), "c3") == [(1, 60.0, 1)]
    assert n2.q.tick(3.0 + MIRROR_TTL - 2).send == []  # n3's share is still fresh enough
    assert listed(n2.q.tick(2.0 + MIRROR_TTL + 0.1), "a2") == []  # never refreshed: gone


def test_an_empty_share_forgets_the_node_and_bad_shares_are_refused() -> None:
    n1, n2 = Node("n1"), Node("n2")
    n1.q.enqueue("c1", "10", ACME, "x", "en", 0.0)
    n2.q.watch("a2", ACME, 0.0)
    n1.share_to(n2, 1.0)
    n1.q.disconnected("c1", 2.0)
    assert n1.changed[-1] == ACME and n1.q.orgs() == []
    assert listed(n1.share_to(n2, 2.0), "a2") == [] and n2.q.mirror.nodes() == set()
    for bad in ({}, {"org": 1}, {"org": ACME, "waiting": "x"}, {"org": ACME, "waiting": [["a", "b"]]},
                {"org": ACME, "picks": ["x"]}):
        with pytest.raises(BadShare):
            Share.from_json(bad)
    with pytest.raises(BadShare):
        decode(b"[1]")

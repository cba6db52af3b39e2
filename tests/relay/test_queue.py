"""The relay's help queue, synchronously: order, positions, picks, races, bounds."""

from __future__ import annotations

from itertools import count

from cobrowse.wire.envelope import Error, Picked, Queued, QueueList
from relay.outcome import Output
from relay.queue import DEFAULT_INTERVAL, MAX_SHOWN, PICK_HOLD, HelpQueue

ACME = "0123456789abcdef"
OTHER = "fedcba9876543210"


def make(**kw: int) -> HelpQueue:
    ids, tickets = count(1), count(1)
    return HelpQueue(lambda: f"q{next(ids)}", lambda: f"t{next(tickets)}", **kw)


def last(out: Output, conn: str, kind: type) -> object:
    found = [m for m in out.to(conn) if isinstance(m, kind)]
    assert found, f"nothing of {kind.__name__} to {conn}: {out.send}"
    return found[-1]


def listing(out: Output, conn: str) -> list[str]:
    msg = last(out, conn, QueueList)
    assert isinstance(msg, QueueList)
    return [e["id"] for e in msg.waiting]


def test_customers_wait_in_order_and_learn_their_place() -> None:
    q = make()
    first = q.enqueue("c1", "10", ACME, "git push rejected", "en", 0.0)
    pos = last(first, "c1", Queued)
    assert isinstance(pos, Queued) and (pos.id, pos.position, pos.estimate_s, pos.agents) == ("q1", 1, None, 0)
    q.enqueue("c2", "11", ACME, "no space left", "ru", 1.0)
    out = q.watch("a1", ACME, 2.0)
    assert listing(out, "a1") == ["q1", "q2"]
    second = last(out, "c2", Queued)
    assert isinstance(second, Queued) and second.position == 2 and second.agents == 1
    assert second.estimate_s == 2 * DEFAULT_INTERVAL


def test_one_pick_wins_the_others_see_the_queue_change() -> None:
    q = make()
    q.enqueue("c1", "10", ACME, "help", "", 0.0)
    q.enqueue("c2", "11", ACME, "help too", "", 0.0)
    q.watch("a1", ACME, 1.0)
    q.watch("a2", ACME, 1.0)
    out = q.pick("a1", "q1", 2.0)
    picked = last(out, "a1", Picked)
    assert isinstance(picked, Picked) and (picked.nameplate, picked.ticket) == ("10", "t1")
    assert listing(out, "a2") == ["q2"] and listing(out, "a1") == ["q2"]
    moved = last(out, "c2", Queued)
    assert isinstance(moved, Queued) and moved.position == 1
    late = q.pick("a2", "q1", 2.1)
    err = last(late, "a2", Error)
    assert isinstance(err, Error) and err.code == "picked"


def test_only_the_ticket_claims_a_queued_session() -> None:
    q = make()
    q.enqueue("c1", "10", ACME, "help", "", 0.0)
    q.watch("a1", ACME, 0.0)
    assert q.admit_claim("10", None) == "taken"  # waiting, not picked: nobody claims it
    q.pick("a1", "q1", 1.0)
    assert q.admit_claim("10", None) == "taken"
    assert q.admit_claim("10", "t-guess") == "taken"
    assert q.admit_claim("10", "t1") is None
    assert q.admit_claim("99", None) is None  # not a queued session: the rooms decide


def test_pairing_removes_the_entry_and_a_refused_pick_gets_the_place_back() -> None:
    q = make()
    q.enqueue("c1", "10", ACME, "first", "", 0.0)
    q.enqueue("c2", "11", ACME, "second", "", 1.0)
    q.watch("a1", ACME, 2.0)
    q.pick("a1", "q1", 3.0)
    again = q.enqueue("c1", "10", ACME, "first", "", 4.0)  # its client refused the agent
    assert listing(again, "a1") == ["q1", "q2"]
    back = last(again, "c1", Queued)
    assert isinstance(back, Queued) and back.position == 1
    q.pick("a1", "q1", 5.0)
    out = q.paired("10", 5.5)
    assert listing(out, "a1") == ["q2"] and q.admit_claim("10", "t2") is None and q.size() == 1


def test_a_pick_nobody_pairs_goes_back_after_the_hold() -> None:
    q = make()
    q.enqueue("c1", "10", ACME, "x", "", 0.0)
    q.watch("a1", ACME, 0.0)
    q.pick("a1", "q1", 1.0)
    assert not q.tick(1.0 + PICK_HOLD - 0.1)
    assert listing(q.tick(1.0 + PICK_HOLD), "a1") == ["q1"]


def test_queues_are_per_organisation_and_picks_stay_inside_one() -> None:
    q = make()
    q.enqueue("c1", "10", ACME, "x", "", 0.0)
    out = q.watch("a1", OTHER, 0.0)
    assert listing(out, "a1") == []
    err = last(q.pick("a1", "q1", 1.0), "a1", Error)
    assert isinstance(err, Error) and err.code == "picked"
    err = last(q.pick("nobody", "q1", 1.0), "nobody", Error)
    assert isinstance(err, Error) and err.code == "not_queued"


def test_leaving_removes_customers_and_watchers() -> None:
    q = make()
    q.enqueue("c1", "10", ACME, "x", "", 0.0)
    q.enqueue("c2", "11", ACME, "y", "", 0.0)
    q.watch("a1", ACME, 0.0)
    out = q.disconnected("c1", 1.0)
    assert listing(out, "a1") == ["q2"]
    out = q.disconnected("a1", 2.0)
    gone = last(out, "c2", Queued)
    assert isinstance(gone, Queued) and gone.agents == 0 and gone.estimate_s is None
    assert not q.watching("a1") and q.queued("c2") and not q.queued("c1")


def test_the_estimate_follows_the_pace_of_picks() -> None:
    q = make()
    for i in range(5):
        q.enqueue(f"c{i}", str(10 + i), ACME, "x", "", 0.0)
    q.watch("a1", ACME, 0.0)
    q.pick("a1", "q1", 100.0)
    q.paired("10", 105.0)
    out = q.pick("a1", "q2", 110.0)
    third = last(out, "c2", Queued)
    assert isinstance(third, Queued) and third.position == 1 and third.estimate_s == 10.0


def test_bounds_and_what_agents_are_shown() -> None:
    q = make(max_entries=20, max_watchers=1)
    for i in range(20):
        q.enqueue(f"c{i}", str(10 + i), ACME, "\x1b[31mred\x07" + "t" * 300, "en", float(i))
    err = last(q.enqueue("c99", "99", ACME, "x", "", 30.0), "c99", Error)
    assert isinstance(err, Error) and err.code == "full"
    out = q.watch("a1", ACME, 30.0)
    msg = last(out, "a1", QueueList)
    assert isinstance(msg, QueueList) and len(msg.waiting) == MAX_SHOWN and msg.total == 20
    assert all(e["topic"].isprintable() and len(e["topic"]) <= 120 for e in msg.waiting)
    assert len(msg.encode()) < 4096
    err = last(q.watch("a2", ACME, 30.0), "a2", Error)
    assert isinstance(err, Error)


def test_an_agent_holds_one_pick_at_a_time_and_empty_queues_are_forgotten() -> None:
    q = make()
    q.enqueue("c1", "10", ACME, "x", "", 0.0)
    q.enqueue("c2", "11", ACME, "y", "", 0.0)
    q.watch("a1", ACME, 0.0)
    q.pick("a1", "q1", 1.0)
    err = last(q.pick("a1", "q2", 1.5), "a1", Error)
    assert isinstance(err, Error) and err.code == "not_queued"
    q.paired("10", 2.0)
    assert isinstance(last(q.pick("a1", "q2", 2.5), "a1", Picked), Picked)
    again = last(q.watch("a1", OTHER, 3.0), "a1", Error)
    assert isinstance(again, Error) and again.code == "not_queued"
    q.watch("a2", OTHER, 3.0)
    q.disconnected("a2", 4.0)
    assert OTHER not in q._orgs

"""The relay's pure state machine, driven synchronously with a fake clock and a seeded rng."""

from __future__ import annotations

import hashlib
import random
from itertools import count

import pytest

from cobrowse.wire.envelope import (
    CLOSE_REASONS,
    Claim,
    Claimed,
    Close,
    Closed,
    Confirm,
    Error,
    Open,
    Opened,
    Peer,
    Ping,
    Pong,
    Resume,
    Resumed,
)
from relay.config import RelayConfig
from relay.rooms import CLOSE_NORMAL, CLOSE_POLICY, CLOSE_TOO_BIG, Output, RateLimiter, Rooms

A, C, X = "agent-conn", "customer-conn", "stranger-conn"


def make(**overrides: object) -> Rooms:
    counter = count(1)
    cfg = RelayConfig(**overrides)  # type: ignore[arg-type]
    return Rooms(cfg, random.Random(1234), lambda: f"{next(counter):032x}")


def only(out: Output, key: str) -> list:
    return out.to(key)


def error_code(out: Output, key: str) -> str:
    errors = [m for m in out.to(key) if isinstance(m, Error)]
    assert len(errors) == 1, out
    return errors[0].code


def open_session(rooms: Rooms, conn: str = A, role: str = "agent", now: float = 0.0, addr: str = "1.1.1.1"):
    rooms.connected(conn, addr)
    out = rooms.receive(conn, Open(role, 1), now)
    (opened,) = out.to(conn)
    assert isinstance(opened, Opened)
    return opened


def pair(rooms: Rooms, now: float = 0.0, confirm: bool = True):
    """Open, claim and (unless ``confirm`` is false) confirm: a paired session."""
    opened = open_session(rooms, now=now)
    rooms.connected(C, "2.2.2.2")
    out = rooms.receive(C, Claim("customer", 1, opened.nameplate), now)
    claimed = out.to(C)[0]
    assert isinstance(claimed, Claimed)
    if confirm:
        assert not rooms.receive(A, Confirm(), now).send
    return opened, claimed, out


# ---- allocation ----


def test_open_allocates_a_short_nameplate_and_a_secret_side_token():
    rooms = make()
    opened = open_session(rooms)
    assert opened.nameplate.isdigit() and 1 <= int(opened.nameplate) <= 99
    assert len(opened.side) == 32 and int(opened.side, 16) >= 0
    assert opened.ttl == 600.0
    assert rooms.session_count == 1


def test_nameplates_are_unique_and_the_range_grows_with_load():
    rooms = make()
    seen = set()
    for i in range(500):
        rooms.connected(i, "a")
        (opened,) = rooms.receive(i, Open("agent", 1), 0.0).to(i)
        seen.add(opened.nameplate)
    assert len(seen) == 500
    assert max(int(n) for n in seen) <= 4 * 500
    assert min(int(n) for n in seen) >= 1


def test_allocation_is_deterministic_with_an_injected_rng():
    assert open_session(make()).nameplate == open_session(make()).nameplate


def test_a_recently_ended_nameplate_is_not_reused():
    rooms = make(reuse_cooldown=300.0)
    opened = open_session(rooms)
    rooms.receive(A, Close(), 1.0)
    reused = set()
    for i in range(2000):
        rooms.connected(i, "a")
        (o,) = rooms.receive(i, Open("agent", 1), 2.0).to(i)
        reused.add(o.nameplate)
        rooms.receive(i, Close(), 2.0)
        rooms.disconnected(i, 2.0)
    assert opened.nameplate not in reused


def test_full_when_max_sessions_reached():
    rooms = make(max_sessions=2)
    open_session(rooms, "a1")
    open_session(rooms, "a2")
    rooms.connected("a3", "x")
    out = rooms.receive("a3", Open("agent", 1), 0.0)
    assert error_code(out, "a3") == "full"
    assert out.closes("a3")


# ---- claim ----


def test_claim_pairs_and_tells_both_sides():
    rooms = make()
    opened, claimed, out = pair(rooms)
    assert claimed.nameplate == opened.nameplate
    assert claimed.side != opened.side and len(claimed.side) == 32
    assert out.to(C) == [claimed, Peer("joined")]
    assert out.to(A) == [Peer("joined")]
    assert not out.close
    assert rooms.peer_of(A) == C and rooms.peer_of(C) == A


def test_claim_accepts_a_zero_padded_nameplate():
    rooms = make()
    opened = open_session(rooms)
    rooms.connected(C, "2.2.2.2")
    out = rooms.receive(C, Claim("customer", 1, "00" + opened.nameplate), 0.0)
    assert isinstance(out.to(C)[0], Claimed)


def test_claim_unknown_nameplate():
    rooms = make()
    rooms.connected(X, "9.9.9.9")
    out = rooms.receive(X, Claim("customer", 1, "4242"), 0.0)
    assert error_code(out, X) == "unknown_nameplate"
    assert out.close == [(X, CLOSE_POLICY, "unknown_nameplate")]


def test_claim_garbage_nameplate_is_unknown():
    rooms = make()
    rooms.connected(X, "9.9.9.9")
    assert error_code(rooms.receive(X, Claim("customer", 1, "abc"), 0.0), X) == "unknown_nameplate"


def test_a_claim_is_a_single_try_third_party_gets_taken():
    rooms = make()
    opened, _, _ = pair(rooms)
    rooms.connected(X, "9.9.9.9")
    out = rooms.receive(X, Claim("customer", 1, opened.nameplate), 0.0)
    assert error_code(out, X) == "taken"
    assert out.to(A) == [] and out.to(C) == []
    assert rooms.peer_of(A) == C


def test_same_role_as_creator_is_taken():
    rooms = make()
    opened = open_session(rooms)
    rooms.connected(X, "9.9.9.9")
    out = rooms.receive(X, Claim("agent", 1, opened.nameplate), 0.0)
    assert error_code(out, X) == "taken"
    # the session still waits for a customer
    rooms.connected(C, "2.2.2.2")
    assert isinstance(rooms.receive(C, Claim("customer", 1, opened.nameplate), 0.0).to(C)[0], Claimed)


def test_customer_can_create_and_agent_claims():
    rooms = make()
    opened = open_session(rooms, C, "customer")
    rooms.connected(A, "1.1.1.1")
    out = rooms.receive(A, Claim("agent", 1, opened.nameplate), 0.0)
    assert isinstance(out.to(A)[0], Claimed)
    assert out.to(C) == [Peer("joined")]


def test_bad_version_on_open_and_claim():
    rooms = make()
    rooms.connected(A, "1")
    out = rooms.receive(A, Open("agent", 2), 0.0)
    assert error_code(out, A) == "bad_version" and out.closes(A)
    opened = open_session(rooms, "a2")
    rooms.connected(C, "2")
    out = rooms.receive(C, Claim("customer", 7, opened.nameplate), 0.0)
    assert error_code(out, C) == "bad_version" and out.closes(C)


def test_open_or_claim_twice_on_one_connection_is_malformed():
    rooms = make()
    open_session(rooms)
    out = rooms.receive(A, Open("agent", 1), 0.0)
    assert error_code(out, A) == "malformed" and out.closes(A)


def test_ping_pong():
    rooms = make()
    rooms.connected(X, "1")
    assert rooms.receive(X, Ping(), 0.0).send == [(X, Pong())]


# ---- tokens and policy ----


def test_agent_tokens_required_when_configured():
    digest = hashlib.sha256(b"s3cret").hexdigest()
    rooms = make(agent_tokens=(digest,))
    rooms.connected("a1", "1")
    assert error_code(rooms.receive("a1", Open("agent", 1), 0.0), "a1") == "unauthorized"
    rooms.connected("a2", "1")
    assert error_code(rooms.receive("a2", Open("agent", 1, token="wrong"), 0.0), "a2") == "unauthorized"
    rooms.connected("a3", "1")
    assert isinstance(rooms.receive("a3", Open("agent", 1, token="s3cret"), 0.0).to("a3")[0], Opened)
    # customers never need one, and agents claiming need one too
    opened = open_session(rooms, C, "customer")
    rooms.connected("a4", "1")
    assert error_code(rooms.receive("a4", Claim("agent", 1, opened.nameplate), 0.0), "a4") == "unauthorized"
    rooms.connected("a5", "1")
    out = rooms.receive("a5", Claim("agent", 1, opened.nameplate, token="s3cret"), 0.0)
    assert isinstance(out.to("a5")[0], Claimed)


def test_customers_may_not_create_when_forbidden():
    rooms = make(customers_may_create=False)
    rooms.connected(C, "1")
    assert error_code(rooms.receive(C, Open("customer", 1), 0.0), C) == "forbidden"
    open_session(rooms)  # agents still may


# ---- binary frames that are not forwarded ----


def test_binary_before_pairing_is_not_in_session_and_not_fatal():
    rooms = make()
    rooms.connected(X, "1")
    out = rooms.binary(X, 10, 0.0)
    assert error_code(out, X) == "not_in_session" and not out.close
    open_session(rooms)
    out = rooms.binary(A, 10, 0.0)
    assert error_code(out, A) == "not_in_session" and not out.close


def test_too_large_closes_only_that_client_and_puts_it_in_grace():
    rooms = make(max_frame_bytes=1024)
    pair(rooms)
    out = rooms.binary(C, 5000, 1.0)
    assert error_code(out, C) == "too_large"
    assert out.close == [(C, CLOSE_TOO_BIG, "too_large")]
    assert out.to(A) == [Peer("left")]
    assert rooms.peer_of(A) is None
    assert rooms.session_count == 1


def test_binary_to_a_detached_peer_is_dropped_silently():
    rooms = make()
    pair(rooms)
    rooms.disconnected(C, 1.0)
    assert not rooms.binary(A, 10, 1.0)


# ---- grace and resume ----


def test_drop_and_resume_within_grace():
    rooms = make(grace=60.0)
    opened, claimed, _ = pair(rooms)
    out = rooms.disconnected(C, 10.0)
    assert out.send == [(A, Peer("left"))]
    assert rooms.peer_of(A) is None
    rooms.connected("c2", "2.2.2.2")
    out = rooms.receive("c2", Resume(opened.nameplate, claimed.side), 50.0)
    assert out.to("c2") == [Resumed(opened.nameplate, True)]
    assert out.to(A) == [Peer("back")]
    assert rooms.peer_of(A) == "c2" and rooms.peer_of("c2") == A
    assert not rooms.tick(200.0)  # the old grace timer is stale
    assert rooms.session_count == 1


def test_resume_with_a_wrong_token_or_dead_session_is_bad_resume():
    rooms = make()
    opened, claimed, _ = pair(rooms)
    rooms.disconnected(C, 1.0)
    rooms.connected("c2", "2")
    out = rooms.receive("c2", Resume(opened.nameplate, "0" * 32), 2.0)
    assert error_code(out, "c2") == "bad_resume" and out.closes("c2")
    rooms.connected("c3", "2")
    out = rooms.receive("c3", Resume("99999", claimed.side), 2.0)
    assert error_code(out, "c3") == "bad_resume"


def test_resume_replaces_a_connection_the_relay_still_thinks_is_alive():
    rooms = make()
    opened, claimed, _ = pair(rooms)
    rooms.connected("c2", "2")
    out = rooms.receive("c2", Resume(opened.nameplate, claimed.side), 5.0)
    assert out.to("c2") == [Resumed(opened.nameplate, True)]
    assert out.to(A) == []  # A never saw the side leave
    assert (C, CLOSE_NORMAL, "replaced by a resumed connection") in out.close
    assert rooms.peer_of(A) == "c2"
    assert not rooms.disconnected(C, 6.0)  # the replaced socket's end changes nothing


def test_grace_timeout_ends_the_session_and_tells_the_other_side():
    rooms = make(grace=60.0)
    opened, claimed, _ = pair(rooms)
    rooms.disconnected(C, 10.0)
    assert not rooms.tick(69.0)
    out = rooms.tick(70.5)
    assert out.to(A) == [Closed("peer_timeout", "the other side lost its connection and did not come back")]
    assert out.close == [(A, CLOSE_NORMAL, "session ended")]
    assert rooms.session_count == 0
    rooms.connected("c2", "2")
    assert error_code(rooms.receive("c2", Resume(opened.nameplate, claimed.side), 71.0), "c2") == "bad_resume"
    rooms.connected(X, "3")
    assert error_code(rooms.receive(X, Claim("customer", 1, opened.nameplate), 71.0), X) == "expired"


def test_claim_while_the_creator_is_detached():
    rooms = make()
    opened = open_session(rooms)
    rooms.disconnected(A, 1.0)
    rooms.connected(C, "2")
    out = rooms.receive(C, Claim("customer", 1, opened.nameplate), 2.0)
    assert [type(m) for m in out.to(C)] == [Claimed, Peer, Peer]
    assert out.to(C)[1:] == [Peer("joined"), Peer("left")]
    rooms.connected("a2", "1")
    out = rooms.receive("a2", Resume(opened.nameplate, opened.side), 3.0)
    assert out.to("a2") == [Resumed(opened.nameplate, True)]
    assert out.to(C) == [Peer("back")]


# ---- expiry and recently dead nameplates ----


def test_unclaimed_nameplate_expires_and_then_answers_expired():
    rooms = make(unclaimed_ttl=600.0, dead_memory=1800.0)
    opened = open_session(rooms)
    assert not rooms.tick(599.0)
    out = rooms.tick(600.0)
    (closed,) = out.to(A)
    assert isinstance(closed, Closed) and closed.reason == "expired" and "10 minutes" in closed.message
    assert out.closes(A)
    rooms.connected(X, "9")
    assert error_code(rooms.receive(X, Claim("customer", 1, opened.nameplate), 700.0), X) == "expired"
    rooms.tick(600.0 + 1800.0 + 1)
    rooms.connected("y", "8")
    assert error_code(rooms.receive("y", Claim("customer", 1, opened.nameplate), 2500.0), "y") == "unknown_nameplate"


def test_claimed_sessions_do_not_expire_as_unclaimed():
    rooms = make(unclaimed_ttl=10.0)
    pair(rooms)
    assert not rooms.tick(1000.0)
    assert rooms.session_count == 1


# ---- close ----


def test_close_tells_the_other_side_who_ended_it_and_closes_both():
    rooms = make()
    opened, _, _ = pair(rooms)
    out = rooms.receive(A, Close("ended"), 5.0)
    assert out.to(C) == [Closed("ended", "the agent ended the session")]
    assert set(k for k, _, _ in out.close) == {A, C}
    assert all(code == CLOSE_NORMAL for _, code, _ in out.close)
    assert rooms.session_count == 0 and rooms.peer_of(C) is None
    rooms.connected(X, "9")
    assert error_code(rooms.receive(X, Claim("customer", 1, opened.nameplate), 6.0), X) == "expired"


def test_close_scared_says_security_problem():
    rooms = make()
    pair(rooms)
    out = rooms.receive(C, Close("scared"), 5.0)
    (closed,) = out.to(A)
    assert closed.reason == "scared" and closed.message == CLOSE_REASONS["scared"] and "replaying" in closed.message


def test_close_with_an_odd_reason_is_sanitised():
    rooms = make()
    pair(rooms)
    out = rooms.receive(C, Close("<script>" * 10), 5.0)
    assert out.to(A) == [Closed("ended", "the customer ended the session")]


def test_creator_closing_before_a_claim_just_frees_it():
    rooms = make()
    open_session(rooms)
    out = rooms.receive(A, Close(), 1.0)
    assert out.send == [] and out.close == [(A, CLOSE_NORMAL, "session ended")]
    assert rooms.session_count == 0


def test_messages_after_a_fatal_error_are_ignored():
    rooms = make()
    rooms.connected(X, "1")
    rooms.receive(X, Open("agent", 9), 0.0)
    assert not rooms.receive(X, Open("agent", 1), 0.0)
    assert not rooms.binary(X, 10, 0.0)


# ---- rate limiting ----


def test_failed_claims_are_rate_limited_per_address_with_backoff():
    rooms = make(rate_limit=10, rate_window=60.0, rate_backoff_max=3600.0)

    def claim(conn: str, addr: str, now: float) -> str:
        rooms.connected(conn, addr)
        return error_code(rooms.receive(conn, Claim("customer", 1, "777"), now), conn)

    for i in range(10):
        assert claim(f"g{i}", "6.6.6.6", i * 0.1) == "unknown_nameplate"
    assert claim("g10", "6.6.6.6", 1.0) == "rate_limited"
    assert claim("other", "7.7.7.7", 1.0) == "unknown_nameplate"  # other addresses unaffected
    assert claim("g11", "6.6.6.6", 59.0) == "rate_limited"
    # first block: one window; after it, 10 more failures block for twice as long
    t = 61.0
    for i in range(10):
        assert claim(f"h{i}", "6.6.6.6", t) == "unknown_nameplate"
    assert claim("h10", "6.6.6.6", t + 119.0) == "rate_limited"
    assert claim("h11", "6.6.6.6", t + 121.0) == "unknown_nameplate"


def test_a_rate_limited_address_cannot_claim_even_a_real_nameplate():
    rooms = make(rate_limit=2)
    opened = open_session(rooms)
    for i in range(2):
        rooms.connected(f"g{i}", "6.6.6.6")
        rooms.receive(f"g{i}", Claim("customer", 1, "0"), 0.0)
    rooms.connected(C, "6.6.6.6")
    assert error_code(rooms.receive(C, Claim("customer", 1, opened.nameplate), 1.0), C) == "rate_limited"


def test_rate_limiter_backoff_is_capped_and_forgets_quiet_addresses():
    lim = RateLimiter(limit=1, window=10.0, backoff_max=40.0)
    now = 0.0
    lengths = []
    for _ in range(5):
        last = now
        lim.fail("a", now)
        lengths.append(lim.retry_after("a", now))
        now += lengths[-1]
    assert lengths == [10.0, 20.0, 40.0, 40.0, 40.0]
    lim.prune(last + 39.0)  # quiet period is max(window, backoff_max) = 40 s
    assert len(lim) == 1
    lim.prune(last + 41.0)
    assert len(lim) == 0


# ---- bounded memory ----


def test_memory_stays_bounded_under_churn():
    rooms = Rooms(
        RelayConfig(unclaimed_ttl=5.0, dead_memory=30.0, reuse_cooldown=10.0, grace=1.0),
        random.Random(7),
        lambda: "0" * 32,
        max_dead=500,
        max_addresses=100,
    )
    now = 0.0
    for i in range(20_000):
        now += 0.01
        conn = f"c{i}"
        rooms.connected(conn, f"10.0.{i % 250}.{i % 7}")
        if i % 3 == 0:
            rooms.receive(conn, Claim("customer", 1, "123456"), now)  # failed guesses
        else:
            rooms.receive(conn, Open("agent", 1), now)
        rooms.disconnected(conn, now)
        if i % 100 == 0:
            rooms.tick(now)
    rooms.tick(now)
    sizes = rooms.memory_sizes()
    assert sizes["connections"] == 0
    assert sizes["dead"] <= 500
    assert sizes["addresses"] <= 100
    assert sizes["sessions"] < 200  # only those within grace (1 s at 100 opens/s)
    assert sizes["timers"] < 2000
    rooms.tick(now + 100.0)  # the last graces end here ...
    rooms.tick(now + 200.0)  # ... and their cooldown here
    sizes = rooms.memory_sizes()
    assert sizes["sessions"] == 0 and sizes["timers"] == 0 and sizes["cooling"] == 0


@pytest.mark.parametrize("grace", [0.0, 5.0])
def test_both_sides_dropping_ends_the_session_after_grace(grace: float):
    rooms = make(grace=grace)
    pair(rooms)
    rooms.disconnected(A, 1.0)
    rooms.disconnected(C, 1.0)
    out = rooms.tick(1.0 + grace + 0.1)
    assert not out.send
    assert rooms.session_count == 0


def test_a_rate_limited_claim_says_how_long_to_wait():
    """The wait travels as ``retry_after`` (clients show it in the customer's language); it was
    only in the English detail, which clients do not show (qa6)."""
    rooms = make(rate_limit=2, rate_window=60.0)
    for i in range(2):
        rooms.connected(f"g{i}", "6.6.6.6")
        rooms.receive(f"g{i}", Claim("customer", 1, "0"), 0.0)
    rooms.connected(C, "6.6.6.6")
    errors = [m for m in rooms.receive(C, Claim("customer", 1, "0"), 10.0).to(C) if isinstance(m, Error)]
    assert [e.code for e in errors] == ["rate_limited"]
    assert errors[0].retry_after is not None and 1 <= errors[0].retry_after <= 60

"""The admission machine, synchronously: sockets, per-address and global limits, sizing."""

from __future__ import annotations

from relay.admission import Admission, Limit
from relay.limits import ACCEPT_RESERVE, FD_MARGIN, Limits, derive_limits


def limits(**over: object) -> Limits:
    base: dict[str, object] = dict(
        sockets=20, attached=16, anonymous=12, per_address=6, connect_rate=1.0, connect_burst=6,
        open_rate=1.0, open_burst=4, unpaired_per_address=3, max_unpaired=5, token_factor=10,
    )
    base.update(over)
    return Limits(**base)  # type: ignore[arg-type]


def test_sizing_follows_the_machine_and_keeps_headroom() -> None:
    lim = derive_limits(
        nofile=20_000, mem_available=None, max_connections=0, reserved_connections=0, connections_per_address=0,
        connect_rate=5.0, connect_burst=0, open_rate=1.0, open_burst=30, unpaired_per_address=20, max_unpaired=0,
        token_factor=10, max_sessions=100_000,
    )
    assert lim.sockets == 20_000 - FD_MARGIN - ACCEPT_RESERVE
    assert lim.anonymous < lim.attached < lim.sockets
    assert lim.per_address == lim.sockets // 100 and lim.connect_burst == lim.per_address
    small_memory = derive_limits(
        nofile=1 << 20, mem_available=512 * 1024 * 1024, max_connections=0, reserved_connections=0,
        connections_per_address=0, connect_rate=5.0, connect_burst=0, open_rate=1.0, open_burst=30,
        unpaired_per_address=20, max_unpaired=0, token_factor=10, max_sessions=100_000,
    )
    assert small_memory.sockets == 256 * 1024 * 1024 // (64 * 1024)
    asked_too_much = derive_limits(
        nofile=1000, mem_available=None, max_connections=50_000, reserved_connections=0, connections_per_address=0,
        connect_rate=5.0, connect_burst=0, open_rate=1.0, open_burst=30, unpaired_per_address=20, max_unpaired=0,
        token_factor=10, max_sessions=100_000,
    )
    assert asked_too_much.sockets == 1000 - FD_MARGIN - ACCEPT_RESERVE  # never past the descriptors


def test_full_table_drops_the_oldest_idle_socket_never_a_session() -> None:
    adm = Admission(limits(sockets=4, per_address=10, connect_burst=10))
    for conn in ("s1", "s2", "s3", "s4"):
        assert adm.accept(conn, f"10.0.0.{conn[1]}", 0.0).drop == []
    adm.attached("s1")
    verdict = adm.accept("new", "10.0.0.9", 0.0)
    assert verdict.drop == ["s2"] and verdict.refusal is None  # s1 holds a session: kept
    adm.attached("s3")
    adm.attached("s4")
    adm.attached("new")
    verdict = adm.accept("late", "10.0.0.8", 0.0)
    assert verdict.refusal is not None and verdict.refusal.code == "full" and verdict.refusal.limit is Limit.SOCKETS
    adm.closed("s1")
    assert adm.accept("later", "10.0.0.8", 1.0).refusal is None


def test_per_address_sockets_and_connection_rate() -> None:
    adm = Admission(limits(per_address=3, connect_burst=5, connect_rate=1.0))
    for i in range(3):
        assert adm.accept(i, "10.0.0.1", 0.0).refusal is None
    over = adm.accept(3, "10.0.0.1", 0.0).refusal
    assert over is not None and over.code == "rate_limited" and over.limit is Limit.ADDRESS_SOCKETS
    assert adm.accept("other", "10.0.0.2", 0.0).refusal is None  # another address is not touched
    adm.closed(0)
    adm.closed(1)
    adm.closed(2)
    assert adm.accept(4, "10.0.0.1", 0.0).refusal is None
    assert adm.accept(5, "10.0.0.1", 0.0).refusal is None  # 5 connections: the burst is spent
    adm.closed(4)
    adm.closed(5)
    rate = adm.accept(6, "10.0.0.1", 0.0).refusal
    assert rate is not None and rate.limit is Limit.CONNECT_RATE and rate.retry_after >= 1
    assert adm.accept(7, "10.0.0.1", 1.0).refusal is None  # a second later: one more


def test_opens_per_address_unpaired_and_global_with_tokens_higher() -> None:
    adm = Admission(limits(per_address=50, connect_burst=50, open_burst=10, unpaired_per_address=3, max_unpaired=5))

    def open_from(conn: str, address: str, now: float, authenticated: bool = False) -> object:
        adm.accept(conn, address, now)
        refusal = adm.may_attach(conn, opening=True, authenticated=authenticated, now=now)
        if refusal is None:
            adm.attached(conn)
            token = "desk" if authenticated else None
            adm.session_event("created", f"id-{conn}", {"address": address, "agent_token": token})
        return refusal

    assert [open_from(f"a{i}", "10.0.0.1", 0.0) for i in range(3)] == [None, None, None]
    refusal = open_from("a3", "10.0.0.1", 0.0)
    assert getattr(refusal, "limit", None) is Limit.ADDRESS_UNPAIRED
    assert open_from("t0", "10.0.0.1", 0.0, authenticated=True) is None  # a token: x10
    adm.session_event("paired", "id-a0", {})
    assert open_from("a4", "10.0.0.1", 0.0) is None  # one paired: room again
    assert open_from("b0", "10.0.0.2", 0.0) is None
    assert open_from("b1", "10.0.0.2", 0.0) is None  # 5 anonymous ones waiting in all now
    refusal = open_from("b2", "10.0.0.2", 0.0)
    assert getattr(refusal, "code", None) == "full" and getattr(refusal, "limit", None) is Limit.UNPAIRED
    assert open_from("t1", "10.0.0.2", 0.0, authenticated=True) is None  # not held by max_unpaired
    adm.session_event("ended", "id-a1", {})
    assert adm.unpaired_count == 6 and adm.anonymous_unpaired == 4  # a2 a4 b0 b1, and t0 t1 with a token


def test_open_rate_bucket_refills() -> None:
    adm = Admission(limits(per_address=50, connect_burst=50, open_burst=2, open_rate=0.5, unpaired_per_address=50,
                           max_unpaired=50))
    results = []
    for i, now in enumerate((0.0, 0.0, 0.0, 2.0)):
        adm.accept(i, "10.0.0.1", now)
        results.append(adm.may_attach(i, opening=True, authenticated=False, now=now))
    assert results[0] is None and results[1] is None
    assert results[2] is not None and results[2].limit is Limit.OPEN_RATE and results[2].retry_after == 2
    assert results[3] is None


def test_anonymous_stop_earlier_than_tokens_and_resumes() -> None:
    adm = Admission(limits(attached=4, anonymous=2, per_address=50, connect_burst=50, open_burst=50,
                           unpaired_per_address=50, max_unpaired=50))
    for conn in ("x", "y"):
        adm.accept(conn, "10.0.0.1", 0.0)
        assert adm.may_attach(conn, opening=True, authenticated=False, now=0.0) is None
        adm.attached(conn)
    adm.accept("anon", "10.0.0.2", 0.0)
    anon = adm.may_attach("anon", opening=False, claiming=True, authenticated=False, now=0.0)
    assert anon is not None and anon.code == "full"
    adm.accept("agent", "10.0.0.3", 0.0)
    assert adm.may_attach("agent", opening=True, authenticated=True, now=0.0) is None
    adm.attached("agent")
    adm.accept("resume", "10.0.0.4", 0.0)
    assert adm.may_attach("resume", opening=False, authenticated=False, now=0.0) is None


def test_behind_a_proxy_the_address_is_counted_at_the_upgrade() -> None:
    adm = Admission(limits(per_address=2))
    for conn in ("p1", "p2", "p3"):
        assert adm.accept(conn).refusal is None  # the proxy's address is not the client's
    assert adm.upgrade("p1", "192.0.2.1", 0.0) is None
    assert adm.upgrade("p2", "192.0.2.1", 0.0) is None
    over = adm.upgrade("p3", "192.0.2.1", 0.0)
    assert over is not None and over.limit is Limit.ADDRESS_SOCKETS


def test_idle_addresses_are_forgotten() -> None:
    adm = Admission(limits(open_burst=4, open_rate=1.0, connect_burst=6, connect_rate=1.0))
    adm.accept("c", "10.0.0.1", 0.0)
    adm.closed("c")
    assert adm.address_count() == 1
    adm.prune(3.0)
    assert adm.address_count() == 1  # its connection bucket is not full yet
    adm.prune(10.0)
    assert adm.address_count() == 0


def test_a_released_claim_waits_again_and_counts_again() -> None:
    """After a wrong code the relay releases the claim: the session waits for a claim again."""
    adm = Admission(limits(per_address=50, connect_burst=50, open_burst=50, unpaired_per_address=1, max_unpaired=50))
    adm.accept("c", "10.0.0.1", 0.0)
    assert adm.may_attach("c", opening=True, authenticated=False, now=0.0) is None
    adm.session_event("created", "s", {"address": "10.0.0.1", "agent_token": None})
    adm.session_event("paired", "s", {})
    assert adm.unpaired_count == 0
    adm.session_event("released", "s", {})
    assert adm.unpaired_count == adm.anonymous_unpaired == 1
    adm.accept("d", "10.0.0.1", 0.0)
    refusal = adm.may_attach("d", opening=True, authenticated=False, now=0.0)
    assert refusal is not None and refusal.limit is Limit.ADDRESS_UNPAIRED
    adm.session_event("ended", "s", {})
    assert adm.unpaired_count == adm.anonymous_unpaired == 0
    adm.session_event("ended", "s", {})  # twice: no harm
    assert adm.unpaired_count == 0

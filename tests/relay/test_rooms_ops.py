"""The operating side of the pure rooms machine: token names, quotas, events, kill, idle,
handshake timeout, shutdown and the admin snapshot. Synchronous, fake clock."""

from __future__ import annotations

import hashlib
import random
from itertools import count

from cobrowse.wire.envelope import Claim, Close, Confirm, Closed, Error, Open, Opened, Resume
from relay.config import RelayConfig
from relay.limits import TokenBucket, bucket_for
from relay.rooms import CLOSE_GOING_AWAY, CLOSE_NORMAL, CLOSE_POLICY, Output, Rooms

A, C = "agent-conn", "customer-conn"
ALICE, BOB = "cbt_alice", "cbt_bob"


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def make(**overrides: object) -> Rooms:
    tokens, ids = count(1), count(1)
    cfg = RelayConfig(**overrides)  # type: ignore[arg-type]
    return Rooms(cfg, random.Random(7), lambda: f"{next(tokens):032x}", new_id=lambda: f"id{next(ids)}")


def kinds(out: Output) -> list[str]:
    return [e.kind for e in out.events]


def open_as(rooms: Rooms, conn: str, token: str | None = None, now: float = 0.0) -> Output:
    rooms.connected(conn, "10.0.0.1")
    return rooms.receive(conn, Open("agent", 1, token=token), now)


def paired(rooms: Rooms, token: str | None = None, now: float = 0.0, a: str = A, c: str = C) -> Opened:
    out = open_as(rooms, a, token, now)
    opened = out.to(a)[0]
    assert isinstance(opened, Opened), out
    rooms.connected(c, "10.0.0.2")
    out = rooms.receive(c, Claim("customer", 1, opened.nameplate), now)
    assert kinds(out) == ["paired"]
    assert kinds(rooms.receive(a, Confirm(), now)) == ["confirmed"]
    return opened


def test_store_tokens_are_named_and_recorded_per_session():
    rooms = make(agent_tokens=(digest("from-config"),))
    rooms.set_agent_tokens({digest(ALICE): "alice", digest("from-config"): "config:x"})
    out = open_as(rooms, A, ALICE)
    (created,) = out.events
    assert created.kind == "created" and created.session == "id1"
    assert created.data == {"nameplate": out.to(A)[0].nameplate, "role": "agent", "agent_token": "alice",
                            "address": "10.0.0.1"}
    assert rooms.snapshot(0.0)[0]["agent_token"] == "alice"
    out = open_as(rooms, "x", "wrong")
    assert [m.code for m in out.to("x") if isinstance(m, Error)] == ["unauthorized"]
    assert out.events[0].kind == "refused" and out.events[0].data["code"] == "unauthorized"


def test_no_tokens_means_open_and_unnamed():
    rooms = make()
    assert not rooms.tokens_required
    out = open_as(rooms, A)
    assert out.events[0].data["agent_token"] is None


def test_revoking_stops_new_sessions_but_not_live_ones():
    rooms = make()
    rooms.set_agent_tokens({digest(ALICE): "alice"})
    paired(rooms, ALICE)
    rooms.set_agent_tokens({digest(BOB): "bob"})
    assert rooms.peer_of(A) == C  # still forwarding
    out = open_as(rooms, "x", ALICE)
    assert out.closes("x") and isinstance(out.to("x")[0], Error)


def test_sessions_per_token_quota_on_open_and_claim():
    rooms = make(max_sessions_per_token=2)
    rooms.set_agent_tokens({digest(ALICE): "alice", digest(BOB): "bob"})
    for i in range(2):
        assert isinstance(open_as(rooms, f"a{i}", ALICE).to(f"a{i}")[0], Opened)
    out = open_as(rooms, "a2", ALICE)
    assert out.to("a2")[0].code == "over_quota" and out.closes("a2")  # type: ignore[attr-defined]
    assert isinstance(open_as(rooms, "b0", BOB).to("b0")[0], Opened)  # other tokens unaffected
    # an agent claiming a customer's session counts too
    rooms.connected("cust", "1.2.3.4")
    nameplate = rooms.receive("cust", Open("customer", 1), 0.0).to("cust")[0].nameplate  # type: ignore[attr-defined]
    rooms.connected("a3", "1.1.1.1")
    out = rooms.receive("a3", Claim("agent", 1, nameplate, ALICE), 0.0)
    assert out.to("a3")[0].code == "over_quota"  # type: ignore[attr-defined]
    # ending one frees a place
    rooms.receive("a0", Close(), 1.0)
    rooms.connected("a4", "1.1.1.1")
    out = rooms.receive("a4", Claim("agent", 1, nameplate, ALICE), 1.0)
    assert kinds(out) == ["paired"]


def test_lifecycle_events_and_end_reason_with_traffic():
    rooms = make(grace=5.0)
    opened = paired(rooms)
    peer, traffic = rooms.route_of(A)  # type: ignore[misc]
    assert peer == C and rooms.route_of(C)[1] is traffic  # type: ignore[index]
    traffic.frames, traffic.bytes = 3, 300
    out = rooms.disconnected(C, 1.0)
    assert kinds(out) == ["left"] and rooms.route_of(A) is None
    rooms.connected("c2", "10.0.0.3")
    out = rooms.receive("c2", Resume(opened.nameplate, f"{2:032x}"), 2.0)
    assert kinds(out) == ["resumed"] and rooms.route_of("c2")[1] is traffic  # type: ignore[index]
    out = rooms.receive(A, Close("agent_ended"), 3.0)
    (ended,) = out.events
    assert ended.kind == "ended" and ended.data["reason"] == "agent_ended" and ended.data["by"] == "agent"
    assert ended.data["frames"] == 3 and ended.data["bytes"] == 300 and ended.data["duration_s"] == 3.0


def test_kill_tells_both_sides_and_ends_the_session():
    rooms = make()
    paired(rooms)
    session_id = rooms.snapshot(0.0)[0]["id"]
    assert rooms.kill("nope", 1.0) is None
    out = rooms.kill(str(session_id), 1.0)
    assert out is not None
    for conn in (A, C):
        (msg,) = out.to(conn)
        assert isinstance(msg, Closed) and msg.reason == "killed"
        assert (conn, CLOSE_NORMAL, "session ended") in out.close
    assert kinds(out) == ["killed", "ended"] and out.events[1].data["reason"] == "killed"
    assert rooms.session_count == 0 and rooms.kill(str(session_id), 2.0) is None


def test_idle_paired_sessions_end_and_active_ones_do_not():
    rooms = make(idle_timeout=10.0, tick_interval=1.0)
    paired(rooms, a="a1", c="c1")
    paired(rooms, a="a2", c="c2")
    busy = rooms.route_of("a2")[1]  # type: ignore[index]
    for t in range(1, 10):
        busy.frames += 1
        assert not rooms.tick(float(t)).events
    busy.frames += 1
    out = rooms.tick(11.0)
    assert kinds(out) == ["ended"] and out.events[0].data["reason"] == "idle"
    assert isinstance(out.to("a1")[0], Closed) and out.to("a1")[0].reason == "idle"  # type: ignore[attr-defined]
    assert rooms.session_count == 1
    # an unclaimed session is not "idle": it has its own unclaimed_ttl
    open_as(rooms, "lonely")
    assert not [e for e in rooms.tick(100.0).events if e.session == "id3" and e.data.get("reason") == "idle"]


def test_idle_off_by_default():
    rooms = make()
    paired(rooms)
    rooms.tick(10.0**6)
    assert rooms.session_count == 1


def test_handshake_timeout_only_for_sockets_outside_a_session():
    rooms = make(handshake_timeout=5.0)
    rooms.connected("x", "9.9.9.9")
    out = rooms.handshake_timeout("x", 5.0)
    assert out.to("x")[0].code == "handshake_timeout" and ("x", CLOSE_POLICY, "handshake_timeout") in out.close
    assert out.events[0].data["code"] == "handshake_timeout"
    open_as(rooms, A)
    assert not rooms.handshake_timeout(A, 6.0)
    assert rooms.attached(A) and not rooms.attached("x")


def test_slow_consumer_is_closed_and_its_side_goes_into_grace():
    rooms = make(grace=5.0)
    paired(rooms)
    out = rooms.slow_consumer(C, 1.0)
    assert out.to(C)[0].code == "slow_consumer" and out.closes(C)  # type: ignore[attr-defined]
    assert out.to(A) == [rooms_peer_left()]
    assert rooms.session_count == 1 and rooms.route_of(A) is None


def rooms_peer_left():
    from cobrowse.wire.envelope import Peer

    return Peer("left")


def test_shutdown_tells_every_session_and_closes_every_socket_going_away():
    rooms = make()
    paired(rooms)
    rooms.connected("idle-socket", "1.1.1.1")
    out = rooms.shutdown(1.0)
    for conn in (A, C):
        assert out.to(conn) == [Closed("shutdown", "the relay is shutting down")]
        assert (conn, CLOSE_GOING_AWAY, "session ended") in out.close
    assert ("idle-socket", CLOSE_GOING_AWAY, "relay shutting down") in out.close
    assert rooms.session_count == 0 and kinds(out) == ["ended"]


def test_snapshot_and_state_counts():
    rooms = make(grace=5.0)
    paired(rooms)
    open_as(rooms, "w")
    assert rooms.state_counts() == {"waiting": 1, "paired": 1, "grace": 0}
    rooms.disconnected(C, 2.0)
    assert rooms.state_counts() == {"waiting": 1, "paired": 0, "grace": 1}
    first, second = rooms.snapshot(4.0)
    assert first["sides"] == {"agent": "connected", "customer": "away"} and first["state"] == "grace"
    assert second["sides"] == {"agent": "connected", "customer": "absent"} and second["state"] == "waiting"
    assert first["age_s"] == 4.0 and "side" not in first and set(first) >= {"id", "bytes", "agent_token"}


def test_close_reasons_from_clients_cannot_bloat_anything():
    rooms = make()
    paired(rooms)
    out = rooms.receive(A, Close("x" * 40), 1.0)
    assert out.events[-1].data["reason"] == "ended"


# ---- the byte-rate bucket ----


def test_token_bucket_allows_the_burst_then_asks_to_wait():
    bucket = TokenBucket(rate=1000, burst=2000, now=0.0)
    assert bucket.take(2000, 0.0) == 0.0
    assert bucket.take(500, 0.0) == 0.5  # in debt by 500 bytes at 1000 B/s
    assert bucket.take(0, 0.5) == 0.0  # paid back
    assert bucket.take(1000, 1.5) == 0.0  # refilled 1000 meanwhile
    assert bucket.take(100, 100.0) == 0.0 and bucket.tokens == 1900  # never over the burst


def test_bucket_for_settings():
    assert bucket_for(0, 4096, 0.0) is None
    bucket = bucket_for(100, 4096, 0.0)
    assert bucket is not None and bucket.burst == 4096  # a largest frame always fits
    assert bucket.take(4096, 0.0) == 0.0 and round(bucket.take(100, 0.0), 6) == 1.0


def test_a_refused_token_is_named_missing_unknown_or_revoked_for_the_log_never_shown():
    rooms = make()
    rooms.set_agent_tokens({digest(ALICE): "alice", digest(BOB): "bob"})
    rooms.set_agent_tokens({digest(BOB): "bob"})  # alice revoked while running
    rooms.set_agent_tokens({digest(BOB): "bob"}, {digest("cbt_carol"): "carol"})  # carol: a store tombstone
    for token, why in ((ALICE, {"token_state": "revoked", "agent_token": "alice"}),
                       ("cbt_carol", {"token_state": "revoked", "agent_token": "carol"}),
                       ("cbt_alicf", {"token_state": "unknown"}), (None, {"token_state": "missing"})):
        conn = f"x{token}"
        out = open_as(rooms, conn, token)
        (event,) = out.events
        assert event.kind == "refused" and {k: event.data.get(k) for k in why} == why, event
        assert all(token not in str(v) and digest(token) not in str(v) for v in event.data.values()) if token else True
        (error,) = out.to(conn)
        assert isinstance(error, Error) and error.code == "unauthorized" and "alice" not in error.message
    rooms.set_agent_tokens({digest(ALICE): "alice2", digest(BOB): "bob"})  # the same token accepted again
    assert isinstance(open_as(rooms, "y", ALICE).to("y")[0], Opened)

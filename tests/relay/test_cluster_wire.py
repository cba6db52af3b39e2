"""The pure parts of several nodes: node-to-node records, session records, and the rooms'
side of it (reserved nameplates, export, adoption), all synchronous."""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import pytest

from cobrowse.errors import ConfigError
from cobrowse.wire.envelope import Claim, Claimed, Closed, Error, Open, Opened, Peer, Resume, Resumed
from relay.cluster_wire import (
    BINARY, CLOSE, DROP, OPEN, TEXT, TO_BINARY, BadBatch, SessionRecord, batch_head, close_payload, parse_batch,
    parse_close, record,
)
from relay.config import RelayConfig, load_config
from relay.rooms import Rooms

ROOT = Path(__file__).resolve().parents[2]


def test_batches_round_trip_in_order() -> None:
    frames = [(OPEN, 1, b"203.0.113.7"), (TEXT, 1, b'{"type":"ping"}'), (BINARY, 1, bytes(range(256)) * 40),
              (BINARY, 2**63, b""), (TO_BINARY, 7, b"x"), (CLOSE, 7, close_payload(1012, "reconnect")), (DROP, 1, b"")]
    data = batch_head("relay-a") + b"".join(record(*f) for f in frames)
    source, records = parse_batch(data)
    assert source == "relay-a"
    assert list(records) == frames
    assert parse_close(close_payload(1012, "relay node lost")) == (1012, "relay node lost")
    assert parse_close(b"") == (1011, "")


@pytest.mark.parametrize("data", [
    b"", b"\x00", b"\x09abc",  # no or a cut node id
    batch_head("n1") + record(TEXT, 1, b"abc")[:-1],  # payload cut
    batch_head("n1") + record(TEXT, 1, b"abc")[:5],  # header cut
    batch_head("n1") + b"Z" + record(TEXT, 1, b"")[1:],  # unknown kind
])
def test_bad_batches_are_refused(data: bytes) -> None:
    with pytest.raises(BadBatch):
        _, records = parse_batch(data)
        list(records)


def test_node_ids_are_bounded() -> None:
    with pytest.raises(ValueError):
        batch_head("")
    with pytest.raises(ValueError):
        batch_head("x" * 65)


def test_session_record_round_trip() -> None:
    rec = SessionRecord("42", "n1", "abc", "agent", "s1", "customer", "s2", "alice")
    raw = {k.encode(): v.encode() for k, v in rec.to_redis().items()}
    assert SessionRecord.from_redis("42", raw) == rec and rec.adoptable
    assert SessionRecord.from_redis("42", {}) is None  # no such key
    assert not SessionRecord.from_redis("42", {b"home": b"n1"}).adoptable  # reserved, not yet written
    ended = SessionRecord.from_redis("42", {**raw, b"ended": b"1"})
    assert ended is not None and ended.ended and not ended.adoptable


def test_config_checks_redis_and_node_id() -> None:
    cfg = load_config(env={"COBROWSE_RELAY_REDIS": "redis://10.0.0.5:6379/0", "COBROWSE_RELAY_NODE_ID": "relay-a"})
    assert cfg.redis == "redis://10.0.0.5:6379/0" and cfg.node_id == "relay-a"
    with pytest.raises(ConfigError, match="'redis' from environment variable COBROWSE_RELAY_REDIS.*redis://"):
        load_config(env={"COBROWSE_RELAY_REDIS": "10.0.0.5:6379"})
    with pytest.raises(ConfigError, match="node_id.*letters, digits"):
        RelayConfig(node_id="a b")


def test_an_unreachable_redis_stops_the_relay_with_a_clear_line() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "relay", "--port", "0", "--redis", "redis://127.0.0.1:1/0", "--token-store", "/dev/null"],
        cwd=ROOT, capture_output=True, text=True, timeout=30,
    )
    assert proc.returncode == 2
    assert "cannot use Redis at redis://127.0.0.1:1/0" in proc.stderr and "redis-server" in proc.stderr


# ---- the rooms' side ----


def rooms(**cfg: object) -> Rooms:
    tokens = iter(f"tok{i}" for i in range(1000))
    return Rooms(RelayConfig(**cfg), random.Random(7), tokens.__next__)  # type: ignore[arg-type]


def test_open_uses_the_reserved_nameplate_or_answers_full() -> None:
    r = rooms()
    candidates = r.nameplate_candidates(0.0, 8)
    assert len(set(candidates)) == 8
    r.connected("a", "1.1.1.1")
    opened = r.receive("a", Open("agent", 1), 0.0, nameplate=candidates[3]).to("a")[0]
    assert isinstance(opened, Opened) and opened.nameplate == candidates[3] and r.holds(candidates[3])
    assert candidates[3] not in r.nameplate_candidates(0.0, 50)
    r.connected("b", "1.1.1.1")
    out = r.receive("b", Open("agent", 1), 0.0, nameplate="")
    assert out.to("b")[0] == Error.of("full") and out.closes("b")


def test_export_and_adopt_carry_a_session_to_another_node() -> None:
    home = rooms()
    home.connected("a", "1.1.1.1")
    home.connected("c", "2.2.2.2")
    opened = home.receive("a", Open("agent", 1), 0.0).to("a")[0]
    claimed = home.receive("c", Claim("customer", 1, opened.nameplate), 1.0).to("c")[0]
    assert isinstance(opened, Opened) and isinstance(claimed, Claimed)
    fields = home.export(opened.nameplate)
    assert fields is not None and fields["creator_token"] == opened.side and fields["joiner_token"] == claimed.side

    other = rooms(grace=30.0)
    out = other.adopt(opened.nameplate, fields["id"], (fields["creator_role"], fields["creator_token"]),
                      (fields["joiner_role"], fields["joiner_token"]), None, 100.0)
    assert [e.kind for e in out.events] == ["adopted"] and other.holds(opened.nameplate)
    assert other.snapshot(100.0)[0]["sides"] == {"agent": "away", "customer": "away"}
    assert not other.adopt(opened.nameplate, fields["id"], ("agent", "x"), None, None, 100.0)  # once
    # the customer resumes here with its secret, then the agent: paired again
    other.connected("c2", "2.2.2.2")
    assert other.receive("c2", Resume(opened.nameplate, claimed.side), 101.0).to("c2") == [
        Resumed(opened.nameplate, False)
    ]
    other.connected("a2", "1.1.1.1")
    out = other.receive("a2", Resume(opened.nameplate, opened.side), 102.0)
    assert out.to("a2") == [Resumed(opened.nameplate, True)] and out.to("c2") == [Peer("back")]
    assert other.route_of("a2") is not None and other.route_of("a2")[0] == "c2"  # type: ignore[index]
    # a wrong secret is refused as on the original node
    other.connected("x", "3.3.3.3")
    assert other.receive("x", Resume(opened.nameplate, "guess"), 103.0).to("x")[0].code == "bad_resume"  # type: ignore[attr-defined]


def test_an_adopted_session_ends_if_nobody_resumes_within_grace() -> None:
    r = rooms(grace=10.0)
    r.adopt("55", "sid", ("agent", "t1"), ("customer", "t2"), "alice", 0.0)
    assert r.tick(9.0).events == []
    out = r.tick(10.5)
    assert [e.kind for e in out.events] == ["ended"] and out.events[0].data["reason"] == "peer_timeout"
    assert not r.holds("55")
    r.adopt("56", "sid2", ("customer", "t3"), None, None, 20.0)  # a waiting session: the creator may come back
    r.connected("k", "1.1.1.1")
    assert r.receive("k", Resume("56", "t3"), 21.0).to("k") == [Resumed("56", False)]
    r.connected("j", "4.4.4.4")
    out = r.receive("j", Claim("agent", 1, "56"), 22.0)
    assert isinstance(out.to("j")[0], Claimed) and Peer("joined") in out.to("k")
    assert not any(isinstance(m, Closed) for m in out.to("k"))


def test_credit_window_and_acks() -> None:
    from relay.cluster_wire import Acks, Credit, ack_payload, parse_ack

    credit = Credit(1000)
    assert not credit.sent(600) and not credit.sent(400)  # exactly the window: may go on
    assert credit.sent(1)  # past it: wait
    assert not credit.acked(0) and credit.acked(1) and credit.unacked == 1000
    assert credit.acked(5000) and credit.unacked == 0  # never negative
    acks = Acks(1000)  # acknowledges in quarter-window chunks, or when the queue runs dry
    assert acks.delivered(100, queue_empty=False) == 0
    assert acks.delivered(100, queue_empty=False) == 0
    assert acks.delivered(100, queue_empty=False) == 300
    assert acks.delivered(10, queue_empty=True) == 10
    assert acks.delivered(0, queue_empty=True) == 0
    assert parse_ack(ack_payload(123456)) == 123456 and parse_ack(b"") == 0
    assert parse_ack(ack_payload(2**40)) == 0xFFFFFFFF


def test_candidates_come_from_a_wider_range_when_asked() -> None:
    r = rooms()
    short = r.nameplate_candidates(0.0, 8)
    assert all(1 <= int(n) <= 99 for n in short)
    wide = r.nameplate_candidates(0.0, 8, floor=99_999)
    assert len(set(wide)) == 8 and max(int(n) for n in wide) > 99

"""A restarted relay takes its sessions back (Rooms.record / Rooms.restore, relay/store.py):
pure rooms with a fake clock, and the SQLite store on a temporary file."""

from __future__ import annotations

import os
import random
import stat
from itertools import count
from pathlib import Path

from cobrowse.wire.envelope import Claim, Claimed, Closed, Error, Open, Opened, Peer, Resume, Resumed
from relay.config import RelayConfig
from relay.rooms import Rooms, SessionRecord
from relay.store import OFF, SessionStore, default_session_store

A, C = "agent-conn", "customer-conn"


def make(**overrides: object) -> Rooms:
    tokens, ids = count(1), count(1)
    cfg = RelayConfig(**overrides)  # type: ignore[arg-type]
    return Rooms(cfg, random.Random(7), lambda: f"{next(tokens):032x}", new_id=lambda: f"id{next(ids)}")


def paired(rooms: Rooms, confirm: bool = True) -> tuple[Opened, Claimed]:
    rooms.connected(A, "10.0.0.1")
    opened = rooms.receive(A, Open("agent", 1), 0.0).to(A)[0]
    assert isinstance(opened, Opened)
    rooms.connected(C, "10.0.0.2")
    claimed = rooms.receive(C, Claim("customer", 1, opened.nameplate), 0.0).to(C)[0]
    assert isinstance(claimed, Claimed)
    if confirm:
        from cobrowse.wire.envelope import Confirm
        rooms.receive(A, Confirm(), 0.0)
    return opened, claimed


def resume(rooms: Rooms, conn: str, nameplate: str, side: str, now: float) -> list[object]:
    rooms.connected(conn, "10.0.0.9")
    return rooms.receive(conn, Resume(nameplate, side), now).to(conn)


def test_a_confirmed_pairing_resumes_on_a_new_rooms_from_its_record_alone() -> None:
    old = make(grace=300.0)
    opened, claimed = paired(old)
    record = old.record("id1")
    assert record is not None and record.joiner_role == "customer"
    assert opened.side.encode() not in repr(record).encode()  # digests only, never the secrets
    new = make(grace=300.0)
    out = new.restore([record], 100.0)
    assert [e.kind for e in out.events] == ["restored"]
    assert new.state_counts() == {"waiting": 0, "paired": 0, "grace": 1}
    first = resume(new, "a2", opened.nameplate, opened.side, 101.0)
    assert first == [Resumed(opened.nameplate, False)]
    second = new.receive("c2", Resume(claimed.nameplate, claimed.side), 102.0)
    assert second.to("c2") == [Resumed(opened.nameplate, True)]
    assert second.to("a2") == [Peer("back")]
    assert new.peer_of("a2") == "c2"


def test_a_restored_side_needs_its_secret_and_an_unclaimed_code_keeps_its_age() -> None:
    old = make()
    opened, _ = paired(old)
    record = old.record("id1")
    assert record is not None
    new = make()
    new.restore([record], 0.0)
    wrong = resume(new, "x", opened.nameplate, "0" * 32, 1.0)
    assert isinstance(wrong[0], Error) and wrong[0].code == "bad_resume"
    waiting = SessionRecord("4242", "w1", "agent", b"\x01" * 32)
    ttl = new.config.unclaimed_ttl
    out = new.restore([waiting, SessionRecord("4343", "w2", "agent", b"\x02" * 32)], 5.0,
                      {"w1": ttl - 10.0, "w2": ttl + 1.0})
    assert [e.session for e in out.events] == ["w1"]  # w2's code expired while the relay was down
    assert new.holds("4242") and not new.holds("4343")


def test_an_unconfirmed_claim_is_not_recorded_and_grace_ends_an_absent_pair() -> None:
    old = make(grace=30.0)
    paired(old, confirm=False)
    record = old.record("id1")
    assert record is not None and record.joiner_role == ""  # a claim on probation never survives
    old2 = make(grace=30.0)
    paired(old2)
    new = make(grace=30.0)
    new.restore([old2.record("id1")], 0.0)  # type: ignore[list-item]
    out = new.tick(31.0)
    assert [e.kind for e in out.events] == ["ended"] and out.events[0].data["reason"] == "peer_timeout"
    assert isinstance(out, object) and not any(isinstance(msg, Closed) for _, msg in out.send)


def test_the_store_keeps_records_across_opens_with_owner_only_permissions(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "sessions.sqlite3"
    store = SessionStore(path)
    one = SessionRecord("7", "id7", "agent", b"a" * 32, "customer", b"c" * 32, "alice")
    store.save(SessionRecord("7", "id7", "agent", b"a" * 32), 1000.0)
    store.save(one, 2000.0)  # an update keeps the creation time
    store.save(SessionRecord("8", "id8", "customer", b"b" * 32), 1500.0)
    store.delete("id8")
    store.close()
    again = SessionStore(path)
    assert again.load() == [(one, 1000.0)]
    again.close()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_the_default_store_is_per_address_and_off_for_random_ports_and_clusters(tmp_path: Path,
                                                                                monkeypatch: object) -> None:
    os.environ["COBROWSE_DATA_DIR"] = str(tmp_path)  # the conftest fixture restores it
    assert default_session_store(RelayConfig(host="0.0.0.0", port=8765)) == \
        str(tmp_path / "relay-sessions-0.0.0.0-8765.sqlite3")
    assert default_session_store(RelayConfig(host="::1", port=9000)).endswith("relay-sessions-__1-9000.sqlite3")
    assert default_session_store(RelayConfig(port=0)) == OFF
    assert default_session_store(RelayConfig(port=8765, redis="redis://127.0.0.1:6379/0")) == OFF


def test_nameplates_that_ended_before_a_restart_stay_dead_and_cool(tmp_path: Path) -> None:
    """An ended nameplate answers ``expired`` and is not handed out again before
    ``reuse_cooldown``, across a restart too (a late claim must not land in a new session)."""
    from relay.store import restore_sessions

    store = SessionStore(tmp_path / "s.sqlite3")
    store.save(SessionRecord("42", "id1", "agent", b"a" * 32), 1000.0)
    store.save(SessionRecord("43", "id2", "agent", b"b" * 32), 1000.0)
    store.end("id1", 1100.0)
    store.end("unknown-id", 1100.0)  # nothing to remember
    assert store.ended(0.0) == {"42": 1100.0}
    rooms = make(reuse_cooldown=300.0, dead_memory=1800.0)
    out = restore_sessions(store, rooms, now=50.0, wall=1200.0)
    assert [e.session for e in out.events] == ["id2"]
    rooms.connected("late", "10.0.0.7")
    refused = rooms.receive("late", Claim("customer", 1, "42"), 51.0).to("late")
    assert isinstance(refused[0], Error) and refused[0].code == "expired"
    assert "42" not in rooms.nameplate_candidates(51.0, k=90, floor=99)  # still cooling
    assert store.ended(1200.0 - 1800.0) == {"42": 1100.0}
    assert store.ended(1150.0) == {}  # older than that: forgotten
    store.close()


def test_a_restored_session_keeps_its_age_for_the_admin_listing_and_the_audit_log() -> None:
    """qa9: after a restart `cobrowse relay sessions` showed the time since the restart, and the
    `ended` line's duration_s lost the time before it."""
    old = make(grace=300.0)
    paired(old)
    record = old.record("id1")
    assert record is not None
    new = make(grace=300.0)
    new.restore([record], 1000.0, {"id1": 600.0})
    assert new.snapshot(1010.0)[0]["age_s"] == 610.0
    out = new.kill("id1", 1020.0)
    ended = [e for e in out.events if e.kind == "ended"]
    assert ended and ended[0].data["duration_s"] == 620.0

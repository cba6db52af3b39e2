"""A failed code costs the guesser, never the session: claims on probation until confirmed."""

from __future__ import annotations

from cobrowse.wire.envelope import Claim, Claimed, Close, Closed, Confirm, Error, Release, Released, Resume
from relay.rooms import Rooms
from tests.relay.test_rooms import A, C, X, error_code, make, open_session, pair


def claim(rooms: Rooms, conn: str, nameplate: str, now: float, addr: str) -> list:
    rooms.connected(conn, addr)
    return rooms.receive(conn, Claim("customer", 1, nameplate), now).to(conn)


def test_a_wrong_guess_is_released_and_the_right_code_pairs_afterwards() -> None:
    rooms = make()
    opened, _, _ = pair(rooms, confirm=False)
    route = rooms.route_of(C)
    assert route is not None
    route[1].frames += 2  # the claimant's PAKE and confirmation went through
    out = rooms.receive(A, Release(), 1.0)
    assert out.to(C) == [Closed("wrong_code", "wrong code: check the digits with your agent and try again")]
    assert out.closes(C) and not out.closes(A)
    assert out.to(A) == [Released("failed", 1)]
    assert rooms.peer_of(A) is None and rooms.session_count == 1
    assert rooms.state_counts()["waiting"] == 1
    assert [e.kind for e in out.events] == ["released"]
    # the same nameplate takes a claim again, and the confirmed one stands
    assert isinstance(claim(rooms, X, opened.nameplate, 2.0, "3.3.3.3")[0], Claimed)
    assert not rooms.receive(A, Confirm(), 2.5).send
    assert rooms.peer_of(A) == X
    assert not rooms.receive(A, Release(), 3.0), "a confirmed pairing cannot be released"
    assert not rooms.receive(X, Release(), 3.0)
    assert not rooms.tick(100.0), "no claim timeout after confirmation"
    assert rooms.peer_of(X) == A


def test_a_claimant_can_neither_end_the_session_nor_confirm_itself() -> None:
    rooms = make()
    opened, _, _ = pair(rooms, confirm=False)
    assert not rooms.receive(C, Confirm(), 0.5).send
    out = rooms.receive(C, Close("scared"), 1.0)
    assert out.closes(C) and not out.closes(A)
    assert out.to(A) == [Released("left", 0)], "a silent claimant made no guess"
    assert rooms.session_count == 1
    assert isinstance(claim(rooms, X, opened.nameplate, 2.0, "3.3.3.3")[0], Claimed)


def test_a_claimant_that_drops_before_confirmation_loses_its_place_at_once() -> None:
    rooms = make(grace=60.0)
    opened, _, _ = pair(rooms, confirm=False)
    rooms.route_of(C)[1].frames += 1  # type: ignore[index]
    out = rooms.disconnected(C, 1.0)
    assert out.to(A) == [Released("left", 1)]
    assert isinstance(claim(rooms, X, opened.nameplate, 1.5, "3.3.3.3")[0], Claimed)


def test_a_squatter_is_released_after_claim_timeout_and_others_hear_busy_meanwhile() -> None:
    rooms = make(claim_timeout=15.0)
    opened, _, _ = pair(rooms, now=0.0, confirm=False)
    for i in range(5):  # many addresses: each is told to come back, none counts as a failure
        (err,) = claim(rooms, f"x{i}", opened.nameplate, 1.0 + i, f"10.0.0.{i}")
        assert isinstance(err, Error) and err.code == "busy"
    assert not rooms.tick(14.9)
    out = rooms.tick(15.0)
    assert out.to(C) == [Closed("claim_timeout", out.to(C)[0].message)]
    assert out.closes(C)
    assert out.to(A) == [Released("timeout", 0)]
    assert rooms.session_count == 1
    (again,) = claim(rooms, "squatter-again", opened.nameplate, 15.5, "2.2.2.2")
    assert isinstance(again, Error) and again.code == "busy", "a squatter's address is not let back in"
    assert isinstance(claim(rooms, X, opened.nameplate, 16.0, "3.3.3.3")[0], Claimed)


def test_after_claim_attempts_guesses_every_claim_is_refused() -> None:
    rooms = make(claim_attempts=3, rate_limit=100)
    opened = open_session(rooms)
    for i in range(3):
        conn = f"guesser{i}"
        assert isinstance(claim(rooms, conn, opened.nameplate, float(i), f"10.0.1.{i}")[0], Claimed)
        rooms.route_of(conn)[1].frames += 2  # type: ignore[index]
        out = rooms.receive(A, Release(), i + 0.5)
        assert out.to(A) == [Released("failed", i + 1)]
    (err,) = claim(rooms, X, opened.nameplate, 5.0, "3.3.3.3")
    assert isinstance(err, Error) and err.code == "too_many_attempts"
    assert rooms.session_count == 1, "the creator decides: it opens a fresh code"
    assert not rooms.receive(A, Close("renewed"), 6.0).to(A)
    assert rooms.session_count == 0


def test_released_guesses_count_against_the_guessers_address() -> None:
    rooms = make(rate_limit=2, claim_attempts=100)
    opened = open_session(rooms)
    for i in range(2):
        conn = f"g{i}"
        assert isinstance(claim(rooms, conn, opened.nameplate, float(i), "6.6.6.6")[0], Claimed)
        rooms.route_of(conn)[1].frames += 2  # type: ignore[index]
        rooms.receive(A, Release(), i + 0.5)
    (err,) = claim(rooms, "g9", opened.nameplate, 3.0, "6.6.6.6")
    assert isinstance(err, Error) and err.code == "rate_limited"
    assert isinstance(claim(rooms, C, opened.nameplate, 3.0, "2.2.2.2")[0], Claimed)


def test_an_unclaimed_ttl_that_passed_during_a_claim_ends_the_session_after_release() -> None:
    rooms = make(unclaimed_ttl=10.0, claim_timeout=15.0)
    pair(rooms, now=5.0, confirm=False)
    assert not rooms.tick(12.0).close
    out = rooms.tick(20.0)  # the squatter goes, and the code's own time is over too
    assert out.to(A)[0] == Released("timeout", 0)
    assert isinstance(out.to(A)[1], Closed) and out.to(A)[1].reason == "expired"
    assert rooms.session_count == 0


def test_the_claimants_frames_count_in_the_sessions_traffic() -> None:
    rooms = make()
    pair(rooms, confirm=False)
    rooms.route_of(C)[1].frames += 2  # type: ignore[index]
    rooms.route_of(A)[1].frames += 2  # type: ignore[index]
    rooms.receive(A, Confirm(), 1.0)
    assert rooms.traffic_total()[0] == 4
    assert rooms.route_of(C)[1] is rooms.route_of(A)[1]  # type: ignore[index]
    assert error_code(claim_out(rooms), X) == "taken"


def claim_out(rooms: Rooms):
    rooms.connected(X, "9.9.9.9")
    nameplate = rooms.live_nameplates()[0]
    return rooms.receive(X, Claim("customer", 1, nameplate), 2.0)


def test_resume_during_a_claim_keeps_the_probation_counters() -> None:
    rooms = make()
    opened, claimed, _ = pair(rooms, confirm=False)
    rooms.connected("C2", "2.2.2.2")
    out = rooms.receive("C2", Resume(opened.nameplate, claimed.side), 1.0)
    assert out.closes(C) and not out.to(A)
    assert rooms.route_of("C2")[1] is not rooms.route_of(A)[1]  # type: ignore[index]
    out = rooms.tick(15.0)
    assert out.to("C2")[0].reason == "claim_timeout"


def test_a_release_that_crossed_a_new_claim_never_hits_the_new_claimant() -> None:
    rooms = make()
    opened, _, _ = pair(rooms, confirm=False)
    rooms.route_of(C)[1].frames += 2  # type: ignore[index]
    assert rooms.receive(C, Close("wrong_code"), 1.0).to(A) == [Released("left", 1)]
    assert isinstance(claim(rooms, X, opened.nameplate, 1.1, "3.3.3.3")[0], Claimed)
    assert not rooms.receive(A, Release(1), 1.2), "the creator meant the first claim"
    assert rooms.peer_of(A) == X
    out = rooms.receive(A, Release(2), 1.3)
    assert out.to(A) == [Released("failed", 2)] and out.closes(X)

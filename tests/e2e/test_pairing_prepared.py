"""SPAKE2's password-independent half made ahead (cobrowse.crypto.handshake.Prepared, as
``cobrowse join`` does while the code is typed): the same bytes on the wire as the library's
own ``start`` for the same randomness, pairing with the unchanged library and with cobrowse's
usual handshake on the other side, a wrong code still failing, and never used twice.
Synchronous: the handshake is sans-I/O; the e2e prompt tests pair through it for real."""

from __future__ import annotations

import hmac
import random
from hashlib import sha256

import pytest
from spake2 import SPAKE2_Symmetric

from cobrowse import PROTOCOL_VERSION
from cobrowse.crypto.handshake import CONFIRM, PAKE, Handshake, Prepared
from cobrowse.crypto.keys import SessionKeys
from cobrowse.errors import WrongCode
from cobrowse.io import joining
from cobrowse.wire.code import parse_code

CODE = parse_code("42-7193-0518")


def seeded(seed: int):  # type: ignore[no-untyped-def]
    rng = random.Random(seed)
    return lambda n: rng.randbytes(n)


def exchange(a: Handshake, b: Handshake) -> None:
    for _ in range(4):
        for one, other in ((a, b), (b, a)):
            for frame in one.data_to_send():
                other.receive_data(frame)


def test_the_same_message_as_the_librarys_start_for_the_same_randomness() -> None:
    usual = Handshake("customer", CODE, seeded(7)).data_to_send()
    ahead = Handshake("customer", CODE, seeded(99), prepared=Prepared(seeded(7))).data_to_send()
    assert usual == ahead and usual[0][0] == PAKE
    identity = f"cobrowse/{PROTOCOL_VERSION}/{CODE.nameplate}".encode()
    library = SPAKE2_Symmetric(CODE.password, idSymmetric=identity, entropy_f=seeded(7)).start()
    assert ahead[0][1:] == library


@pytest.mark.parametrize("prepared_side", ["customer", "agent", "both"])
def test_pairs_with_cobrowses_usual_handshake(prepared_side: str) -> None:
    def side(role: str) -> Handshake:
        prepared = Prepared(seeded({"customer": 11, "agent": 12}[role])) if prepared_side in (role, "both") else None
        return Handshake(role, CODE, seeded(len(role)), prepared=prepared)

    customer, agent = side("customer"), side("agent")
    exchange(customer, agent)
    assert customer.state == agent.state == "confirmed"
    (c,), (a,) = customer.events_received(), agent.events_received()
    assert c.keys == a.keys and c.sas == a.sas


def test_pairs_with_the_unchanged_library() -> None:
    identity = f"cobrowse/{PROTOCOL_VERSION}/{CODE.nameplate}".encode()
    peer = SPAKE2_Symmetric(CODE.password, idSymmetric=identity)
    peer_message = peer.start()
    customer = Handshake("customer", CODE, seeded(1), prepared=Prepared(seeded(2)))
    (ours,) = customer.data_to_send()
    customer.receive_data(bytes([PAKE]) + peer_message)
    peer_keys = SessionKeys.from_master(peer.finish(ours[1:]))
    (confirm,) = customer.data_to_send()
    assert confirm[0] == CONFIRM
    assert confirm[1:] == hmac.new(peer_keys.confirm, b"confirm customer", sha256).digest()


def test_a_wrong_code_still_fails() -> None:
    customer = Handshake("customer", CODE, seeded(1), prepared=Prepared(seeded(2)))
    agent = Handshake("agent", parse_code("42-7193-0519"), seeded(3))
    with pytest.raises(WrongCode):
        exchange(customer, agent)
    assert "scared" in (customer.state, agent.state)


def test_used_once_then_fresh() -> None:
    prepared = Prepared(seeded(5))
    first = Handshake("customer", CODE, seeded(6), prepared=prepared).data_to_send()
    second = Handshake("customer", CODE, seeded(6), prepared=prepared).data_to_send()
    assert first != second  # the second drew its own scalar (from its own entropy)
    assert second == Handshake("customer", CODE, seeded(6)).data_to_send()


def test_a_claims_prepared_half_is_taken_once() -> None:
    joining.prepare()
    first = joining._claim_session("customer", CODE)
    assert joining._prepared is None  # taken: the next claim (a reclaim, another join) draws afresh
    again = joining._claim_session("customer", CODE)
    assert first.begin() != again.begin()

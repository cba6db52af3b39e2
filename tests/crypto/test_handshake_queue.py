"""The help queue's handshake: only an agent of the trusted organisation pairs, whatever the
relay in the middle does."""

from __future__ import annotations

import random
from typing import Callable

import pytest

from cobrowse.crypto.handshake import CONFIRM
from cobrowse.crypto.handshake_queue import QHELLO, QPROOF, QueueHandshake, QueueTrust, UnverifiedAgent
from cobrowse.errors import SecurityError, WrongCode
from cobrowse.protocol import messages as m
from cobrowse.protocol.session import Paired, Received, Session
from cobrowse.trust.credential import AgentIdentity, OrgKey
from cobrowse.wire.code import Code

NOW = 1_760_000_000


def seeded(seed: int) -> Callable[[int], bytes]:
    rng = random.Random(seed)
    return lambda n: bytes(rng.getrandbits(8) for _ in range(n))


def org(name: str, seed: int) -> OrgKey:
    return OrgKey.generate(name, seeded(seed))


def agent_of(key: OrgKey, name: str = "Alice", days: float = 30, now: int = NOW) -> AgentIdentity:
    return key.issue(name, now, days, seeded(hash(name) & 0xFFFF))[1]


ACME = org("Acme", 1)
OTHER = org("Other", 2)


def customer(nameplate: str = "42", trusted: OrgKey = ACME, seed: int = 10, now: int = NOW) -> QueueHandshake:
    return QueueHandshake("customer", nameplate, trusted.key_id, seeded(seed),
                          trust=QueueTrust(trusted.trust(now), lambda: now))


def agent(identity: AgentIdentity, nameplate: str = "42", org_id: str = ACME.key_id, seed: int = 20) -> QueueHandshake:
    return QueueHandshake("agent", nameplate, org_id, seeded(seed), identity=identity)


def run(c: QueueHandshake, a: QueueHandshake) -> None:
    for frame in c.data_to_send():
        a.receive_data(frame)
    for frame in a.data_to_send():
        c.receive_data(frame)
    for frame in c.data_to_send():
        a.receive_data(frame)


def test_an_agent_of_the_organisation_pairs_and_both_hold_the_same_keys() -> None:
    c, a = customer(), agent(agent_of(ACME))
    run(c, a)
    assert c.state == a.state == "confirmed"
    (ce,), (ae,) = c.events_received(), a.events_received()
    assert ce.keys == ae.keys and ce.sas == ae.sas
    assert c.verdict is not None and c.verdict.verified and c.verdict.agent == "Alice"


@pytest.mark.parametrize("identity, why", [
    (agent_of(OTHER), "wrong_org"),
    (agent_of(ACME, days=1, now=NOW - 3 * 86400), "expired"),
])
def test_an_agent_the_trust_file_does_not_vouch_for_is_refused(identity: AgentIdentity, why: str) -> None:
    c, a = customer(), agent(identity)
    with pytest.raises(UnverifiedAgent) as caught:
        run(c, a)
    assert caught.value.verdict.status == why
    assert c.state == "scared" and c.data_to_send() == [] and c.events_received() == []


def test_a_revoked_credential_is_refused() -> None:
    book, identity = ACME.issue("Mallory", NOW, 30, seeded(5))
    c = QueueHandshake("customer", "42", ACME.key_id, seeded(3),
                       trust=QueueTrust(book.revoke(identity.credential.id).trust(NOW), lambda: NOW))
    with pytest.raises(UnverifiedAgent, match="revoked"):
        run(c, agent(identity))


def test_a_relay_in_the_middle_cannot_pair_with_the_customer() -> None:
    """The relay swaps the customer's ephemeral key for its own and forwards the real agent's
    proof: the signature covers the relay's key, not the customer's."""
    c, a = customer(), agent(agent_of(ACME))
    relay_as_customer = customer(seed=99)
    c.data_to_send()  # the relay keeps the customer's hello and sends its own
    for frame in relay_as_customer.data_to_send():
        a.receive_data(frame)
    (proof,) = a.data_to_send()
    with pytest.raises(UnverifiedAgent, match="not for this session"):
        c.receive_data(proof)


def test_a_proof_replayed_from_another_session_is_refused() -> None:
    c1, a1 = customer("42"), agent(agent_of(ACME))
    for frame in c1.data_to_send():
        a1.receive_data(frame)
    (proof,) = a1.data_to_send()
    c2 = customer("42", seed=11)
    c2.data_to_send()
    with pytest.raises(UnverifiedAgent):
        c2.receive_data(proof)


def test_a_proof_for_another_nameplate_is_refused() -> None:
    c, a = customer("42"), agent(agent_of(ACME), nameplate="43")
    with pytest.raises(UnverifiedAgent):
        run(c, a)


def test_the_agent_refuses_a_wrong_confirmation_and_garbage() -> None:
    c, a = customer(), agent(agent_of(ACME))
    for frame in c.data_to_send():
        a.receive_data(frame)
    with pytest.raises(WrongCode):
        a.receive_data(bytes([CONFIRM]) + b"\0" * 32)
    with pytest.raises(WrongCode):
        agent(agent_of(ACME)).receive_data(bytes([QHELLO]) + b"short")


@pytest.mark.parametrize("body", [b"", b"\0" * 96, b"\0" * 97, b"\1" * 32 + b"\0" * 64 + b"{not json", b"x" * 10_000])
def test_malformed_proofs_are_refused_not_errors(body: bytes) -> None:
    c = customer()
    c.data_to_send()
    with pytest.raises(SecurityError):
        c.receive_data(bytes([QPROOF]) + body)
    assert c.state == "scared"


def test_a_resent_frame_is_harmless_and_a_different_one_fails() -> None:
    c, a = customer(), agent(agent_of(ACME))
    (hello,) = c.data_to_send()
    a.receive_data(hello)
    a.receive_data(hello)
    (proof,) = a.data_to_send()
    a.resend()
    assert a.data_to_send() == [proof]
    with pytest.raises(WrongCode):
        a.receive_data(bytes([QHELLO]) + b"\2" * 48)


def test_sessions_pair_over_the_queue_handshake_and_start_over_after_a_refusal() -> None:
    identity = agent_of(ACME)
    trust = QueueTrust(ACME.trust(NOW), lambda: NOW)
    code = Code("42", "00000000")
    cust = Session("customer", code, seeded(1), handshake=lambda: QueueHandshake(
        "customer", "42", ACME.key_id, seeded(random.randrange(1 << 30)), trust=trust))

    def shuttle(a: Session, b: Session) -> None:
        for _ in range(4):
            for frame in a.data_to_send():
                b.receive_data(frame, 0.0)
            for frame in b.data_to_send():
                a.receive_data(frame, 0.0)

    stranger = Session("agent", code, seeded(2), handshake=lambda: agent(agent_of(OTHER)))
    cust.peer_joined(0.0)
    stranger.peer_joined(0.0)
    with pytest.raises(UnverifiedAgent):
        shuttle(cust, stranger)
    assert cust.retryable
    cust.reset()
    good = Session("agent", code, seeded(3), handshake=lambda: agent(identity))
    cust.peer_joined(0.0)
    good.peer_joined(0.0)
    good.send(m.Chat("hello from Acme"), 0.0)
    shuttle(cust, good)
    assert cust.state == good.state == "paired" and cust.sas == good.sas
    events = cust.events_received()
    assert any(isinstance(e, Paired) for e in events)
    assert [str(e.message.text) for e in events if isinstance(e, Received) and isinstance(e.message, m.Chat)] \
        == ["hello from Acme"]

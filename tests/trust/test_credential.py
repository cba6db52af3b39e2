"""Org keys, agent credentials and the customer's verdict: every way a proof must fail."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from typing import Callable

import pytest

from cobrowse.protocol.session import Session
from cobrowse.trust import AgentIdentity, OrgKey, OrgTrust, TrustFileError, no_proof, verify
from cobrowse.trust.credential import CLOCK_SKEW, AgentCredential
from cobrowse.wire.code import Code

NOW = 1_800_000_000
DAY = 86400


def seeded(seed: int) -> Callable[[int], bytes]:
    rng = random.Random(seed)
    return lambda n: rng.randbytes(n)


def paired_bindings(seed: int) -> tuple[bytes, bytes]:
    """Pair two real Session machines in memory; return each side's binding value."""
    code = Code("42", "71930518")
    agent = Session("agent", code, seeded(seed))
    customer = Session("customer", code, seeded(seed + 1000))
    agent.peer_joined(0.0)
    customer.peer_joined(0.0)
    for _ in range(4):
        for frame in agent.data_to_send():
            customer.receive_data(frame, 0.0)
        for frame in customer.data_to_send():
            agent.receive_data(frame, 0.0)
    assert agent.state == customer.state == "paired"
    assert agent.binding is not None and customer.binding is not None
    return agent.binding, customer.binding


@pytest.fixture
def acme() -> OrgKey:
    return OrgKey.generate("Acme", seeded(1))


def issue(org: OrgKey, name: str = "Alice", days: float = 30, now: int = NOW) -> tuple[OrgKey, AgentIdentity]:
    return org.issue(name, now, days, seeded(hash(name) & 0xFFFF))


def test_session_binding_is_shared_by_both_sides_and_differs_between_sessions() -> None:
    agent_1, customer_1 = paired_bindings(1)
    agent_2, customer_2 = paired_bindings(2)
    assert agent_1 == customer_1 and agent_2 == customer_2
    assert len(agent_1) == 32 and agent_1 != agent_2


def test_a_valid_credential_and_proof_verify(acme: OrgKey) -> None:
    _, alice = issue(acme)
    binding, _ = paired_bindings(3)
    wire = json.loads(json.dumps(alice.credential.to_dict()))  # as it travels
    verdict = verify(wire, alice.prove(binding), binding, [acme.trust(NOW)], NOW + 60)
    assert verdict.status == "verified" and verdict.verified
    assert verdict.headline() == "Verified: Alice from Acme"


def test_a_proof_replayed_from_another_session_is_refused(acme: OrgKey) -> None:
    _, alice = issue(acme)
    first, _ = paired_bindings(4)
    _, second = paired_bindings(5)
    captured = alice.prove(first)  # an attacker copied the credential and proof from session 1
    verdict = verify(alice.credential.to_dict(), captured, second, [acme.trust(NOW)], NOW)
    assert verdict.status == "forged"
    assert "not for this session" in verdict.detail
    assert verdict.headline().startswith("Unverified agent")


def test_a_credential_signed_by_another_key_is_forged(acme: OrgKey) -> None:
    impostor = OrgKey.generate("Acme", seeded(99))  # same name, different key
    _, mallory = issue(impostor, "Alice")
    forged = replace(mallory.credential, org_key_id=acme.key_id)  # claims Acme's key
    binding = b"b" * 32
    identity = AgentIdentity(forged, mallory.seed)
    verdict = verify(forged.to_dict(), identity.prove(binding), binding, [acme.trust(NOW)], NOW)
    assert verdict.status == "forged"
    assert "signature" in verdict.detail


def test_an_altered_credential_is_forged(acme: OrgKey) -> None:
    _, alice = issue(acme, "Alice", days=1)
    longer = replace(alice.credential, expires=alice.credential.expires + 365 * DAY)
    renamed = replace(alice.credential, agent="Bob the Supervisor")
    binding = b"x" * 32
    for cred in (longer, renamed):
        verdict = verify(cred.to_dict(), alice.prove(binding), binding, [acme.trust(NOW)], NOW)
        assert verdict.status == "forged", cred


def test_a_stolen_credential_without_the_agent_key_is_forged(acme: OrgKey) -> None:
    _, alice = issue(acme)
    _, bob = issue(acme, "Bob")
    binding = b"y" * 32
    thief = AgentIdentity(alice.credential, bob.seed)  # Alice's credential, someone else's key
    verdict = verify(alice.credential.to_dict(), thief.prove(binding), binding, [acme.trust(NOW)], NOW)
    assert verdict.status == "forged"


def test_expired_and_not_yet_valid(acme: OrgKey) -> None:
    _, alice = issue(acme, days=2)
    binding = b"z" * 32
    trust = [acme.trust(NOW)]
    proof = alice.prove(binding)
    assert verify(alice.credential.to_dict(), proof, binding, trust, NOW + 2 * DAY).status == "verified"
    expired = verify(alice.credential.to_dict(), proof, binding, trust, NOW + 2 * DAY + 1)
    assert expired.status == "expired" and "expired" in expired.detail
    early = verify(alice.credential.to_dict(), proof, binding, trust, NOW - CLOCK_SKEW - 1)
    assert early.status == "expired" and "not valid yet" in early.detail
    assert verify(alice.credential.to_dict(), proof, binding, trust, NOW - CLOCK_SKEW).status == "verified"


def test_revoked(acme: OrgKey) -> None:
    acme, alice = issue(acme)
    acme, bob = issue(acme, "Bob")
    acme = acme.revoke(alice.credential.id)
    binding = b"r" * 32
    trust = [OrgTrust.from_dict(json.loads(json.dumps(acme.trust(NOW).to_dict())))]
    assert verify(alice.credential.to_dict(), alice.prove(binding), binding, trust, NOW).status == "revoked"
    assert verify(bob.credential.to_dict(), bob.prove(binding), binding, trust, NOW).status == "verified"


def test_revoking_an_unknown_id_says_which_exist(acme: OrgKey) -> None:
    acme, alice = issue(acme)
    with pytest.raises(TrustFileError, match=alice.credential.id):
        acme.revoke("0000")


def test_wrong_org(acme: OrgKey) -> None:
    globex = OrgKey.generate("Globex", seeded(7))
    _, gina = issue(globex, "Gina")
    binding = b"w" * 32
    verdict = verify(gina.credential.to_dict(), gina.prove(binding), binding, [acme.trust(NOW)], NOW)
    assert verdict.status == "wrong_org"
    assert "Acme" in verdict.detail and "Globex" in verdict.detail
    nobody = verify(gina.credential.to_dict(), gina.prove(binding), binding, [], NOW)
    assert nobody.status == "wrong_org" and "none configured" in nobody.detail
    # both trusted: fine
    both = [acme.trust(NOW), globex.trust(NOW)]
    assert verify(gina.credential.to_dict(), gina.prove(binding), binding, both, NOW).headline() == "Verified: Gina from Globex"


def test_an_org_key_renamed_in_a_credential_is_wrong_org(acme: OrgKey) -> None:
    """A customer's trust file names the org: a credential naming another org under that key
    (an org key file edited by hand) is not shown under the name it claims."""
    renamed = replace(acme, name="Microsoft Support")
    _, alice = issue(renamed)
    binding = b"n" * 32
    verdict = verify(alice.credential.to_dict(), alice.prove(binding), binding, [acme.trust(NOW)], NOW)
    assert verdict.status == "wrong_org"


@pytest.mark.parametrize("mangle", [
    lambda d: "not a dict",
    lambda d: {**d, "format": "something-else"},
    lambda d: {**d, "signature": "!!!"},
    lambda d: {**d, "agent_key": "AAAA"},
    lambda d: {**d, "expires": "soon"},
    lambda d: {**d, "agent": ""},
    lambda d: {**d, "agent": "x" * 200},
    lambda d: {**d, "agent": "Alice\x1b]0;pwned\x07"},  # no terminal escapes in a name a customer sees
])
def test_malformed_credentials_are_forged_not_errors(acme: OrgKey, mangle: Callable) -> None:
    _, alice = issue(acme)
    verdict = verify(mangle(alice.credential.to_dict()), b"\0" * 64, b"b" * 32, [acme.trust(NOW)], NOW)
    assert verdict.status == "forged"
    assert "malformed" in verdict.detail


def test_no_proof_verdict() -> None:
    assert no_proof(False).status == "none"
    assert "no trusted organisation" in no_proof(False).detail
    assert "no trusted" not in no_proof(True).detail


def test_files_round_trip_and_hold_no_secret_where_public(acme: OrgKey) -> None:
    acme, alice = issue(acme)
    assert OrgKey.from_dict(json.loads(json.dumps(acme.to_dict()))) == acme
    assert AgentIdentity.from_dict(json.loads(json.dumps(alice.to_dict()))) == alice
    assert AgentCredential.from_dict(alice.credential.to_dict()) == alice.credential
    public = json.dumps(acme.trust(NOW).to_dict())
    assert acme.to_dict()["private_key"] not in public
    assert json.dumps(alice.to_dict())  # the agent's own file holds its private key: that file is secret
    assert alice.to_dict()["agent_private_key"] not in json.dumps(alice.credential.to_dict())


def test_file_errors_are_clear(acme: OrgKey) -> None:
    with pytest.raises(TrustFileError, match="not a cobrowse-org-trust/1 file"):
        OrgTrust.from_dict(acme.to_dict())
    tampered = {**acme.trust(NOW).to_dict(), "key_id": "0" * 16}
    with pytest.raises(TrustFileError, match="altered"):
        OrgTrust.from_dict(tampered)
    _, alice = issue(acme)
    _, bob = issue(acme, "Bob")
    mixed = {**alice.to_dict(), "agent_private_key": bob.to_dict()["agent_private_key"]}
    with pytest.raises(TrustFileError, match="does not match"):
        AgentIdentity.from_dict(mixed)
    with pytest.raises(TrustFileError, match="name"):
        OrgKey.generate("  ", seeded(1))
    with pytest.raises(TrustFileError, match="days"):
        acme.issue("Alice", NOW, 0, seeded(1))


def test_the_agent_is_warned_before_and_after_expiry(acme: OrgKey) -> None:
    _, alice = issue(acme, days=30)
    assert alice.expiry_warning(NOW) is None
    soon = alice.expiry_warning(NOW + 25 * DAY)
    assert soon is not None and "expires in 5.0 days" in soon
    late = alice.expiry_warning(NOW + 31 * DAY)
    assert late is not None and "expired" in late and "UNVERIFIED" in late

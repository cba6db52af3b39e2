"""Playbooks an organisation signs, and what a customer's client makes of them. Pure.

A playbook runs commands in the customer's shell when they follow it (``cobrowse guide``),
so where it came from matters as much as who an agent is. The organisation signs the
playbook's exact bytes with the same Ed25519 key that vouches for its agents
(``cobrowse org sign-playbook FILE`` writes ``FILE.sig`` next to it); the customer's client
checks the signature against the trust files it already has (``--org``, ``trusted_orgs``).

Verdicts, and what the front ends do with them:

- ``verified``: signed by an organisation in the customer's trust files, bytes unchanged:
  "signed by ACME (verified against your trust file)".
- ``unsigned``: no signature file: shown as unsigned, runs as before.
- ``unknown_org``: a well-formed signature by a key none of the trust files holds: not
  verified (shown as such), runs as an unsigned playbook would.
- ``tampered``: the bytes changed since signing, the signature does not verify under the
  key it names, or the signature file is damaged: **refused**, with the reason.

Nothing here reads a file or a clock: the caller passes the bytes and ``now``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Sequence

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from cobrowse.trust.credential import OrgKey, OrgTrust

FORMAT = "cobrowse-playbook-signature/1"
CONTEXT = b"cobrowse/1 playbook signature\n"
SUFFIX = ".sig"
#: A signature file is a few hundred bytes; anything much bigger is not one.
MAX_SIGNATURE_FILE = 8192


class SignatureStatus(StrEnum):
    VERIFIED = "verified"
    UNSIGNED = "unsigned"
    UNKNOWN_ORG = "unknown_org"
    TAMPERED = "tampered"


@dataclass(frozen=True)
class PlaybookVerdict:
    status: SignatureStatus
    org: str = ""  # the organisation named by the signature (verified: as the trust file names it)
    detail: str = ""  # why, for unknown_org and tampered

    @property
    def refused(self) -> bool:
        return self.status is SignatureStatus.TAMPERED

    def message(self, name: str = "this playbook") -> str:
        """One line for people (customers in ``cobrowse guide``, agents in the library)."""
        if self.status is SignatureStatus.VERIFIED:
            return f"{name}: signed by {self.org} (verified against your trust file)"
        if self.status is SignatureStatus.UNSIGNED:
            return f"{name}: unsigned (nobody vouches for where it came from)"
        if self.status is SignatureStatus.UNKNOWN_ORG:
            return f"{name}: signed as {self.org!r}, but NOT verified: {self.detail}"
        return f"{name}: REFUSED, the signature does not match: {self.detail}"

    def to_json(self) -> dict[str, Any]:
        return {"status": self.status.value, "org": self.org or None, "detail": self.detail or None}


def _signed_bytes(fields: dict[str, Any]) -> bytes:
    return CONTEXT + json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()


def sign_playbook(org: OrgKey, content: bytes, file_name: str, now: int) -> dict[str, Any]:
    """The signature file's JSON for ``content`` (the playbook's exact bytes)."""
    fields = {"format": FORMAT, "org": org.name, "key_id": org.key_id, "file": file_name,
              "sha256": hashlib.sha256(content).hexdigest(), "signed_at": now}
    signature = Ed25519PrivateKey.from_private_bytes(org.seed).sign(_signed_bytes(fields))
    return {**fields, "signature": base64.b64encode(signature).decode()}


def verify_playbook(content: bytes, signature_file: bytes | None, trusted: Sequence[OrgTrust]) -> PlaybookVerdict:
    """The verdict on a playbook's bytes given its signature file's bytes (None: there is none)."""
    if signature_file is None:
        return PlaybookVerdict(SignatureStatus.UNSIGNED)
    tampered = SignatureStatus.TAMPERED
    if len(signature_file) > MAX_SIGNATURE_FILE:
        return PlaybookVerdict(tampered, detail="the .sig file is too big to be a signature")
    try:
        data = json.loads(signature_file)
    except (ValueError, UnicodeDecodeError):
        return PlaybookVerdict(tampered, detail="the .sig file is not a signature (not JSON)")
    keys = ("format", "org", "key_id", "file", "sha256", "signed_at")
    if not isinstance(data, dict) or data.get("format") != FORMAT or not all(k in data for k in (*keys, "signature")):
        return PlaybookVerdict(tampered, detail=f"the .sig file is not a {FORMAT} signature")
    org = str(data["org"])[:64]
    if not org.isprintable():
        return PlaybookVerdict(tampered, detail="the .sig file names an organisation with control characters")
    try:
        signature = base64.b64decode(str(data["signature"]), validate=True)
    except (binascii.Error, ValueError):
        return PlaybookVerdict(tampered, org, "the signature is not valid base64")
    if hashlib.sha256(content).hexdigest() != data["sha256"]:
        return PlaybookVerdict(tampered, org, f"the playbook was changed after {org} signed it")
    holder = next((t for t in trusted if t.key_id == data["key_id"]), None)
    if holder is None:
        known = ", ".join(t.name for t in trusted) or "none loaded"
        return PlaybookVerdict(SignatureStatus.UNKNOWN_ORG, org,
                               f"its key {data['key_id']} is in none of your trust files ({known})")
    try:
        Ed25519PublicKey.from_public_bytes(holder.public_key).verify(signature, _signed_bytes({k: data[k] for k in keys}))
    except InvalidSignature:
        return PlaybookVerdict(tampered, org, f"the signature does not verify under {holder.name}'s key")
    return PlaybookVerdict(SignatureStatus.VERIFIED, holder.name)

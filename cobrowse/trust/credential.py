"""Organisation keys, agent credentials, and the customer's verdict on an agent. Pure.

The chain a customer checks, all Ed25519:

1. the customer trusts an organisation's public key (a trust file the organisation publishes);
2. the organisation's key signed the agent's credential (agent name, org, agent public key,
   validity period, credential id);
3. the agent's key signed this session's binding value (``SessionKeys.binding``, derived
   from the PAKE key both sides share), so a credential and proof copied from one session
   prove nothing in another, and a relay (which never learns the PAKE key) cannot make one.

Revocation is by credential id, listed in the trust file. Times are whole Unix seconds,
passed in (``now``); keys come from ``entropy`` bytes the caller draws. Nothing here reads a
file or a clock: ``cobrowse.cli.org`` stores, the runtimes pass time in.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import field, replace
from typing import Any, Callable, Sequence

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from cobrowse.protocol.untrusted import Field, clean
from cobrowse.wire.frozen import frozen

ORG_KEY_FORMAT = "cobrowse-org-key/1"
CREDENTIAL_FORMAT = "cobrowse-agent-credential/1"
IDENTITY_FORMAT = "cobrowse-agent-identity/1"
TRUST_FORMAT = "cobrowse-org-trust/1"
CREDENTIAL_CONTEXT = b"cobrowse/1 agent credential\n"
PROOF_CONTEXT = b"cobrowse/1 agent proof\n"
#: Clocks differ: a credential issued up to this many seconds "in the future" is accepted.
CLOCK_SKEW = 300
MAX_NAME = 64
MAX_DAYS = 3650

#: The verdicts, best first. Only ``verified`` counts; everything else is an unverified agent.
STATUSES = ("verified", "expired", "revoked", "wrong_org", "forged", "none")

Entropy = Callable[[int], bytes]


class TrustFileError(ValueError):
    """A key, credential or trust file that is not what it claims to be (message says which)."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unb64(value: Any, what: str, length: int | None = None) -> bytes:
    if not isinstance(value, str):
        raise TrustFileError(f"{what}: expected base64 text")
    try:
        data = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise TrustFileError(f"{what}: not valid base64") from None
    if length is not None and len(data) != length:
        raise TrustFileError(f"{what}: expected {length} bytes, got {len(data)}")
    return data


def _text(obj: dict[str, Any], key: str, what: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_NAME or not value.isprintable():
        raise TrustFileError(f"{what}: {key!r} must be a non-empty printable name of at most {MAX_NAME} characters")
    return value


def _int(obj: dict[str, Any], key: str, what: str) -> int:
    value = obj.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise TrustFileError(f"{what}: {key!r} must be a whole number (Unix seconds)")
    return value


def _format(obj: Any, expected: str, what: str) -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise TrustFileError(f"{what}: expected a JSON object")
    if obj.get("format") != expected:
        raise TrustFileError(f"{what}: not a {expected} file (format is {obj.get('format')!r})")
    return obj


def check_name(name: str, what: str) -> str:
    """A display name: printable, 1..64 characters (it is shown to customers)."""
    name = name.strip()
    if not name or len(name) > MAX_NAME or not name.isprintable():
        raise TrustFileError(f"{what} must be 1-{MAX_NAME} printable characters, got {name!r}")
    return name


def public_bytes(private: Ed25519PrivateKey) -> bytes:
    return private.public_key().public_bytes_raw()


def key_id(public: bytes) -> str:
    """A short, stable name for a public key: the first 8 bytes of its SHA-256, in hex."""
    return hashlib.sha256(public).hexdigest()[:16]


@frozen
class AgentCredential:
    """What the organisation vouches for: this agent key belongs to ``agent`` of ``org``."""

    id: str
    agent: str
    org: str
    org_key_id: str
    agent_key: bytes
    issued: int
    expires: int
    signature: bytes = b""

    def signed_bytes(self) -> bytes:
        body = {k: v for k, v in self.to_dict().items() if k != "signature"}
        return CREDENTIAL_CONTEXT + json.dumps(body, sort_keys=True, separators=(",", ":")).encode()

    def to_dict(self) -> dict[str, Any]:
        return {"format": CREDENTIAL_FORMAT, "id": self.id, "agent": self.agent, "org": self.org,
                "org_key_id": self.org_key_id, "agent_key": _b64(self.agent_key), "issued": self.issued,
                "expires": self.expires, "signature": _b64(self.signature)}

    @classmethod
    def from_dict(cls, obj: Any) -> "AgentCredential":
        what = "agent credential"
        obj = _format(obj, CREDENTIAL_FORMAT, what)
        ident = obj.get("id")
        if not isinstance(ident, str) or not 1 <= len(ident) <= 64:
            raise TrustFileError(f"{what}: 'id' must be text")
        key = obj.get("org_key_id")
        if not isinstance(key, str) or len(key) != 16:
            raise TrustFileError(f"{what}: 'org_key_id' must be 16 hex digits")
        return cls(ident, _text(obj, "agent", what), _text(obj, "org", what), key,
                   _unb64(obj.get("agent_key"), f"{what} agent_key", 32), _int(obj, "issued", what),
                   _int(obj, "expires", what), _unb64(obj.get("signature"), f"{what} signature", 64))


@frozen
class AgentIdentity:
    """What an agent holds: the credential and the private key it was issued for. Secret."""

    credential: AgentCredential
    seed: bytes

    def prove(self, binding: bytes) -> bytes:
        """Sign this session's binding value: possession of the key, bound to this session."""
        return Ed25519PrivateKey.from_private_bytes(self.seed).sign(PROOF_CONTEXT + binding)

    def expiry_warning(self, now: int) -> str | None:
        """A line for the agent when the credential is expired or about to (None if fine)."""
        cred = self.credential
        if now > cred.expires:
            return (f"your credential from {cred.org} expired: customers will see you as UNVERIFIED; "
                    "ask your organisation for a new one (cobrowse org issue-agent)")
        if cred.expires - now < 7 * 86400:
            days = (cred.expires - now) / 86400
            return f"your credential from {cred.org} expires in {days:.1f} days: ask your organisation for a new one"
        return None

    def to_dict(self) -> dict[str, Any]:
        return {"format": IDENTITY_FORMAT, "credential": self.credential.to_dict(), "agent_private_key": _b64(self.seed)}

    @classmethod
    def from_dict(cls, obj: Any) -> "AgentIdentity":
        what = "agent credential file"
        obj = _format(obj, IDENTITY_FORMAT, what)
        credential = AgentCredential.from_dict(obj.get("credential"))
        seed = _unb64(obj.get("agent_private_key"), f"{what} agent_private_key", 32)
        if public_bytes(Ed25519PrivateKey.from_private_bytes(seed)) != credential.agent_key:
            raise TrustFileError(f"{what}: the private key does not match the credential's agent key")
        return cls(credential, seed)


@frozen
class OrgTrust:
    """What an organisation publishes and customers trust: its name, public key, revocations."""

    name: str
    public_key: bytes
    revoked: frozenset[str] = frozenset()
    published: int = 0

    @property
    def key_id(self) -> str:
        return key_id(self.public_key)

    def to_dict(self) -> dict[str, Any]:
        return {"format": TRUST_FORMAT, "org": self.name, "public_key": _b64(self.public_key),
                "key_id": self.key_id, "revoked": sorted(self.revoked), "published": self.published}

    @classmethod
    def from_dict(cls, obj: Any) -> "OrgTrust":
        what = "organisation trust file"
        obj = _format(obj, TRUST_FORMAT, what)
        public = _unb64(obj.get("public_key"), f"{what} public_key", 32)
        revoked = obj.get("revoked", [])
        if not isinstance(revoked, list) or not all(isinstance(r, str) for r in revoked):
            raise TrustFileError(f"{what}: 'revoked' must be a list of credential ids")
        if "key_id" in obj and obj["key_id"] != key_id(public):
            raise TrustFileError(f"{what}: 'key_id' does not match the public key (the file was altered)")
        published = obj.get("published", 0)
        return cls(_text(obj, "org", what), public, frozenset(revoked), published if isinstance(published, int) else 0)


@frozen
class Issued:
    """The organisation's record of a credential it issued (for listing and revoking)."""

    id: str
    agent: str
    expires: int


@frozen
class OrgKey:
    """An organisation's signing key and its book of issued and revoked credentials. Secret."""

    name: str
    seed: bytes
    issued: tuple[Issued, ...] = ()
    revoked: frozenset[str] = frozenset()

    @classmethod
    def generate(cls, name: str, entropy: Entropy) -> "OrgKey":
        return cls(check_name(name, "the organisation's name"), entropy(32))

    @property
    def public_key(self) -> bytes:
        return public_bytes(Ed25519PrivateKey.from_private_bytes(self.seed))

    @property
    def key_id(self) -> str:
        return key_id(self.public_key)

    def issue(self, agent: str, now: int, days: float, entropy: Entropy) -> tuple["OrgKey", AgentIdentity]:
        """A new agent key and its credential valid ``days`` from ``now``; the book records it."""
        agent = check_name(agent, "the agent's name")
        if not 0 < days <= MAX_DAYS:
            raise TrustFileError(f"validity must be more than 0 and at most {MAX_DAYS} days, got {days}")
        seed = entropy(32)
        credential = AgentCredential(entropy(8).hex(), agent, self.name, self.key_id,
                                     public_bytes(Ed25519PrivateKey.from_private_bytes(seed)),
                                     now, now + int(days * 86400))
        signature = Ed25519PrivateKey.from_private_bytes(self.seed).sign(credential.signed_bytes())
        credential = replace(credential, signature=signature)
        book = replace(self, issued=self.issued + (Issued(credential.id, agent, credential.expires),))
        return book, AgentIdentity(credential, seed)

    def revoke(self, credential_id: str) -> "OrgKey":
        if credential_id not in {i.id for i in self.issued}:
            known = ", ".join(f"{i.id} ({i.agent})" for i in self.issued) or "none issued yet"
            raise TrustFileError(f"no credential {credential_id!r} was issued by this organisation (issued: {known})")
        return replace(self, revoked=self.revoked | {credential_id})

    def trust(self, now: int) -> OrgTrust:
        """The public trust file to publish (no secret in it)."""
        return OrgTrust(self.name, self.public_key, self.revoked, now)

    def to_dict(self) -> dict[str, Any]:
        return {"format": ORG_KEY_FORMAT, "org": self.name, "private_key": _b64(self.seed),
                "issued": [{"id": i.id, "agent": i.agent, "expires": i.expires} for i in self.issued],
                "revoked": sorted(self.revoked)}

    @classmethod
    def from_dict(cls, obj: Any) -> "OrgKey":
        what = "organisation key file"
        obj = _format(obj, ORG_KEY_FORMAT, what)
        issued_raw = obj.get("issued", [])
        if not isinstance(issued_raw, list):
            raise TrustFileError(f"{what}: 'issued' must be a list")
        issued = []
        for item in issued_raw:
            if not isinstance(item, dict) or not isinstance(item.get("id"), str):
                raise TrustFileError(f"{what}: an 'issued' entry is malformed")
            issued.append(Issued(item["id"], str(item.get("agent", "")), int(item.get("expires", 0))))
        revoked = obj.get("revoked", [])
        if not isinstance(revoked, list) or not all(isinstance(r, str) for r in revoked):
            raise TrustFileError(f"{what}: 'revoked' must be a list of credential ids")
        return cls(_text(obj, "org", what), _unb64(obj.get("private_key"), f"{what} private_key", 32),
                   tuple(issued), frozenset(revoked))


@frozen
class Verdict:
    """How the customer's client judged the agent. Only ``verified`` is trusted.

    ``agent``, ``org`` and ``detail`` quote the agent's credential, which an attacker writes
    (an unverified one says anything): they are cleaned here, once, for every front end."""

    status: str
    agent: str = ""
    org: str = ""
    detail: str = ""
    credential_id: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        for name, kind in (("agent", Field.NAME), ("org", Field.NAME), ("detail", Field.DETAIL),
                           ("credential_id", Field.KIND)):
            object.__setattr__(self, name, clean(getattr(self, name), kind))

    @property
    def verified(self) -> bool:
        return self.status == "verified"

    def headline(self) -> str:
        """The one line a customer sees."""
        if self.verified:
            return f"Verified: {self.agent} from {self.org}"
        return f"Unverified agent: {self.detail}"


def no_proof(trusted_any: bool) -> Verdict:
    """The agent sent no credential at all."""
    why = "they did not present any organisation credential"
    if not trusted_any:
        why += " (and you have no trusted organisation configured)"
    return Verdict("none", detail=why)


def verify(credential: Any, proof: bytes, binding: bytes, trusted: Sequence[OrgTrust], now: int) -> Verdict:
    """Check an agent's credential (as received, a dict) and proof for this session."""
    try:
        cred = AgentCredential.from_dict(credential)
    except TrustFileError as exc:
        return Verdict("forged", detail=f"their credential is malformed ({exc})")
    claimed = f"{cred.agent!r} claiming to be from {cred.org!r}"
    org = next((t for t in trusted if t.key_id == cred.org_key_id), None)
    if org is None:
        names = ", ".join(sorted(t.name for t in trusted)) or "none configured"
        return Verdict("wrong_org", cred.agent, cred.org,
                       f"{claimed}, signed by an organisation you do not trust (you trust: {names})", cred.id)
    try:
        Ed25519PublicKey.from_public_bytes(org.public_key).verify(cred.signature, cred.signed_bytes())
    except InvalidSignature:
        return Verdict("forged", cred.agent, org.name,
                       f"{claimed}: the credential's signature is not {org.name}'s (forged or altered)", cred.id)
    if cred.org != org.name:
        return Verdict("wrong_org", cred.agent, cred.org, f"{claimed}, but that key belongs to {org.name!r}", cred.id)
    if cred.id in org.revoked:
        return Verdict("revoked", cred.agent, org.name, f"{claimed}: {org.name} revoked this credential", cred.id)
    if now > cred.expires:
        return Verdict("expired", cred.agent, org.name, f"{claimed}: the credential expired", cred.id)
    if now + CLOCK_SKEW < cred.issued:
        return Verdict("expired", cred.agent, org.name, f"{claimed}: the credential is not valid yet (check clocks)", cred.id)
    try:
        Ed25519PublicKey.from_public_bytes(cred.agent_key).verify(proof, PROOF_CONTEXT + binding)
    except InvalidSignature:
        return Verdict("forged", cred.agent, org.name,
                       f"{claimed}: the proof is not for this session (a copied or replayed credential)", cred.id)
    return Verdict("verified", cred.agent, org.name, f"{org.name} vouches for {cred.agent}", cred.id)

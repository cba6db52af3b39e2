r"""The pairing handshake of the help queue: no code, the organisation's signature instead.

A customer in an organisation's queue has no secret to share with the agent who picks
them, so SPAKE2 has nothing to work on. What keeps a malicious relay out is the
organisation's key: an ephemeral X25519 exchange whose transcript the agent signs with the
key its organisation's credential names, checked by the customer's client against the
trust file it was started with (docs/helpdesk.md, "The queue"). Same interface as
:class:`cobrowse.crypto.handshake.Handshake`, so :class:`cobrowse.protocol.session.Session`
takes either::

    customer: know_trust --QPROOF verified--> confirmed        (sends QHELLO, then CONFIRM)
                         \--QPROOF not verified--> scared      (UnverifiedAgent)
    agent:    know_identity --QHELLO--> know_key --CONFIRM valid--> confirmed
                                                 \--invalid--> scared

Sans-I/O: ``entropy`` draws the ephemeral keys and the nonce, ``wall`` gives Unix seconds
for the credential's validity; neither is read here.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any, Callable, NoReturn

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from cobrowse import PROTOCOL_VERSION
from cobrowse.crypto.handshake import CONFIRM, Confirmed
from cobrowse.crypto.keys import SessionKeys
from cobrowse.crypto.sas import sas_words
from cobrowse.errors import SecurityError, WrongCode
from cobrowse.trust.credential import AgentIdentity, OrgTrust, Verdict, verify

QHELLO = 0x03
QPROOF = 0x04
QUEUE_KINDS = (QHELLO, QPROOF)
NONCE = 16
#: A credential is a few hundred bytes of JSON; anything much larger is not one.
MAX_CREDENTIAL = 4096
#: Prefixed to the transcript hash before the agent signs it: a value of another length and
#: shape than a session binding, so a queue proof never passes for an identity proof.
PROOF_PREFIX = b"queue "


class UnverifiedAgent(SecurityError):
    """The agent who picked the customer could not prove they are from the organisation."""

    def __init__(self, verdict: Verdict) -> None:
        super().__init__(f"an agent who could not prove they are from your organisation was refused: {verdict.detail}")
        self.verdict = verdict


def _public(key: X25519PrivateKey) -> bytes:
    return key.public_key().public_bytes_raw()


def transcript(nameplate: str, org_key_id: str, customer_key: bytes, nonce: bytes, agent_key: bytes,
               credential: bytes) -> bytes:
    """SHA-256 of everything both sides said, bound to the session and the organisation."""
    h = hashlib.sha256()
    for part in (f"cobrowse/{PROTOCOL_VERSION} queue {nameplate}".encode(), org_key_id.encode(),
                 customer_key, nonce, agent_key, hashlib.sha256(credential).digest()):
        h.update(len(part).to_bytes(4, "big") + part)
    return h.digest()


def _master(shared: bytes, digest: bytes) -> bytes:
    return hashlib.sha256(b"cobrowse queue master\n" + shared + digest).digest()


def _confirmation(keys: SessionKeys, role: str) -> bytes:
    return hmac.new(keys.confirm, f"confirm {role}".encode(), hashlib.sha256).digest()


@dataclass(frozen=True)
class QueueTrust:
    """What the customer's client checks a picking agent against: one organisation."""

    org: OrgTrust
    wall: Callable[[], int]


class QueueHandshake:
    """One side of the queue handshake. Feed frames in, take frames and events out.

    The customer passes ``trust``; the agent passes ``identity``. ``nameplate`` is the
    session the relay opened for the customer's queue entry."""

    def __init__(self, role: str, nameplate: str, org_key_id: str, entropy: Callable[[int], bytes], *,
                 trust: QueueTrust | None = None, identity: AgentIdentity | None = None) -> None:
        if role == "customer" and trust is None or role == "agent" and identity is None:
            raise ValueError("the customer needs the organisation's trust, the agent its identity")
        if role not in ("agent", "customer"):
            raise ValueError(f"unknown role {role!r}")
        self.role = role
        self.state = "know_trust" if role == "customer" else "know_identity"
        self._nameplate, self._org, self._trust, self._identity = nameplate, org_key_id, trust, identity
        self._key = X25519PrivateKey.from_private_bytes(entropy(32))
        self._nonce = entropy(NONCE) if role == "customer" else b""
        self._sent: list[bytes] = [bytes([QHELLO]) + _public(self._key) + self._nonce] if role == "customer" else []
        self._outbox: list[bytes] = list(self._sent)
        self._events: list[Confirmed] = []
        self._keys: SessionKeys | None = None
        self._peer_first: bytes | None = None
        #: The customer's verdict on the agent who answered (None until one did).
        self.verdict: Verdict | None = None

    def data_to_send(self) -> list[bytes]:
        out, self._outbox = self._outbox, []
        return out

    def events_received(self) -> list[Confirmed]:
        out, self._events = self._events, []
        return out

    @property
    def peer_tried(self) -> bool:
        return self._peer_first is not None or self.state == "scared"

    def resend(self) -> None:
        if self.state not in ("confirmed", "scared"):
            self._outbox.extend(self._sent)

    def receive_data(self, frame: bytes) -> None:
        """Take one handshake frame. Raises UnverifiedAgent or WrongCode (and turns scared)."""
        if self.state in ("confirmed", "scared") or not frame:
            return
        kind, body = frame[0], bytes(frame[1:])
        if self._peer_first is not None and kind in QUEUE_KINDS:
            if body == self._peer_first:
                return  # a resent copy after a reconnect
            self._fail()
        if self.role == "customer" and kind == QPROOF:
            self._peer_first = body
            self._receive_proof(body)
        elif self.role == "agent" and kind == QHELLO:
            self._peer_first = body
            self._receive_hello(body)
        elif self.role == "agent" and kind == CONFIRM and self._keys is not None:
            if not hmac.compare_digest(body, _confirmation(self._keys, "customer")):
                self._fail()
            self._confirmed()
        else:
            self._fail()

    def _receive_hello(self, body: bytes) -> None:
        if len(body) != 32 + NONCE:
            self._fail()
        assert self._identity is not None
        customer_key, nonce = body[:32], body[32:]
        credential = json.dumps(self._identity.credential.to_dict(), sort_keys=True).encode()
        mine = _public(self._key)
        digest = transcript(self._nameplate, self._org, customer_key, nonce, mine, credential)
        shared = self._exchange(customer_key)
        signature = self._identity.prove(PROOF_PREFIX + digest)
        self._keys = SessionKeys.from_master(_master(shared, digest))
        frame = bytes([QPROOF]) + mine + signature + credential
        self._sent.append(frame)
        self._outbox.append(frame)
        self.state = "know_key"

    def _receive_proof(self, body: bytes) -> None:
        assert self._trust is not None
        if not 32 + 64 < len(body) <= 32 + 64 + MAX_CREDENTIAL:
            self._refuse(Verdict("forged", detail="their answer is not a credential proof"))
        agent_key, signature, credential = body[:32], body[32:96], body[96:]
        try:
            obj: Any = json.loads(credential)
        except (ValueError, UnicodeDecodeError, RecursionError):
            self._refuse(Verdict("forged", detail="their credential is not JSON"))
        digest = transcript(self._nameplate, self._org, _public(self._key), self._nonce, agent_key, credential)
        verdict = verify(obj, signature, PROOF_PREFIX + digest, [self._trust.org], self._trust.wall())
        self.verdict = verdict
        if not verdict.verified:
            self._refuse(verdict)
        shared = self._exchange(agent_key)
        self._keys = SessionKeys.from_master(_master(shared, digest))
        frame = bytes([CONFIRM]) + _confirmation(self._keys, "customer")
        self._sent.append(frame)
        self._outbox.append(frame)
        self._confirmed()

    def _exchange(self, peer: bytes) -> bytes:
        try:
            shared = self._key.exchange(X25519PublicKey.from_public_bytes(peer))
        except ValueError:  # a low-order point: the all-zero shared secret is refused
            self._fail()
        return shared

    def _confirmed(self) -> None:
        assert self._keys is not None
        self.state = "confirmed"
        self._events.append(Confirmed(self._keys, sas_words(self._keys.sas)))

    def _refuse(self, verdict: Verdict) -> NoReturn:
        self.verdict = verdict
        self.state = "scared"
        self._outbox.clear()
        raise UnverifiedAgent(verdict)

    def _fail(self) -> NoReturn:
        self.state = "scared"
        self._outbox.clear()
        raise WrongCode()

"""The key schedule: every key used in a session, derived from the PAKE key by HKDF.

Each purpose has its own HKDF ``info`` label, prefixed with the protocol version, so a key
for one purpose can never stand in for another, and a later protocol version derives
unrelated keys from the same PAKE output.
"""

from __future__ import annotations


from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from cobrowse import PROTOCOL_VERSION
from cobrowse.wire.frozen import frozen


def derive(master: bytes, purpose: str, length: int = 32) -> bytes:
    info = f"cobrowse/{PROTOCOL_VERSION} {purpose}".encode()
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=info).derive(master)


@frozen
class SessionKeys:
    agent_to_customer: bytes
    customer_to_agent: bytes
    confirm: bytes
    sas: bytes
    #: A value only the two paired clients know, unique to this session: an agent signs it to
    #: prove its credential here and now (cobrowse.trust), so a proof cannot be replayed.
    binding: bytes = b""

    @classmethod
    def from_master(cls, master: bytes) -> "SessionKeys":
        return cls(
            agent_to_customer=derive(master, "key agent->customer"),
            customer_to_agent=derive(master, "key customer->agent"),
            confirm=derive(master, "key confirmation"),
            sas=derive(master, "short authentication string", 8),
            binding=derive(master, "session binding"),
        )

    def sending(self, role: str) -> bytes:
        return self.agent_to_customer if role == "agent" else self.customer_to_agent

    def receiving(self, role: str) -> bytes:
        return self.customer_to_agent if role == "agent" else self.agent_to_customer

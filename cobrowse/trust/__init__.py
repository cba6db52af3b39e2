"""Verified agent identity and scam tripwires (pure: no I/O, no clock, no randomness of its own).

``credential``: organisation keys, agent credentials, the published trust file, and the
customer's verdict on an agent's proof. ``tripwire``: the cool-down before an unverified
agent may be granted control.
"""

from cobrowse.trust.credential import (
    STATUSES,
    AgentCredential,
    AgentIdentity,
    OrgKey,
    OrgTrust,
    TrustFileError,
    Verdict,
    no_proof,
    verify,
)
from cobrowse.trust.tripwire import ControlGate, GateAnswer

__all__ = [
    "STATUSES", "AgentCredential", "AgentIdentity", "OrgKey", "OrgTrust", "TrustFileError", "Verdict",
    "no_proof", "verify", "ControlGate", "GateAnswer",
]

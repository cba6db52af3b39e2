"""A queued customer's or a picked agent's session set up on a runtime: the relay session
as usual, the pairing by the queue handshake (cobrowse/crypto/handshake_queue.py) instead of
SPAKE2 on a code. The runtimes run it as any other session from then on."""

from __future__ import annotations

import os
import time
from typing import Any

from cobrowse.crypto.handshake_queue import QueueHandshake, QueueTrust
from cobrowse.protocol.session import Session
from cobrowse.trust.credential import AgentIdentity, OrgTrust
from cobrowse.wire.code import Code

#: A queue session has no code; this stands in where a Code is expected (never a password).
NO_SECRET = "00000000"
#: Refused picks never make the customer's client open a fresh session (there is no code
#: to guess): it keeps its place and waits for the next agent.
UNLIMITED = 1_000_000


def wall() -> int:
    return int(time.time())


async def start_queued(runtime: Any, org: OrgTrust) -> Code:
    """The customer's side: open a session on the relay and join the queue of ``org``
    (``runtime.link`` is a QueuedCustomerLink). Returns the stand-in code."""
    nameplate = await runtime.link.open()
    code = Code(nameplate, NO_SECRET)
    trust = QueueTrust(org, wall)
    runtime.created = True
    runtime.max_attempts = UNLIMITED
    runtime.code = code
    runtime.session = Session("customer", code, os.urandom, handshake=lambda: QueueHandshake(
        "customer", nameplate, org.key_id, os.urandom, trust=trust))
    await runtime.link.enqueue()
    return code


async def join_picked(runtime: Any, nameplate: str, org_key_id: str, identity: AgentIdentity) -> Code:
    """The agent's side: claim the customer it picked (``runtime.link`` is a PickedAgentLink
    holding the pick's ticket) and answer with the queue handshake."""
    await runtime.link.claim(nameplate)
    code = Code(nameplate, NO_SECRET)
    runtime.code = code
    runtime.session = Session("agent", code, os.urandom, handshake=lambda: QueueHandshake(
        "agent", nameplate, org_key_id, os.urandom, identity=identity))
    return code

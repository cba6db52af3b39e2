"""A malicious relay against the help queue (tests/e2e/adversary.py's proxy, one attack more).

With ``swap_hello`` armed, when the queued customer's client sends its queue hello (its
ephemeral X25519 key and nonce), the adversary sends the agent its own hello instead: a
man in the middle of the key exchange. The real agent of the organisation answers the
adversary's hello with a proof signed over the adversary's transcript, and the adversary
hands that proof to the customer, hoping the customer accepts it. ``fake`` is its own
half of the exchange with the agent (a relay can fake a customer to an agent:
docs/helpdesk.md, "What the relay still can do"; it can never fake an agent to a customer).
"""

from __future__ import annotations

import os
from typing import Any

from adversary import Adversary, _Conn

import time

from cobrowse.crypto.handshake_queue import QHELLO, QueueHandshake, QueueTrust
from cobrowse.trust.credential import OrgTrust


class QueueAdversary(Adversary):
    def __init__(self, relay_url: str, org: OrgTrust, **kw: Any) -> None:
        super().__init__(relay_url, **kw)
        self.org = org
        self.swap_hello = False
        self.swapped = 0
        self.fake: QueueHandshake | None = None

    async def _forward_binary(self, conn: _Conn, frame: bytes) -> None:
        if self.swap_hello and conn.role == "customer" and frame[:1] == bytes([QHELLO]) and self.nameplate:
            self.fake = QueueHandshake("customer", self.nameplate, self.org.key_id, os.urandom,
                                       trust=QueueTrust(self.org, lambda: int(time.time())))
            (hello,) = self.fake.data_to_send()
            self.swapped += 1
            self._record(conn.role, "up", hello)
            await conn.relay.send(hello)
            return
        await super()._forward_binary(conn, frame)

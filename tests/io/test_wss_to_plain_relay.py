"""``wss://`` to a relay that does not use TLS (qa9): the customer was told only "cannot reach
the relay ... (ConnectionResetError): check the address and your network"; now the TLS handshake
is named and the ws:// address given. A real relay on 127.0.0.1, a real TLS client."""

from __future__ import annotations

import pytest

from cobrowse.errors import RelayUnavailable
from cobrowse.io.link import RelayLink
from relay.server import RelayServer


async def test_wss_to_a_relay_without_tls_says_to_use_ws(relay: RelayServer) -> None:
    link = RelayLink(f"wss://127.0.0.1:{relay.port}", "customer")
    with pytest.raises(RelayUnavailable) as raised:
        await link.open()
    said = str(raised.value)
    assert "TLS handshake failed" in said and f"connect with ws://127.0.0.1:{relay.port}" in said, said


async def test_ws_to_a_closed_port_keeps_the_network_advice() -> None:
    link = RelayLink("ws://127.0.0.1:9", "customer")
    with pytest.raises(RelayUnavailable) as raised:
        await link.open()
    assert "check the address and your network" in str(raised.value)

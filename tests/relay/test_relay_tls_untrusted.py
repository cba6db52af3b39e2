"""A client meeting a TLS relay whose certificate it does not trust (an admin's own CA, a
self-signed test relay) is told that, and how to trust it: it was told to "check the address
and your network, or start one with `cobrowse relay`", wrong on every count."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from cobrowse.errors import RelayUnavailable
from cobrowse.io.link import RelayLink
from relay.config import RelayConfig
from relay.server import serve_relay
from tests.relay.test_ops_server import self_signed


async def test_an_untrusted_relay_certificate_is_named_with_the_way_to_trust_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    cert, key = self_signed(tmp_path)
    relay = await serve_relay(RelayConfig(host="127.0.0.1", port=0, tls_cert=str(cert), tls_key=str(key)))
    try:
        link = RelayLink(relay.url, "agent", reconnect_for=0)
        with pytest.raises(RelayUnavailable) as refused:
            await asyncio.wait_for(link.open(), 10)
        message = str(refused.value)
        assert message.startswith(f"the relay at {relay.url} presented a TLS certificate this machine does not trust")
        assert "SSL_CERT_FILE" in message and "start one with" not in message
        await link.close()
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # what the message says works
        trusted = RelayLink(relay.url, "agent", reconnect_for=0)
        assert await asyncio.wait_for(trusted.open(), 10)
        await trusted.close()
    finally:
        relay.close()
        await asyncio.wait_for(relay.wait_closed(), 10)

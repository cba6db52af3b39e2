"""Fixtures shared by the suites that need a real relay on 127.0.0.1."""

from __future__ import annotations

import os
from pathlib import Path
from typing import AsyncIterator

import pytest

from relay.config import RelayConfig
from relay.server import RelayServer, serve_relay


# The WebRTC direct path is opt-in for the suites (tests/io/test_rtc.py and the voice tests
# turn it on): most suites check what crosses the relay. Peers on this machine pair over
# loopback only, never over the machine's other interfaces.
os.environ.setdefault("COBROWSE_DIRECT", "0")
os.environ.setdefault("COBROWSE_ICE_HOSTS", "127.0.0.1")


@pytest.fixture
async def relay() -> AsyncIterator[RelayServer]:
    """A real relay on a free loopback port, with a short grace period so timeouts are testable."""
    server = await serve_relay(RelayConfig(host="127.0.0.1", port=0, grace=3.0, unclaimed_ttl=30.0))
    try:
        yield server
    finally:
        server.close()
        await server.wait_closed()


@pytest.fixture
def relay_url(relay: RelayServer) -> str:
    return f"ws://127.0.0.1:{relay.port}"


@pytest.fixture(autouse=True)
def data_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test (and every cobrowse process it starts) keeps history, recordings and
    receipts in a fresh folder, never in the user's own data directory."""
    path = tmp_path_factory.mktemp("cobrowse-data")
    monkeypatch.setenv("COBROWSE_DATA_DIR", str(path))
    return path

from __future__ import annotations

import os
import sys
from typing import AsyncIterator

import pytest

sys.path.insert(0, os.path.dirname(__file__))

from relay.config import RelayConfig  # noqa: E402
from relay.server import RelayServer, serve_relay  # noqa: E402


@pytest.fixture
async def relay() -> AsyncIterator[RelayServer]:
    server = await serve_relay(RelayConfig(host="127.0.0.1", port=0, grace=3.0, unclaimed_ttl=30.0))
    try:
        yield server
    finally:
        server.close()
        await server.wait_closed()


@pytest.fixture
def relay_url(relay: RelayServer) -> str:
    return f"ws://127.0.0.1:{relay.port}"

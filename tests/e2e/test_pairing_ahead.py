"""The relay connection kept open while the code is typed (cobrowse/io/ahead.py), against a
real relay on 127.0.0.1: handed over once, only open, replaced before a relay's handshake
limit closes it, so a person who types slowly still pairs. Every wait bounded."""

from __future__ import annotations

import asyncio
from typing import AsyncIterator

import pytest

from cobrowse.io import ahead
from cobrowse.io.link import RelayLink
from relay.config import RelayConfig
from relay.server import RelayServer, serve_relay
from tests.e2e.harness import start_agent
from tests.e2e.pty_join import BASH, PROMPT, PtyProc, paired_then_ended

#: A relay that closes a socket which has not claimed within this (its default is 10 s).
SHORT_HANDSHAKE = 1.0


@pytest.fixture
async def impatient_relay() -> AsyncIterator[RelayServer]:
    server = await serve_relay(RelayConfig(host="127.0.0.1", port=0, handshake_timeout=SHORT_HANDSHAKE))
    try:
        yield server
    finally:
        server.close()
        await server.wait_closed()


async def test_the_kept_connection_is_handed_over_once_and_only_for_its_relay(relay_url: str) -> None:
    await ahead.keep(relay_url, RelayLink(relay_url, "customer").connection)
    assert ahead.take("ws://127.0.0.1:1") is None  # another relay: closed, not handed over
    await ahead.keep(relay_url, RelayLink(relay_url, "customer").connection)
    ws = ahead.take(relay_url)
    assert ws is not None and ws.state.name == "OPEN"
    assert ahead.take(relay_url) is None
    await ws.close()


async def test_a_closed_connection_is_not_handed_over(relay_url: str) -> None:
    kept = await ahead.keep(relay_url, RelayLink(relay_url, "customer").connection)
    kept._stop()  # no refresh: the connection as it is
    ws = kept._ws
    assert ws is not None
    await ws.close()
    assert ahead.take(relay_url) is None
    await ahead.forget()


async def test_the_connection_outlives_a_relays_handshake_limit(impatient_relay: RelayServer) -> None:
    url = f"ws://127.0.0.1:{impatient_relay.port}"
    kept = await ahead.keep(url, RelayLink(url, "customer").connection)
    try:
        await asyncio.sleep(SHORT_HANDSHAKE * 2.5)  # the first one was closed by the relay, and replaced
        assert kept.refresh < SHORT_HANDSHAKE
        ws = ahead.take(url)
        assert ws is not None and ws.state.name == "OPEN"
        await ws.close()
    finally:
        await ahead.forget()


async def test_a_slow_typist_pairs_through_an_impatient_relay(impatient_relay: RelayServer) -> None:
    url = f"ws://127.0.0.1:{impatient_relay.port}"
    agent = await start_agent(url)
    customer = await PtyProc.start("join", "--relay", url, "--command", BASH, "--plain")
    try:
        code = (await agent.event("code"))["code"]
        await customer.until(PROMPT)
        await asyncio.sleep(SHORT_HANDSHAKE * 2.5)
        await customer.type(code.encode() + b"\r")
        await paired_then_ended(agent, customer)
    finally:
        await agent.kill()
        await customer.close()

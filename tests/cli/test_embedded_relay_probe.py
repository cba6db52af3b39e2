"""`cobrowse agent` with no relay configured looks on 127.0.0.1:8765 first. Another program
on that port (here a plain HTTP server) was taken for a relay in silence: every session then
failed with "did not receive a valid HTTP response" (found in the QA pass). The probe asks
/healthz and the console says what is wrong at start. Real sockets on loopback."""

from __future__ import annotations

import asyncio
import socket
from typing import AsyncIterator

import pytest

from cobrowse.cli.commands import _listening, embedded_relay
from cobrowse.cli.config import ClientSettings
from relay.server import RelayServer


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def web_server() -> AsyncIterator[str]:
    """Some other local web server."""
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n\r\n<h1>It works</h1>")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    try:
        yield f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        server.close()
        await server.wait_closed()


async def test_the_probe_tells_a_relay_from_another_program(relay: RelayServer, web_server: str) -> None:
    assert await asyncio.to_thread(_listening, relay.url) is True
    assert await asyncio.to_thread(_listening, web_server) is False
    assert await asyncio.to_thread(_listening, f"ws://127.0.0.1:{closed_port()}") is None


async def test_another_program_on_the_port_is_said_at_start(web_server: str) -> None:
    said: list[str] = []
    settings = ClientSettings(web_server, False, None, "Alice")

    async def use() -> str:
        async with embedded_relay(settings, announce=said.append) as url:
            return url

    assert await asyncio.to_thread(lambda: asyncio.run(use())) == web_server
    assert len(said) == 1 and "not a cobrowse relay" in said[0] and web_server in said[0]


async def test_a_relay_on_the_port_is_used_without_a_word(relay: RelayServer) -> None:
    said: list[str] = []
    settings = ClientSettings(relay.url, False, None, "Alice")

    async def use() -> str:
        async with embedded_relay(settings, announce=said.append) as url:
            return url

    assert await asyncio.to_thread(lambda: asyncio.run(use())) == relay.url
    assert said == []

"""A real relay on 127.0.0.1 (ephemeral port) and real websockets clients."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any, AsyncIterator, Awaitable, Callable

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from cobrowse.wire.envelope import Claim, Close, Confirm, Message, Open, Ping, Resume, decode_relay
from relay.config import RelayConfig
from relay.server import RelayServer, address_key, serve_relay

T = 3.0  # every wait in this file is bounded by this


def without_grace(message: dict) -> dict:  # type: ignore[type-arg]
    """A control message without the informative ``grace`` of ``peer left``."""
    return {k: v for k, v in message.items() if k != "grace"}


@pytest.fixture
async def make_relay() -> AsyncIterator[Callable[..., Awaitable[RelayServer]]]:
    started: list[RelayServer] = []

    async def start(**overrides: Any) -> RelayServer:
        cfg = RelayConfig(**{"host": "127.0.0.1", "port": 0, "tick_interval": 0.05, **overrides})
        relay = await serve_relay(cfg)
        started.append(relay)
        return relay

    yield start
    for relay in started:
        relay.close()
        await asyncio.wait_for(relay.wait_closed(), T)


@pytest.fixture
async def relay(make_relay: Callable[..., Awaitable[RelayServer]]) -> RelayServer:
    return await make_relay()


async def client(relay: RelayServer) -> ClientConnection:
    return await asyncio.wait_for(connect(relay.url, compression=None, open_timeout=T), T)


async def send(ws: ClientConnection, msg: Message) -> None:
    await ws.send(msg.encode())


async def recv(ws: ClientConnection) -> dict[str, Any]:
    """The next control message, as a dict (checked against the relay->client schema)."""
    data = await asyncio.wait_for(ws.recv(), T)
    assert isinstance(data, str), f"expected a control message, got {data!r}"
    decode_relay(data)
    return json.loads(data)


async def recv_bytes(ws: ClientConnection) -> bytes:
    data = await asyncio.wait_for(ws.recv(), T)
    assert isinstance(data, bytes), f"expected a binary frame, got {data!r}"
    return data


async def closed_code(ws: ClientConnection) -> int | None:
    """Wait until the relay closes ``ws``; return the close code."""
    try:
        while True:
            extra = await asyncio.wait_for(ws.recv(), T)
            raise AssertionError(f"expected the socket to close, got {extra!r}")
    except ConnectionClosed as exc:
        return exc.rcvd.code if exc.rcvd else None


@dataclass
class Pair:
    agent: ClientConnection
    customer: ClientConnection
    nameplate: str
    agent_side: str
    customer_side: str


async def make_pair(relay: RelayServer) -> Pair:
    agent = await client(relay)
    await send(agent, Open("agent", 1))
    opened = await recv(agent)
    assert opened["type"] == "opened"
    customer = await client(relay)
    await send(customer, Claim("customer", 1, opened["nameplate"]))
    claimed = await recv(customer)
    assert claimed == {"type": "claimed", "nameplate": opened["nameplate"], "side": claimed["side"], "ice_servers": []}
    assert await recv(customer) == {"type": "peer", "state": "joined"}
    assert await recv(agent) == {"type": "peer", "state": "joined"}
    await send(agent, Confirm())  # the agent's client checked the customer's key confirmation
    return Pair(agent, customer, opened["nameplate"], opened["side"], claimed["side"])


async def assert_forwards(p: Pair) -> None:
    a, c = os.urandom(100), os.urandom(3000)
    await p.agent.send(a)
    await p.customer.send(c)
    assert await recv_bytes(p.customer) == a
    assert await recv_bytes(p.agent) == c


def http_get(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=T) as resp:
            return resp.status, resp.headers.get("Content-Type", ""), resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Content-Type", ""), exc.read()


# ---- HTTP ----


async def test_healthz_answers_json(relay: RelayServer) -> None:
    base = relay.url.replace("ws://", "http://")
    status, ctype, body = await asyncio.to_thread(http_get, base + "/healthz")
    assert status == 200 and ctype == "application/json"
    health = json.loads(body)
    assert health["status"] == "ok" and health["version"] == "0.1.0"
    assert health["sessions"] == 0 and health["uptime_s"] >= 0
    await make_pair(relay)
    _, _, body = await asyncio.to_thread(http_get, base + "/healthz")
    assert json.loads(body)["sessions"] == 1


async def test_unknown_http_paths_are_404(relay: RelayServer) -> None:
    base = relay.url.replace("ws://", "http://")
    status, _, _ = await asyncio.to_thread(http_get, base + "/nope")
    assert status == 404
    status, _, _ = await asyncio.to_thread(http_get, base + "/")
    assert status == 426


# ---- pairing and forwarding ----


async def test_pairing_and_binary_forwarding_both_ways(relay: RelayServer) -> None:
    p = await make_pair(relay)
    await assert_forwards(p)
    big = os.urandom(relay.config.max_frame_bytes)  # exactly at the limit still goes through
    await p.customer.send(big)
    assert await recv_bytes(p.agent) == big
    for i in range(50):
        await p.agent.send(bytes([i]) * 10)
    for i in range(50):
        assert await recv_bytes(p.customer) == bytes([i]) * 10


async def test_ping_pong(relay: RelayServer) -> None:
    ws = await client(relay)
    await send(ws, Ping())
    assert await recv(ws) == {"type": "pong"}


async def test_binary_before_pairing_is_not_in_session(relay: RelayServer) -> None:
    ws = await client(relay)
    await ws.send(b"too early")
    err = await recv(ws)
    assert err["type"] == "error" and err["code"] == "not_in_session"
    await send(ws, Open("agent", 1))  # the socket is still usable
    assert (await recv(ws))["type"] == "opened"
    await ws.send(b"still too early")
    assert (await recv(ws))["code"] == "not_in_session"


# ---- errors reach only the client at fault ----


async def expect_error(ws: ClientConnection, code: str, close_code: int = 1008) -> None:
    err = await recv(ws)
    assert err["type"] == "error" and err["code"] == code, err
    assert err["message"]
    assert await closed_code(ws) == close_code


async def test_each_error_hits_only_that_client_while_another_session_keeps_forwarding(
    make_relay: Callable[..., Awaitable[RelayServer]],
) -> None:
    relay = await make_relay(max_frame_bytes=4096)
    live = await make_pair(relay)
    await assert_forwards(live)

    ws = await client(relay)
    await send(ws, Claim("customer", 1, "98765"))
    await expect_error(ws, "unknown_nameplate")
    await assert_forwards(live)

    ended = await make_pair(relay)
    await send(ended.agent, Close())
    assert await closed_code(ended.agent) == 1000
    ws = await client(relay)
    await send(ws, Claim("customer", 1, ended.nameplate))
    await expect_error(ws, "expired")
    await assert_forwards(live)

    ws = await client(relay)
    await send(ws, Claim("customer", 1, live.nameplate))
    await expect_error(ws, "taken")
    await assert_forwards(live)

    ws = await client(relay)
    await send(ws, Open("agent", 2))
    await expect_error(ws, "bad_version")
    await assert_forwards(live)

    for garbage in ("not json", '{"type":"open"}', '{"type":"fly"}', "[1,2]"):
        ws = await client(relay)
        await ws.send(garbage)
        await expect_error(ws, "malformed")
    await assert_forwards(live)

    other = await make_pair(relay)
    await other.customer.send(b"x" * 5000)
    await expect_error(other.customer, "too_large", close_code=1009)
    assert without_grace(await recv(other.agent)) == {"type": "peer", "state": "left"}
    await assert_forwards(live)
    assert relay.rooms.session_count == 2  # ``other`` waits in grace


async def test_unauthorized_agent_when_tokens_are_configured(
    make_relay: Callable[..., Awaitable[RelayServer]],
) -> None:
    relay = await make_relay(agent_tokens=(hashlib.sha256(b"tok").hexdigest(),))
    ws = await client(relay)
    await send(ws, Open("agent", 1, token="nope"))
    await expect_error(ws, "unauthorized")
    ws = await client(relay)
    await send(ws, Open("agent", 1, token="tok"))
    assert (await recv(ws))["type"] == "opened"


async def test_guesses_are_rate_limited(make_relay: Callable[..., Awaitable[RelayServer]]) -> None:
    relay = await make_relay(rate_limit=3, rate_window=30.0)
    real = await client(relay)
    await send(real, Open("customer", 1))
    nameplate = (await recv(real))["nameplate"]
    for guess in ("11111", "22222", "33333"):
        ws = await client(relay)
        await send(ws, Claim("agent", 1, guess))
        await expect_error(ws, "unknown_nameplate")
    ws = await client(relay)
    await send(ws, Claim("agent", 1, nameplate))  # even the right one, from this address
    err = await recv(ws)
    assert err["code"] == "rate_limited" and "retry in" in err["message"]
    await closed_code(ws)


# ---- expiry, grace, resume, close ----


async def test_unclaimed_nameplate_expires(make_relay: Callable[..., Awaitable[RelayServer]]) -> None:
    relay = await make_relay(unclaimed_ttl=0.3)
    ws = await client(relay)
    await send(ws, Open("agent", 1))
    opened = await recv(ws)
    assert opened["ttl"] == 0.3
    closed = await recv(ws)
    assert closed["type"] == "closed" and closed["reason"] == "expired" and closed["message"]
    assert await closed_code(ws) == 1000
    late = await client(relay)
    await send(late, Claim("customer", 1, opened["nameplate"]))
    await expect_error(late, "expired")


async def test_drop_and_resume_within_grace(make_relay: Callable[..., Awaitable[RelayServer]]) -> None:
    relay = await make_relay(grace=5.0)
    p = await make_pair(relay)
    p.customer.transport.abort()  # the network goes away, no closing handshake
    assert without_grace(await recv(p.agent)) == {"type": "peer", "state": "left"}
    await p.agent.send(b"lost while away")  # dropped: clients retransmit end to end
    back = await client(relay)
    await send(back, Resume(p.nameplate, p.customer_side))
    assert await recv(back) == {"type": "resumed", "nameplate": p.nameplate, "peer": True, "ice_servers": []}
    assert await recv(p.agent) == {"type": "peer", "state": "back"}
    await assert_forwards(Pair(p.agent, back, p.nameplate, p.agent_side, p.customer_side))


async def test_resume_with_a_wrong_side_token_is_refused(relay: RelayServer) -> None:
    p = await make_pair(relay)
    await p.customer.close()
    assert without_grace(await recv(p.agent)) == {"type": "peer", "state": "left"}
    ws = await client(relay)
    await send(ws, Resume(p.nameplate, p.agent_side[::-1]))
    await expect_error(ws, "bad_resume")


async def test_grace_timeout_closes_the_other_side(make_relay: Callable[..., Awaitable[RelayServer]]) -> None:
    relay = await make_relay(grace=0.3)
    p = await make_pair(relay)
    await p.customer.close()
    assert without_grace(await recv(p.agent)) == {"type": "peer", "state": "left"}
    closed = await recv(p.agent)
    assert closed == {
        "type": "closed",
        "reason": "peer_timeout",
        "message": "the other side lost its connection and did not come back",
    }
    assert await closed_code(p.agent) == 1000
    assert relay.rooms.session_count == 0


async def test_close_propagates_to_the_other_side(relay: RelayServer) -> None:
    p = await make_pair(relay)
    await send(p.customer, Close("scared"))
    closed = await recv(p.agent)
    assert closed["reason"] == "scared" and "a security check failed" in closed["message"]
    assert await closed_code(p.agent) == 1000
    assert await closed_code(p.customer) == 1000
    p = await make_pair(relay)
    await send(p.agent, Close())
    assert await recv(p.customer) == {"type": "closed", "reason": "ended", "message": "the agent ended the session"}
    assert relay.rooms.session_count == 0


async def test_server_close_is_clean_with_live_sessions(make_relay: Callable[..., Awaitable[RelayServer]]) -> None:
    relay = await make_relay()
    p = await make_pair(relay)
    relay.close()
    await asyncio.wait_for(relay.wait_closed(), T)
    assert await closed_code(p.agent) == 1001


def test_address_key_groups_ipv6_by_64() -> None:
    assert address_key(("127.0.0.1", 5)) == "127.0.0.1"
    assert address_key(("2001:db8::1", 5, 0, 0)) == address_key(("2001:db8::ffff", 6, 0, 0)) == "2001:db8::/64"
    assert address_key(("::ffff:10.0.0.1", 5, 0, 0)) == "10.0.0.1"
    assert address_key(None) == ""

"""Operating one node, in process: a real relay on 127.0.0.1 and real websocket clients.

Agent tokens from the store (reloaded on change), the admin endpoint, /metrics, the audit
log, handshake and idle timeouts, the byte rate, slow consumers (the relay's buffers stay
bounded), X-Forwarded-For, TLS and the graceful shutdown. Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, AsyncIterator, Awaitable, Callable

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from cobrowse.errors import ConfigError
from cobrowse.wire.envelope import Claim, Confirm, Message, Open, Ping, decode_relay
from relay.config import RelayConfig
from relay.server import RelayServer, forwarded_for, serve_relay
from relay.tokens import TokenStore
from tests.waiting import until

T = 5.0
ADMIN = "cba_test-admin-token"
ADMIN_SHA = hashlib.sha256(ADMIN.encode()).hexdigest()


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


async def client(relay: RelayServer, **kwargs: Any) -> ClientConnection:
    return await asyncio.wait_for(connect(relay.url, compression=None, open_timeout=T, **kwargs), T)


async def send(ws: ClientConnection, msg: Message) -> None:
    await ws.send(msg.encode())


async def recv(ws: ClientConnection) -> dict[str, Any]:
    data = await asyncio.wait_for(ws.recv(), T)
    assert isinstance(data, str), f"expected a control message, got {len(data)} bytes"
    decode_relay(data)
    return json.loads(data)


async def closed_code(ws: ClientConnection) -> int | None:
    try:
        while True:
            extra = await asyncio.wait_for(ws.recv(), T)
            raise AssertionError(f"expected the socket to close, got {extra!r}")
    except ConnectionClosed as exc:
        return exc.rcvd.code if exc.rcvd else None


async def pair(relay: RelayServer, token: str | None = None, **kw: Any) -> tuple[ClientConnection, ClientConnection]:
    agent = await client(relay, **kw)
    await send(agent, Open("agent", 1, token=token))
    opened = await recv(agent)
    assert opened["type"] == "opened", opened
    customer = await client(relay, **kw)
    await send(customer, Claim("customer", 1, opened["nameplate"]))
    assert (await recv(customer))["type"] == "claimed"
    assert await recv(customer) == {"type": "peer", "state": "joined"}
    assert await recv(agent) == {"type": "peer", "state": "joined"}
    await send(agent, Confirm())
    return agent, customer


def http(url: str, method: str = "GET", token: str | None = None, context: ssl.SSLContext | None = None):
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    req = urllib.request.Request(url, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=T, context=context) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read()


# ---- agent tokens ----


async def test_store_tokens_reload_on_change_and_are_required_once_one_exists(
    make_relay: Callable[..., Awaitable[RelayServer]], tmp_path: Path
) -> None:
    store = TokenStore(tmp_path / "tokens.json")
    relay = await make_relay(token_store=str(store.path), admin_tokens=(ADMIN_SHA,))
    await pair(relay)  # no token anywhere: open, as for development
    token, _ = store.create("alice")
    await until(lambda: relay.rooms.tokens_required, "the token store reloaded", T)
    ws = await client(relay)
    await send(ws, Open("agent", 1))
    err = await recv(ws)
    assert err["code"] == "unauthorized" and "COBROWSE_TOKEN" in err["message"]
    assert await closed_code(ws) == 1008
    ws = await client(relay)
    await send(ws, Claim("agent", 1, "123", token="cbt_wrong"))
    assert (await recv(ws))["code"] == "unauthorized"
    await pair(relay, token)
    # the admin listing names the token (never shows it)
    _, _, body = await asyncio.to_thread(http, relay.http_url + "/admin/sessions", token=ADMIN)
    names = [s["agent_token"] for s in json.loads(body)["sessions"]]
    assert names == [None, "alice"] and token not in body.decode()
    store.revoke("alice")
    store.create("bob")
    await until(lambda: "alice" not in relay.rooms._token_names.values(), "the revoked token gone", T)
    ws = await client(relay)
    await send(ws, Open("agent", 1, token=token))
    assert (await recv(ws))["code"] == "unauthorized"


async def test_a_damaged_store_keeps_the_previous_tokens(
    make_relay: Callable[..., Awaitable[RelayServer]], tmp_path: Path
) -> None:
    store = TokenStore(tmp_path / "tokens.json")
    token, _ = store.create("alice")
    relay = await make_relay(token_store=str(store.path))
    store.path.write_text("{not json")
    await asyncio.sleep(0.3)
    await pair(relay, token)
    with pytest.raises(ConfigError, match="not valid JSON"):
        await serve_relay(RelayConfig(host="127.0.0.1", port=0, token_store=str(store.path)))


async def test_sessions_per_token_limit(make_relay: Callable[..., Awaitable[RelayServer]], tmp_path: Path) -> None:
    store = TokenStore(tmp_path / "tokens.json")
    token, _ = store.create("alice")
    relay = await make_relay(token_store=str(store.path), max_sessions_per_token=1)
    await pair(relay, token)
    ws = await client(relay)
    await send(ws, Open("agent", 1, token=token))
    assert (await recv(ws))["code"] == "over_quota"


# ---- admin endpoint ----


async def test_admin_endpoint_needs_the_admin_token_and_kills(make_relay: Callable[..., Awaitable[RelayServer]]) -> None:
    relay = await make_relay(admin_tokens=(ADMIN_SHA,))
    agent, customer = await pair(relay)
    base = relay.http_url
    for token in (None, "wrong", ADMIN + "x", ""):
        for method, path in (("GET", "/admin/sessions"), ("POST", "/admin/sessions/abc/kill"), ("GET", "/admin/x")):
            status, headers, body = await asyncio.to_thread(http, base + path, method, token)
            assert status == 401 and body == b"unauthorized\n", (token, path)
    status, headers, body = await asyncio.to_thread(http, base + "/admin/sessions", "GET", ADMIN)
    assert status == 200 and headers["Content-Type"] == "application/json"
    (row,) = json.loads(body)["sessions"]
    assert row["state"] == "paired" and row["sides"] == {"agent": "connected", "customer": "connected"}
    await agent.send(b"x" * 1000)
    assert await asyncio.wait_for(customer.recv(), T) == b"x" * 1000
    _, _, body = await asyncio.to_thread(http, base + "/admin/sessions", "GET", ADMIN)
    assert json.loads(body)["sessions"][0]["bytes"] == 1000
    status, _, _ = await asyncio.to_thread(http, base + f"/admin/sessions/{row['id']}/kill", "GET", ADMIN)
    assert status == 405
    status, _, body = await asyncio.to_thread(http, base + "/admin/sessions/nope/kill", "POST", ADMIN)
    assert status == 404
    status, _, body = await asyncio.to_thread(http, base + f"/admin/sessions/{row['id']}/kill", "POST", ADMIN)
    assert status == 200 and json.loads(body) == {"killed": row["id"]}
    for ws in (agent, customer):
        closed = await recv(ws)
        assert closed["type"] == "closed" and closed["reason"] == "killed"
        assert await closed_code(ws) == 1000
    assert relay.rooms.session_count == 0


async def test_admin_endpoint_refuses_everyone_without_admin_tokens(relay_default: RelayServer) -> None:
    status, _, body = await asyncio.to_thread(http, relay_default.http_url + "/admin/sessions", "GET", "anything")
    assert status == 401 and body == b"unauthorized\n"


@pytest.fixture
async def relay_default(make_relay: Callable[..., Awaitable[RelayServer]]) -> RelayServer:
    return await make_relay()


# ---- metrics and audit ----


async def test_metrics_count_sessions_frames_and_failures(make_relay: Callable[..., Awaitable[RelayServer]]) -> None:
    relay = await make_relay(rate_limit=2)
    agent, customer = await pair(relay)
    for _ in range(5):
        await agent.send(b"y" * 100)
    for _ in range(5):
        await asyncio.wait_for(customer.recv(), T)
    for guess in ("11111", "22222", "33333"):
        ws = await client(relay)
        await send(ws, Claim("customer", 1, guess))
        await recv(ws)
    status, headers, body = await asyncio.to_thread(http, relay.http_url + "/metrics")
    assert status == 200 and headers["Content-Type"].startswith("text/plain")
    text = body.decode()
    lines = set(text.splitlines())
    assert 'cobrowse_relay_sessions{state="paired"} 1.0' in lines
    assert "cobrowse_relay_frames_forwarded_total 5.0" in lines
    assert "cobrowse_relay_bytes_forwarded_total 500.0" in lines
    assert 'cobrowse_relay_refusals_total{code="unknown_nameplate"} 2.0' in lines
    assert 'cobrowse_relay_refusals_total{code="rate_limited"} 1.0' in lines
    assert 'cobrowse_relay_rate_limit_hits_total{limit="claims"} 1.0' in lines
    assert 'cobrowse_relay_control_seconds_count{type="claim"} 4.0' in lines
    assert 'cobrowse_relay_sessions_created_total{role="agent"} 1.0' in lines
    assert "cobrowse_relay_process_resident_memory_bytes" in text
    assert "cobrowse_relay_connections" in text


async def test_metrics_can_be_turned_off(make_relay: Callable[..., Awaitable[RelayServer]]) -> None:
    relay = await make_relay(metrics=False)
    status, _, _ = await asyncio.to_thread(http, relay.http_url + "/metrics")
    assert status == 404


async def test_audit_log_records_session_events_with_the_token_name_and_no_content(
    make_relay: Callable[..., Awaitable[RelayServer]], tmp_path: Path
) -> None:
    store = TokenStore(tmp_path / "tokens.json")
    token, _ = store.create("alice")
    audit = tmp_path / "audit.jsonl"
    relay = await make_relay(token_store=str(store.path), audit_log=str(audit), admin_tokens=(ADMIN_SHA,))
    agent, customer = await pair(relay, token)
    canary = b"CANARY-" + os.urandom(8).hex().encode()
    await agent.send(canary)
    assert await asyncio.wait_for(customer.recv(), T) == canary
    session_id = relay.rooms.snapshot(0)[0]["id"]
    await asyncio.to_thread(http, relay.http_url + f"/admin/sessions/{session_id}/kill", "POST", ADMIN)
    assert (await recv(agent))["reason"] == "killed"
    await closed_code(agent)
    relay.close()
    await relay.wait_closed()
    text = audit.read_text()
    records = [json.loads(line) for line in text.splitlines()]
    assert [r["event"] for r in records] == ["created", "paired", "confirmed", "killed", "ended"]
    assert {r["session"] for r in records} == {session_id}
    assert all(r["agent_token"] == "alice" for r in records)
    assert records[-1]["reason"] == "killed" and records[-1]["bytes"] == len(canary)
    assert records[0]["ts"].endswith("Z") and records[0]["address"] == "127.0.0.1"
    assert canary.decode() not in text and token not in text


# ---- timeouts ----


async def test_handshake_timeout_closes_silent_and_ping_only_sockets(
    make_relay: Callable[..., Awaitable[RelayServer]],
) -> None:
    relay = await make_relay(handshake_timeout=0.3)
    silent = await client(relay)
    pinger = await client(relay)
    t0 = time.monotonic()
    for _ in range(3):
        await send(pinger, Ping())
        assert await recv(pinger) == {"type": "pong"}
        await asyncio.sleep(0.05)
    for ws in (silent, pinger):
        err = await recv(ws)
        assert err["type"] == "error" and err["code"] == "handshake_timeout" and "0.3 s" in err["message"]
        assert await closed_code(ws) == 1008
    assert 0.25 < time.monotonic() - t0 < 2.0
    agent, customer = await pair(relay)  # a real session is not touched
    await asyncio.sleep(0.5)
    await agent.send(b"still here")
    assert await asyncio.wait_for(customer.recv(), T) == b"still here"


async def test_idle_paired_sessions_are_closed(make_relay: Callable[..., Awaitable[RelayServer]]) -> None:
    relay = await make_relay(idle_timeout=0.4)
    agent, customer = await pair(relay)
    busy_a, busy_c = await pair(relay)
    t0 = time.monotonic()

    async def keep_busy() -> None:
        while time.monotonic() - t0 < 1.0:
            await busy_a.send(b".")
            await asyncio.wait_for(busy_c.recv(), T)
            await asyncio.sleep(0.05)

    busy = asyncio.create_task(keep_busy())
    for ws in (agent, customer):
        closed = await recv(ws)
        assert closed["type"] == "closed" and closed["reason"] == "idle"
    assert 0.35 < time.monotonic() - t0 < 2.0
    await asyncio.wait_for(busy, T)
    assert relay.rooms.state_counts()["paired"] == 1


# ---- byte rate and slow consumers ----


async def test_byte_rate_back_pressure_delivers_everything_at_the_rate(
    make_relay: Callable[..., Awaitable[RelayServer]],
) -> None:
    rate = 400_000
    relay = await make_relay(max_bytes_per_s=rate, max_frame_bytes=8192)
    agent, customer = await pair(relay)
    frames = [os.urandom(8192) for _ in range(100)]  # 819,200 bytes: about 1 s over the burst
    t0 = time.monotonic()

    async def sender() -> None:
        for f in frames:
            await agent.send(f)

    task = asyncio.create_task(sender())
    peak = 0
    for f in frames:
        assert await asyncio.wait_for(customer.recv(), T) == f
        peak = max(peak, relay.buffered_bytes())
    elapsed = time.monotonic() - t0
    await asyncio.wait_for(task, T)
    expected = (len(frames) * 8192 - rate) / rate
    assert elapsed >= expected * 0.85, elapsed
    assert peak <= relay.config.send_buffer_bytes + 8192 + 1024
    _, _, body = await asyncio.to_thread(http, relay.http_url + "/metrics")
    hits = [ln for ln in body.decode().splitlines() if ln.startswith('cobrowse_relay_rate_limit_hits_total{limit="bytes"}')]
    assert hits and float(hits[0].split()[-1]) > 0


async def test_slow_consumer_gets_back_pressure_then_a_clear_close_and_buffers_stay_bounded(
    make_relay: Callable[..., Awaitable[RelayServer]],
) -> None:
    bound = 32 * 1024
    relay = await make_relay(send_buffer_bytes=bound, slow_consumer_timeout=0.5, grace=30.0)
    agent = await client(relay)
    await send(agent, Open("agent", 1))
    nameplate = (await recv(agent))["nameplate"]
    # the slow customer reads nothing once paired; its client queue holds one frame at most
    customer = await asyncio.wait_for(connect(relay.url, compression=None, max_queue=1), T)
    await send(customer, Claim("customer", 1, nameplate))
    assert (await recv(customer))["type"] == "claimed"
    assert await recv(customer) == {"type": "peer", "state": "joined"}
    assert await recv(agent) == {"type": "peer", "state": "joined"}
    await send(agent, Confirm())
    frame = os.urandom(64 * 1024)
    sent = 0
    peak = 0
    stop = asyncio.Event()

    async def flood() -> None:
        nonlocal sent
        while not stop.is_set() and sent < 400 * 1024 * 1024:
            await agent.send(frame)
            sent += len(frame)

    async def watch() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, relay.buffered_bytes())
            await asyncio.sleep(0.005)

    tasks = [asyncio.create_task(flood()), asyncio.create_task(watch())]
    # the agent is told its peer left once the relay gave up on the customer
    left = None
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        msg = await asyncio.wait_for(agent.recv(), T)
        if isinstance(msg, str):
            left = json.loads(msg)
            break
    stop.set()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    assert {k: v for k, v in left.items() if k != "grace"} == {"type": "peer", "state": "left"}
    assert sent > 2 * 1024 * 1024  # far more than the relay may hold for the customer ...
    assert peak <= bound + len(frame) + 4096, peak  # ... which it never exceeded
    # the customer, reading at last, finds what was buffered, then the reason, then the close
    error = None
    try:
        while True:
            msg = await asyncio.wait_for(customer.recv(), T)
            if isinstance(msg, str):
                error = json.loads(msg)
                break
    except ConnectionClosed:
        pass
    assert error is not None and error["type"] == "error" and error["code"] == "slow_consumer"
    assert await closed_code(customer) == 1008
    assert relay.rooms.state_counts()["grace"] == 1  # it may resume
    await until(lambda: relay.buffered_bytes() < 4096, "the relay's buffers drained", T)


# ---- proxies ----


def test_forwarded_for_takes_the_last_hop() -> None:
    assert forwarded_for(["203.0.113.9, 10.0.0.2"]) == "10.0.0.2"
    assert forwarded_for(["203.0.113.9", "198.51.100.7"]) == "198.51.100.7"
    assert forwarded_for(["[2001:db8::1]:443"]) == "2001:db8::1"
    assert forwarded_for(["192.0.2.1:5555"]) == "192.0.2.1"
    assert forwarded_for(["unknown"]) is None and forwarded_for([]) is None


@pytest.mark.parametrize("trust", [True, False])
async def test_x_forwarded_for_counts_only_behind_a_trusted_proxy(
    make_relay: Callable[..., Awaitable[RelayServer]], trust: bool
) -> None:
    relay = await make_relay(rate_limit=2, trust_proxy=trust)
    for guess in ("11111", "22222"):
        ws = await client(relay, additional_headers={"X-Forwarded-For": "6.6.6.6, 203.0.113.5"})
        await send(ws, Claim("customer", 1, guess))
        assert (await recv(ws))["code"] == "unknown_nameplate"
    ws = await client(relay, additional_headers={"X-Forwarded-For": "203.0.113.5"})
    await send(ws, Claim("customer", 1, "33333"))
    assert (await recv(ws))["code"] == "rate_limited"
    other = await client(relay, additional_headers={"X-Forwarded-For": "198.51.100.1"})
    await send(other, Claim("customer", 1, "44444"))
    assert (await recv(other))["code"] == ("unknown_nameplate" if trust else "rate_limited")


# ---- TLS ----


def self_signed(tmp: Path) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    cert, key = tmp / "cert.pem", tmp / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True, timeout=30,
    )
    return cert, key


async def test_tls_serves_wss_and_https(make_relay: Callable[..., Awaitable[RelayServer]], tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    relay = await make_relay(tls_cert=str(cert), tls_key=str(key))
    assert relay.url.startswith("wss://127.0.0.1:")
    ctx = ssl.create_default_context(cafile=str(cert))
    agent, customer = await pair(relay, ssl=ctx)
    await customer.send(b"sealed bytes")
    assert await asyncio.wait_for(agent.recv(), T) == b"sealed bytes"
    status, _, body = await asyncio.to_thread(http, relay.http_url + "/healthz", context=ctx)
    assert relay.http_url.startswith("https://") and status == 200 and json.loads(body)["sessions"] == 1
    with pytest.raises(Exception):  # a plain client gets nowhere
        await asyncio.wait_for(connect(relay.url.replace("wss", "ws", 1), open_timeout=2), T)


async def test_tls_with_unusable_files_is_a_config_error(tmp_path: Path) -> None:
    missing = RelayConfig(host="127.0.0.1", port=0, tls_cert=str(tmp_path / "no.pem"), tls_key=str(tmp_path / "no.key"))
    with pytest.raises(ConfigError, match="cannot read the TLS certificate .*no.pem.: No such file"):
        await serve_relay(missing)
    with pytest.raises(ConfigError, match="tls_cert and tls_key go together"):
        RelayConfig(tls_cert="/x.pem")


# ---- graceful shutdown ----


async def test_shutdown_tells_clients_and_drains(make_relay: Callable[..., Awaitable[RelayServer]]) -> None:
    relay = await make_relay()
    agent, customer = await pair(relay)
    waiting = await client(relay)
    await send(waiting, Open("customer", 1))
    await recv(waiting)
    t0 = time.monotonic()
    task = asyncio.create_task(relay.shutdown(drain=2.0))
    for ws in (agent, customer, waiting):
        closed = await recv(ws)
        assert closed["type"] == "closed" and closed["reason"] == "shutdown"
        assert await closed_code(ws) == 1001
    await asyncio.wait_for(task, T)
    assert time.monotonic() - t0 < 2.0
    with pytest.raises(OSError):
        await asyncio.wait_for(connect(relay.url, open_timeout=1), T)


async def test_shutdown_cuts_clients_that_do_not_answer_after_the_drain_time(
    make_relay: Callable[..., Awaitable[RelayServer]],
) -> None:
    relay = await make_relay()
    agent, customer = await pair(relay)
    customer.transport.pause_reading()  # a client that never answers the close
    agent.transport.pause_reading()
    t0 = time.monotonic()
    await asyncio.wait_for(relay.shutdown(drain=0.5), T)
    assert 0.4 < time.monotonic() - t0 < 3.0
    assert relay.rooms.connection_count == 0

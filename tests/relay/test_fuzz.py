"""Fuzz the relay's outer protocol against a real relay (hypothesis; bounded examples and time).

The relay runs in its own thread and event loop for the whole module; the fuzzing clients
are synchronous websockets clients. A healthy paired session, set up first, must keep
forwarding binary frames both ways after every example, and the relay must never log an
error (an unhandled exception in a handler) nor its event loop report one. Each bad client
must be answered with an ``error`` (then closed) or, when the random frame happened to be a
valid request, with a valid answer.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import threading
import time
from typing import Any, Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from cobrowse.wire.envelope import MAX_CONTROL_BYTES, Claim, Open, Ping, decode_client, decode_relay
from cobrowse.wire.envelope import MalformedMessage
from relay.config import RelayConfig
from relay.server import FRAME_SLACK, serve_relay

T = 5.0  # any single wait
MAX_FRAME = 64 * 1024
FUZZ = settings(
    max_examples=60, deadline=None, derandomize=False, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                           HealthCheck.data_too_large],
)


class Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(f"{record.name}: {record.getMessage()}")


class RelayThread:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.loop_errors: list[str] = []
        self.loop.set_exception_handler(lambda loop, ctx: self.loop_errors.append(str(ctx.get("message"))))
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        cfg = RelayConfig(host="127.0.0.1", port=0, tick_interval=0.05, max_frame_bytes=MAX_FRAME,
                          handshake_timeout=1.0, rate_limit=1_000_000)
        self.relay = asyncio.run_coroutine_threadsafe(serve_relay(cfg), self.loop).result(T)
        self.url = self.relay.url

    def call(self, fn: Any) -> Any:
        async def run() -> Any:
            return fn()
        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(T)

    def stop(self) -> None:
        async def close() -> None:
            self.relay.close()
            await asyncio.wait_for(self.relay.wait_closed(), T)
        asyncio.run_coroutine_threadsafe(close(), self.loop).result(T + 1)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(T)


def client(url: str) -> ClientConnection:
    ws = connect(url, compression=None, open_timeout=T, close_timeout=1, max_size=None)
    return ws.__enter__()  # the context manager protocol without a with block (no warning)


def control(ws: ClientConnection) -> dict:
    data = ws.recv(T)
    assert isinstance(data, str), f"expected a control message, got {len(data)} bytes"
    decode_relay(data)  # every answer follows the relay->client schema
    return json.loads(data)


def pair(url: str) -> tuple[ClientConnection, ClientConnection]:
    a = client(url)
    a.send(Open("agent", 1).encode())
    opened = control(a)
    assert opened["type"] == "opened", opened
    b = client(url)
    b.send(Claim("customer", 1, opened["nameplate"]).encode())
    assert sorted(control(b)["type"] for _ in range(2)) == ["claimed", "peer"]
    assert control(a)["type"] == "peer"
    return a, b


class Healthy:
    """A paired session that must keep forwarding, checked after every example."""

    def __init__(self, url: str) -> None:
        self.a, self.b = pair(url)
        self.n = 0

    def check(self) -> None:
        for src, dst in ((self.a, self.b), (self.b, self.a)):
            frame = self.n.to_bytes(8, "big") + os.urandom(1041)
            src.send(frame)
            assert dst.recv(T) == frame, "the healthy session stopped forwarding"
            self.n += 1


@pytest.fixture(scope="module")
def world() -> Iterator[tuple[RelayThread, Healthy, Errors]]:
    errors = Errors()
    logging.getLogger("relay").addHandler(errors)
    relay = RelayThread()
    healthy = Healthy(relay.url)
    try:
        yield relay, healthy, errors
    finally:
        healthy.a.close()
        healthy.b.close()
        relay.stop()
        logging.getLogger("relay").removeHandler(errors)


def after_example(world: tuple[RelayThread, Healthy, Errors]) -> None:
    relay, healthy, errors = world
    assert relay.thread.is_alive(), "the relay's event loop died"
    assert not errors.records, errors.records[:3]
    assert not relay.loop_errors, relay.loop_errors[:3]
    healthy.check()


def answers(ws: ClientConnection) -> tuple[list[dict], int | None]:
    """Every control message until the relay closes ``ws`` or goes quiet (after a ping)."""
    got: list[dict] = []
    try:
        ws.send(Ping().encode())
    except ConnectionClosed:
        pass  # already closed: read what it said before
    deadline = time.monotonic() + T
    try:
        while time.monotonic() < deadline:
            data = ws.recv(T)
            if isinstance(data, bytes):
                continue
            msg = control_text(data)
            got.append(msg)
            if msg["type"] == "pong":
                return got, None
        raise AssertionError(f"no pong and no close within {T} s: {got}")
    except ConnectionClosed as exc:
        return got, exc.rcvd.code if exc.rcvd is not None else None


def control_text(data: str) -> dict:
    decode_relay(data)
    return json.loads(data)


# ---- random text frames ----

json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10**60), max_value=10**60),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=40),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
types = st.sampled_from(["open", "claim", "resume", "close", "ping", "opened", "error", "", "OPEN", "x" * 50])
fields = st.dictionaries(
    st.sampled_from(["role", "version", "nameplate", "token", "side", "reason", "extra"]),
    json_values | st.sampled_from(["agent", "customer", 1, 10**30, "1-abc", "x" * 3000]), max_size=5,
)


@st.composite
def text_frames(draw: st.DrawFn) -> str:
    kind = draw(st.integers(0, 6))
    if kind == 0:  # a message of a known or unknown type with random fields
        return json.dumps({"type": draw(types), **draw(fields)})
    if kind == 1:  # any JSON at all
        return json.dumps(draw(json_values))
    if kind == 2:  # not JSON
        return draw(st.text(max_size=200))
    if kind == 3:  # nested deeply
        depth = draw(st.integers(50, 100_000))
        return "[" * depth + "]" * draw(st.sampled_from([0, depth]))
    if kind == 4:  # huge numbers
        digits = draw(st.integers(20, 5000))
        return '{"type":"open","role":"agent","version":' + "9" * digits + "}"
    if kind == 5:  # huge strings, up to and past the frame limit
        size = draw(st.sampled_from([MAX_CONTROL_BYTES + 1, 50_000, MAX_FRAME, MAX_FRAME + 1,
                                     MAX_FRAME + FRAME_SLACK + 1]))
        return '{"type":"ping","x":"' + "x" * size + '"}'
    return json.dumps(draw(json_values))[:100] + draw(st.text(max_size=20))  # cut short


@FUZZ
@given(frame=text_frames())
def test_random_text_frames(world: tuple[RelayThread, Healthy, Errors], frame: str) -> None:
    relay, _, _ = world
    try:
        decode_client(frame)
        bad = False
    except MalformedMessage:
        bad = True
    with client(relay.url) as ws:
        try:
            ws.send(frame)
        except ConnectionClosed:
            pass
        got, code = answers(ws)
    if bad:
        if len(frame.encode()) > MAX_FRAME + FRAME_SLACK:
            assert code == 1009, (code, got)  # websockets cuts it before buffering
        else:
            assert got and got[0]["type"] == "error", got
            assert got[0]["code"] in ("malformed", "too_large"), got
            assert code is not None, "a malformed message must close the socket"
    after_example(world)


@FUZZ
@given(garbage=st.lists(st.binary(max_size=2048) | st.sampled_from([b"", b"\x00" * (MAX_FRAME + 1)]),
                        min_size=1, max_size=4))
def test_binary_garbage_before_pairing(world: tuple[RelayThread, Healthy, Errors], garbage: list[bytes]) -> None:
    relay, _, _ = world
    with client(relay.url) as ws:
        got: list[dict] = []
        code = None
        try:
            for blob in garbage:
                ws.send(blob)
            got, code = answers(ws)
        except ConnectionClosed as exc:
            code = exc.rcvd.code if exc.rcvd is not None else None
    too_big = any(len(b) > MAX_FRAME for b in garbage)
    if too_big:
        assert code == 1009 or any(m.get("code") == "too_large" for m in got), (code, got)
    else:
        errors = [m for m in got if m["type"] == "error"]
        assert len(errors) == len(garbage) and all(m["code"] == "not_in_session" for m in errors), got
        assert got[-1]["type"] == "pong"
    after_example(world)


# ---- slow senders ----


def raw_socket(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=T)
    sock.settimeout(T)
    return sock


def masked(opcode: int, payload: bytes) -> bytes:
    """One client->server websocket frame (FIN set, masked, as the RFC requires)."""
    mask = os.urandom(4)
    n = len(payload)
    head = bytes([0x80 | opcode])
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + n.to_bytes(2, "big")
    else:
        head += bytes([0x80 | 127]) + n.to_bytes(8, "big")
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


UPGRADE = (
    "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
).encode()


def read_until_eof(sock: socket.socket, limit: float) -> bytes:
    sock.settimeout(0.2)
    got = b""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            continue
        except ConnectionResetError:
            return got
        if not chunk:
            return got
        got += chunk
    raise AssertionError(f"the relay kept the connection open for {limit} s: {got[:200]!r}")


def test_slow_senders(world: tuple[RelayThread, Healthy, Errors]) -> None:
    relay, healthy, _ = world
    port = relay.relay.port
    # 1) sockets that trickle the HTTP upgrade and stop half way
    half_http = [raw_socket(port) for _ in range(10)]
    # 2) websockets that connect and never open/claim/resume
    silent = [client(relay.url) for _ in range(10)]
    # 3) a websocket that opens a session, then sends a binary frame a byte at a time
    trickler = raw_socket(port)
    trickler.sendall(UPGRADE)
    head = b""
    while b"\r\n\r\n" not in head:
        head += trickler.recv(4096)
    assert head.startswith(b"HTTP/1.1 101"), head
    trickler.sendall(masked(1, Open("agent", 1).encode().encode()))
    frame = masked(2, os.urandom(3000))
    t0 = time.monotonic()
    for i in range(40):
        for sock in half_http:
            sock.sendall(UPGRADE[i:i + 1])
        trickler.sendall(frame[i * 2:i * 2 + 2])
        healthy.check()  # the healthy session forwards throughout
        time.sleep(0.02)
    # the silent websockets are closed for handshake_timeout (1 s here), with an error first
    for ws in silent:
        msg = control(ws)
        assert msg["type"] == "error" and msg["code"] == "handshake_timeout", msg
        with pytest.raises(ConnectionClosed):
            ws.recv(T)
    # the trickled frame, once complete, is handled: nobody joined yet, so not_in_session
    trickler.sendall(frame[80:])
    data = b""
    deadline = time.monotonic() + T
    while b"not_in_session" not in data and time.monotonic() < deadline:
        data += trickler.recv(4096)
    assert b"opened" in data and b"not_in_session" in data, data[:300]
    healthy.check()
    after_example(world)
    trickler.close()
    # the half-finished HTTP upgrades are cut by websockets' open_timeout (10 s)
    for sock in half_http:
        read_until_eof(sock, max(0.5, 12 - (time.monotonic() - t0)))
        sock.close()
    after_example(world)

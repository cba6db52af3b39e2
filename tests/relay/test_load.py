"""Load: many concurrent paired sessions on one in-process relay, frames both ways.

Every session's two sides send sealed-size binary frames (1,049 bytes: a 1 KiB payload plus
the 25 bytes of sealing overhead) to each other for a fixed time. Each frame carries its
session number and a sequence number, so the receiver checks that every frame sent arrived,
in order, on the right session. No control message may arrive while the frames flow (no
``error``, no ``peer``). The whole thing runs twice; the relay's sessions and connections
must be gone after each round and the process's resident memory (VmRSS) may grow only a
little between the end of the first round and the end of the second (memory flat).

Settings (environment variables):

    COBROWSE_LOAD_SESSIONS   paired sessions per round (default 200 to keep CI fast; the
                             figure in issue 7 is 1000)
    COBROWSE_LOAD_SECONDS    how long each round's frames flow (default 3)
    COBROWSE_LOAD_INTERVAL   seconds between one side's frames (default 0.05)
    COBROWSE_LOAD_ROUNDS     rounds (default 2; memory is compared between the first and last)

Issue 7's figure::

    COBROWSE_LOAD_SESSIONS=1000 pytest tests/relay/test_load.py -q

Soak variant (hours of traffic; the per-test timeout must be lifted)::

    COBROWSE_LOAD_SESSIONS=1000 COBROWSE_LOAD_SECONDS=3600 COBROWSE_LOAD_ROUNDS=4 \\
        pytest tests/relay/test_load.py -q -p no:timeout -s

Every wait is bounded; the test reports frames and RSS on stdout (shown with ``-s``).
"""

from __future__ import annotations

import asyncio
import json
import os
import struct
import time
from pathlib import Path

import pytest
from websockets.asyncio.client import ClientConnection, connect

from cobrowse.wire.envelope import Claim, Close, Open, decode_relay
from relay.config import RelayConfig
from relay.server import RelayServer, serve_relay

SESSIONS = int(os.environ.get("COBROWSE_LOAD_SESSIONS", "200"))
SECONDS = float(os.environ.get("COBROWSE_LOAD_SECONDS", "3"))
INTERVAL = float(os.environ.get("COBROWSE_LOAD_INTERVAL", "0.05"))
ROUNDS = max(2, int(os.environ.get("COBROWSE_LOAD_ROUNDS", "2")))
FRAME = 1024 + 9 + 16  # what Sealer makes of a 1 KiB payload
HEADER = struct.Struct(">IIQ")  # session, direction, sequence
T = 10.0  # any single wait
CONNECT_AT_ONCE = 50  # below the listen backlog
RSS_GROWTH_MB = 30 + SESSIONS * 0.02  # allowed growth between the first and last round


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0  # pragma: no cover - not Linux


async def recv_control(ws: ClientConnection) -> dict:
    data = await asyncio.wait_for(ws.recv(), T)
    assert isinstance(data, str), f"expected a control message, got {len(data)} bytes"
    decode_relay(data)
    return json.loads(data)


async def pair(relay: RelayServer, gate: asyncio.Semaphore) -> tuple[ClientConnection, ClientConnection]:
    async with gate:
        a = await asyncio.wait_for(connect(relay.url, compression=None, open_timeout=T), T)
        await a.send(Open("agent", 1).encode())
        opened = await recv_control(a)
        assert opened["type"] == "opened", opened
        b = await asyncio.wait_for(connect(relay.url, compression=None, open_timeout=T), T)
        await b.send(Claim("customer", 1, opened["nameplate"]).encode())
        got_b = [(await recv_control(b))["type"] for _ in range(2)]
        got_a = (await recv_control(a))["type"]
        assert sorted(got_b) == ["claimed", "peer"] and got_a == "peer", (got_a, got_b)
        return a, b


class Side:
    """One direction of one session: what was sent, what arrived, what went wrong."""

    def __init__(self, session: int, direction: int) -> None:
        self.session, self.direction = session, direction
        self.sent = 0
        self.received = 0
        self.errors: list[str] = []


async def sender(ws: ClientConnection, side: Side, stop: asyncio.Event, filler: bytes) -> None:
    send = ws.send
    while not stop.is_set():
        await asyncio.wait_for(send(HEADER.pack(side.session, side.direction, side.sent) + filler), T)
        side.sent += 1
        try:
            await asyncio.wait_for(stop.wait(), INTERVAL)
        except TimeoutError:
            pass


async def receiver(ws: ClientConnection, side: Side, stop: asyncio.Event) -> None:
    """Take frames until the sender has stopped and everything it sent arrived."""
    last = time.monotonic()
    while not (stop.is_set() and side.received >= side.sent_by_peer()):  # type: ignore[attr-defined]
        try:
            data = await asyncio.wait_for(ws.recv(), 0.1)
        except TimeoutError:
            if time.monotonic() - last > T:
                raise AssertionError(f"no frame for {T:g} s on {side.session}/{side.direction}") from None
            continue  # short polls, so the end of the round is noticed at once
        last = time.monotonic()
        if isinstance(data, str):
            side.errors.append(f"control message during traffic: {data[:200]}")
            continue
        if len(data) != FRAME:
            side.errors.append(f"frame of {len(data)} bytes")
            continue
        session, direction, seq = HEADER.unpack_from(data)
        if (session, direction) != (side.session, side.direction):
            side.errors.append(f"frame of session {session}/{direction} on {side.session}/{side.direction}")
        elif seq != side.received:
            side.errors.append(f"frame {seq} arrived, expected {side.received}")
            side.received = seq + 1
        else:
            side.received += 1


async def run_round(relay: RelayServer, n: int) -> dict:
    gate = asyncio.Semaphore(CONNECT_AT_ONCE)
    t0 = time.monotonic()
    pairs = await asyncio.wait_for(asyncio.gather(*(pair(relay, gate) for _ in range(n))), 60 + n * 0.2)
    paired_s = time.monotonic() - t0
    assert relay.rooms.connection_count == 2 * n
    filler = os.urandom(FRAME - HEADER.size)
    stop = asyncio.Event()
    senders_done = asyncio.Event()
    tasks: list[asyncio.Task[None]] = []
    senders: list[asyncio.Task[None]] = []
    sides: list[tuple[Side, Side]] = []
    for i, (a, b) in enumerate(pairs):
        a_to_b, b_to_a = Side(i, 0), Side(i, 1)
        # the receiving end of a direction knows how many frames its sender sent
        a_to_b.sent_by_peer = lambda s=a_to_b: s.sent  # type: ignore[attr-defined]
        b_to_a.sent_by_peer = lambda s=b_to_a: s.sent  # type: ignore[attr-defined]
        sides.append((a_to_b, b_to_a))
        senders += [
            asyncio.create_task(sender(a, a_to_b, stop, filler)),
            asyncio.create_task(sender(b, b_to_a, stop, filler)),
        ]
        tasks += [
            asyncio.create_task(receiver(b, a_to_b, senders_done)),
            asyncio.create_task(receiver(a, b_to_a, senders_done)),
        ]
    await asyncio.sleep(SECONDS)
    stop.set()
    # receivers drain only once every sender has finished, so the counts they wait for are final
    done, pending = await asyncio.wait(senders, timeout=T + n * 0.02)
    senders_done.set()
    tasks += senders
    done, pending = await asyncio.wait(tasks, timeout=30 + n * 0.05)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    failures = [t.exception() for t in done if t.exception() is not None]
    assert not failures, f"{len(failures)} client task(s) failed, first: {failures[0]!r}"
    assert not pending, f"{len(pending)} client task(s) still waiting for frames after the drain time"
    all_sides = [s for pair_sides in sides for s in pair_sides]
    errors = [e for s in all_sides for e in s.errors]
    assert not errors, f"{len(errors)} error(s), first: {errors[:5]}"
    lost = [(s.session, s.direction, s.sent, s.received) for s in all_sides if s.received != s.sent]
    assert not lost, f"frames lost (session, direction, sent, received): {lost[:10]}"
    # end every session properly and check the relay forgot the connections
    for a, b in pairs:
        await a.send(Close("ended").encode())
    for a, b in pairs:
        closed = await recv_control(b)
        assert closed["type"] == "closed", closed
    await asyncio.wait_for(asyncio.gather(*(ws.close() for ab in pairs for ws in ab)), T + n * 0.05)
    deadline = time.monotonic() + T
    while relay.rooms.connection_count and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert relay.rooms.connection_count == 0
    assert relay.rooms.session_count == 0
    return {
        "sessions": n,
        "paired_s": round(paired_s, 2),
        "frames": sum(s.sent for s in all_sides),
        "frames_per_s": round(sum(s.sent for s in all_sides) / SECONDS),
    }


@pytest.mark.timeout(max(120, 60 + SESSIONS * 0.3 + ROUNDS * (SECONDS + 40)))
async def test_many_paired_sessions_lose_nothing_and_memory_stays_flat() -> None:
    # every client is 127.0.0.1 here: one address, lifted to the load's size (docs/relay.md, admission)
    one_address = {"connections_per_address": 4 * SESSIONS + 64, "unpaired_per_address": SESSIONS + 16,
                   "open_burst": SESSIONS + 16, "open_rate": float(SESSIONS)}
    relay = await serve_relay(RelayConfig(host="127.0.0.1", port=0, tick_interval=0.2, **one_address))
    try:
        rss: list[float] = []
        for r in range(ROUNDS):
            stats = await run_round(relay, SESSIONS)
            rss.append(rss_mb())
            print(f"[load] round {r + 1}/{ROUNDS}: {stats}, rss {rss[-1]:.1f} MB", flush=True)
        growth = rss[-1] - rss[0]
        assert growth < RSS_GROWTH_MB, f"RSS grew {growth:.1f} MB between rounds ({rss})"
        assert relay.rooms.connection_count == 0
    finally:
        relay.close()
        await asyncio.wait_for(relay.wait_closed(), T)

"""One client connection on the relay, from accept to close: the handshake (open, claim or
resume within ``handshake_timeout``), the limits before anything is allocated, then the
forward loop. Binary frames, the hot path, never reach the rooms machine: one dict lookup
finds the peer and the very same ``bytes`` object is sent on (no decode, no copy, no JSON).
Once paired, a frame is forwarded as it is read (``forward``, relay/connection.py's fast
path) whenever the loop below would not have waited for anything; the loop takes the rest.
Uses the relay's public methods only (relay/server.py)."""

from __future__ import annotations

import asyncio
import hashlib
import time
from typing import Any

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from cobrowse.wire.envelope import Claim, Confirm, Error, MalformedMessage, Message, Open, Pick, Resume, decode_client
from relay.addresses import address_of
from relay.admission import Refusal
from relay.host import RelayHost
from relay.limits import bucket_for
from relay.queue_host import QUEUE_MESSAGES, after, queue_control, refuse_claim


async def handle(server: RelayHost, ws: ServerConnection) -> None:
    """websockets' connection handler."""
    rooms = server.rooms
    clock = server.now
    if server.draining:  # its opening handshake finished after the shutdown began
        await ws.close(1001, "relay shutting down")
        return
    forwarded = ws.request.headers.get_all("X-Forwarded-For") if ws.request is not None else []
    rooms.connected(ws, address_of(ws.remote_address, forwarded, server.config.trust_proxy))
    # The upgrade request's and response's headers are not needed once the address is
    # known; dropping them saves ~2 KB per idle connection (websockets' parser keeps the
    # request object itself alive, so its headers are emptied in place).
    for message in (ws.request, ws.response):
        if message is not None:
            message.headers.clear()
    try:
        if await handshake(server, ws):
            return
        route_of = rooms.route_of
        max_frame = server.config.max_frame_bytes
        recv = ws.recv
        bucket = bucket_for(server.config.max_bytes_per_s, max_frame, clock())

        def forward(data: bytes) -> bool:
            """The fast path (relay/connection.py): forward now if nothing has to wait."""
            size = len(data)
            route = route_of(ws)
            if route is None or size > max_frame:
                return False
            if bucket is not None:
                now = clock()
                if not bucket.fits(size, now):
                    return False
            peer, traffic = route
            send_now = getattr(peer, "send_now", None)  # the node bridge's remote sides have none
            if send_now is None or not send_now(data):
                return False
            traffic.frames += 1
            traffic.bytes += size
            if bucket is not None:
                bucket.take(size, now)
            return True

        if hasattr(ws, "send_now"):  # a RelayConnection (relay/connection.py)
            ws.forward = forward  # type: ignore[attr-defined]
        while True:
            data = await recv()
            if data.__class__ is bytes:
                size = len(data)
                if size <= max_frame:
                    route = route_of(ws)
                    if route is not None and getattr(route[0], "write_paused", False) is True:
                        # a frame the fast path wrote filled the peer's buffer: wait as send()
                        # would have after it, then look again (the session may have moved on)
                        await route[0].writable()  # type: ignore[attr-defined]  # a RelayConnection
                        route = route_of(ws)
                    if route is not None:
                        peer, traffic = route
                        traffic.frames += 1
                        traffic.bytes += size
                        try:
                            await peer.send(data)  # type: ignore[attr-defined]
                        except ConnectionClosed:
                            pass  # its own handler reports the drop
                        if bucket is not None:
                            await server.throttle(bucket, size)
                        continue
                if bucket is not None:
                    await server.throttle(bucket, size)
                out = rooms.binary(ws, size, clock())
                if out and await server.apply(out, ws):
                    return
            elif await control(server, ws, data):  # type: ignore[arg-type]  # not bytes: str
                return
    except ConnectionClosed:
        pass
    finally:
        if hasattr(ws, "forward"):
            ws.forward = None  # the closure holds ws: break the cycle
        out = rooms.disconnected(ws, clock())
        left = server.queue.disconnected(ws, clock())
        out.send.extend(left.send)
        out.events.extend(left.events)
        if out:
            server.apply_later(out)


async def handshake(server: RelayHost, ws: ServerConnection) -> bool:
    """Until ``ws`` holds a side of a session, within handshake_timeout. True if it closed."""
    rooms = server.rooms
    timeout = server.config.handshake_timeout
    deadline = asyncio.get_running_loop().time() + timeout if timeout else None
    while not rooms.attached(ws) and not server.queue.watching(ws):
        try:
            async with asyncio.timeout_at(deadline):
                data = await ws.recv()
        except TimeoutError:
            out = rooms.handshake_timeout(ws, server.now())
            await server.apply(out, ws)
            return True
        if isinstance(data, bytes):
            out = rooms.binary(ws, len(data), server.now())
            if out and await server.apply(out, ws):
                return True
        elif server.bridge is not None:
            if await refuse_early(server, ws, data) or await server.bridge.handshake(ws, data):
                return True
        elif await control(server, ws, data):
            return True
    return False


async def control(server: RelayHost, ws: Any, data: str, *, nameplate: str | None = None) -> bool:
    """One text frame: decode, let the rooms decide, send the answers. True if ``ws`` closes."""
    t0 = time.perf_counter()
    rooms = server.rooms
    try:
        msg = decode_client(data)
    except MalformedMessage as exc:
        return await server.apply(rooms.malformed(ws, str(exc), server.now()), ws)
    if isinstance(msg, QUEUE_MESSAGES):
        if isinstance(msg, Pick) and server.bridge is not None and server.bridge.forward_pick(ws, msg.id):
            server.control_hist[msg.type].observe(time.perf_counter() - t0)
            return False  # that customer waits on another node: its answer comes from there
        out = queue_control(rooms, server.queue, ws, msg, server.now())
        if server.queue.watching(ws):
            server.admission.attached(ws)  # an agent's queue connection is never dropped to make room
        closing = await server.apply(out, ws)
        server.control_hist[msg.type].observe(time.perf_counter() - t0)
        return closing
    refusal = admit(server, ws, msg) if not rooms.attached(ws) else None
    if refusal is not None:
        return await send_refusal(ws, refusal)
    refused = refuse_claim(server.queue, ws, msg)
    if refused is not None:
        return await server.apply(refused, ws)
    queued = rooms.queueable(ws) if isinstance(msg, Confirm) else None
    out = rooms.receive(ws, msg, server.now(), nameplate=nameplate)
    if queued is not None:
        paired = after(rooms, server.queue, ws, msg, queued, server.now())
        out.send.extend(paired.send)
        out.events.extend(paired.events)
    if isinstance(msg, Open) and rooms.attached(ws):
        server.admission.attached(ws)
    closing_me = await server.outbox.send_all(out, ws)
    server.control_hist[msg.type].observe(time.perf_counter() - t0)
    return await server.outbox.close_me(ws, closing_me)


def admit(server: RelayHost, ws: Any, msg: Message) -> Refusal | None:
    """Before the rooms allocate anything for an open, claim or resume: the limits."""
    if not isinstance(msg, (Open, Claim, Resume)):
        return None
    authenticated = False
    if not isinstance(msg, Resume) and msg.role == "agent" and msg.token and server.token_digests:
        authenticated = hashlib.sha256(msg.token.encode()).hexdigest() in server.token_digests
    refusal = server.admission.may_attach(ws, opening=isinstance(msg, Open), claiming=isinstance(msg, Claim),
                                          authenticated=authenticated, now=server.now())
    if refusal is not None:
        server.refused(refusal, server.rooms.address_of(ws))
    elif not isinstance(msg, Open):
        server.admission.attached(ws)  # a claim or resume (perhaps proxied to another node) is never dropped
    return refusal


async def refuse_early(server: RelayHost, ws: ServerConnection, data: str) -> bool:
    """On a node of several: the limits before an open reserves a nameplate cluster-wide."""
    try:
        msg = decode_client(data)
    except MalformedMessage:
        return False
    refusal = admit(server, ws, msg)
    return refusal is not None and await send_refusal(ws, refusal)


async def send_refusal(ws: Any, refusal: Refusal) -> bool:
    error = Error.of(refusal.code, f"{refusal.detail}; try again in {refusal.retry_after} s")
    try:
        await ws.send(Error(error.code, error.message, refusal.retry_after).encode())
        await ws.close(1008, refusal.code)
    except ConnectionClosed:
        pass
    return True

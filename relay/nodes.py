"""Several relay nodes as one: proxy a side to its session's home, adopt sessions of lost nodes.

A session lives on one node, its *home* (where it was opened). When a side's first message
(``claim`` or ``resume``) reaches another node, that node looks the nameplate up in Redis
and, if the home is alive, becomes a plain pipe: it passes the client's messages and frames
to the home over pub/sub (relay/cluster.py) and writes the home's answers to the client.
At the home, such a side is a :class:`RemoteConn`: an ordinary connection key for the rooms
machine, whose ``send`` and ``close`` become records for the proxying node. So all the
rules (pairing, grace, resume, limits, idle, kill) run in one place per session, unchanged.

When a node is lost (its liveness key expires: ``kill -9``, a cut cable), every node that
was proxying to it closes those clients' sockets (code 1012, "reconnect"), and every home
treats that node's proxied sides as dropped (grace). The clients' RelayLink reconnects and
resumes, and the first node that receives a ``claim`` or ``resume`` for a session whose home
is lost takes it over in Redis (atomically) and adopts it from its record: both sides away
with a fresh grace period, each resuming here or through another node. A node that held
neither side of a session is irrelevant to it.

Nameplates are reserved cluster-wide (relay/cluster.py) before ``open`` is answered.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
from collections import deque
from itertools import count
from typing import TYPE_CHECKING, Any

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from cobrowse.errors import InvalidCode
from cobrowse.wire.code import validate_nameplate
from cobrowse.wire.envelope import Claim, MalformedMessage, Open, Resume, decode_client
from relay.cluster import Cluster
from relay.cluster_wire import (
    BINARY, CLOSE, DROP, OPEN, TEXT, TO_BINARY, TO_TEXT, BadBatch, close_payload, parse_batch, parse_close,
)
from relay.limits import bucket_for
from relay.rooms import Event

if TYPE_CHECKING:
    from relay.server import RelayServer

log = logging.getLogger("relay.nodes")

CLOSE_NODE_LOST = 1012  # "service restart": the client reconnects and resumes
NODE_LOST_REASON = "relay node lost: reconnect"


def default_node_id() -> str:
    """hostname-pid-random: unique enough, and readable in logs."""
    host = "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in socket.gethostname())[:40] or "node"
    return f"{host}-{os.getpid()}-{secrets.token_hex(3)}"


class RemoteConn:
    """A side proxied through another node, as the home's rooms see it."""

    __slots__ = ("node", "conn_id", "_bridge", "closed", "transport", "__weakref__")

    def __init__(self, bridge: Bridge, node: str, conn_id: int) -> None:
        self._bridge = bridge
        self.node = node
        self.conn_id = conn_id
        self.closed = False
        self.transport = None  # the server aborts a stuck socket's transport: there is none here

    async def send(self, data: str | bytes) -> None:
        if self.closed:
            return
        cluster = self._bridge.cluster
        if isinstance(data, str):
            cluster.send(self.node, TO_TEXT, self.conn_id, data.encode())
        else:
            cluster.send(self.node, TO_BINARY, self.conn_id, data)
        await cluster.drained(self.node)

    async def close(self, code: int = 1000, reason: str = "") -> None:
        if self.closed:
            return
        self.closed = True
        self._bridge.cluster.send(self.node, CLOSE, self.conn_id, close_payload(code, reason))
        self._bridge.remote_gone(self)

    def __repr__(self) -> str:
        return f"RemoteConn({self.node}#{self.conn_id})"


class _Proxy:
    """A client socket on this node whose session lives on ``home``."""

    __slots__ = ("ws", "home", "conn_id", "queue", "queued", "wake", "closed_by_home")

    def __init__(self, ws: ServerConnection, home: str, conn_id: int) -> None:
        self.ws = ws
        self.home = home
        self.conn_id = conn_id
        self.queue: deque[bytes | str | tuple[int, str]] = deque()
        self.queued = 0
        self.wake = asyncio.Event()
        self.closed_by_home = False


class Bridge:
    """This node's part in the cluster; the server calls it at the handshake and per event."""

    def __init__(self, server: RelayServer, node_id: str) -> None:
        cfg = server.config
        self.server = server
        self.node_id = node_id
        self.cluster = Cluster(
            cfg.redis, node_id, self._on_batch, lambda: server.rooms.live_nameplates(),
            record_ttl=int(cfg.grace) + 60, cooldown=int(cfg.reuse_cooldown),
        )
        self.remotes: dict[tuple[str, int], RemoteConn] = {}
        self.proxies: dict[int, _Proxy] = {}
        self._ids = count(1)
        self._nameplates: dict[str, str] = {}  # session id -> nameplate, for sessions homed here
        self._watch: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.cluster.start()
        self._watch = asyncio.create_task(self._watch_nodes(), name="cluster-watch")

    async def close(self, *, leave: bool = True) -> None:
        if self._watch is not None:
            self._watch.cancel()
            await asyncio.gather(self._watch, return_exceptions=True)
        await self.cluster.close(leave=leave)

    # ---- the handshake: local, reserved, adopted or proxied ----

    async def handshake(self, ws: ServerConnection, text: str) -> bool:
        """Handle a first control message; True if ``ws`` is done (closed or proxied to its end)."""
        server, rooms = self.server, self.server.rooms
        try:
            msg = decode_client(text)
        except MalformedMessage:
            return await server._control(ws, text)
        if isinstance(msg, Open):
            now = server._clock()
            nameplate = ""
            if not server.draining:
                nameplate = await self.cluster.reserve(rooms.nameplate_candidates(now))
            closing = await server._control(ws, text, nameplate=nameplate)
            if nameplate and not rooms.holds(nameplate):
                self.cluster.release(nameplate)  # refused after all (token, quota...)
            return closing
        if isinstance(msg, (Claim, Resume)):
            try:
                nameplate = validate_nameplate(msg.nameplate)
            except InvalidCode:
                nameplate = ""
            if nameplate and not rooms.holds(nameplate):
                home = await self._home_for(nameplate)
                if home is not None and home != self.node_id:
                    await self.proxy(ws, home, text)
                    return True
        return await server._control(ws, text)

    async def _home_for(self, nameplate: str) -> str | None:
        """The live home of a session not held here, after adopting it if its home is lost."""
        for _ in range(3):
            record = await self.cluster.lookup(nameplate)
            if record is None or record.ended:
                return None
            if record.home != self.node_id and await self.cluster.alive(record.home):
                return record.home
            if not record.adoptable:
                return None
            if record.home == self.node_id or await self.cluster.take_over(nameplate, record.home):
                joiner = (record.joiner_role, record.joiner_token) if record.joiner_role else None
                out = self.server.rooms.adopt(
                    nameplate, record.id, (record.creator_role, record.creator_token), joiner,
                    record.agent_token or None, self.server._clock(),
                )
                self.server._apply_later(out)
                log.info("took over session %s from lost node %s", record.id, record.home,
                         extra={"ctx": {"event": "adopted", "session": record.id, "from_node": record.home}})
                return self.node_id
            # another node took it over first: look again
        return None

    # ---- proxying a client to its session's home ----

    async def proxy(self, ws: ServerConnection, home: str, first: str) -> None:
        """Pipe ``ws`` to ``home`` until either side ends it."""
        server, cluster = self.server, self.cluster
        conn_id = next(self._ids)
        p = self.proxies[conn_id] = _Proxy(ws, home, conn_id)
        address = server.rooms.address_of(ws)
        server.rooms.disconnected(ws, server._clock())  # the home's rooms hold this side, not ours
        cluster.send(home, OPEN, conn_id, address.encode())
        cluster.send(home, TEXT, conn_id, first.encode())
        writer = asyncio.create_task(self._write_out(p))
        cfg = server.config
        bucket = bucket_for(cfg.max_bytes_per_s, cfg.max_frame_bytes, server._clock())
        try:
            while True:
                data = await ws.recv()
                if isinstance(data, bytes):
                    cluster.send(home, BINARY, conn_id, data)
                    if bucket is not None:
                        await server._throttle(bucket, len(data))
                else:
                    cluster.send(home, TEXT, conn_id, data.encode())
                await cluster.drained(home)
        except ConnectionClosed:
            pass
        finally:
            writer.cancel()
            self.proxies.pop(conn_id, None)
            if not p.closed_by_home:
                cluster.send(home, DROP, conn_id, b"")

    async def _write_out(self, p: _Proxy) -> None:
        ws = p.ws
        try:
            while True:
                await p.wake.wait()
                p.wake.clear()
                while p.queue:
                    item = p.queue.popleft()
                    if isinstance(item, tuple):
                        await ws.close(*item)
                        return
                    p.queued -= len(item)
                    await ws.send(item)
        except ConnectionClosed:
            pass

    def _to_client(self, p: _Proxy, item: bytes | str | tuple[int, str]) -> None:
        if not isinstance(item, tuple):
            p.queued += len(item)
            limit = self.server.config.send_buffer_bytes * 4
            if p.queued > limit:  # the client does not keep up: as a slow consumer locally
                p.queue.clear()
                item = (1008, "slow_consumer")
        p.queue.append(item)
        p.wake.set()

    # ---- records from other nodes ----

    async def _on_batch(self, data: bytes) -> None:
        try:
            source, records = parse_batch(data)
            for kind, conn_id, payload in records:
                if kind in (TO_TEXT, TO_BINARY, CLOSE):
                    p = self.proxies.get(conn_id)
                    if p is None or p.home != source:
                        continue
                    if kind == TO_BINARY:
                        self._to_client(p, payload)
                    elif kind == TO_TEXT:
                        self._to_client(p, payload.decode())
                    else:
                        p.closed_by_home = True
                        self._to_client(p, parse_close(payload))
                else:
                    await self._from_proxy(source, kind, conn_id, payload)
        except BadBatch as exc:
            log.warning("ignoring a bad batch from another node: %s", exc)

    async def _from_proxy(self, source: str, kind: int, conn_id: int, payload: bytes) -> None:
        server, rooms = self.server, self.server.rooms
        key = (source, conn_id)
        if kind == OPEN:
            if server.draining:  # this node is leaving: the client should resume elsewhere
                self.cluster.send(source, CLOSE, conn_id, close_payload(CLOSE_NODE_LOST, NODE_LOST_REASON))
                return
            rc = self.remotes[key] = RemoteConn(self, source, conn_id)
            rooms.connected(rc, payload.decode(errors="replace"))
            return
        rc = self.remotes.get(key)
        if rc is None:
            return
        if kind == BINARY:
            size = len(payload)
            route = rooms.route_of(rc) if size <= server.config.max_frame_bytes else None
            if route is not None:
                peer, traffic = route
                traffic.frames += 1
                traffic.bytes += size
                try:
                    await peer.send(payload)
                except ConnectionClosed:
                    pass
                return
            out = rooms.binary(rc, size, server._clock())
            if out:
                await server._apply(out, rc)
        elif kind == TEXT:
            try:
                text = payload.decode()
            except UnicodeDecodeError:
                text = "\ufffd"
            await server._control(rc, text)
        elif kind == DROP:
            rc.closed = True
            self.remote_gone(rc)

    def remote_gone(self, rc: RemoteConn) -> None:
        """A proxied side's socket is gone (or we closed it): as a local disconnect."""
        self.remotes.pop((rc.node, rc.conn_id), None)
        out = self.server.rooms.disconnected(rc, self.server._clock())
        if out:
            self.server._apply_later(out)

    async def hand_over(self, bound: float) -> None:
        """Graceful stop of this node: leave the cluster first (so other nodes adopt this
        node's sessions at once), then tell every client, here or proxied, to reconnect:
        their RelayLink resumes through another node. Sessions do not end."""
        await self.cluster.leave()
        for rc in list(self.remotes.values()):
            await rc.close(CLOSE_NODE_LOST, NODE_LOST_REASON)
        for p in list(self.proxies.values()):
            self._to_client(p, (1001, "relay shutting down"))
        server = self.server
        if server._server is not None:
            for ws in list(server._server.connections):
                if not any(p.ws is ws for p in self.proxies.values()):
                    server._spawn(server._close_one(ws, [], CLOSE_NODE_LOST, NODE_LOST_REASON, bound=bound))
        await self.cluster.flush()

    # ---- events and liveness ----

    def observe(self, event: Event) -> None:
        """Keep Redis's session records in step with the home's rooms."""
        if event.session is None:
            return
        if event.kind in ("created", "paired", "adopted"):
            nameplate = str(event.data.get("nameplate", ""))
            self._nameplates[event.session] = nameplate
            fields = self.server.rooms.export(nameplate)
            if fields is not None:
                self.cluster.save(nameplate, fields)
        elif event.kind == "ended":
            nameplate = self._nameplates.pop(event.session, "")
            if nameplate:
                self.cluster.end(nameplate)

    async def _watch_nodes(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            try:
                await self._check_nodes()
            except Exception:  # pragma: no cover - a bug must not stop the watch for good
                log.exception("checking other nodes failed")

    async def _check_nodes(self) -> None:
        cluster = self.cluster
        homes = {p.home for p in self.proxies.values()}
        for home in homes:
            if not await cluster.alive(home):
                lost = [p for p in self.proxies.values() if p.home == home]
                log.warning("node %s is lost: %d client(s) proxied to it reconnect", home, len(lost))
                for p in lost:
                    p.closed_by_home = True
                    self._to_client(p, (CLOSE_NODE_LOST, NODE_LOST_REASON))
        nodes = {rc.node for rc in self.remotes.values()}
        for node in nodes:
            if not await cluster.alive(node):
                lost_rcs = [rc for rc in self.remotes.values() if rc.node == node]
                log.warning("node %s is lost: %d side(s) it proxied here go into grace", node, len(lost_rcs))
                for rc in lost_rcs:
                    rc.closed = True
                    self.remote_gone(rc)

    def stats(self) -> dict[str, Any]:
        return {"node": self.node_id, "proxied_here": len(self.proxies), "remote_sides": len(self.remotes)}

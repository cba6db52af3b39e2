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
import time
from collections import deque
from itertools import count
from typing import Any

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from cobrowse.errors import InvalidCode
from cobrowse.wire.code import validate_nameplate
from cobrowse.wire.envelope import Claim, Error, MalformedMessage, Open, Resume, decode_client
from relay.cluster import HIGH_WATER, Cluster, RedisTrouble
from relay.cluster_wire import (
    ACK, BINARY, CLOSE, DROP, OPEN, TEXT, TO_ACK, TO_BINARY, TO_TEXT, Acks, BadBatch, Credit, ack_payload,
    close_payload, parse_ack, parse_batch, parse_close,
)
from relay.host import RelayHost
from relay.limits import bucket_for
from relay.queue_nodes import QueueSync
from relay.rooms import NAMEPLATE_CAP, Event

log = logging.getLogger("relay.nodes")

CLOSE_NODE_LOST = 1012  # "service restart": the client reconnects and resumes
NODE_LOST_REASON = "relay node lost: reconnect"
LIVENESS_SETTLE = 5.0  # seconds after Redis trouble before a missing liveness key means a lost node
CLOSE_TRY_AGAIN = 1013  # "try again later": a lookup in Redis failed; the session is not gone
UNAVAILABLE_RETRY = 1  # seconds the client is asked to wait


def default_node_id() -> str:
    """hostname-pid-random: unique enough, and readable in logs."""
    host = "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in socket.gethostname())[:40] or "node"
    return f"{host}-{os.getpid()}-{secrets.token_hex(3)}"


class RemoteConn:
    """A side proxied through another node, as the home's rooms see it.

    What the proxying node sends for it is queued in ``inbox`` and handled by one task per
    connection, in order, so a slow receiver here holds up only this connection; both
    directions are bounded by credit windows (relay/cluster_wire.py).
    """

    __slots__ = ("node", "conn_id", "_bridge", "closed", "transport", "credit", "go", "blocked_since",
                 "inbox", "acks", "wake", "task", "__weakref__")

    def __init__(self, bridge: Bridge, node: str, conn_id: int, window: int) -> None:
        self._bridge = bridge
        self.node = node
        self.conn_id = conn_id
        self.closed = False
        self.transport = None  # the server aborts a stuck socket's transport: there is none here
        self.credit = Credit(window)  # what we send it
        self.go = asyncio.Event()
        self.go.set()
        self.blocked_since: float | None = None
        self.inbox: deque[tuple[int, bytes]] = deque()  # what it sent us, in order
        self.acks = Acks(window)
        self.wake = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    async def send(self, data: str | bytes) -> None:
        if self.closed:
            return
        bridge = self._bridge
        cluster = bridge.cluster
        payload = data.encode() if isinstance(data, str) else data
        cluster.send(self.node, TO_TEXT if isinstance(data, str) else TO_BINARY, self.conn_id, payload)
        if cluster.backlog(self.node) > HIGH_WATER:
            await cluster.drained(self.node)
        # only frames wait for credit: control messages (an error before a close) never do
        if self.credit.sent(len(payload)) and isinstance(data, bytes) and not self.closed:
            self.go.clear()
            self.blocked_since = bridge.server.now()
            await self.go.wait()

    def acked(self, nbytes: int) -> None:
        if self.credit.acked(nbytes):
            self.blocked_since = None
            self.go.set()

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

    __slots__ = ("ws", "home", "conn_id", "queue", "queued", "wake", "closed_by_home", "credit", "go", "acks")

    def __init__(self, ws: ServerConnection, home: str, conn_id: int, window: int) -> None:
        self.ws = ws
        self.home = home
        self.conn_id = conn_id
        self.queue: deque[tuple[int, bytes]] = deque()  # (kind, payload) for the client, in order
        self.queued = 0
        self.wake = asyncio.Event()
        self.closed_by_home = False
        self.credit = Credit(window)  # what we send the home
        self.go = asyncio.Event()
        self.go.set()
        self.acks = Acks(window)


class Bridge:
    """This node's part in the cluster; the server calls it at the handshake and per event."""

    def __init__(self, server: RelayHost, node_id: str) -> None:
        cfg = server.config
        self.server = server
        self.node_id = node_id
        self.cluster = Cluster(
            cfg.redis, node_id, self._on_batch, lambda: server.rooms.live_nameplates(),
            record_ttl=int(cfg.grace) + 60, cooldown=int(cfg.reuse_cooldown), export=lambda nameplate: server.rooms.export(nameplate),
        )
        self.remotes: dict[tuple[str, int], RemoteConn] = {}
        self.proxies: dict[int, _Proxy] = {}
        self._ids = count(1)
        self._nameplates: dict[str, str] = {}  # session id -> nameplate, for sessions homed here
        self._watch: asyncio.Task[None] | None = None
        self.queue = QueueSync(server, self.cluster, node_id)  # the help queue across nodes
        # flow control between nodes: per proxied connection and direction, at most a window
        # of unacknowledged bytes (what waits for one receiver stays bounded, as locally)
        self._window = cfg.send_buffer_bytes
        self._cap = 2 * cfg.send_buffer_bytes + cfg.max_frame_bytes + 64 * 1024

    async def start(self) -> None:
        await self.cluster.start()
        self.queue.start()
        self._watch = asyncio.create_task(self._watch_nodes(), name="cluster-watch")

    async def close(self, *, leave: bool = True) -> None:
        if self._watch is not None:
            self._watch.cancel()
            await asyncio.gather(self._watch, return_exceptions=True)
        await self.queue.close()
        await self.cluster.close(leave=leave)

    # ---- the handshake: local, reserved, adopted or proxied ----

    async def handshake(self, ws: ServerConnection, text: str) -> bool:
        """Handle a first control message; True if ``ws`` is done (closed or proxied to its end)."""
        server, rooms = self.server, self.server.rooms
        try:
            msg = decode_client(text)
        except MalformedMessage:
            return await server.control(ws, text)
        if isinstance(msg, Open):
            now = server.now()
            nameplate = ""
            floor = 99
            while not server.draining and not nameplate and floor <= NAMEPLATE_CAP * 10:
                # other nodes' sessions are not counted locally: when the short codes are
                # crowded cluster-wide, draw from a 10x longer range
                nameplate = await self.cluster.reserve(rooms.nameplate_candidates(now, 8, floor))
                floor *= 10
            closing = await server.control(ws, text, nameplate=nameplate)
            if nameplate and not rooms.holds(nameplate):
                self.cluster.release(nameplate)  # refused after all (token, quota...)
            return closing
        if isinstance(msg, (Claim, Resume)):
            try:
                nameplate = validate_nameplate(msg.nameplate)
            except InvalidCode:
                nameplate = ""
            if nameplate and not rooms.holds(nameplate):
                try:
                    home = await self._home_for(nameplate)
                except RedisTrouble:  # not evidence that the session is gone: try again soon
                    await self._unavailable(ws)
                    return True
                if home is not None and home != self.node_id:
                    await self.proxy(ws, home, text)
                    return True
                if home is None and isinstance(msg, Resume) and self.cluster.troubled_lately():
                    await self._unavailable(ws)  # Redis restarted empty: its home writes it again within
                    return True  # a second; bad_resume would end a session that still lives
        return await server.control(ws, text)

    async def _unavailable(self, ws: ServerConnection) -> None:
        """Redis did not answer the lookup: the client keeps its session and tries again."""
        error = Error.of("unavailable", "the relay's shared store did not answer")
        try:
            await ws.send(Error(error.code, error.message, UNAVAILABLE_RETRY).encode())
            await ws.close(CLOSE_TRY_AGAIN, "unavailable")
        except ConnectionClosed:
            pass

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
                    record.agent_token or None, self.server.now(), age=record.age(time.time()),
                )
                self.server.apply_later(out)
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
        p = self.proxies[conn_id] = _Proxy(ws, home, conn_id, self._window)
        address = server.rooms.address_of(ws)
        server.rooms.disconnected(ws, server.now())  # the home's rooms hold this side, not ours
        cluster.send(home, OPEN, conn_id, address.encode())
        cluster.send(home, TEXT, conn_id, first.encode())
        writer = asyncio.create_task(self._write_out(p))
        cfg = server.config
        bucket = bucket_for(cfg.max_bytes_per_s, cfg.max_frame_bytes, server.now())
        try:
            while True:
                data = await ws.recv()
                if isinstance(data, bytes):
                    payload = data
                    cluster.send(home, BINARY, conn_id, payload)
                    if bucket is not None:
                        await server.throttle(bucket, len(payload))
                else:
                    payload = data.encode()
                    cluster.send(home, TEXT, conn_id, payload)
                if cluster.backlog(home) > HIGH_WATER:
                    await cluster.drained(home)
                if p.credit.sent(len(payload)):  # the home's receiver is behind: stop reading
                    p.go.clear()
                    await p.go.wait()
        except ConnectionClosed:
            pass
        finally:
            writer.cancel()
            self.proxies.pop(conn_id, None)
            if not p.closed_by_home:
                cluster.send(home, DROP, conn_id, b"")

    async def _write_out(self, p: _Proxy) -> None:
        ws, cluster = p.ws, self.cluster
        try:
            while True:
                await p.wake.wait()
                p.wake.clear()
                while p.queue:
                    kind, payload = p.queue.popleft()
                    if kind == CLOSE:
                        await ws.close(*parse_close(payload))
                        return
                    p.queued -= len(payload)
                    await ws.send(payload.decode(errors="replace") if kind == TO_TEXT else payload)
                    ack = p.acks.delivered(len(payload), not p.queue)
                    if ack:
                        cluster.send(p.home, ACK, p.conn_id, ack_payload(ack))
        except ConnectionClosed:
            pass

    def _to_client(self, p: _Proxy, kind: int, payload: bytes) -> None:
        if kind == CLOSE:  # a client that takes nothing must not keep its socket open
            self.server.spawn(self._cut_after(p.ws, 5.0))
        else:
            p.queued += len(payload)
            if p.queued > self._cap:  # beyond the window: a home that ignores it
                p.queue.clear()
                kind, payload = CLOSE, close_payload(1008, "slow_consumer")
        p.queue.append((kind, payload))
        p.wake.set()

    @staticmethod
    async def _cut_after(ws: ServerConnection, delay: float) -> None:
        try:
            await asyncio.wait_for(ws.wait_closed(), delay)
        except TimeoutError:
            if ws.transport is not None:
                ws.transport.abort()

    # ---- records from other nodes ----

    async def _on_batch(self, data: bytes) -> None:
        try:
            source, records = parse_batch(data)
            for kind, conn_id, payload in records:
                if kind in (TO_TEXT, TO_BINARY, CLOSE, TO_ACK):
                    p = self.proxies.get(conn_id)
                    if p is None or p.home != source:
                        continue
                    if kind == TO_ACK:
                        if p.credit.acked(parse_ack(payload)):
                            p.go.set()
                        continue
                    if kind == CLOSE:
                        p.closed_by_home = True
                        p.go.set()
                    self._to_client(p, kind, payload)
                else:
                    self._from_proxy(source, kind, conn_id, payload)
        except BadBatch as exc:
            log.warning("ignoring a bad batch from another node: %s", exc)

    def _from_proxy(self, source: str, kind: int, conn_id: int, payload: bytes) -> None:
        key = (source, conn_id)
        if kind == OPEN:
            if self.server.draining:  # this node is leaving: the client should resume elsewhere
                self.cluster.send(source, CLOSE, conn_id, close_payload(CLOSE_NODE_LOST, NODE_LOST_REASON))
                return
            rc = self.remotes[key] = RemoteConn(self, source, conn_id, self._window)
            self.server.rooms.connected(rc, payload.decode(errors="replace"))
            rc.task = asyncio.create_task(self._inbox(rc))
            return
        known = self.remotes.get(key)
        if known is None:  # a side this home dropped (its node was taken for lost; the close may
            if kind != DROP:  # have been lost with a Redis restart): the proxy must let it resume
                self.cluster.send(source, CLOSE, conn_id, close_payload(CLOSE_NODE_LOST, NODE_LOST_REASON))
            return
        if kind == ACK:
            known.acked(parse_ack(payload))
        else:
            known.inbox.append((kind, payload))
            known.wake.set()

    async def _inbox(self, rc: RemoteConn) -> None:
        """What one proxied side sent, in order: as the server's handler does for a socket."""
        server, rooms = self.server, self.server.rooms
        max_frame = server.config.max_frame_bytes
        try:
            while True:
                await rc.wake.wait()
                rc.wake.clear()
                while rc.inbox:
                    kind, payload = rc.inbox.popleft()
                    ack = rc.acks.delivered(len(payload), not rc.inbox)
                    if ack:  # acknowledged as it is handed on: the peer's send below may wait
                        self.cluster.send(rc.node, TO_ACK, rc.conn_id, ack_payload(ack))
                    if kind == BINARY:
                        size = len(payload)
                        route = rooms.route_of(rc) if size <= max_frame else None
                        if route is not None:
                            peer, traffic = route
                            traffic.frames += 1
                            traffic.bytes += size
                            try:
                                await peer.send(payload)  # type: ignore[attr-defined]  # a socket or a RemoteConn
                            except ConnectionClosed:
                                pass
                            continue
                        out = rooms.binary(rc, size, server.now())
                        if out and await server.apply(out, rc):
                            return
                    elif kind == TEXT:
                        if await server.control(rc, payload.decode(errors="replace")):
                            return
                    elif kind == DROP:
                        rc.closed = True
                        self.remote_gone(rc)
                        return
                    if rc.closed:
                        return
        finally:
            rc.inbox.clear()
            rc.go.set()

    def remote_gone(self, rc: RemoteConn) -> None:
        """A proxied side's socket is gone (or we closed it): as a local disconnect."""
        self.remotes.pop((rc.node, rc.conn_id), None)
        rc.go.set()  # nobody waits for a gone receiver
        if rc.task is not None and rc.task is not asyncio.current_task():
            rc.task.cancel()
        out = self.server.rooms.disconnected(rc, self.server.now())
        if out:
            self.server.apply_later(out)

    async def hand_over(self, bound: float) -> None:
        """Graceful stop of this node: leave the cluster first (so other nodes adopt this
        node's sessions at once), then tell every client, here or proxied, to reconnect:
        their RelayLink resumes through another node. Sessions do not end."""
        await self.cluster.leave()
        self.queue.leave()
        for rc in list(self.remotes.values()):
            await rc.close(CLOSE_NODE_LOST, NODE_LOST_REASON)
        for p in list(self.proxies.values()):
            self._to_client(p, CLOSE, close_payload(1001, "relay shutting down"))
        proxied = [p.ws for p in self.proxies.values()]  # told above, through their proxy
        self.server.close_clients(CLOSE_NODE_LOST, NODE_LOST_REASON, bound, except_for=proxied)
        await self.cluster.flush()

    # ---- events and liveness ----

    def observe(self, event: Event) -> None:
        """Keep Redis's session records in step with the home's rooms."""
        if event.session is None:
            return
        if event.kind in ("created", "paired", "adopted"):
            nameplate = str(event.data.get("nameplate", ""))
            self._nameplates[event.session] = nameplate
            fields = self.server.rooms.export(nameplate, self.server.now(), time.time())
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

    def forward_pick(self, ws: Any, entry_id: str) -> bool:
        """A pick of a customer waiting on another node goes there (relay/queue_nodes.py)."""
        return self.queue.forward_pick(ws, entry_id)

    async def _check_nodes(self) -> None:
        await self.queue.check_nodes()
        cluster = self.cluster
        server = self.server
        now, limit = server.now(), server.config.slow_consumer_timeout
        for rc in list(self.remotes.values()):
            if rc.blocked_since is not None and now - rc.blocked_since >= limit:  # as _check_stalled
                rc.blocked_since = None
                out = server.rooms.slow_consumer(rc, now)
                if out:
                    server.apply_later(out, bound=5.0)
        if cluster.troubled_lately(within=LIVENESS_SETTLE):
            return  # liveness keys lost with Redis come back within a heartbeat: a node without one is not lost yet
        homes = {p.home for p in self.proxies.values()}
        for home in homes:
            if not await cluster.alive(home):
                lost = [p for p in self.proxies.values() if p.home == home]
                log.warning("node %s is lost: %d client(s) proxied to it reconnect", home, len(lost))
                for p in lost:
                    p.closed_by_home = True
                    p.go.set()
                    self._to_client(p, CLOSE, close_payload(CLOSE_NODE_LOST, NODE_LOST_REASON))
        nodes = {rc.node for rc in self.remotes.values()}
        for node in nodes:
            if not await cluster.alive(node):
                lost_rcs = [rc for rc in self.remotes.values() if rc.node == node]
                log.warning("node %s is lost: %d side(s) it proxied here go into grace", node, len(lost_rcs))
                await cluster.renew_records()  # Redis may have restarted empty: the sides told below
                # come back through another node (or that one), which must find their session's home
                for rc in lost_rcs:  # told too: a node only thought lost (stalled, Redis restarted
                    await rc.close(CLOSE_NODE_LOST, NODE_LOST_REASON)  # empty) still holds the client

    def stats(self) -> dict[str, Any]:
        return {"node": self.node_id, "redis": "ok" if self.cluster.redis_ok else "unreachable",
                "proxied_here": len(self.proxies), "remote_sides": len(self.remotes),
                "queued_here": self.server.queue.size(), "queue_nodes": len(self.server.queue.mirror.nodes())}

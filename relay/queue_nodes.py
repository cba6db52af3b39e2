"""The help queue across relay nodes: shares and forwarded picks over Redis pub/sub.

Every node publishes its part of an organisation's queue (relay/queue_mirror.py) on the
shared channel whenever it changes and every SHARE_EVERY seconds, and asks the others for
theirs the first time it has a part of that queue. A pick of a customer who waits on
another node is forwarded there; that node decides it (first pick wins: one process holds
the entry) and its answer (``picked`` with the ticket, or an ``error``) comes back to the
watcher's node, which writes it to the agent. The agent then claims the nameplate with the
ticket as usual: relay/nodes.py proxies the claim to the session's home, which is the node
that holds the entry and checks the ticket. The pairing handshake is end to end: nodes
only forward.

A node that stops gracefully says so (its customers leave the other nodes' lists at
once), as does one that starts (a quick restart under the same node id); one that dies is noticed by its liveness key (relay/cluster.py, about 3-5 s), and
a share nobody refreshes expires after MIRROR_TTL.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from itertools import count
from typing import Any

from relay.cluster import Cluster
from relay.host import RelayHost
from relay.queue_mirror import SHARE_EVERY, BadShare, Share, decode, encode

log = logging.getLogger("relay.queue")


@dataclass(frozen=True)
class RemoteWatcher:
    """An agent's queue connection on another node, as this node's queue sees it when it
    picks one of our customers; what it is sent goes back to its node."""

    node: str
    picker: int
    sync: QueueSync = field(compare=False, repr=False)
    transport: None = field(default=None, compare=False, repr=False)

    async def send(self, data: str | bytes) -> None:
        self.sync.deliver(self.node, self.picker, data if isinstance(data, str) else data.decode(errors="replace"))

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Never closed from here: its own node owns the socket."""


class QueueSync:
    """This node's part in the cluster-wide help queue."""

    def __init__(self, server: RelayHost, cluster: Cluster, node_id: str) -> None:
        self.server = server
        self.cluster = cluster
        self.node_id = node_id
        self._dirty: set[str] = set()
        self._asked: set[str] = set()
        self._wake = asyncio.Event()
        self._ids = count(1)
        self._picker_ids: dict[Any, int] = {}
        self._pickers: dict[int, Any] = {}
        self._task: asyncio.Task[None] | None = None
        self._left = False
        server.queue.on_change = self.changed
        cluster.on_queue = self.received

    def start(self) -> None:
        """A node that starts holds no queue: parts of an earlier run under the same node
        id (a quick restart keeps its liveness key alive) are dropped everywhere."""
        self.cluster.publish_queue(encode("gone", self.node_id, {}))
        self._task = asyncio.create_task(self._run(), name="queue-share")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def leave(self) -> None:
        """A graceful stop: the other nodes drop this node's customers now (and hear no
        more from it: its customers' sessions move to other nodes)."""
        self._left = True
        self.cluster.publish_queue(encode("gone", self.node_id, {}))

    # ---- from this node's queue and handlers ----

    def changed(self, org: str) -> None:
        self._dirty.add(org)
        self._wake.set()

    def forward_pick(self, ws: Any, entry_id: str) -> bool:
        """Forward ``ws``'s pick if that customer waits on another node; False if not."""
        queue = self.server.queue
        node, org = queue.home_of(entry_id), queue.watched_org(ws)
        if node is None or org is None:
            return False
        picker = self._picker_ids.get(ws)
        if picker is None:
            self._prune()
            picker = self._picker_ids[ws] = next(self._ids)
            self._pickers[picker] = ws
        self.cluster.publish_queue(encode("pick", self.node_id, {
            "to": node, "org": org, "entry": entry_id, "picker": picker}))
        return True

    def deliver(self, node: str, picker: int, text: str) -> None:
        self.cluster.publish_queue(encode("deliver", self.node_id, {"to": node, "picker": picker, "msg": text}))

    async def check_nodes(self) -> None:
        """Drop the parts of nodes whose liveness key is gone."""
        for node in self.server.queue.mirror.nodes():
            if not await self.cluster.alive(node):
                log.warning("node %s is lost: its customers leave the help queues", node)
                self._apply(self.server.queue.node_lost(node, self.server.now()))

    # ---- from the other nodes ----

    def received(self, data: bytes) -> None:
        try:
            msg = decode(data)
            sender = msg["from"]
            if sender == self.node_id:
                return
            self._handle(msg["t"], sender, msg)
        except (BadShare, KeyError, TypeError, ValueError) as exc:
            log.warning("ignoring a bad help-queue message from another node: %s", exc)

    def _handle(self, kind: str, sender: str, msg: dict[str, Any]) -> None:
        queue, now = self.server.queue, self.server.now()
        if kind == "share":
            self._apply(queue.shared(sender, Share.from_json(msg["share"]), now))
        elif kind == "want":
            if msg["org"] in queue.orgs():
                self.changed(str(msg["org"]))
        elif kind == "gone":
            self._apply(queue.node_lost(sender, now))
        elif msg.get("to") != self.node_id:
            return
        elif kind == "pick":
            picker = RemoteWatcher(sender, int(msg["picker"]), self)
            self._apply(queue.pick_for(picker, str(msg["org"]), str(msg["entry"]), now))
        elif kind == "deliver":
            ws = self._pickers.get(int(msg["picker"]))
            if ws is not None:
                self.server.spawn(self._send(ws, str(msg["msg"])))

    @staticmethod
    async def _send(ws: Any, text: str) -> None:
        try:
            await ws.send(text)
        except Exception:  # noqa: BLE001 - a closed watcher: its handler reports the drop
            pass

    def _apply(self, out: Any) -> None:
        if out:
            self.server.apply_later(out)

    def _prune(self) -> None:
        queue = self.server.queue
        for ws, picker in list(self._picker_ids.items()):
            if not queue.watching(ws):
                del self._picker_ids[ws]
                self._pickers.pop(picker, None)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        next_all = loop.time() + SHARE_EVERY
        while True:
            try:
                async with asyncio.timeout(max(0.0, next_all - loop.time())):
                    await self._wake.wait()
            except TimeoutError:
                pass
            self._wake.clear()
            if loop.time() >= next_all:
                next_all = loop.time() + SHARE_EVERY
                self._dirty.update(self.server.queue.orgs())
                self._prune()
            dirty, self._dirty = self._dirty, set()
            if self._left:
                continue
            now = self.server.now()
            for org in sorted(dirty):
                if org not in self._asked:
                    self._asked.add(org)
                    self.cluster.publish_queue(encode("want", self.node_id, {"org": org}))
                share = self.server.queue.share(org, now)
                self.cluster.publish_queue(encode("share", self.node_id, {"share": share.to_json()}))

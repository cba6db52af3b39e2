"""One node's link to Redis: shared nameplates, session records, liveness and pub/sub.

Everything several relay nodes share goes through here, and only here (relay/rooms.py
stays pure, relay/nodes.py decides what to do with it):

- **Nameplates** are reserved atomically with an expiry: a Lua script creates the session
  hash ``cobrowse:session:<nameplate>`` with ``home`` = this node only if the key does not
  exist, and sets its TTL in the same step. The home refreshes the TTL of its live sessions
  every few seconds; an ended session's key stays, marked ``ended``, for
  ``reuse_cooldown`` so no node hands the nameplate out again too soon.
- **Session records** (relay/cluster_wire.SessionRecord) hold what another node needs to
  adopt a session whose home was lost.
- **Liveness**: ``cobrowse:alive:<node>`` is set every second with a 3 s expiry; a node
  whose key is gone is lost (killed, cut off): others take its sessions over.
- **Frames and control messages** between nodes go over pub/sub, one channel per node,
  batched: records for a node pile up in a buffer that one writer task publishes (with any
  pending writes) in one pipeline whenever it runs, so a busy node sends one PUBLISH per
  batch rather than per frame. Past ``HIGH_WATER`` bytes waiting for one node, senders
  wait (back-pressure, as on a websocket).

- **The help queue** (relay/queue_nodes.py): every node also subscribes to one shared
  channel, ``cobrowse:queues``, where nodes publish their parts of the organisations'
  queues and forward picks (small JSON messages, sent with the next batch).

Pub/sub is at-most-once: frames in flight when a node dies are lost, like frames sent while
a side is away; the clients' end-to-end channel resends them.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from typing import Any, Awaitable, Callable, Iterable

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeout

from cobrowse.errors import ConfigError
from relay.outage import Outage
from relay.cluster_wire import HEADER, QUEUE_CHANNEL, SessionRecord, alive_key, batch_head, channel, session_key

log = logging.getLogger("relay.cluster")

HEARTBEAT = 1.0  # seconds between liveness writes
ALIVE_MS = 3000  # a node silent this long is lost
REFRESH = 10.0  # seconds between TTL refreshes of the home's live sessions
HIGH_WATER = 1 << 20  # bytes buffered for one node before senders wait
#: Connections to Redis one node holds at most. Past it a command waits for a free one (up to
#: POOL_WAIT s) instead of failing: redis-py's default pool fails at 100 ("Too many
#: connections"), which 200 sides resuming at once after a node loss reached.
POOL_SIZE = 64
POOL_WAIT = 10.0
#: Reads that decide a client's fate (whose session, adopt it or not) are tried this often,
#: with these waits between, before the client is told to try again later (``unavailable``).
READ_TRIES = (0.05, 0.2, 0.5)
EPOCH_KEY = "cobrowse:epoch"
RECENT_TROUBLE = 30.0  # seconds after Redis trouble during which a missing record may be Redis's loss



def shown_url(url: str) -> str:
    """The Redis URL for the log and the admin: its password (``redis://:secret@host``, as
    docs/relay.md recommends) replaced by ``***``."""
    from urllib.parse import urlsplit, urlunsplit

    try:
        parts = urlsplit(url)
    except ValueError:
        return "<the redis setting>"
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def _hide(text: str, url: str) -> str:
    """``text`` (an error from redis-py) without the URL's password, should it quote it."""
    from urllib.parse import unquote, urlsplit

    try:
        password = urlsplit(url).password
    except ValueError:
        return text
    for secret in {password, unquote(password or "")} - {None, ""}:
        text = text.replace(str(secret), "***")
    return text

class RedisTrouble(Exception):
    """Redis did not answer a read in time, even after retries: a transient failure, never
    evidence that a session is gone (the client is told to try again)."""
_pack = HEADER.pack

_RESERVE = """
if redis.call('exists', KEYS[1]) == 1 then return 0 end
redis.call('hset', KEYS[1], 'home', ARGV[1])
redis.call('expire', KEYS[1], ARGV[2])
return 1
"""
_IF_HOME_SAVE = """
if redis.call('hget', KEYS[1], 'home') ~= ARGV[1] then return 0 end
for i = 3, #ARGV, 2 do redis.call('hset', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('expire', KEYS[1], ARGV[2])
return 1
"""
_IF_HOME_END = """
if redis.call('hget', KEYS[1], 'home') ~= ARGV[1] then return 0 end
redis.call('hset', KEYS[1], 'ended', '1')
redis.call('expire', KEYS[1], ARGV[2])
return 1
"""
_IF_HOME_DELETE = """
if redis.call('hget', KEYS[1], 'home') ~= ARGV[1] then return 0 end
return redis.call('del', KEYS[1])
"""
_TAKE_OVER = """
local home = redis.call('hget', KEYS[1], 'home')
if home ~= ARGV[1] or redis.call('hget', KEYS[1], 'ended') == '1' then return 0 end
redis.call('hset', KEYS[1], 'home', ARGV[2])
redis.call('expire', KEYS[1], ARGV[3])
return 1
"""


class Cluster:
    """Redis for one node. ``start()`` connects (ConfigError if Redis is unreachable)."""

    def __init__(
        self,
        url: str,
        node_id: str,
        on_batch: Callable[[bytes], Awaitable[None]],
        live_nameplates: Callable[[], Iterable[str]],
        record_ttl: int,
        cooldown: int,
        export: Callable[[str], dict[str, str] | None] | None = None,
    ) -> None:
        """``export(nameplate)``: a live session's record, written again when Redis lost it
        (a restart without persistence)."""
        self.url = url
        self.node_id = node_id
        self._on_batch = on_batch
        self._live_nameplates = live_nameplates
        self._export = export
        self.record_ttl = max(30, int(record_ttl))
        self.cooldown = max(1, int(cooldown))
        self._redis: Any = None
        self._pubsub: Any = None
        self._tasks: list[asyncio.Task[None]] = []
        self._head = batch_head(node_id)
        self._out: dict[str, bytearray] = {}
        self._ops: list[tuple[str, tuple[str, ...], tuple[Any, ...]]] = []
        self._wake = asyncio.Event()
        self._drained = asyncio.Event()
        self._alive_cache: dict[str, tuple[float, bool]] = {}
        self._queue_out: list[bytes] = []
        #: Messages on the queue channel go here (relay/queue_nodes.py sets it).
        self.on_queue: Callable[[bytes], None] | None = None
        self._scripts: dict[str, Any] = {}
        self.published = 0  # batches
        self.received = 0
        #: Redis trouble per kind of call, logged when it starts, every 30 s, and when it ends.
        self.outages = {"heartbeat": Outage(), "subscription": Outage(), "write": Outage()}
        self._troubled_at = -RECENT_TROUBLE  # when an outage ended, or a restart of Redis was seen
        self._epoch: bytes | None = None
        self._restarted = False

    @property
    def redis_ok(self) -> bool:
        """Whether the last heartbeat reached Redis (/healthz says so)."""
        return self.outages["heartbeat"].ok

    def _trouble(self, kind: str, what: str, exc: BaseException) -> None:
        outage = self.outages[kind]
        said = outage.failed(time.monotonic())
        if said == "started":
            log.error("Redis %s failed%s: %s (said again every %.0f s while it lasts)", kind, what, exc, outage.every)
        elif said == "lasts":
            log.error("Redis %s still failing (%d times in %.0f s)%s: %s", kind, outage.failures,
                      time.monotonic() - (outage.since or 0.0), what, exc)

    def troubled_lately(self, within: float = RECENT_TROUBLE) -> bool:
        """Whether Redis failed within ``within`` seconds (or still does): a session record
        missing now may be one Redis lost in a restart, not yet written again by its home."""
        now = time.monotonic()
        return any(not o.ok for o in self.outages.values()) or now - self._troubled_at < within

    def _fine(self, kind: str) -> None:
        lasted = self.outages[kind].recovered(time.monotonic())
        if lasted is not None:
            self._troubled_at = time.monotonic()
            log.warning("Redis %s works again after %.0f s", kind, lasted)

    async def start(self) -> None:
        pool = aioredis.BlockingConnectionPool.from_url(
            self.url, max_connections=POOL_SIZE, timeout=POOL_WAIT, socket_connect_timeout=5, socket_timeout=10,
            retry=Retry(ExponentialBackoff(cap=1.0, base=0.05), 3), retry_on_error=[RedisConnectionError, RedisTimeout],
        )
        self._redis = aioredis.Redis.from_pool(pool)
        try:
            async with asyncio.timeout(10):
                await self._redis.ping()
                for name, body in (("reserve", _RESERVE), ("save", _IF_HOME_SAVE), ("end", _IF_HOME_END),
                                   ("delete", _IF_HOME_DELETE), ("take_over", _TAKE_OVER)):
                    self._scripts[name] = self._redis.register_script(body)
                await self._beat()
                self._pubsub = self._redis.pubsub()
                await self._pubsub.subscribe(channel(self.node_id), QUEUE_CHANNEL)
        except (RedisError, OSError, TimeoutError) as exc:
            await self._redis.aclose()
            self._redis = None  # never joined: nothing to leave (close() would say it failed to)
            raise ConfigError(
                f"cannot use Redis at {shown_url(self.url)}: {_hide(str(exc), self.url) or type(exc).__name__} "
                "(check the redis setting and that redis-server runs and is reachable)"
            ) from None
        self._tasks = [
            asyncio.create_task(self._writer(), name="cluster-writer"),
            asyncio.create_task(self._reader(), name="cluster-reader"),
            asyncio.create_task(self._heartbeat(), name="cluster-heartbeat"),
        ]
        log.info("node %s joined the cluster on %s", self.node_id, shown_url(self.url))

    async def close(self, *, leave: bool = True) -> None:
        """Stop; ``leave`` deletes this node's liveness key so others take over at once."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        if self._redis is None:
            return
        try:
            async with asyncio.timeout(3):
                await self._flush()
                if leave:
                    await self._redis.delete(alive_key(self.node_id))
        except (RedisError, OSError, TimeoutError) as exc:
            log.warning("could not leave the cluster cleanly: %s", exc)
        try:
            if self._pubsub is not None:
                await self._pubsub.aclose()
            await self._redis.aclose()
        except (RedisError, OSError):
            pass

    async def leave(self) -> None:
        """Stop the heartbeat and delete the liveness key now: others take over at once."""
        for task in self._tasks:
            if task.get_name() == "cluster-heartbeat":
                task.cancel()
        try:
            async with asyncio.timeout(3):
                await self._redis.delete(alive_key(self.node_id))
        except (RedisError, OSError, TimeoutError) as exc:
            log.warning("could not leave the cluster: %s", exc)

    async def flush(self) -> None:
        try:
            async with asyncio.timeout(3):
                await self._flush()
        except (RedisError, OSError, TimeoutError) as exc:
            log.warning("could not send the last records to other nodes: %s", exc)

    # ---- nameplates and session records ----

    async def reserve(self, candidates: list[str]) -> str:
        """The first of ``candidates`` no node holds, now held by this one; "" if none."""
        try:
            for nameplate in candidates:
                if await self._scripts["reserve"](keys=[session_key(nameplate)], args=[self.node_id, self.record_ttl]):
                    return nameplate
        except RedisError as exc:
            log.error("cannot reserve a nameplate in Redis: %s", exc)
        return ""

    def release(self, nameplate: str) -> None:
        """A reserved nameplate that was not used after all."""
        self._op("delete", (session_key(nameplate),), (self.node_id,))

    def save(self, nameplate: str, fields: dict[str, str]) -> None:
        """Write the session record (in order with the other writes of this node)."""
        flat: list[str] = []
        for key, value in fields.items():
            flat += [key, value]
        self._op("save", (session_key(nameplate),), (self.node_id, self.record_ttl, *flat))

    def end(self, nameplate: str) -> None:
        self._op("end", (session_key(nameplate),), (self.node_id, self.cooldown))

    async def _read(self, what: str, call: Callable[[], Awaitable[Any]]) -> Any:
        """``call()`` with retries; RedisTrouble once they are spent (logged once)."""
        last: BaseException | None = None
        for wait in (*READ_TRIES, None):
            try:
                return await call()
            except (RedisError, OSError, TimeoutError) as exc:
                last = exc
            if wait is not None:
                await asyncio.sleep(wait)
        log.error("cannot %s in Redis after %d tries: %s", what, len(READ_TRIES) + 1, last)
        raise RedisTrouble(f"{what}: {last}")

    async def lookup(self, nameplate: str) -> SessionRecord | None:
        """The session's record (None: no such session). RedisTrouble if Redis did not answer."""
        fields = await self._read("read a session", lambda: self._redis.hgetall(session_key(nameplate)))
        return SessionRecord.from_redis(nameplate, fields)

    async def take_over(self, nameplate: str, lost_home: str) -> bool:
        """Make this node the home of a session whose home ``lost_home`` is gone (atomic).
        False if another node did first; RedisTrouble if Redis did not answer."""
        return bool(await self._read("take a session over", lambda: self._scripts["take_over"](
            keys=[session_key(nameplate)], args=[lost_home, self.node_id, self.record_ttl])))

    async def alive(self, node_id: str) -> bool:
        """Whether ``node_id`` wrote its liveness key lately (cached for half a second)."""
        if node_id == self.node_id:
            return True
        now = time.monotonic()
        cached = self._alive_cache.get(node_id)
        if cached is not None and now - cached[0] < 0.5:
            return cached[1]
        try:
            alive = bool(await self._redis.exists(alive_key(node_id)))
        except RedisError:
            return True  # Redis trouble is not evidence that a node died
        self._alive_cache[node_id] = (now, alive)
        if len(self._alive_cache) > 1024:
            self._alive_cache.clear()
        return alive

    # ---- messages to other nodes ----

    def send(self, node_id: str, kind: int, conn_id: int, payload: bytes) -> None:
        buf = self._out.get(node_id)
        if buf is None:
            buf = self._out[node_id] = bytearray(self._head)
            self._wake.set()
        buf += _pack(kind, conn_id, len(payload))
        buf += payload

    def publish_queue(self, message: bytes) -> None:
        """A message for every node's help queue (this one's too: receivers skip their own)."""
        self._queue_out.append(message)
        self._wake.set()

    def backlog(self, node_id: str) -> int:
        """Bytes waiting to be published to ``node_id``."""
        buf = self._out.get(node_id)
        return len(buf) if buf is not None else 0

    async def drained(self, node_id: str) -> None:
        """Wait while more than HIGH_WATER bytes are queued for ``node_id``."""
        while len(self._out.get(node_id, b"")) > HIGH_WATER:
            self._drained.clear()
            await self._drained.wait()

    def _op(self, script: str, keys: tuple[str, ...], args: tuple[Any, ...]) -> None:
        self._ops.append((script, keys, args))
        self._wake.set()

    async def _flush(self) -> None:
        ops, self._ops = self._ops, []
        out, self._out = self._out, {}
        queue_out, self._queue_out = self._queue_out, []
        if not ops and not out and not queue_out:
            return
        pipe = self._redis.pipeline(transaction=False)
        for script, keys, args in ops:
            await self._scripts[script](keys=keys, args=args, client=pipe)
        for node_id, buf in out.items():
            pipe.publish(channel(node_id), bytes(buf))
        for message in queue_out:
            pipe.publish(QUEUE_CHANNEL, message)
        self.published += len(out)
        self._drained.set()
        await pipe.execute()

    async def _writer(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                await self._flush()
                self._fine("write")
            except (RedisError, OSError) as exc:
                self._trouble("write", " (frames between nodes were lost)", exc)
                await asyncio.sleep(0.2)

    async def _reader(self) -> None:
        while True:
            try:
                async for message in self._pubsub.listen():
                    if not self.outages["subscription"].ok:  # the first answer after resubscribing
                        self._fine("subscription")
                    if message.get("type") != "message":
                        continue
                    if message.get("channel") in (QUEUE_CHANNEL, QUEUE_CHANNEL.encode()):
                        if self.on_queue is not None:
                            self.on_queue(message["data"])
                        continue
                    self.received += 1
                    await self._on_batch(message["data"])
            except (RedisError, OSError) as exc:
                self._trouble("subscription", ", retrying", exc)
                await asyncio.sleep(0.5)
                try:
                    await self._pubsub.subscribe(channel(self.node_id), QUEUE_CHANNEL)
                except (RedisError, OSError):
                    pass
            except Exception:  # pragma: no cover - a bug must not stop forwarding for good
                log.exception("a batch from another node failed")

    async def _rewrite(self, lost: list[str]) -> None:
        """Records of live sessions Redis no longer has (it restarted empty): reserved and
        written again, so other nodes find their home. One another node took meanwhile
        stays theirs (logged: that nameplate is now ambiguous until one session ends)."""
        for nameplate in lost:
            fields = self._export(nameplate) if self._export is not None else None
            if fields is None:
                continue
            if await self._scripts["reserve"](keys=[session_key(nameplate)], args=[self.node_id, self.record_ttl]):
                self.save(nameplate, fields)
            else:
                log.warning("session record %s was lost by Redis and taken by another node", nameplate)
        if lost:
            log.warning("Redis had lost %d session record(s) of this node: written again", len(lost))

    async def refresh_records(self) -> None:
        """Renew the records of this node's live sessions and write again those Redis lost."""
        pipe = self._redis.pipeline(transaction=False)
        live = list(self._live_nameplates())
        for nameplate in live:
            pipe.expire(session_key(nameplate), self.record_ttl)
        kept = await pipe.execute()
        await self._rewrite([n for n, ok in zip(live, kept) if not ok])

    async def renew_records(self) -> None:
        """``refresh_records`` now, its failure logged (the heartbeat tries again anyway)."""
        try:
            await self.refresh_records()
        except (RedisError, OSError) as exc:
            log.warning("could not renew this node's session records in Redis: %s", exc)

    async def _beat(self) -> None:
        """The liveness key, and Redis's epoch: a random value the first node to find it missing
        sets; a node that sees it change knows Redis restarted empty (it may not have failed a
        single call: a restart is over within a heartbeat)."""
        pipe = self._redis.pipeline(transaction=False)
        pipe.set(alive_key(self.node_id), b"1", px=ALIVE_MS)
        pipe.set(EPOCH_KEY, secrets.token_hex(8), nx=True)
        pipe.get(EPOCH_KEY)
        epoch = (await pipe.execute())[2]
        if self._epoch is not None and epoch != self._epoch:
            self._troubled_at = time.monotonic()
            self._restarted = True
            log.warning("Redis restarted empty: this node writes its session records again")
        self._epoch = epoch

    async def _heartbeat(self) -> None:
        next_refresh = time.monotonic() + REFRESH
        while True:
            await asyncio.sleep(HEARTBEAT)
            try:
                await self._beat()
                if time.monotonic() >= next_refresh or not self.outages["heartbeat"].ok or self._restarted:
                    self._restarted = False  # Redis back (or restarted empty): at once
                    next_refresh = time.monotonic() + REFRESH
                    await self.refresh_records()
                self._fine("heartbeat")
            except (RedisError, OSError) as exc:
                self._trouble("heartbeat", "", exc)

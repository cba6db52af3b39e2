"""A malicious relay for end-to-end tests: a proxy in front of the real relay that the test drives.

Every client connects to the adversary, which opens its own connection to the real relay
and forwards every frame both ways, so the real relay still does the routing. On the way it
can do what a hostile relay operator could do:

- record every byte of every frame, both directions, text and binary (``recording``);
- per direction (``"agent->customer"`` / ``"customer->agent"``), on the next sealed DATA
  frame the sender emits: ``tamper_next`` (flip one ciphertext byte), ``hold_next`` (send it
  after the DATA frame that follows it: a reorder), ``drop_next``; and ``replay_last``
  (send the last forwarded DATA frame again);
- ``flood`` (relay -> one client): send it frames of the adversary's choosing, many times, at
  the rate its socket takes them (a replayed sealed frame, garbage, maximum-size frames, the
  relay's own JSON): the client must stay bounded in memory, CPU and what it reports;
- ``mitm``: forward no binary frame between the sides; instead run its own
  :class:`~cobrowse.protocol.session.Session` with each side, as the opposite role, on a
  guessed secret (it learns the nameplate from the relay's replies, never the secret);
  ``silent_to`` makes the fake facing one side stall, so that side learns of the failure
  only from the relay's ``closed`` (the order a slow side sees anyway).

Each arm method returns a future that resolves to the sequence number of the frame it
acted on, so a test can wait until the attack really happened.
"""

from __future__ import annotations

import asyncio
import json
import os
import struct
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from cobrowse.crypto.channel import DATA, DATA_ACKED
from cobrowse.errors import SecurityError
from cobrowse.protocol.session import Session
from cobrowse.wire.code import Code

DIRECTIONS = ("agent->customer", "customer->agent")
HEADER = struct.Struct(">BQ")  # kind, seq: the authenticated header of a sealed frame
TAG_BYTES = 16
OTHER = {"agent": "customer", "customer": "agent"}


def is_data(frame: bytes) -> bool:
    return len(frame) >= HEADER.size + TAG_BYTES and frame[0] in (DATA, DATA_ACKED)  # DATA_ACKED: an ACK rides inside


def seq_of(frame: bytes) -> int:
    return HEADER.unpack_from(frame)[1]


@dataclass(frozen=True)
class Recorded:
    role: str | None  # whose connection the frame crossed
    leg: str  # "up": client -> relay; "down": relay -> client
    data: bytes  # text frames are recorded as their UTF-8 bytes
    text: bool


@dataclass
class _Direction:
    """The attacks armed on one direction, and what went through it."""

    tamper: list[asyncio.Future[int]] = field(default_factory=list)
    hold: list[asyncio.Future[int]] = field(default_factory=list)
    drop: list[asyncio.Future[int]] = field(default_factory=list)
    held: bytes | None = None
    held_done: asyncio.Future[int] | None = None
    last_data: bytes | None = None
    data_frames: int = 0


class _Conn:
    """One client connection and its own connection to the real relay."""

    def __init__(self, client: ServerConnection, relay: ClientConnection) -> None:
        self.client = client
        self.relay = relay
        self.role: str | None = None
        self.fake: Session | None = None
        self.fake_errors: list[SecurityError] = []
        self._client_lock = asyncio.Lock()

    async def to_client(self, data: str | bytes) -> None:
        async with self._client_lock:
            await self.client.send(data)


class Adversary:
    """The malicious relay. ``async with Adversary(relay_url) as adv:`` then use ``adv.url``."""

    def __init__(self, relay_url: str, *, mitm: bool = False, guessed_secret: str = "12345678",
                 silent_to: tuple[str, ...] = ()) -> None:
        self.relay_url = relay_url
        self.mitm = mitm
        self.silent_to = silent_to  # MITM: the fakes facing these roles never answer (a stall)
        self.guessed_secret = guessed_secret
        self.recording: list[Recorded] = []
        self.nameplate: str | None = None
        self.fakes: dict[str, Session] = {}  # the role of the real side -> the fake talking to it
        self.fake_errors: dict[str, list[SecurityError]] = {"agent": [], "customer": []}
        self._dirs = {d: _Direction() for d in DIRECTIONS}
        self._roles_by_side: dict[str, str] = {}
        self._conns: dict[str, _Conn] = {}  # the current connection of each role
        self._server: Server | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self.port = 0

    # lifecycle

    async def __aenter__(self) -> "Adversary":
        self._server = await serve(self._handle, "127.0.0.1", 0, compression=None, max_size=None,
                                   ping_interval=None)
        self.port = next(iter(self._server.sockets)).getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        try:
            async with asyncio.timeout(5):
                await self._server.wait_closed()
        except TimeoutError:
            pass

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    # what a test reads

    def raw(self) -> bytes:
        """Every byte the adversary saw, concatenated."""
        return b"".join(r.data for r in self.recording)

    def binary_frames(self) -> list[bytes]:
        return [r.data for r in self.recording if not r.text]

    def text_frames(self) -> list[str]:
        return [r.data.decode() for r in self.recording if r.text]

    def data_frames(self, direction: str) -> int:
        """How many DATA frames the sender of ``direction`` has emitted so far."""
        return self._dirs[direction].data_frames

    # attacks (each returns a future: the seq of the frame it acted on)

    def tamper_next(self, direction: str) -> asyncio.Future[int]:
        return self._arm(self._dirs[direction].tamper)

    def hold_next(self, direction: str) -> asyncio.Future[int]:
        return self._arm(self._dirs[direction].hold)

    def drop_next(self, direction: str) -> asyncio.Future[int]:
        return self._arm(self._dirs[direction].drop)

    async def replay_last(self, direction: str) -> int:
        """Send the last DATA frame already forwarded in ``direction`` once more."""
        d = self._dirs[direction]
        sender = self._conns.get(direction.split("->")[0])
        if d.last_data is None or sender is None:
            raise AssertionError(f"nothing to replay in {direction}")
        frame = d.last_data
        self._record(sender.role, "up", frame)
        await sender.relay.send(frame)
        return seq_of(frame)

    def last_data(self, direction: str) -> bytes:
        """The last DATA frame forwarded in ``direction`` (to replay it in a flood)."""
        frame = self._dirs[direction].last_data
        if frame is None:
            raise AssertionError(f"no DATA frame went {direction} yet")
        return frame

    async def flood(self, role: str, frame: str | bytes, count: int) -> int:
        """Send ``frame`` ``count`` times to ``role``'s client, as fast as its socket takes
        them (not recorded: a flood would fill the recording); return how many went out
        before the client's connection closed."""
        conn = self._conns.get(role)
        if conn is None:
            raise AssertionError(f"no {role} connected")
        sent = 0
        try:
            for _ in range(count):
                await conn.to_client(frame)
                sent += 1
        except ConnectionClosed:
            pass
        return sent

    @staticmethod
    def _arm(queue: list[asyncio.Future[int]]) -> asyncio.Future[int]:
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        queue.append(future)
        return future

    # the proxy

    def _record(self, role: str | None, leg: str, data: str | bytes) -> None:
        if isinstance(data, str):
            self.recording.append(Recorded(role, leg, data.encode(), True))
        else:
            self.recording.append(Recorded(role, leg, bytes(data), False))

    async def _handle(self, client: ServerConnection) -> None:
        try:
            relay = await connect(self.relay_url, compression=None, proxy=None, max_size=None,
                                  ping_interval=None, open_timeout=10)
        except (OSError, TimeoutError):
            await client.close(1011, "adversary: relay unreachable")
            return
        conn = _Conn(client, relay)
        up = asyncio.create_task(self._pump_up(conn))
        down = asyncio.create_task(self._pump_down(conn))
        try:
            await asyncio.wait({up, down}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (up, down):
                task.cancel()
            await asyncio.gather(up, down, return_exceptions=True)
            code = relay.close_code if relay.close_code is not None else 1000
            await relay.close()
            try:
                await client.close(code if code not in (1005, 1006) else 1000, relay.close_reason or "")
            except ConnectionClosed:
                pass
            if conn.role is not None and self._conns.get(conn.role) is conn:
                del self._conns[conn.role]

    async def _pump_up(self, conn: _Conn) -> None:
        """Client -> relay."""
        try:
            async for message in conn.client:
                self._record(conn.role, "up", message)
                if isinstance(message, str):
                    self._learn_role(conn, message)
                    await conn.relay.send(message)
                elif self.mitm:
                    await self._feed_fake(conn, message)
                else:
                    await self._forward_binary(conn, message)
        except ConnectionClosed:
            pass

    async def _pump_down(self, conn: _Conn) -> None:
        """Relay -> client."""
        try:
            async for message in conn.relay:
                self._record(conn.role, "down", message)
                if isinstance(message, bytes) and self.mitm:
                    continue  # nothing crosses between the real sides
                await conn.to_client(message)
                if isinstance(message, str):
                    await self._learn_reply(conn, message)
        except ConnectionClosed:
            pass

    def _learn_role(self, conn: _Conn, text: str) -> None:
        try:
            obj = json.loads(text)
        except ValueError:
            return
        if not isinstance(obj, dict):
            return
        if obj.get("type") in ("open", "claim") and obj.get("role") in OTHER:
            conn.role = obj["role"]
        elif obj.get("type") == "resume":
            conn.role = self._roles_by_side.get(str(obj.get("side")))
        if conn.role is not None:
            self._conns[conn.role] = conn

    async def _learn_reply(self, conn: _Conn, text: str) -> None:
        try:
            obj = json.loads(text)
        except ValueError:
            return
        if not isinstance(obj, dict):
            return
        kind = obj.get("type")
        if kind in ("opened", "claimed") and conn.role is not None:
            self.nameplate = str(obj.get("nameplate"))
            self._roles_by_side[str(obj.get("side"))] = conn.role
        if self.mitm and conn.role is not None and (
            (kind == "peer" and obj.get("state") in ("joined", "back"))
            or (kind == "resumed" and obj.get("peer"))
        ):
            fake = self._fake_for(conn)
            fake.peer_joined(asyncio.get_running_loop().time())
            await self._flush_fake(conn)

    # MITM: one fake Session per real side

    def _fake_for(self, conn: _Conn) -> Session:
        assert conn.role is not None and self.nameplate is not None
        fake = self.fakes.get(conn.role)
        if fake is None:
            fake = Session(OTHER[conn.role], Code(self.nameplate, self.guessed_secret), os.urandom)
            self.fakes[conn.role] = fake
        conn.fake = fake
        return fake

    async def _feed_fake(self, conn: _Conn, frame: bytes) -> None:
        if conn.role is None or self.nameplate is None:
            return
        fake = self._fake_for(conn)
        try:
            fake.receive_data(frame, asyncio.get_running_loop().time())
        except SecurityError as exc:
            self.fake_errors[conn.role].append(exc)
        await self._flush_fake(conn)

    async def _flush_fake(self, conn: _Conn) -> None:
        assert conn.fake is not None
        frames = conn.fake.data_to_send()
        if conn.role in self.silent_to:
            return
        for frame in frames:
            self._record(conn.role, "down", frame)
            await conn.to_client(frame)

    # active attacks on sealed frames

    async def _forward_binary(self, conn: _Conn, frame: bytes) -> None:
        if conn.role is None or not is_data(frame):
            await conn.relay.send(frame)
            return
        d = self._dirs[f"{conn.role}->{OTHER[conn.role]}"]
        d.data_frames += 1
        seq = seq_of(frame)
        if d.drop:
            _resolve(d.drop.pop(0), seq)
            return
        if d.tamper:
            body = bytearray(frame)
            body[HEADER.size] ^= 0x01  # the first ciphertext byte
            frame = bytes(body)
            self._record(conn.role, "up", frame)
            await conn.relay.send(frame)
            _resolve(d.tamper.pop(0), seq)
            return
        if d.held is None and d.hold:
            d.held, d.held_done = frame, d.hold.pop(0)
            return
        await conn.relay.send(frame)
        d.last_data = frame
        if d.held is not None:
            held, done = d.held, d.held_done
            d.held, d.held_done = None, None
            await conn.relay.send(held)
            d.last_data = held
            if done is not None:
                _resolve(done, seq_of(held))


def _resolve(future: asyncio.Future[int], value: int) -> None:
    if not future.done():
        future.set_result(value)

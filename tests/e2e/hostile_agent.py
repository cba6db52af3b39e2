"""A hostile agent for end-to-end tests: a modified agent client the test scripts.

It opens a session on a real relay (127.0.0.1), pairs with a real customer through the
real PAKE (:class:`~cobrowse.protocol.session.Session` over :class:`~cobrowse.io.link.RelayLink`)
and then sends whatever a scammer's patched client could send, all properly sealed, so the
customer's cobrowse must judge it on content alone:

- any :mod:`cobrowse.protocol.messages` message with any field values (``send``), at any
  rate (``flood``);
- raw payloads: arbitrary bytes after the encoding byte, JSON the decoder never produced,
  wrong field types, unknown types, deep nesting (``raw``, ``raw_json``);
- zlib bombs: a few KB on the wire that inflate to MBs (``bomb``).

What the customer answers is kept (``received``) and can be awaited (``expect``). Nothing
here is a mock: the relay, the handshake, the sealing and the customer are the real ones;
only the agent's client is replaced.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import os
import secrets
import time
import zlib
from collections.abc import Callable, Iterable
from typing import Any

from cobrowse.io.link import Frame, LinkEnded, PeerChanged, RelayLink, Resumed
from cobrowse.protocol import messages as m
from cobrowse.protocol.session import Integrity, Paired, Received, Session
from cobrowse.screen.sync import ScreenMirror
from cobrowse.wire.code import Code, new_secret, parse_code

WAIT = 20.0
TICK = 0.05

Check = Callable[[m.AppMessage], bool]


class HostileSession(Session):
    """The real session machine, plus sealing of payloads the encoder would never produce."""

    def send_payload(self, payload: bytes, now: float) -> None:
        channel = self._channel
        if channel is None or self.state != "paired":
            raise RuntimeError("not paired yet: nothing can be sealed")
        unbounded(channel)
        self._outbox.append(seal_now(channel, payload, now))


def unbounded(channel: Any) -> None:
    """An attacker need not honour its own send window: every frame goes out at once."""
    channel.max_unacked_frames = channel.max_unacked_bytes = channel.max_held_bytes = 1 << 40


def seal_now(channel: Any, payload: bytes, now: float) -> bytes:
    frame = channel.seal(payload, now)
    assert frame is not None, "the hostile channel held a frame"
    return frame


def zlib_payload(body: bytes) -> bytes:
    """A payload in the compressed encoding (``0x01`` + zlib), whatever ``body`` is."""
    return bytes([m.ZLIB]) + zlib.compress(body, 9)


@functools.cache
def bomb_payload(inflated: int = 4 * 1024 * 1024 - 64, kind: str = "chat", field: str = "text") -> bytes:
    """A sealed-size-KB payload that inflates to ``inflated`` bytes of valid-looking JSON.
    Made once: compressing 4 MB takes the attacker ~11 ms, which must not be charged to the
    customer when the attacker runs on the same machine (bench/hostile_agent.py)."""
    head = json.dumps({"t": kind, field: ""})[:-2].encode()  # '{"t": "chat", "text": "'
    filler = max(0, inflated - len(head) - 2)
    return zlib_payload(head + b"A" * filler + b'"}')


class HostileAgent:
    """``agent = await HostileAgent.open(relay_url)``; give ``agent.code`` to a customer;
    ``await agent.paired()``; then ``send``/``flood``/``raw``/``bomb`` and ``expect``."""

    def __init__(self, link: RelayLink, code: Code, *, name: str, hello: bool) -> None:
        self.link = link
        self.code = code
        self.name = name
        self.hello = hello
        self.session = HostileSession("agent", code, os.urandom)
        self.received: list[m.AppMessage] = []
        self.integrity: list[Integrity] = []
        self.sas: str | None = None
        self.ended: LinkEnded | None = None
        self.frames_sent = 0
        self.bytes_sent = 0
        self.mirror = ScreenMirror()
        self._paired = asyncio.Event()
        self._changed = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        self._tasks: list[asyncio.Task[None]] = []

    # lifecycle

    @classmethod
    async def open(cls, relay_url: str, *, name: str = "Alice", hello: bool = True) -> HostileAgent:
        """Create a session on the relay; ``hello=False`` never says hello (the customer
        then shows no agent name at all)."""
        link = RelayLink(relay_url, "agent", None, reconnect_for=5.0)
        nameplate = await link.open()
        agent = cls(link, Code(nameplate, new_secret(secrets.randbelow)), name=name, hello=hello)
        agent._start()
        return agent

    @classmethod
    async def invited(cls, relay_url: str, invite_code: str, *, name: str) -> HostileAgent:
        """Join a team with a real invitation (a patched client: it says hello, then anything),
        paired with the customer, who has only been asked, not answered yet."""
        code = parse_code(invite_code)
        link = RelayLink(relay_url, "agent", None, reconnect_for=5.0)
        await link.claim(code.nameplate)
        link.confirm = None  # type: ignore[method-assign,assignment]  # only the creator confirms a claim
        agent = cls(link, code, name=name, hello=True)
        agent._start()
        await agent.paired()
        return agent

    def _start(self) -> None:
        self._tasks = [asyncio.create_task(self.link.run(), name="hostile-link"),
                       asyncio.create_task(self._pump(), name="hostile-pump"),
                       asyncio.create_task(self._ticker(), name="hostile-ticker")]

    async def close(self, reason: str = "agent_ended") -> None:
        """Leave without an ``End``: the relay closes the session."""
        await self.link.close(reason)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    @property
    def now(self) -> float:
        return self._loop.time()

    async def paired(self, timeout: float = WAIT) -> str:
        """Wait until the PAKE succeeded with the customer; the SAS."""
        try:
            async with asyncio.timeout(timeout):
                await self._paired.wait()
        except TimeoutError:
            raise AssertionError(f"hostile agent: not paired in {timeout}s (ended: {self.ended})") from None
        assert self.sas is not None
        return self.sas

    # sending: everything goes out sealed, in order, as fast as the socket takes it

    async def send(self, message: m.AppMessage) -> None:
        self.session.send(message, self.now)
        await self._flush()

    async def raw(self, payload: bytes) -> None:
        """Seal ``payload`` as it is (encoding byte included) and send it."""
        self.session.send_payload(payload, self.now)
        await self._flush()

    async def raw_json(self, obj: Any, *, compress: bool = False) -> None:
        """Any JSON value as a payload, bypassing the message classes' encoder."""
        body = json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8", "surrogatepass")
        await self.raw(zlib_payload(body) if compress else bytes([m.PLAIN]) + body)

    async def bomb(self, inflated: int = 4 * 1024 * 1024 - 64, kind: str = "chat", field: str = "text") -> int:
        """One small sealed message that inflates to ``inflated`` bytes; its size on the wire."""
        payload = bomb_payload(inflated, kind, field)
        await self.raw(payload)
        return len(payload)

    async def flood(self, message: m.AppMessage | Callable[[int], m.AppMessage], n: int, *,
                    rate: float | None = None, batch: int = 50) -> None:
        """Send ``n`` messages (the same one, or ``message(i)``), at most ``rate`` a second."""
        started = self.now
        for i in range(n):
            self.session.send(message(i) if callable(message) else message, self.now)
            if (i + 1) % batch == 0 or i == n - 1:
                await self._flush()
                if rate is not None:
                    ahead = started + (i + 1) / rate - self.now
                    if ahead > 0:
                        await asyncio.sleep(ahead)

    async def flood_raw(self, payloads: Iterable[bytes], *, batch: int = 50) -> int:
        count = 0
        for payload in payloads:
            self.session.send_payload(payload, self.now)
            count += 1
            if count % batch == 0:
                await self._flush()
        await self._flush()
        return count

    # what the customer said

    def all(self, kind: type[m.AppMessage]) -> list[Any]:
        return [message for message in self.received if isinstance(message, kind)]

    async def expect(self, kind: type[m.AppMessage], check: Callable[[Any], bool] = lambda _: True, *,
                     after: int = 0, timeout: float = WAIT) -> Any:
        """The first message of ``kind`` (received at index ``after`` or later) passing ``check``."""
        try:
            async with asyncio.timeout(timeout):
                while True:
                    self._changed.clear()
                    for message in self.received[after:]:
                        if isinstance(message, kind) and check(message):
                            return message
                    if self.ended is not None:
                        raise AssertionError(f"hostile agent: session ended ({self.ended}) before a {kind.t}")
                    await self._changed.wait()
        except TimeoutError:
            seen = [message.t for message in self.received[after:]][-20:]
            raise AssertionError(f"hostile agent: no {kind.t} from the customer in {timeout}s; got {seen}") from None

    async def settle(self, quiet: float = 0.5, timeout: float = WAIT) -> None:
        """Wait (bounded) until the customer sent nothing but screens and pings for ``quiet`` s."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            before = len([x for x in self.received if not isinstance(x, (m.Screen, m.Ping, m.Pong))])
            await asyncio.sleep(quiet)
            if len([x for x in self.received if not isinstance(x, (m.Screen, m.Ping, m.Pong))]) == before:
                return
        raise AssertionError(f"hostile agent: the customer never went quiet in {timeout}s")

    def screen_lines(self) -> list[str]:
        """The customer's screen as the agent's real mirror rebuilds it from the frames."""
        state = self.mirror.state
        return state.lines() if state is not None else []

    async def screen(self, predicate: Callable[[list[str]], bool], timeout: float = WAIT) -> list[str]:
        """Wait (bounded) until the mirrored screen satisfies ``predicate``; its lines."""
        try:
            async with asyncio.timeout(timeout):
                while True:
                    self._changed.clear()
                    lines = self.screen_lines()
                    if lines and predicate(lines):
                        return lines
                    await self._changed.wait()
        except TimeoutError:
            raise AssertionError(f"hostile agent: screen never matched in {timeout}s; last: {self.screen_lines()}") from None

    # internals

    async def _flush(self) -> None:
        for frame in self.session.data_to_send():
            self.frames_sent += 1
            self.bytes_sent += len(frame)
            await self.link.send(frame)

    async def _pump(self) -> None:
        while True:
            item = await self.link.items.get()
            if isinstance(item, Frame):
                with contextlib.suppress(Exception):  # the customer's frames are not under test
                    self.session.receive_data(item.data, self.now)
            elif isinstance(item, PeerChanged):
                if item.state == "left":
                    self.session.peer_left()
                else:
                    self.session.peer_joined(self.now)
            elif isinstance(item, Resumed) and item.peer:
                self.session.peer_joined(self.now)
            elif isinstance(item, LinkEnded):
                self.ended = item
                self._changed.set()
                return
            await self._flush()
            for event in self.session.events_received():
                if isinstance(event, Paired):
                    self.sas = event.sas
                    confirm = getattr(self.link, "confirm", None)  # relays that hold a claim on probation
                    if confirm is not None:
                        await confirm()  # as a real agent does: the claim stands
                    if self.hello:
                        self.session.send(m.Hello("agent", "cobrowse hostile", self.name), self.now)
                    self._paired.set()
                elif isinstance(event, Received):
                    self.received.append(event.message)
                    if isinstance(event.message, m.Screen):
                        with contextlib.suppress(Exception):
                            self.mirror.apply_dict(event.message.frame)
                    if isinstance(event.message, m.Ping):
                        self.session.send(m.Pong(event.message.id), self.now)
                elif isinstance(event, Integrity):
                    self.integrity.append(event)
            await self._flush()
            self._changed.set()

    async def _ticker(self) -> None:
        while True:
            await asyncio.sleep(TICK)
            self.session.tick(self.now)
            await self._flush()


class PtyCustomer:
    """``cobrowse join CODE --plain`` on a real terminal: its stdin, stdout and stderr are a
    pty's slave, which is its controlling terminal (it is a session leader, as in a terminal
    window), so closing ``master`` is what closing the window does: a hang-up."""

    def __init__(self, proc: asyncio.subprocess.Process, master: int) -> None:
        self.proc = proc
        self.master: int | None = master
        self.output = bytearray()
        self._changed = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(master, self._read)

    @classmethod
    async def start(cls, relay_url: str, code: str, *, command: str = "bash --norc --noprofile", plain: bool = True,
                    cols: int = 100, rows: int = 30, env: dict[str, str] | None = None,
                    cwd: str | None = None) -> PtyCustomer:
        import fcntl
        import struct
        import sys
        import termios

        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

        def controlling_tty() -> None:  # in the child, after setsid
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        full_env = {**os.environ, "PYTHONUNBUFFERED": "1", "COBROWSE_CONFIG": os.devnull, "PS1": "$ ",
                    "TERM": "xterm-256color", **(env or {})}
        full_env.pop("COBROWSE_RELAY", None)
        args = ["-m", "cobrowse", "join", code, "--relay", relay_url, "--command", command, *(["--plain"] if plain else [])]
        proc = await asyncio.create_subprocess_exec(sys.executable, *args, stdin=slave, stdout=slave, stderr=slave,
                                                    env=full_env, cwd=cwd, start_new_session=True,
                                                    preexec_fn=controlling_tty)
        os.close(slave)
        return cls(proc, master)

    def _read(self) -> None:
        assert self.master is not None
        try:
            data = os.read(self.master, 65536)
        except OSError:
            data = b""
        if not data:
            self._loop.remove_reader(self.master)
        self.output.extend(data)
        self._changed.set()

    def type(self, data: bytes) -> None:
        """Keys on the customer's own keyboard."""
        assert self.master is not None
        os.write(self.master, data)

    async def wait_for(self, needle: bytes, *, since: int = 0, timeout: float = WAIT) -> int:
        """Wait (bounded) until ``needle`` shows on the customer's terminal after offset
        ``since``; the offset just past it."""
        try:
            async with asyncio.timeout(timeout):
                while True:
                    self._changed.clear()
                    at = self.output.find(needle, since)
                    if at >= 0:
                        return at + len(needle)
                    await self._changed.wait()
        except TimeoutError:
            tail = bytes(self.output[-600:]).decode(errors="replace")
            raise AssertionError(f"customer terminal: no {needle!r} in {timeout}s; last output: {tail!r}") from None

    def close_terminal(self) -> None:
        """Close the window: the master side goes away (the customer's side gets a hang-up)."""
        if self.master is not None:
            self._loop.remove_reader(self.master)
            os.close(self.master)
            self.master = None

    async def wait_exit(self, timeout: float = WAIT) -> int:
        try:
            async with asyncio.timeout(timeout):
                return await self.proc.wait()
        except TimeoutError:
            raise AssertionError(f"cobrowse join still running {timeout}s later") from None

    async def stop(self) -> None:
        if self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()
        self.close_terminal()

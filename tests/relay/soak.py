"""A relay restart under load, with real processes: the harness the soak test and
bench/relay_restart.py share.

A ``python -m relay`` process on a fixed loopback port and its own data directory; N paired
sessions of in-process client runtimes (the real RelayLink, Session and SessionRuntime the
apps use) chatting every second both ways; at ``kill_at`` the relay is killed with SIGKILL
and started again on the same port and data directory (or, with two nodes, one node is
killed for good); at ``run_to`` sending stops and every message must arrive exactly once, in
order, with no session ended. Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cobrowse.io.link import RelayLink, Resumed
from cobrowse.io.runtime import SessionRuntime
from cobrowse.policy.events import as_json
from cobrowse.protocol import messages as m

ROOT = Path(__file__).resolve().parents[2]
#: Admission limits sized for one test address standing for many clients (docs/relay.md).
LOAD_FLAGS = ("--open-burst", "100000", "--open-rate", "1000", "--connect-burst", "100000", "--connect-rate", "1000",
              "--connections-per-address", "100000", "--unpaired-per-address", "100000", "--max-unpaired", "100000")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RelayProc:
    """``python -m relay`` on a fixed port with a data directory, killed and restarted at will."""

    def __init__(self, data_dir: Path, *extra: str, port: int | None = None, name: str = "relay") -> None:
        self.port = port or free_port()
        self.data_dir = data_dir
        self.extra = extra
        self.name = name
        self.log = data_dir / f"{name}-{self.port}.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = f"ws://127.0.0.1:{self.port}"

    def start(self, timeout: float = 20.0) -> float:
        """Start and wait until it listens; return when it did (time.monotonic())."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("COBROWSE_RELAY")}
        env["COBROWSE_DATA_DIR"] = str(self.data_dir)
        env["PYTHONPATH"] = str(ROOT)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        offset = self.log.stat().st_size if self.log.exists() else 0
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "relay", "--host", "127.0.0.1", "--port", str(self.port),
                 "--token-store", os.devnull, *LOAD_FLAGS, *self.extra],
                cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log,
            )
        deadline = time.monotonic() + timeout
        while b"listening on" not in self.log.read_bytes()[offset:]:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise AssertionError(f"{self.name} did not start: {self.text()[-2000:]}")
            time.sleep(0.02)
        return time.monotonic()

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def terminate(self) -> int:
        """SIGTERM, as systemd or Docker stop it; the exit status."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


class ChatSide(SessionRuntime):
    """A side that only chats: what it received, in order, and its connection events."""

    def __init__(self, link: RelayLink, role: str) -> None:
        self.role = role
        self.got: list[str] = []
        self.events: list[dict[str, Any]] = []
        self.resumed_at: list[float] = []
        super().__init__(link, self._emit, name=role)

    def _emit(self, event: Any) -> None:
        self.events.append(as_json(event))  # typed events (the runtime's), in the headless shape

    async def on_message(self, message: m.AppMessage) -> None:
        if isinstance(message, m.Chat):
            self.got.append(message.text)

    async def _handle(self, item: object) -> None:
        if isinstance(item, Resumed):
            self.resumed_at.append(time.monotonic())
        await super()._handle(item)


@dataclass
class Pair:
    agent: ChatSide
    customer: ChatSide
    sent: dict[str, list[str]] = field(default_factory=lambda: {"agent": [], "customer": []})
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)


@dataclass
class SoakResult:
    sessions: int
    sent: int
    lost: int
    duplicated: int
    ended: int
    resume_s: list[float]  # per session: restart (listening) -> both sides resumed
    ended_reasons: list[str]
    logs: str = ""  # the surviving relay's log, for a failure's message

    def percentile(self, p: float) -> float | None:
        if not self.resume_s:
            return None
        values = sorted(self.resume_s)
        return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


async def pair_up(agent_url: str, customer_url: str, n: int) -> list[Pair]:
    """``n`` paired sessions (agent creates, customer joins), hellos exchanged."""
    async def one() -> Pair:
        agent = ChatSide(RelayLink(agent_url, "agent"), "agent")
        code = await agent.create()
        customer = ChatSide(RelayLink(customer_url, "customer"), "customer")
        await customer.join(code)
        pair = Pair(agent, customer)
        pair.tasks = [asyncio.create_task(agent.run()), asyncio.create_task(customer.run())]
        return pair

    pairs: list[Pair] = []
    for start in range(0, n, 20):  # a few at a time: the relay's CPU is shared with the clients
        pairs += await asyncio.gather(*(one() for _ in range(min(20, n - start))))
    async with asyncio.timeout(60):
        while not all(p.agent.peer is not None and p.customer.peer is not None for p in pairs):
            await asyncio.sleep(0.1)
    return pairs


async def chat(pairs: list[Pair], until: float, every: float = 1.0) -> None:
    """Every side of every session sends one chat per ``every`` seconds until ``until``."""
    n = 0
    while time.monotonic() < until:
        for i, pair in enumerate(pairs):
            for side in (pair.agent, pair.customer):
                if side.outcome is None and side.session is not None:
                    text = f"{side.role}-{i}-{n}"
                    pair.sent[side.role].append(text)
                    await side.send(m.Chat(text))
        n += 1
        await asyncio.sleep(max(0.0, min(every, until - time.monotonic())))


def delivered(pairs: list[Pair]) -> bool:
    return all(p.customer.got == p.sent["agent"] and p.agent.got == p.sent["customer"]
               for p in pairs if p.agent.outcome is None and p.customer.outcome is None)


def tally(pairs: list[Pair], restarted_at: float | None) -> SoakResult:
    sent = lost = duplicated = 0
    resume: list[float] = []
    reasons: list[str] = []
    for p in pairs:
        for receiver, sender in ((p.customer, "agent"), (p.agent, "customer")):
            wanted = p.sent[sender]
            sent += len(wanted)
            got = receiver.got
            lost += len(set(wanted) - set(got))
            duplicated += len(got) - len(set(got))
        for side in (p.agent, p.customer):
            if side.outcome is not None:
                reasons.append(side.outcome.reason)
        if restarted_at is not None and p.agent.resumed_at and p.customer.resumed_at:
            resume.append(max(p.agent.resumed_at[-1], p.customer.resumed_at[-1]) - restarted_at)
    ended = sum(1 for p in pairs if p.agent.outcome is not None or p.customer.outcome is not None)
    return SoakResult(len(pairs), sent, lost, duplicated, ended, resume, reasons)


async def close_all(pairs: list[Pair]) -> None:
    for p in pairs:
        for side in (p.agent, p.customer):
            side.finish("test_over", "", 0)
    tasks = [t for p in pairs for t in p.tasks]
    async with asyncio.timeout(20):
        await asyncio.gather(*tasks, return_exceptions=True)


async def restart_soak(data_dir: Path, sessions: int, kill_at: float, run_to: float,
                       settle: float = 30.0, graceful: bool = False) -> SoakResult:
    """One relay process, ``sessions`` chatting pairs, kill -9 (``graceful``: SIGTERM) at
    ``kill_at`` s, started again at once on the same port and data dir, chat until ``run_to``
    s, then wait (up to ``settle`` s) for every message."""
    relay = RelayProc(data_dir)
    relay.start()
    pairs: list[Pair] = []
    try:
        pairs = await pair_up(relay.url, relay.url, sessions)
        t0 = time.monotonic()
        sender = asyncio.create_task(chat(pairs, t0 + run_to))
        await asyncio.sleep(max(0.0, t0 + kill_at - time.monotonic()))
        if graceful:
            assert await asyncio.to_thread(relay.terminate) == 0
        else:
            relay.kill9()
        restarted_at = await asyncio.to_thread(relay.start)
        await sender
        try:
            async with asyncio.timeout(settle):
                while not delivered(pairs):
                    await asyncio.sleep(0.2)
        except TimeoutError:
            pass
        return tally(pairs, restarted_at)
    finally:
        if pairs:
            await close_all(pairs)
        relay.stop()

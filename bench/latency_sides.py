"""The two ways bench/latency.py shows the customer's terminal to the agent: cobrowse
(a headless agent) and tmux (a client over a pty bridge), each a :class:`View` the phases
read, and the child processes behind them (see bench/latency.py for the setup)."""

from __future__ import annotations

import abc

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

from netlink import HERE as NETLINK, Link
from cobrowse.screen.emulator import Emulator
from cobrowse.trust.tripwire import COOLDOWN

ROOT = Path(__file__).resolve().parents[1]
WAIT = 30.0
PY = sys.executable
DUMP = open(os.environ["LATENCY_DUMP"], "w") if os.environ.get("LATENCY_DUMP") else None  # every key and agent event


def log(msg: str) -> None:
    print(f"[latency] {msg}", file=sys.stderr, flush=True)


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)


def child_env() -> dict[str, str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "COBROWSE_CONFIG": os.devnull, "COBROWSE_DIRECT": "0",
           "TERM": "xterm-256color", "PS1": "$ ", "PYTHONPATH": str(ROOT)}
    for key in list(env):
        if key.lower() in ("http_proxy", "https_proxy", "all_proxy", "cobrowse_relay", "cobrowse_data_dir"):
            env.pop(key)
    return env




class View:
    """What the agent sees: lines, cursor, predicted cells; ``changed`` wakes waiters."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.cursor: tuple[int, int] = (0, 0)
        self.predicted: list[tuple[int, int, str]] = []
        self.predicted_cursor: tuple[int, int] | None = None  # (row, col)
        self.updates = 0
        self.changed = asyncio.Event()
        self.watchers: list[Callable[[float], None]] = []

    def update(self, at: float) -> None:
        self.updates += 1
        for watch in list(self.watchers):
            watch(at)
        self.changed.set()

    def cell(self, row: int, col: int) -> str:
        line = self.lines[row] if row < len(self.lines) else ""
        return line[col] if col < len(line) else " "

    async def until(self, check: Callable[[], Any], what: str, timeout: float = WAIT) -> Any:
        try:
            async with asyncio.timeout(timeout):
                while (found := check()) is None or found is False:
                    self.changed.clear()
                    await self.changed.wait()
                return found
        except TimeoutError:
            raise RuntimeError(f"no {what} within {timeout:g} s; screen: {self.lines[-6:]}") from None


class Proc:
    """A child process; ``on_out`` gets each stdout line (or chunk, for raw output)."""

    def __init__(self, name: str, argv: list[str], on_out: Callable[[float, bytes], None] | None = None,
                 raw: bool = False) -> None:
        self.name, self.argv, self.on_out, self.raw = name, argv, on_out, raw
        self.err: list[str] = []
        self.proc: asyncio.subprocess.Process | None = None
        self.tasks: list[asyncio.Task[None]] = []

    async def start(self) -> "Proc":
        self.proc = await asyncio.create_subprocess_exec(
            *self.argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, env=child_env(), cwd=ROOT)
        self.tasks = [asyncio.create_task(self._out()), asyncio.create_task(self._err())]
        return self

    async def _out(self) -> None:
        assert self.proc and self.proc.stdout
        while chunk := await (self.proc.stdout.read(65536) if self.raw else self.proc.stdout.readline()):
            if self.on_out is not None:
                self.on_out(time.monotonic(), chunk)

    async def _err(self) -> None:
        assert self.proc and self.proc.stderr
        while line := await self.proc.stderr.readline():
            self.err.append(line.decode(errors="replace").rstrip())
            del self.err[:-40]

    async def wait_err(self, needle: str, timeout: float = WAIT) -> None:
        async with asyncio.timeout(timeout):
            while not any(needle in line for line in self.err):
                if self.proc is not None and self.proc.returncode is not None:
                    raise RuntimeError(f"{self.name} exited: {self.err[-5:]}")
                await asyncio.sleep(0.02)

    def write(self, data: bytes) -> None:
        assert self.proc and self.proc.stdin
        self.proc.stdin.write(data)

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            try:
                self.proc.kill()
            except ProcessLookupError:
                pass
            try:
                async with asyncio.timeout(5):
                    await self.proc.wait()
            except TimeoutError:
                pass
        for task in self.tasks:
            task.cancel()


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Side(abc.ABC):
    """One way of showing the customer's terminal to the agent: cobrowse, or tmux."""

    name = ""
    view: View

    @abc.abstractmethod
    def send(self, text: str) -> None: ...

    @abc.abstractmethod
    def cpu_pids(self) -> list[int]: ...


class Cobrowse(Side):
    name = "cobrowse"

    def __init__(self, link: Link, relay_for_agent: str, relay_for_cust: str) -> None:
        self.link, self.agent_url, self.cust_url = link, relay_for_agent, relay_for_cust
        self.view = View()
        self.events: list[tuple[float, dict[str, Any]]] = []
        self.agent: Proc | None = None
        self.customer: Proc | None = None
        self.got = asyncio.Event()

    def _on_event(self, at: float, line: bytes) -> None:
        if DUMP is not None:
            DUMP.write(json.dumps([at, "out", line.decode()]) + "\n")
        try:
            event = json.loads(line)
        except ValueError:
            return
        self.events.append((at, event))
        self.got.set()
        if event.get("event") == "screen":
            v = self.view
            v.lines = event["lines"]
            v.cursor = (event["cursor"][1], event["cursor"][0])
            pred = event.get("predicted") or {}
            v.predicted = [(r, c, t) for r, c, t in pred.get("cells", [])]
            v.predicted_cursor = (pred["cursor"][1], pred["cursor"][0]) if pred.get("cursor") else None
            v.update(at)
        elif event.get("event") in ("ended", "error"):
            log(f"agent: {event}")

    async def event(self, kind: str, pred: Callable[[dict[str, Any]], bool] = lambda e: True) -> tuple[float, dict[str, Any]]:
        async with asyncio.timeout(WAIT):
            while True:
                for at, e in self.events:
                    if e.get("event") == kind and pred(e):
                        return at, e
                self.got.clear()
                await self.got.wait()

    async def join(self, control: bool) -> float:
        """Start both sides; return join → first screen in ms."""
        self.agent = await Proc("agent", self.link.wrap("agent", [PY, "-m", "cobrowse", "agent", "--headless", "--relay", self.agent_url]),
                                self._on_event).start()
        _, code = await self.event("code")
        t0 = time.monotonic()
        self.customer = await Proc("customer", self.link.wrap("cust", [
            PY, "-m", "cobrowse", "join", code["code"], "--relay", self.cust_url, "--command", "bash --norc --noprofile",
            "--size", "80x24"])).start()
        at, _ = await self.event("screen")
        if control:
            await self.event("paired")
            self.customer.write(b"\x1dg")  # an unverified agent: the tripwire warns first (docs/trust.md)
            await asyncio.sleep(COOLDOWN + 0.2)
            self.customer.write(b"\x1dg")
            await self.event("consent", lambda e: e.get("level") == "control")
        return (at - t0) * 1000

    def send(self, text: str) -> None:
        assert self.agent is not None
        if DUMP is not None:
            DUMP.write(json.dumps([time.monotonic(), "keys", text]) + "\n")
        self.agent.write((json.dumps({"cmd": "keys", "data": text}) + "\n").encode())

    def cpu_pids(self) -> list[int]:
        assert self.customer is not None
        return [self.customer.pid]

    async def stop(self) -> None:
        for p in (self.agent, self.customer):
            if p is not None:
                await p.stop()


class Tmux(Side):
    name = "tmux"

    def __init__(self, link: Link, bridge_port: int, reach: tuple[str, int]) -> None:
        self.link, self.bridge_port, self.reach = link, bridge_port, reach
        self.view = View()
        self.emu = Emulator(80, 24)
        self.socket = f"latbench{os.getpid()}"
        self.bridge: Proc | None = None
        self.client: Proc | None = None

    def _on_bytes(self, at: float, data: bytes) -> None:
        self.emu.feed(data)
        cur = self.emu.cursor()
        self.view.lines = self.emu.lines()
        self.view.cursor = (cur.row, cur.col)
        self.view.update(at)

    async def start(self) -> None:
        tmux = ["tmux", "-L", self.socket, "-f", os.devnull]
        proc = await asyncio.create_subprocess_exec(*self.link.wrap("cust", [*tmux, "new-session", "-d", "-x", "80", "-y", "24",
                                                                          "env PS1='$ ' bash --norc --noprofile"]), env=child_env())
        if await proc.wait() != 0:
            raise RuntimeError("tmux new-session failed")
        self.bridge = await Proc("bridge", self.link.wrap("cust", [PY, str(NETLINK), "bridge", str(self.bridge_port), "--",
                                                                   *tmux, "attach"])).start()
        await asyncio.sleep(0.3)
        self.client = await Proc("tmux client", self.link.wrap("agent", [PY, str(NETLINK), "pipe", *map(str, self.reach)]),
                                 self._on_bytes, raw=True).start()
        await self.view.until(lambda: any(line.startswith("$") for line in self.view.lines), "tmux prompt")

    def send(self, text: str) -> None:
        assert self.client is not None
        self.client.write(text.encode())

    def cpu_pids(self) -> list[int]:
        out = ""
        for cmd in (["display", "-p", "#{pid}"], ["list-clients", "-F", "#{client_pid}"]):
            out += subprocess.run(["tmux", "-L", self.socket, *cmd], capture_output=True, text=True, timeout=5,
                                  env=child_env()).stdout
        return [int(p) for p in out.split() if p.isdigit()]

    async def stop(self) -> None:
        for p in (self.client, self.bridge):
            if p is not None:
                await p.stop()
        proc = await asyncio.create_subprocess_exec("tmux", "-L", self.socket, "kill-server",
                                                    stderr=asyncio.subprocess.DEVNULL)
        await proc.wait()

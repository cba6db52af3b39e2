"""Control mode latency: agent key → customer pty → echo back on the agent's screen.

    python bench/key_latency.py [--n 300]

A real relay runs here on 127.0.0.1:0; a real headless agent and a real customer
(`cobrowse join CODE --command cat`) run as processes. The customer grants control
(Ctrl-] g). Each round waits ``--gap`` (10 ms), writes `{"cmd": "keys", "data": "x"}` to the agent's stdin and
stops the clock when the agent prints a `screen` event whose cursor moved one column (the
pty's echo of that key, mirrored back) and this script has parsed it; ``line_read_p50_ms``
stops it when that event's line was read, before the parse (the relay runs in this process,
so the parse of each event competes with it). Every 40 keys an Enter (untimed) starts a new line.

CPU per key, by process (``cpu_ms_per_key``): the agent's, the customer's (with its ``cat``)
and this process's (the relay, and reading the agent's events) user + system time (and,
``*_system``, the system part alone) over the
timed keys ÷ the keys, from /proc: what each side costs a key, steadier than the latency on
a shared machine, where the processes wait for the cores in turn.

Per key (``per_key``): frames the relay forwarded (the two sealed frames plus the sides'
acknowledgements), events the agent printed, and each process's wake-ups (voluntary context
switches, from /proc): on this VM each costs more than the Python around it.

Baseline in the same run: the same key written to a bare local pty running `cat`, timed
to the echo read from its master: the floor a terminal itself costs.
Progress on stderr; the last stdout line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import pty
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import key_trace  # noqa: E402
from cobrowse.trust.tripwire import COOLDOWN  # noqa: E402
from relay.config import RelayConfig  # noqa: E402
from relay.server import serve_relay  # noqa: E402

WAIT = 20.0
TRACE: str | None = None  # --trace DIR: each process records its stages (bench/key_trace.py)
DIRECT = False  # --direct: the sealed frames take the WebRTC data channel instead of the relay


def log(msg: str) -> None:
    print(f"[key_latency] {msg}", file=sys.stderr, flush=True)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 3)


class Child:
    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.events: asyncio.Queue[tuple[float, dict[str, Any]]] = asyncio.Queue()
        self.last_screen: dict[str, Any] | None = None
        self.events_seen = 0
        self.task = asyncio.create_task(self._read())

    @classmethod
    async def start(cls, *args: str) -> "Child":
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "COBROWSE_CONFIG": os.devnull,
               "COBROWSE_DIRECT": "1" if DIRECT else "0", "COBROWSE_ICE_HOSTS": "127.0.0.1"}
        env.pop("COBROWSE_RELAY", None)
        start = ["-m", "cobrowse"] if TRACE is None else [str(ROOT / "bench" / "key_trace.py"), f"{TRACE}/{args[0]}.jsonl"]
        proc = await asyncio.create_subprocess_exec(
            sys.executable, *start, *args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, env=env)
        return cls(proc)

    async def _read(self) -> None:
        assert self.proc.stdout is not None
        while line := await self.proc.stdout.readline():
            arrived = time.monotonic()
            arrived_ns = time.perf_counter_ns()
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if isinstance(event, dict):
                event[ARRIVED] = arrived
                event[ARRIVED_NS] = arrived_ns
            self.events_seen += 1
            if event.get("event") == "screen":
                self.last_screen = event
            await self.events.put((time.monotonic(), event))

    async def next(self, kind: str, predicate: Any = lambda e: True) -> tuple[float, dict[str, Any]]:
        async with asyncio.timeout(WAIT):
            while True:
                at, event = await self.events.get()
                if event.get("event") == kind and predicate(event):
                    return at, event
                if event.get("event") in ("ended", "error"):
                    raise RuntimeError(f"session failed: {event}")

    async def send(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(data)
        await self.proc.stdin.drain()

    async def stop(self) -> None:
        if self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()
        self.task.cancel()


def cpu_s(pid: int, system_only: bool = False) -> float:
    """User + system (or system only) CPU seconds of ``pid`` and its reaped children (/proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    picked = (fields[12], fields[14]) if system_only else fields[11:15]
    return sum(int(f) for f in picked) / os.sysconf("SC_CLK_TCK")


def tree_cpu_s(pid: int, system_only: bool = False) -> float:
    """``cpu_s`` of ``pid`` and its live children (the customer's ``cat``)."""
    total = cpu_s(pid, system_only)
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        children = []
    return total + sum(cpu_s(int(c), system_only) for c in children)


def wakeups(pid: int) -> int:
    """Voluntary context switches of every thread of ``pid`` (each a sleep until input: a
    wake-up costs a few µs of kernel and cold caches, the overhead of one more hop)."""
    total = 0
    for status in Path(f"/proc/{pid}/task").glob("*/status"):
        try:
            for line in status.read_text().splitlines():
                if line.startswith("voluntary_ctxt_switches"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total


def wakeups_now(pids: dict[str, int]) -> dict[str, int]:
    return {k: wakeups(p) for k, p in pids.items()} | {"relay_and_bench": wakeups(os.getpid())}


def cpu_now(pids: dict[str, int]) -> dict[str, float]:
    out = {k: tree_cpu_s(p) for k, p in pids.items()} | {"relay_and_bench": cpu_s(os.getpid())}
    out |= {f"{k}_system": tree_cpu_s(p, True) for k, p in pids.items()}
    return out | {"relay_and_bench_system": cpu_s(os.getpid(), True)}


CPU: dict[str, float] = {}
ARRIVED_NS = "_arrived_ns"
ARRIVED = "_arrived_at"  # when the event's line was read, before this script parsed its JSON
ARRIVALS: list[float] = []  # key -> the echo's line read (ms): without this script's JSON parse
PER_KEY: dict[str, float] = {}
KEYS_NS: list[tuple[int, int]] = []  # --trace: each timed key's (written, echo line read), perf_counter_ns
STAGES: dict[str, Any] = {}  # frames through the relay, events from the agent, wake-ups, per timed key


async def cobrowse_rounds(n: int, gap: float) -> list[float]:
    server = await serve_relay(RelayConfig(host="127.0.0.1", port=0))
    agent = customer = None
    try:
        url = f"ws://127.0.0.1:{server.port}"
        agent = await Child.start("agent", "--headless", "--relay", url)
        _, code_event = await agent.next("code")
        customer = await Child.start("join", code_event["code"], "--relay", url, "--command", "cat", "--size", "80x24")
        await agent.next("paired")
        await customer.send(b"\x1dg")  # an unverified agent: the tripwire warns first (docs/trust.md)
        await asyncio.sleep(COOLDOWN + 0.2)
        await customer.send(b"\x1dg")
        await agent.next("consent", lambda e: e["level"] == "control")
        async with asyncio.timeout(WAIT):
            while agent.last_screen is None:
                await asyncio.sleep(0.01)
        while not agent.events.empty():
            agent.events.get_nowait()
        col = agent.last_screen["cursor"][0]
        samples: list[float] = []
        pids = {"agent": agent.proc.pid, "customer": customer.proc.pid}
        cpu0 = cpu_now(pids)
        frames0 = server.rooms.traffic_total()[0]
        woke0 = wakeups_now(pids)
        events0 = agent.events_seen
        for i in range(n):
            if col >= 40:
                await agent.send(b'{"cmd": "keys", "data": "\\r"}\n')
                _, screen = await agent.next("screen", lambda e: e["cursor"][0] == 0)
                col = 0
            await asyncio.sleep(gap)
            start = time.monotonic()
            start_ns = time.perf_counter_ns()
            await agent.send(b'{"cmd": "keys", "data": "x"}\n')
            at, screen = await agent.next("screen", lambda e, c=col: e["cursor"][0] == c + 1)
            KEYS_NS.append((start_ns, screen[ARRIVED_NS]))
            samples.append((at - start) * 1000)
            ARRIVALS.append((screen[ARRIVED] - start) * 1000)
            col += 1
            if i % 100 == 99:
                log(f"{i + 1}/{n} keys, p50 so far {statistics.median(samples):.2f} ms")
        cpu1 = cpu_now(pids)
        CPU.update({k: round((cpu1[k] - cpu0[k]) * 1000 / n, 3) for k in cpu0})
        woke1 = wakeups_now(pids)
        PER_KEY.update({f"wakeups_{k}": round((woke1[k] - woke0[k]) / n, 2) for k in woke0})
        PER_KEY.update({"relay_frames": round((server.rooms.traffic_total()[0] - frames0) / n, 3),
                        "agent_events": round((agent.events_seen - events0) / n, 3)})
        if TRACE is not None:
            await collect_stages(server_records_taken(), agent, customer)
        return samples
    finally:
        for child in (agent, customer):
            if child is not None:
                await child.stop()
        server.close()
        await server.wait_closed()


def server_records_taken() -> list[tuple[str, int]]:
    taken = key_trace.RECORDS[:]
    del key_trace.RECORDS[:]
    return taken


async def collect_stages(relay: list[tuple[str, int]], agent: Child, customer: Child) -> None:
    """Ask both sides for their records (SIGUSR1) and line everything up with the keys."""
    assert TRACE is not None
    for child in (agent, customer):
        child.proc.send_signal(signal.SIGUSR1)
    traces = {"relay_and_bench": relay}
    for name in ("agent", "join"):
        path = Path(TRACE) / f"{name}.jsonl"
        async with asyncio.timeout(WAIT):
            while not path.exists() or not path.read_text().endswith("\n"):
                await asyncio.sleep(0.05)
        traces["customer" if name == "join" else name] = key_trace.load(str(path))
    STAGES.update(key_trace.stages(KEYS_NS, traces))


def bare_pty_rounds(n: int) -> list[float]:
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp("cat", ["cat"])
    samples = []
    try:
        time.sleep(0.2)
        for i in range(n):
            if i % 40 == 39:
                os.write(fd, b"\r")
                time.sleep(0.01)
                os.read(fd, 4096)
            start = time.monotonic()
            os.write(fd, b"x")
            os.read(fd, 16)
            samples.append((time.monotonic() - start) * 1000)
    finally:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--gap", type=float, default=0.01, help="pause between keys in seconds (default 0.01: faster than any typist)")
    parser.add_argument("--trace", metavar="DIR", help="record each process's stages per key into DIR and print the table (bench/key_trace.py; adds ~1 µs per wrapped call)")
    parser.add_argument("--direct", action="store_true", help="let the frames take the direct WebRTC path (default: through the relay)")
    args = parser.parse_args()
    global DIRECT, TRACE
    DIRECT = args.direct
    if args.trace:
        TRACE = str(Path(args.trace).resolve())
        Path(TRACE).mkdir(parents=True, exist_ok=True)
        for old in Path(TRACE).glob("*.jsonl"):
            old.unlink()
        key_trace.install()
    log("baseline: bare pty echo")
    bare = bare_pty_rounds(args.n)
    log(f"cobrowse control mode: {args.n} keys")
    samples = asyncio.run(cobrowse_rounds(args.n, args.gap))
    print(json.dumps({
        "p50_ms": pct(samples, 0.5), "p99_ms": pct(samples, 0.99), "p90_ms": pct(samples, 0.9),
        "max_ms": round(max(samples), 3), "n": len(samples), "gap_s": args.gap,
        "cpu_ms_per_key": CPU, "per_key": PER_KEY,
        "line_read_p50_ms": pct(ARRIVALS, 0.5) if ARRIVALS else None,
        "line_read_p99_ms": pct(ARRIVALS, 0.99) if ARRIVALS else None,
        **({"stages": STAGES} if STAGES else {}),
        "bare_pty_p50_ms": pct(bare, 0.5), "bare_pty_p99_ms": pct(bare, 0.99),
        "path": "headless agent stdin -> seal -> {0} -> customer -> consent -> pty echo -> emulator -> screen frame -> {0} -> agent stdout".format(
            "data channel" if DIRECT else "relay"),
    }))


if __name__ == "__main__":
    main()

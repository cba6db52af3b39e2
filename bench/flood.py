"""A shared program floods its terminal: what reaches the agent, and does the customer feel it?

    python bench/flood.py [--mb 24] [--rounds 7] [--budget 150]

One program, run two ways side by side in the same run (rounds interleaved, order
alternating, medians reported):

``shared``
    A real relay on 127.0.0.1:0 (in this process), a real headless agent process
    (``python -m cobrowse agent --headless --relay URL``) and the real customer
    (``python -m cobrowse join CODE --relay URL --command "sh prog.sh" --size 100x30``).
``unshared`` (the baseline)
    The same program through the same plain-mode passthrough, without sharing: a child of
    this script runs ``cobrowse.io.pty.PtyProcess`` + ``LocalTerminal(raw=False)`` +
    ``Passthrough(observer=None)`` -- exactly what ``cobrowse join`` runs, minus the session.

``prog.sh`` is ``sleep 1; cat FLOOD.log; printf '[flood done] $ '; sleep 2``: the first
second lets the session pair before the flood (we check it did), the last two let the
agent's screen settle before the program exits (which ends the session). FLOOD.log is a
generated ~24 MB application log (timestamps, levels, some lines coloured, some longer than
the screen so they wrap, tab-indented stack traces).

In both modes the program's stdout (the customer's "own terminal") is a pipe into a drain
process that reads it as fast as it can (``os.read`` loop, its own process so nothing here
competes with it for a GIL) and records CLOCK_MONOTONIC of the first and last byte.
Throughput = bytes / (last - first); ``customer_speed_ratio`` = median shared throughput /
median unshared throughput. We also sample the customer's (or the baseline child's) CPU time
from /proc: ``customer_cpu_s_*`` is what it spent from the flood's first byte to its exit
(passthrough, and when shared the emulator's catch-up and the frames), a figure that noise
from other processes moves much less than wall time.

``bytes_sent`` is counted at the relay (the honest place): every binary frame the relay
receives from the customer's connection, from the flood's first byte until the session
ended (the median over shared rounds). ``ratio`` = bytes_sent / bytes_written, where
bytes_written is the size of what the program wrote (the log plus the final prompt-like
marker). ``screens_equal``: in every shared round the agent's last ``screen`` event (lines
and cursor) equals the screen of a fresh ``cobrowse.screen.Emulator(100, 30)`` fed the
same bytes the program wrote, with the pty's \\n -> \\r\\n. That reference is cross-checked
with pyte (an independent emulator) fed the file's tail, and we check it holds the last
lines of the file and the marker, so the comparison means something.

Progress goes to stderr; the last stdout line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

COLS, ROWS = 100, 30
MARKER = b"[flood done] $ "
WAIT = 30.0  # the longest any single wait may take

DRAIN = r"""
import json, os, sys, time
n = 0; first = last = None; prev = cur = b""
while True:
    try:
        data = os.read(0, 1 << 20)
    except OSError:
        break
    if not data:
        break
    now = time.monotonic()
    if first is None:
        first = now
    last = now
    n += len(data)
    prev, cur = cur, data
tail = (prev + cur)[-4096:]
with open(sys.argv[1], "w") as f:
    json.dump({"bytes": n, "first": first, "last": last, "tail": tail.decode("latin-1")}, f)
"""


def log(msg: str) -> None:
    print(f"[flood] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- the flood's content

WORDS = ("request", "handler", "cache", "miss", "hit", "user", "session", "token", "refresh", "upstream",
         "timeout", "retry", "queue", "worker", "shard", "index", "commit", "batch", "flush", "payload")
LOGGERS = ("api.http", "db.pool", "auth.session", "jobs.scheduler", "cache.redis", "billing.invoice", "search.indexer")


def make_log(path: Path, target: int, seed: int = 1234) -> tuple[int, int]:
    """Write a realistic log of about ``target`` bytes; (bytes, lines)."""
    rng = random.Random(seed)
    size = lines = 0
    out: list[str] = []
    t = 1_715_240_000.0
    while size < target:
        t += rng.expovariate(200.0)
        ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t * 1000) % 1000:03d}Z"
        level = rng.choices(("INFO", "DEBUG", "WARN", "ERROR"), (70, 20, 7, 3))[0]
        logger = rng.choice(LOGGERS)
        words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 8)))
        msg = (f"{ts} {level:5s} [{logger}] pid={rng.randint(1000, 99999)} req={rng.getrandbits(48):012x} "
               f"{words} took={rng.random() * 250:.2f}ms")
        if rng.random() < 0.05:  # a long line: wraps on a 100-column screen
            msg += " payload=" + json.dumps({"id": rng.getrandbits(32), "items": [rng.randint(0, 999) for _ in range(rng.randint(10, 30))], "note": "café ok"})
        if level == "ERROR":
            line = f"\x1b[1;31m{msg}\x1b[0m"
        elif level == "WARN":
            line = f"\x1b[33m{msg}\x1b[0m"
        elif level == "DEBUG":
            line = f"\x1b[2m{msg}\x1b[0m"
        else:
            line = msg
        out.append(line)
        if level == "ERROR" and rng.random() < 0.5:
            for depth in range(rng.randint(2, 6)):
                out.append(f"\tat com.example.{logger.replace('.', '_')}.Frame{depth}.call(Frame{depth}.java:{rng.randint(10, 900)})")
        if len(out) >= 2000:
            block = ("\n".join(out) + "\n").encode()
            with open(path, "ab") as f:
                f.write(block)
            size += len(block)
            lines += len(out)
            out.clear()
    return size, lines


def onlcr(data: bytes) -> bytes:
    """What the pty's line discipline turns the program's bytes into (ONLCR)."""
    return data.replace(b"\n", b"\r\n")


def reference_screen(path: Path) -> dict[str, Any]:
    """Feed a fresh Emulator(100, 30) what the program wrote; cross-check the tail with pyte."""
    from cobrowse.screen import Emulator

    data = path.read_bytes()
    emu = Emulator(COLS, ROWS)
    t0 = time.perf_counter()
    view = memoryview(onlcr(data) + MARKER)
    for i in range(0, len(view), 1 << 16):
        emu.feed(bytes(view[i:i + (1 << 16)]))
    parse_s = time.perf_counter() - t0
    state = emu.state()
    lines = state.lines()
    cursor = [state.cursor.col, state.cursor.row]
    # Meaningful? The screen must end with the marker and show the file's last line.
    last_line = data.rstrip(b"\n").rsplit(b"\n", 1)[-1]
    plain_last = _strip_sgr(last_line.decode())
    meaningful = lines[-1] == MARKER.decode().rstrip() and any(plain_last[:60] in ln for ln in lines[-6:])
    # Independent cross-check: pyte, fed the last 400 lines (each starts with the default pen).
    pyte_agrees: bool | None = None
    try:
        import pyte

        tail = b"\n".join(data.rstrip(b"\n").rsplit(b"\n", 400)[1:]) + b"\n"
        screen = pyte.Screen(COLS, ROWS)
        stream = pyte.ByteStream(screen)
        stream.feed(onlcr(tail) + MARKER)
        pyte_lines = [ln.rstrip(" ") for ln in screen.display]
        pyte_agrees = pyte_lines == lines and [screen.cursor.x, screen.cursor.y] == cursor
    except ImportError:
        pass
    return {"lines": lines, "cursor": cursor, "meaningful": meaningful, "pyte_agrees": pyte_agrees,
            "emulator_parse_mb_per_s": round(len(view) / parse_s / 1e6, 1)}


def _strip_sgr(text: str) -> str:
    import re

    return re.sub(r"\x1b\[[0-9;]*m", "", text)


# ---------------------------------------------------------------- relay-side byte counting


class RelayCounter:
    """Counts binary frames the relay receives, per role, with their arrival time."""

    def __init__(self) -> None:
        self.frames: dict[str, list[tuple[float, int]]] = {"customer": [], "agent": [], "?": []}
        self.rooms: Any = None

    def install(self) -> None:
        from websockets.asyncio.server import ServerConnection

        original = ServerConnection.recv
        counter = self

        async def recv(ws: Any, *args: Any, **kwargs: Any) -> Any:
            data = await original(ws, *args, **kwargs)
            if data.__class__ is bytes:
                counter.record(ws, len(data))
            return data

        ServerConnection.recv = recv  # type: ignore[method-assign]

        # The relay's fast path (relay/connection.py) forwards paired sockets' binary frames from
        # the read callback, past recv(): count those where they are written to the peer.
        import relay.server

        made = relay.server.connection_class

        def counted_class(*args: Any, **kwargs: Any) -> Any:
            base = made(*args, **kwargs)

            class Counted(base):  # type: ignore[misc, valid-type]
                def send_now(self, payload: bytes) -> bool:
                    sent: bool = super().send_now(payload)
                    if sent:
                        counter.record(self, len(payload), to_peer_of=True)
                    return sent

            return Counted

        relay.server.connection_class = counted_class  # type: ignore[assignment]

    def record(self, ws: Any, size: int, to_peer_of: bool = False) -> None:
        """A frame ``ws`` sent (``to_peer_of``: one the relay wrote to ``ws``, from its peer)."""
        role = "?"
        conn = getattr(self.rooms, "_conns", {}).get(ws)
        side = getattr(conn, "side", None)
        if side is not None:
            role = side.role
            if to_peer_of:
                role = {"customer": "agent", "agent": "customer"}.get(role, "?")
        self.frames.setdefault(role, []).append((time.monotonic(), size))

    def customer_bytes(self, start: float, end: float) -> tuple[int, int]:
        picked = [n for t, n in self.frames["customer"] if start <= t <= end]
        return sum(picked), len(picked)


# ---------------------------------------------------------------- processes


@dataclass
class Child:
    proc: asyncio.subprocess.Process
    name: str
    events: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    stderr: list[str] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def start_readers(self) -> None:
        if self.proc.stdout is not None:
            self.tasks.append(asyncio.create_task(self._read_events()))
        if self.proc.stderr is not None:
            self.tasks.append(asyncio.create_task(self._read_stderr()))

    async def _read_events(self) -> None:
        assert self.proc.stdout is not None
        while line := await self.proc.stdout.readline():
            now = time.monotonic()
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if isinstance(event, dict):
                self.events.append((now, event))
                self.changed.set()
        self.changed.set()

    async def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        while line := await self.proc.stderr.readline():
            self.stderr.append(line.decode(errors="replace").rstrip())
        self.changed.set()

    async def event(self, kind: str, timeout: float = WAIT) -> tuple[float, dict[str, Any]]:
        async with asyncio.timeout(timeout):
            while True:
                self.changed.clear()
                for t, e in self.events:
                    if e.get("event") == kind:
                        return t, e
                if self.proc.returncode is not None and all(task.done() for task in self.tasks):
                    raise RuntimeError(f"{self.name} exited before {kind!r}; stderr: {self.stderr[-6:]}")
                try:
                    async with asyncio.timeout(0.5):
                        await self.changed.wait()
                except TimeoutError:
                    pass

    async def wait(self, timeout: float = WAIT) -> int:
        async with asyncio.timeout(timeout):
            code = await self.proc.wait()
            await asyncio.gather(*self.tasks, return_exceptions=True)
            return code

    async def kill(self) -> None:
        if self.proc.returncode is None:
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


def child_env() -> dict[str, str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "COBROWSE_CONFIG": os.devnull, "TERM": "xterm-256color"}
    env["COBROWSE_DIRECT"] = "0"  # bytes are counted at the relay: keep every frame on it
    env.pop("COBROWSE_RELAY", None)
    return env


async def spawn(name: str, *argv: str, stdin: Any = asyncio.subprocess.PIPE, stdout: Any = asyncio.subprocess.PIPE,
                stderr: Any = asyncio.subprocess.PIPE) -> Child:
    proc = await asyncio.create_subprocess_exec(*argv, stdin=stdin, stdout=stdout, stderr=stderr, env=child_env(), cwd=ROOT)
    child = Child(proc, name)
    child.start_readers()
    return child


def cpu_seconds(pid: int) -> float | None:
    """utime + stime of a live process, from /proc (None once it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def sample_cpu(child: Child, samples: list[tuple[float, float]]) -> None:
    while child.proc.returncode is None:
        cpu = cpu_seconds(child.proc.pid)
        if cpu is None:
            return
        samples.append((time.monotonic(), cpu))
        await asyncio.sleep(0.02)


def flood_cpu(samples: list[tuple[float, float]], first: float) -> float | None:
    """CPU the producer spent from the flood's start to its last sample: passthrough, plus, when
    shared, feeding the emulator (also what was caught up after the last byte) and sending."""
    before = [c for t, c in samples if t <= first]
    if not before or not samples:
        return None
    return samples[-1][1] - before[-1]


async def drained(argv_for: Any, tmp: Path, label: str, extra: list[Child]) -> tuple[dict[str, Any], Child]:
    """Start the drain process and the producer ``argv_for`` with its stdout into the drain."""
    result = tmp / f"drain-{label}.json"
    result.unlink(missing_ok=True)
    r, w = os.pipe()
    try:
        drain = await spawn("drain", sys.executable, "-c", DRAIN, str(result), stdin=r, stdout=None, stderr=None)
        extra.append(drain)
        producer = await spawn(label, *argv_for, stdout=w)
        extra.append(producer)
    finally:
        os.close(r)
        os.close(w)
    samples: list[tuple[float, float]] = []
    sampler = asyncio.create_task(sample_cpu(producer, samples))
    code = await producer.wait(60.0)
    sampler.cancel()
    await drain.wait(10.0)
    if code != 0:
        log(f"{label} exited {code}: {producer.stderr[-6:]}")
    out = json.loads(result.read_text())
    out["cpu_s"] = flood_cpu(samples, out["first"]) if out["first"] is not None else None
    return out, producer


# ---------------------------------------------------------------- the two modes


async def run_unshared(prog: Path, tmp: Path) -> dict[str, Any]:
    procs: list[Child] = []
    try:
        out, _ = await drained([sys.executable, str(Path(__file__).resolve()), "--baseline-child", str(prog)], tmp, "unshared", procs)
        return {"drain": out}
    finally:
        for p in procs:
            await p.kill()


async def run_shared(prog: Path, tmp: Path, relay_url: str, counter: RelayCounter) -> dict[str, Any]:
    procs: list[Child] = []
    try:
        agent = await spawn("agent", sys.executable, "-m", "cobrowse", "agent", "--headless", "--relay", relay_url)
        procs.append(agent)
        _, code_event = await agent.event("code")
        out, customer = await drained(
            [sys.executable, "-m", "cobrowse", "join", code_event["code"], "--relay", relay_url,
             "--command", f"sh {prog}", "--size", f"{COLS}x{ROWS}"], tmp, "shared", procs)
        t_ended, _ = await agent.event("ended", 10.0)
        try:
            await agent.wait(10.0)
        except TimeoutError:
            pass
        t_paired = next((t for t, e in agent.events if e.get("event") == "paired"), None)
        screens = [(t, e) for t, e in agent.events if e.get("event") == "screen" and t <= t_ended]
        return {"drain": out, "t_paired": t_paired, "t_ended": t_ended, "screens": screens,
                "customer_stderr": customer.stderr[-6:]}
    finally:
        for p in procs:
            await p.kill()


async def baseline_child(prog: str) -> int:
    """What `cobrowse join` runs for the program, minus the session: the fair baseline."""
    from cobrowse.io.pty import LocalTerminal, Passthrough, PtyProcess

    terminal = LocalTerminal(raw=sys.stdin.isatty() and sys.stdout.isatty())
    process = await PtyProcess.spawn(["sh", prog], COLS, ROWS)
    async with process:
        with terminal:
            return await Passthrough(process, terminal).run()


# ---------------------------------------------------------------- main


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    from relay.config import RelayConfig
    from relay.server import serve_relay

    start = time.monotonic()
    counter = RelayCounter()
    counter.install()
    with tempfile.TemporaryDirectory(prefix="cobrowse-flood-") as tmpdir:
        tmp = Path(tmpdir)
        flood = tmp / "flood.log"
        size, nlines = make_log(flood, int(args.mb * 1e6))
        prog = tmp / "prog.sh"
        prog.write_text(f"sleep 1\ncat {flood}\nprintf '%s' '{MARKER.decode()}'\nsleep 2\n")
        written = size + len(MARKER)
        expected_out = len(onlcr(flood.read_bytes())) + len(MARKER)
        log(f"log: {size / 1e6:.1f} MB, {nlines} lines; through the pty: {expected_out} bytes")
        ref = reference_screen(flood)
        log(f"reference screen: meaningful={ref['meaningful']} pyte_agrees={ref['pyte_agrees']} "
            f"(Emulator parsed it at {ref['emulator_parse_mb_per_s']} MB/s)")

        relay = await serve_relay(RelayConfig(host="127.0.0.1", port=0))
        counter.rooms = relay.rooms
        relay_url = f"ws://127.0.0.1:{relay.port}"
        runs: dict[str, list[dict[str, Any]]] = {"unshared": [], "shared": []}
        try:
            for rnd in range(args.rounds):
                if rnd and time.monotonic() - start > args.budget:
                    log("budget spent: no more rounds")
                    break
                order = ("unshared", "shared") if rnd % 2 == 0 else ("shared", "unshared")
                for mode in order:
                    if mode == "unshared":
                        r = await run_unshared(prog, tmp)
                    else:
                        r = await run_shared(prog, tmp, relay_url, counter)
                    d = r["drain"]
                    r["complete"] = d["bytes"] == expected_out and d["tail"].encode("latin-1").endswith(MARKER)
                    r["seconds"] = (d["last"] - d["first"]) if d["first"] is not None else float("nan")
                    r["mb_per_s"] = d["bytes"] / r["seconds"] / 1e6 if r["seconds"] > 0 else 0.0
                    r["cpu_s"] = d["cpu_s"]
                    cpu = "?" if d["cpu_s"] is None else f"{d['cpu_s']:.2f}"
                    msg = (f"round {rnd} {mode:8s} {r['seconds']:.3f}s {r['mb_per_s']:6.1f} MB/s cpu={cpu}s "
                           f"complete={r['complete']}")
                    if mode == "shared":
                        sent, frames = counter.customer_bytes(d["first"], r["t_ended"])
                        r["bytes_sent"], r["frames"] = sent, frames
                        last = r["screens"][-1][1] if r["screens"] else {}
                        r["screen_equal"] = last.get("lines") == ref["lines"] and last.get("cursor") == ref["cursor"]
                        match = next((t for t, e in r["screens"] if e["lines"] == ref["lines"]), None)
                        r["final_screen_lag_ms"] = (match - d["last"]) * 1000 if match is not None else None
                        r["paired_before_flood"] = r["t_paired"] is not None and r["t_paired"] < d["first"]
                        r["screens_during"] = sum(1 for t, _ in r["screens"] if d["first"] <= t <= d["last"])
                        lag = r["final_screen_lag_ms"]
                        msg += (f" sent={sent} B in {frames} frames, screen_equal={r['screen_equal']}, final screen "
                                f"{'never' if lag is None else f'{lag:.0f} ms after the last byte'}, "
                                f"{r['screens_during']} screens during the flood, paired first={r['paired_before_flood']}")
                        if not r["screen_equal"]:
                            msg += f"\n  last agent screen tail: {last.get('lines', [])[-3:]}\n  expected tail: {ref['lines'][-3:]}"
                            msg += f"\n  customer stderr: {r['customer_stderr']}"
                    log(msg)
                    runs[mode].append(r)
        finally:
            relay.close()
            try:
                async with asyncio.timeout(5):
                    await relay.wait_closed()
            except TimeoutError:
                pass

    shared, unshared = runs["shared"], runs["unshared"]
    med = statistics.median
    shared_mbps = med(r["mb_per_s"] for r in shared)
    unshared_mbps = med(r["mb_per_s"] for r in unshared)
    bytes_sent = int(med(r["bytes_sent"] for r in shared))
    lags = [r["final_screen_lag_ms"] for r in shared if r["final_screen_lag_ms"] is not None]
    return {
        "ratio": round(bytes_sent / written, 5),
        "bytes_written": written,
        "bytes_sent": bytes_sent,
        "screens_equal": all(r["screen_equal"] for r in shared) and ref["meaningful"],
        "customer_speed_ratio": round(shared_mbps / unshared_mbps, 3),
        "shared_mb_per_s": round(shared_mbps, 1),
        "unshared_mb_per_s": round(unshared_mbps, 1),
        "shared_s": [round(r["seconds"], 3) for r in shared],
        "unshared_s": [round(r["seconds"], 3) for r in unshared],
        "customer_cpu_s_shared": _med_or_none([r["cpu_s"] for r in shared]),
        "customer_cpu_s_unshared": _med_or_none([r["cpu_s"] for r in unshared]),
        "frames_sent_median": int(med(r["frames"] for r in shared)),
        "screens_during_flood_median": int(med(r["screens_during"] for r in shared)),
        "final_screen_lag_ms_max": round(max(lags), 1) if lags else None,
        "all_output_complete": all(r["complete"] for r in shared + unshared),
        "paired_before_flood": all(r["paired_before_flood"] for r in shared),
        "reference_meaningful": ref["meaningful"],
        "reference_pyte_agrees": ref["pyte_agrees"],
        "bytes_through_pty": expected_out,
        "rounds": len(shared),
        "baseline": "cobrowse.io.pty Passthrough(observer=None) + LocalTerminal, same program, same drain",
        "machine": f"{platform.machine()} {os.cpu_count()} cpu, Python {platform.python_version()}",
        "elapsed_s": round(time.monotonic() - start, 1),
    }


def _med_or_none(values: list[float | None]) -> float | None:
    got = [v for v in values if v is not None]
    return round(statistics.median(got), 3) if got else None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mb", type=float, default=24.0, help="size of the generated log (default 24 MB)")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--budget", type=float, default=150.0, help="start no new round after this many seconds")
    ap.add_argument("--baseline-child", metavar="PROG", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.baseline_child:
        sys.exit(asyncio.run(baseline_child(args.baseline_child)))
    result = asyncio.run(bench(args))
    print(json.dumps(result))


if __name__ == "__main__":
    main()

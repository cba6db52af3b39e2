"""The customer app's own-output speed while shared, and the agent console's CPU, in one run.

    python bench/app_speed.py [--mb 20] [--rounds 5] [--console-seconds 5] [--console-rate 1m]

``app_speed_ratio`` (issue 17: >= 0.8)
    One writer program (``WRITER``: waits for a go file, then ``os.write``s ``--mb`` MB (20) of a
    realistic log, from bench/flood.py, to its stdout in 64 KB chunks and records
    CLOCK_MONOTONIC before the first and after the last write) runs two ways, rounds
    interleaved, in the same run:

    ``bare``  in a pty of the pane's size (100x30) whose master a drain process reads as fast
              as it can (``os.read`` loop, its own process), nothing else;
    ``app``   inside the customer app (``cobrowse join CODE --command ...`` on a pty of ours,
              100x34, Textual's full-screen mode), shared with a headless agent through a relay
              on 127.0.0.1 (in this process), the agent paired and shown the first screen
              before the go; the app's own terminal output is read and dropped here.

    The writer's last ``os.write`` returns once the pty's reader (the drain, or the app) has
    taken all but a pty buffer of the output, so speed = bytes / (last - first) is how fast
    the program's own terminal takes its output. ``app_speed_ratio`` = median app speed /
    median bare speed. ``app_cpu_ms_per_mb``: the app process's CPU (/proc) from the go to
    the writer's end, per MB (reading, pane drawing, frames to the agent, what the emulator
    parsed meanwhile); ``app_cpu_ms_per_mb_total``: the same until the agent's screen showed
    the writer's end marker (the emulator's catch-up included); ``app_agent_last_screen_ms``:
    from the writer's last write to that screen.

``console_cpu_pct`` (issue 17: the console re-renders only what changed)
    A customer shares in plain mode (``cobrowse share --plain``, 100x30) a program writing a
    paced log at ``--console-rate`` bytes/s (bench/cost.py's pacer) for
    ``--console-seconds``; the agent console (``cobrowse agent --join CODE``, Textual, on a pty
    of ours 140x45, read and dropped) watches. The console process's CPU % of one core over
    the paced window (its first 0.5 s skipped).

``APP_SPEED_PROFILE=/tmp/x`` py-spies the app (``/tmp/x.N.txt``) and the console
(``/tmp/x.console.txt``) during the measurement. Progress on stderr; the last stdout line is
one JSON object. ``bench/latency.py`` imports
:func:`measure_app_speed` for its ``app_speed_ratio`` key.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
for _p in (str(ROOT), str(ROOT / "bench")):
    if _p not in sys.path:
        sys.path.insert(0, _p)

from flood import Child, cpu_seconds, make_log, spawn  # noqa: E402

COLS, ROWS = 100, 30
APP_ROWS = ROWS + 4  # the app's bars around the pane
CONSOLE_SIZE = (140, 45)
WAIT = 60.0

WRITER = r"""
import json, os, sys, time
path, go, out = sys.argv[1], sys.argv[2], sys.argv[3]
data = open(path, "rb").read()
deadline = time.monotonic() + 60
while not os.path.exists(go):
    if time.monotonic() > deadline:
        sys.exit(3)
    time.sleep(0.005)
view = memoryview(data)
first = time.monotonic()
for i in range(0, len(view), 1 << 16):
    chunk = view[i:i + (1 << 16)]
    while chunk:
        chunk = chunk[os.write(1, chunk):]
last = time.monotonic()
os.write(1, b"\r\n[writer done] $ ")
with open(out + ".tmp", "w") as f:
    json.dump({"bytes": len(data), "first": first, "last": last}, f)
os.rename(out + ".tmp", out)
time.sleep(float(sys.argv[4]) if len(sys.argv) > 4 else 0)
"""

BARE = r"""
import os, pty, subprocess, sys, fcntl, struct, termios
cols, rows = int(sys.argv[1]), int(sys.argv[2])
master, slave = os.openpty()
fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
proc = subprocess.Popen(sys.argv[3:], stdin=slave, stdout=slave, stderr=slave, start_new_session=True)
os.close(slave)
while True:
    try:
        if not os.read(master, 1 << 20):
            break
    except OSError:
        break
sys.exit(proc.wait())
"""


def log(msg: str) -> None:
    print(f"[app_speed] {msg}", file=sys.stderr, flush=True)


def _speed(result: dict[str, Any]) -> float:
    return float(result["bytes"]) / max(float(result["last"]) - float(result["first"]), 1e-6) / 1e6


async def _wait_file(path: Path, timeout: float, why: str) -> dict[str, Any]:
    async with asyncio.timeout(timeout):
        while not path.exists():
            await asyncio.sleep(0.01)
    try:
        return dict(json.loads(path.read_text()))
    except ValueError as exc:
        raise RuntimeError(f"{why}: unreadable {path}") from exc


async def bare_round(tmp: Path, flood: Path, n: int) -> dict[str, Any]:
    go, out = tmp / f"go-bare-{n}", tmp / f"out-bare-{n}.json"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", BARE, str(COLS), str(ROWS), sys.executable, str(tmp / "writer.py"), str(flood),
        str(go), str(out), stdin=asyncio.subprocess.DEVNULL)
    try:
        await asyncio.sleep(0.3)
        go.write_text("go")
        result = await _wait_file(out, WAIT, "the bare writer")
        return {"mb_per_s": round(_speed(result), 2)}
    finally:
        if proc.returncode is None:
            proc.kill()
        await proc.wait()


async def _until_marker(agent: Child, timeout: float) -> float | None:
    """When the agent's screen first showed the writer's end marker (None: not within ``timeout``)."""
    try:
        async with asyncio.timeout(timeout):
            while True:
                for t, e in agent.events:
                    if e.get("event") == "screen" and any("[writer done] $" in line for line in e.get("lines", [])):
                        return t
                agent.changed.clear()
                try:
                    async with asyncio.timeout(0.5):
                        await agent.changed.wait()
                except TimeoutError:
                    pass
    except TimeoutError:
        return None


async def app_round(tmp: Path, flood: Path, n: int, relay_url: str) -> dict[str, Any]:
    from cobrowse.io.pty_process import _set_winsize

    loop = asyncio.get_running_loop()
    go, out = tmp / f"go-app-{n}", tmp / f"out-app-{n}.json"
    procs: list[Child] = []
    master, slave = os.openpty()
    _set_winsize(slave, COLS, APP_ROWS)
    os.set_blocking(master, False)
    drawn = [0]

    def drop() -> None:
        try:
            drawn[0] += len(os.read(master, 1 << 16))
        except OSError:
            loop.remove_reader(master)

    loop.add_reader(master, drop)
    try:
        agent = await spawn("agent", sys.executable, "-m", "cobrowse", "agent", "--headless", "--relay", relay_url)
        procs.append(agent)
        _, code_event = await agent.event("code")
        command = f"{sys.executable} {tmp / 'writer.py'} {flood} {go} {out} 30"
        customer = await spawn("app", sys.executable, "-m", "cobrowse", "join", code_event["code"], "--relay", relay_url,
                               "--command", command, stdin=slave, stdout=slave, stderr=slave)
        procs.append(customer)
        await agent.event("paired")
        await agent.event("screen")
        await asyncio.sleep(0.5)  # the app settled (its first frames drawn)
        spy = None
        if profile := os.environ.get("APP_SPEED_PROFILE"):  # py-spy the app during the flood
            spy = await asyncio.create_subprocess_exec("py-spy", "record", "--pid", str(customer.proc.pid), "--rate", "250",
                                                       "--format", "raw", "-o", f"{profile}.{n}.txt",
                                                       stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
            await asyncio.sleep(1.0)
        cpu0 = cpu_seconds(customer.proc.pid)
        go.write_text("go")
        result = await _wait_file(out, WAIT, "the writer in the app")
        cpu1 = cpu_seconds(customer.proc.pid)
        if spy is not None:
            spy.send_signal(2)
            await spy.wait()
        # the rest of the work: the emulator catching up, the agent's last screen
        seen = await _until_marker(agent, WAIT)
        cpu2 = cpu_seconds(customer.proc.pid)
        mb = result["bytes"] / 1e6
        cpu_ms = None if cpu0 is None or cpu1 is None else round(1000 * (cpu1 - cpu0) / mb, 1)
        total_ms = None if cpu0 is None or cpu2 is None else round(1000 * (cpu2 - cpu0) / mb, 1)
        return {"mb_per_s": round(_speed(result), 2), "cpu_ms_per_mb": cpu_ms, "cpu_ms_per_mb_total": total_ms,
                "agent_last_screen_ms": None if seen is None else round(1000 * (seen - result["last"]), 1)}
    finally:
        for p in procs:
            await p.kill()
        loop.remove_reader(master)
        os.close(master)
        os.close(slave)


async def measure_app_speed(relay_url: str, mb: float = 20, rounds: int = 5) -> dict[str, Any]:
    """``app_speed_ratio`` and its parts: bare and app rounds interleaved (order alternating)."""
    with tempfile.TemporaryDirectory(prefix="cobrowse-appspeed-") as tmpdir:
        tmp = Path(tmpdir)
        (tmp / "writer.py").write_text(WRITER)
        flood = tmp / "flood.log"
        make_log(flood, int(mb * 1e6))
        bare: list[dict[str, Any]] = []
        app: list[dict[str, Any]] = []
        for n in range(rounds):
            order = ("bare", "app") if n % 2 == 0 else ("app", "bare")
            for mode in order:
                if mode == "bare":
                    bare.append(await bare_round(tmp, flood, n))
                else:
                    app.append(await app_round(tmp, flood, n, relay_url))
                log(f"round {n} {mode}: {(bare if mode == 'bare' else app)[-1]}")
    bare_mbps = statistics.median(r["mb_per_s"] for r in bare)
    app_mbps = statistics.median(r["mb_per_s"] for r in app)
    cpus = [r["cpu_ms_per_mb"] for r in app if r["cpu_ms_per_mb"] is not None]
    totals = [r["cpu_ms_per_mb_total"] for r in app if r["cpu_ms_per_mb_total"] is not None]
    lasts = [r["agent_last_screen_ms"] for r in app if r["agent_last_screen_ms"] is not None]
    return {
        "app_speed_ratio": round(app_mbps / bare_mbps, 3) if bare_mbps else None,
        "app_mb_per_s": app_mbps,
        "bare_mb_per_s": bare_mbps,
        "app_cpu_ms_per_mb": statistics.median(cpus) if cpus else None,
        "app_cpu_ms_per_mb_total": statistics.median(totals) if totals else None,
        "app_agent_last_screen_ms": statistics.median(lasts) if lasts else None,
        "app_rounds": [r["mb_per_s"] for r in app],
        "bare_rounds": [r["mb_per_s"] for r in bare],
        "app_flood_mb": mb,
    }


PACER = r"""
import json, os, sys, time
rate, seconds, log_path, go_path, times_path = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
lines = open(log_path, "rb").read().split(b"\n")[:-1]
deadline = time.monotonic() + 60
while not os.path.exists(go_path):
    if time.monotonic() > deadline:
        sys.exit(3)
    time.sleep(0.01)
start = time.monotonic()
written = seq = 0
while (now := time.monotonic()) - start < seconds:
    chunk = []
    size, budget = 0, rate * (now - start) - written
    while size < budget:
        line = b"L%dq " % seq + lines[seq % len(lines)] + b"\n"
        chunk.append(line)
        size += len(line)
        seq += 1
    if chunk:
        data = memoryview(b"".join(chunk))
        while data:
            data = data[os.write(1, data):]
        written += size
    time.sleep(max(0.0, start + (int((time.monotonic() - start) / 0.01) + 1) * 0.01 - time.monotonic()))
end = time.monotonic()
with open(times_path + ".tmp", "w") as f:
    json.dump({"start": start, "end": end, "written": written}, f)
os.rename(times_path + ".tmp", times_path)
time.sleep(30)
"""


async def measure_console_cpu(relay_url: str, rate: float = 1e6, seconds: float = 5.0) -> dict[str, Any]:
    """The agent console's CPU % while the customer's program writes ``rate`` bytes/s."""
    from cobrowse.io.pty_process import _set_winsize

    loop = asyncio.get_running_loop()
    procs: list[Child] = []
    master, slave = os.openpty()
    _set_winsize(slave, *CONSOLE_SIZE)
    os.set_blocking(master, False)
    drawn = [0]

    def drop() -> None:
        try:
            drawn[0] += len(os.read(master, 1 << 16))
        except OSError:
            loop.remove_reader(master)

    with tempfile.TemporaryDirectory(prefix="cobrowse-console-") as tmpdir:
        tmp = Path(tmpdir)
        (tmp / "pacer.py").write_text(PACER)
        lines = tmp / "lines.log"
        make_log(lines, 2_000_000)
        go, times = tmp / "go", tmp / "times.json"
        loop.add_reader(master, drop)
        try:
            command = f"{sys.executable} {tmp / 'pacer.py'} {rate} {seconds} {lines} {go} {times}"
            customer = await spawn("customer", sys.executable, "-m", "cobrowse", "share", "--plain", "--relay", relay_url,
                                   "--command", command, "--size", f"{COLS}x{ROWS}",
                                   stdout=asyncio.subprocess.DEVNULL)  # stdin stays open: EOF ends a session
            procs.append(customer)
            async with asyncio.timeout(WAIT):
                while not any("cobrowse code: " in line for line in customer.stderr):
                    if customer.proc.returncode is not None:
                        raise RuntimeError(f"the customer exited: {customer.stderr[-6:]}")
                    await asyncio.sleep(0.05)
            code = next(line for line in customer.stderr if "cobrowse code: " in line).split("cobrowse code: ", 1)[1].strip()
            console = await spawn("console", sys.executable, "-m", "cobrowse", "agent", "--join", code, "--relay", relay_url,
                                  stdin=slave, stdout=slave, stderr=slave)
            procs.append(console)
            async with asyncio.timeout(WAIT):  # paired: the console draws the customer's screen
                before = drawn[0]
                await asyncio.sleep(3.0)
                while drawn[0] == before:
                    await asyncio.sleep(0.1)
            samples: list[tuple[float, float]] = []
            spy = None
            if profile := os.environ.get("APP_SPEED_PROFILE"):  # py-spy the console while it watches
                spy = await asyncio.create_subprocess_exec("py-spy", "record", "--pid", str(console.proc.pid), "--rate", "250",
                                                           "--format", "raw", "-o", f"{profile}.console.txt",
                                                           stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
                await asyncio.sleep(1.0)
            go.write_text("go")
            async with asyncio.timeout(seconds + WAIT):
                while not times.exists():
                    cpu = cpu_seconds(console.proc.pid)
                    if cpu is None:
                        raise RuntimeError("the console exited during the run")
                    samples.append((time.monotonic(), cpu))
                    await asyncio.sleep(0.05)
            if spy is not None:
                spy.send_signal(2)
                await spy.wait()
            paced = json.loads(times.read_text())
            inside = [(t, c) for t, c in samples if paced["start"] + 0.5 <= t <= paced["end"]]
            pct = None
            if len(inside) >= 2 and inside[-1][0] > inside[0][0]:
                pct = round(100 * (inside[-1][1] - inside[0][1]) / (inside[-1][0] - inside[0][0]), 1)
            return {"console_cpu_pct": pct, "console_rate_bytes_s": rate,
                    "console_written_mb_per_s": round(paced["written"] / (paced["end"] - paced["start"]) / 1e6, 3)}
        finally:
            for p in procs:
                if p.proc.returncode is not None or os.environ.get("APP_SPEED_DEBUG"):
                    log(f"{p.name} (exit {p.proc.returncode}): {p.stderr[-8:]}")
                await p.kill()
            loop.remove_reader(master)
            os.close(master)
            os.close(slave)


async def app_speed_on_loopback(mb: float = 20, rounds: int = 5) -> dict[str, Any]:
    """:func:`measure_app_speed` with its own relay on 127.0.0.1 (bench/latency.py: the app's
    own-output speed is local to the customer, whatever the link to the agent)."""
    from relay.config import RelayConfig
    from relay.server import serve_relay

    relay = await serve_relay(RelayConfig(host="127.0.0.1", port=0))
    try:
        return await measure_app_speed(f"ws://127.0.0.1:{relay.port}", mb, rounds)
    finally:
        relay.close()
        try:
            async with asyncio.timeout(5):
                await relay.wait_closed()
        except TimeoutError:
            pass


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    from relay.config import RelayConfig
    from relay.server import serve_relay

    start = time.monotonic()
    relay = await serve_relay(RelayConfig(host="127.0.0.1", port=0))
    relay_url = f"ws://127.0.0.1:{relay.port}"
    out: dict[str, Any] = {}
    try:
        if not args.no_app:
            out.update(await measure_app_speed(relay_url, args.mb, args.rounds))
        if not args.no_console:
            for n in range(args.console_rounds):
                res = await measure_console_cpu(relay_url, _rate(args.console_rate), args.console_seconds)
                log(f"console round {n}: {res}")
                out.setdefault("console_rounds", []).append(res["console_cpu_pct"])
                out.update({k: v for k, v in res.items() if k != "console_cpu_pct"})
            vals = [v for v in out.get("console_rounds", []) if v is not None]
            out["console_cpu_pct"] = statistics.median(vals) if vals else None
    finally:
        relay.close()
        try:
            async with asyncio.timeout(5):
                await relay.wait_closed()
        except TimeoutError:
            pass
    out["machine"] = f"{platform.machine()} {os.cpu_count()} cpu, Python {platform.python_version()}"
    out["load"] = os.getloadavg()[0]
    out["elapsed_s"] = round(time.monotonic() - start, 1)
    return out


def _rate(text: str) -> float:
    text = text.strip().lower()
    mult = {"k": 1e3, "m": 1e6}.get(text[-1], 1.0)
    return float(text[:-1] if text[-1] in "km" else text) * mult


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mb", type=float, default=20, help="MB the writer floods per round")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--console-seconds", type=float, default=5.0)
    ap.add_argument("--console-rate", default="1m", help="bytes/s the console watches (k, m suffixes)")
    ap.add_argument("--console-rounds", type=int, default=3)
    ap.add_argument("--no-app", action="store_true", help="skip the app's own-output speed")
    ap.add_argument("--no-console", action="store_true", help="skip the console's CPU")
    args = ap.parse_args()
    print(json.dumps(asyncio.run(bench(args))))


if __name__ == "__main__":
    main()

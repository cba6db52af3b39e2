"""What sharing costs the customer's machine while a program scrolls steadily, beside tmux.

    python bench/cost.py [--rates 10k,100k,1m,10m] [--seconds 5] [--profile DIR] [--no-tmux] [--erase] [--hide] [--tty]

One paced program (``pacer``: lines of a realistic log, each starting with its sequence
number, written in 10 ms ticks at a fixed byte rate for ``--seconds``) is run two ways
per rate, in the same run:

``cobrowse`` (plain mode)
    A real relay on 127.0.0.1:0 in this process, a real headless agent
    (``python -m cobrowse agent --headless``) and the real customer
    (``python -m cobrowse join CODE --command "python pacer.py ..." --size 100x30``) whose
    stdout (the customer's own terminal) is a pipe into a drain process, as in bench/flood.py.
``cobrowse`` with ``--tty``
    Plain mode (``join --plain``) on a pty of ours (100x30, read and dropped), as a customer
    runs it in a terminal: the notice lane (plain/notice_lane.py) is on, as it is only when
    stdout and stderr are a terminal.
``app`` (with ``--app``)
    The same, but ``cobrowse join`` runs the customer app (Textual) on a pty this script
    reads and drops (100x34: the shared 100x30 terminal under the app's bars). The pacer
    starts once the app's terminal has been quiet 0.5 s (at most 5 s after the agent's first
    screen): the app starts beside the session (early join) and its start-up (widgets
    mounted, styles applied: ~0.3 s of CPU) fell in the window before.
``tmux`` (the baseline)
    A tmux server (``-L`` private socket, ``-f /dev/null``) running the same pacer in a
    100x30 session, with two attached clients on ptys read by this script: one is the
    customer's terminal, the other the "agent" (a second viewer, how people share with tmux).

Figures per rate:

``cpu_pct``
    The customer side's CPU over the paced window (skipping its first 0.5 s) as % of one
    core, from /proc: for cobrowse the ``join`` process (passthrough + emulator +
    redaction + diffs + sealing); for tmux the server plus the customer's client.
``bytes_ratio``
    Bytes toward the agent ÷ bytes the program wrote in the window: for cobrowse, binary
    frames the relay received from the customer (sealed and compressed); for tmux, bytes the
    second client's pty carried.
``lag_ms_p50`` / ``lag_ms_p90``
    For each 10 ms tick, the time from its write to the first agent view showing that
    tick's last line (or a later one): cobrowse's headless ``screen`` events (their lines,
    stamped when this script reads them), tmux's second client output (scanned for the
    sequence numbers as it arrives). Ticks still unseen 3 s after the pacer ended count as
    "never" (reported, and left out of the percentiles).
``cpu_ratio_vs_tmux``
    cobrowse's ``cpu_pct`` ÷ tmux's, per rate (the target of issue 17: ≤ 2 from 10 KB/s
    to 1 MB/s).
``frames_per_s_during``
    Agent screens a second during the paced window (does the view keep moving?).

Progress goes to stderr; the last stdout line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
for p in (str(ROOT), str(ROOT / "bench")):
    if p not in sys.path:
        sys.path.insert(0, p)

from flood import RelayCounter, cpu_seconds, drained, make_log, spawn  # noqa: E402

COLS, ROWS = 100, 30
#: The sequence number at the start of each line: letters around it so no redaction rule
#: takes the digits for a code or a card number.
SEQ = re.compile(rb"(?:^|\n|\r|\x1b\[[0-9;]*[A-Za-z]|\s)L(\d+)q ")
SEQ_TEXT = re.compile(r"^L(\d+)q ")
HIDE, SHOW = b"\x1b[?25l", b"\x1b[?25h"  # DECTCEM, for --hide

PACER = r"""
import os, sys, time, json
rate, seconds, log_path, go_path, times_path = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
lines = open(log_path, "rb").read().split(b"\n")[:-1]
deadline = time.monotonic() + 30
while not os.path.exists(go_path):
    if time.monotonic() > deadline:
        sys.exit(3)
    time.sleep(0.01)
tick = 0.01
seq = 0
ticks = []
start = time.monotonic()
budget = 0.0
written = 0
while True:
    now = time.monotonic()
    if now - start >= seconds:
        break
    budget = rate * (now - start) - written
    chunk = []
    size = 0
    while size < budget:
        line = b"L%dq " % seq + lines[seq % len(lines)] + b"\n"
        chunk.append(line)
        size += len(line)
        seq += 1
    if chunk:
        data = b"".join(chunk)
        view = memoryview(data)
        while view:
            n = os.write(1, view)
            view = view[n:]
        written += len(data)
        ticks.append((time.monotonic(), seq - 1))
    nxt = start + (int((time.monotonic() - start) / tick) + 1) * tick
    delay = nxt - time.monotonic()
    if delay > 0:
        time.sleep(delay)
end = time.monotonic()
with open(times_path, "w") as f:
    json.dump({"start": start, "end": end, "written": written, "ticks": ticks}, f)
sys.stdout.buffer.write(b"[paced done] $ ")
sys.stdout.buffer.flush()
time.sleep(1.5)
"""


def log(msg: str) -> None:
    print(f"[cost] {msg}", file=sys.stderr, flush=True)


def parse_rate(text: str) -> float:
    text = text.strip().lower()
    mult = {"k": 1e3, "m": 1e6}.get(text[-1], 1.0)
    return float(text[:-1] if text[-1] in "km" else text) * mult


def cpu_rate(samples: list[tuple[float, float]], start: float, end: float) -> float | None:
    """CPU % of one core between ``start`` and ``end`` from (time, cpu seconds) samples."""
    inside = [(t, c) for t, c in samples if start <= t <= end]
    if len(inside) < 2 or inside[-1][0] <= inside[0][0]:
        return None
    (t0, c0), (t1, c1) = inside[0], inside[-1]
    return round(100.0 * (c1 - c0) / (t1 - t0), 2)


async def sample_pids(pids: list[int], samples: list[tuple[float, float]], stop: asyncio.Event) -> None:
    while not stop.is_set():
        total = 0.0
        for pid in pids:
            cpu = cpu_seconds(pid)
            if cpu is not None:
                total += cpu
        samples.append((time.monotonic(), total))
        try:
            async with asyncio.timeout(0.05):
                await stop.wait()
        except TimeoutError:
            pass


def lags(ticks: list[tuple[float, int]], seen: list[tuple[float, int]], start: float, end: float) -> dict[str, Any]:
    """Per tick written in [start, end]: time until the agent's view first showed that line or a later one."""
    seen = sorted(seen)
    best: list[tuple[float, int]] = []  # (time, max seq seen so far), increasing
    top = -1
    for t, s in seen:
        if s > top:
            top = s
            best.append((t, s))
    out: list[float] = []
    never = 0
    j = 0
    for t, s in ticks:
        if not start <= t <= end:
            continue
        while j < len(best) and best[j][1] < s:
            j += 1
        if j == len(best):
            never += 1
            continue
        out.append(max(0.0, (best[j][0] - t) * 1000))
    if not out:
        return {"lag_ms_p50": None, "lag_ms_p90": None, "ticks": 0, "never": never}
    out.sort()
    return {
        "lag_ms_p50": round(statistics.median(out), 1),
        "lag_ms_p90": round(out[int(len(out) * 0.9) - 1 if len(out) >= 10 else -1], 1),
        "ticks": len(out),
        "never": never,
    }


# ---------------------------------------------------------------- cobrowse


async def run_cobrowse(rate: float, seconds: float, tmp: Path, relay_url: str, counter: RelayCounter,
                       loglines: Path, app: bool = False, profile: Path | None = None,
                       tty: bool = False) -> dict[str, Any]:
    """Plain mode (stdout a pipe into a drain), or with ``app`` the customer app (Textual) on a
    pty of ours, 100x34 so the shared 100x30 terminal fits under its bars, read and dropped."""
    pacer = tmp / "pacer.py"
    tag = f"{'app' if app else 'cb'}-{int(rate)}"
    go, times = tmp / f"go-{tag}", tmp / f"times-{tag}.json"
    procs = []
    loop = asyncio.get_running_loop()
    master: int | None = None
    try:
        agent = await spawn("agent", sys.executable, "-m", "cobrowse", "agent", "--headless", "--relay", relay_url)
        procs.append(agent)
        _, code_event = await agent.event("code")
        command = f"{sys.executable} {pacer} {rate} {seconds} {loglines} {go} {times}"
        argv = [sys.executable, "-m", "cobrowse", "join", code_event["code"], "--relay", relay_url,
                "--command", command, "--size", f"{COLS}x{ROWS}"]
        task: asyncio.Future[Any]
        if tty and not app:
            argv.append("--plain")
        if app or tty:
            from cobrowse.io.pty_process import _set_winsize

            master, slave = os.openpty()
            _set_winsize(slave, COLS, ROWS + 4 if app else ROWS)
            os.set_blocking(master, False)
            customer = await spawn(f"cobrowse-{tag}", *argv, stdin=slave, stdout=slave, stderr=slave)
            os.close(slave)
            procs.append(customer)
            fd = master
            drawn_at = [loop.time()]
            loop.add_reader(fd, lambda: _drop(fd, drawn_at))

            async def paced_done() -> None:
                while not times.exists():
                    await asyncio.sleep(0.05)
                await asyncio.sleep(1.0)

            task = asyncio.ensure_future(asyncio.wait_for(paced_done(), seconds + 60))
        else:
            task = asyncio.ensure_future(drained(argv, tmp, f"cobrowse-{tag}", procs))
        await agent.event("paired")
        await agent.event("screen")
        if app:  # the app starts beside the session (early join): its start-up must not fall in the window
            await _settled(drawn_at, SETTLED)
        customer = next(p for p in procs if p.name.startswith("cobrowse-"))
        samples: list[tuple[float, float]] = []
        stop = asyncio.Event()
        sampler = asyncio.create_task(sample_pids([customer.proc.pid], samples, stop))
        await asyncio.sleep(0.3)
        spy = None
        if profile is not None:
            profile.mkdir(parents=True, exist_ok=True)
            spy = await asyncio.create_subprocess_exec(
                "py-spy", "record", "--pid", str(customer.proc.pid), "--rate", os.environ.get("COST_PYSPY_RATE", "250"), "--format", "raw",
                "--duration", str(int(seconds)), "-o", str(profile / f"{tag}.txt"),
                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
        go.write_text("go")
        await task
        if spy is not None:
            await spy.wait()
        stop.set()
        await sampler
        if not app:
            await agent.event("ended", 10.0)
        paced = json.loads(times.read_text())
        window = (paced["start"] + 0.5, paced["end"])
        seen: list[tuple[float, int]] = []
        screens_during = 0
        for t, e in agent.events:
            if e.get("event") != "screen":
                continue
            if window[0] <= t <= window[1]:
                screens_during += 1
            nums = [int(m.group(1)) for line in e.get("lines", []) if (m := SEQ_TEXT.match(line))]
            if nums:
                seen.append((t, max(nums)))
        sent, frames = counter.customer_bytes(window[0], window[1])
        in_window = _written_in(paced, window)
        result = {
            "cpu_pct": cpu_rate(samples, *window),
            "bytes_written": in_window,
            "bytes_to_agent": sent,
            "bytes_ratio": round(sent / in_window, 4) if in_window else None,
            "frames_per_s_during": round(screens_during / (window[1] - window[0]), 1),
            "relay_frames": frames,
            **lags(paced["ticks"], seen, *window),
        }
        return result
    finally:
        for p in procs:
            await p.kill()
        if master is not None:
            loop.remove_reader(master)
            os.close(master)


def _drop(fd: int, drawn_at: list[float]) -> None:
    try:
        os.read(fd, 1 << 16)
    except OSError:
        asyncio.get_running_loop().remove_reader(fd)
    drawn_at[0] = asyncio.get_running_loop().time()


#: The customer app is measured once its terminal has been quiet this long (its start-up drawn:
#: the widgets mounted, the first toasts shown), at most SETTLE_FOR s after the agent's first screen.
SETTLED, SETTLE_FOR = 0.5, 5.0


async def _settled(drawn_at: list[float], quiet: float) -> None:
    loop = asyncio.get_running_loop()
    give_up = loop.time() + SETTLE_FOR
    while loop.time() < give_up and loop.time() - drawn_at[0] < quiet:
        await asyncio.sleep(0.05)


def _written_in(paced: dict[str, Any], window: tuple[float, float]) -> int:
    """Bytes the pacer wrote inside the window (from its tick log and its constant rate)."""
    duration = paced["end"] - paced["start"]
    return int(paced["written"] * (window[1] - window[0]) / duration) if duration > 0 else 0


# ---------------------------------------------------------------- tmux


class PtyReader:
    """A tmux client on a pty of ours: counts its bytes and, for the viewer, the sequence numbers it shows."""

    def __init__(self, fd: int, watch: bool) -> None:
        self.fd, self.watch = fd, watch
        self.bytes = 0
        self.marks: list[tuple[float, int, int]] = []  # (time, bytes so far, max seq in chunk)
        self._tail = b""

    def ready(self) -> None:
        try:
            data = os.read(self.fd, 1 << 16)
        except OSError:
            asyncio.get_running_loop().remove_reader(self.fd)
            return
        now = time.monotonic()
        self.bytes += len(data)
        if self.watch:
            text = self._tail + data
            nums = [int(m.group(1)) for m in SEQ.finditer(text)]
            self._tail = text[-32:]
            self.marks.append((now, self.bytes, max(nums) if nums else -1))


async def run_tmux(rate: float, seconds: float, tmp: Path, loglines: Path) -> dict[str, Any]:
    sock = f"cobrowse-cost-{os.getpid()}"
    pacer = tmp / "pacer.py"
    go, times = tmp / f"go-tm-{int(rate)}", tmp / f"times-tm-{int(rate)}.json"
    env = {**os.environ, "TERM": "xterm-256color"}
    env.pop("TMUX", None)
    base = ["tmux", "-L", sock, "-f", "/dev/null"]
    command = f"{sys.executable} {pacer} {rate} {seconds} {loglines} {go} {times}"
    new = await asyncio.create_subprocess_exec(
        *base, "new-session", "-d", "-x", str(COLS), "-y", str(ROWS), "-s", "cost", command, env=env)
    await new.wait()
    opt = await asyncio.create_subprocess_exec(*base, "set-option", "-g", "status", "off", env=env)
    await opt.wait()
    loop = asyncio.get_running_loop()
    clients: list[tuple[asyncio.subprocess.Process, PtyReader]] = []
    from cobrowse.io.pty_process import _set_winsize

    try:
        for watch in (False, True):
            master, slave = os.openpty()
            _set_winsize(slave, COLS, ROWS)
            os.set_blocking(master, False)
            proc = await asyncio.create_subprocess_exec(
                *base, "attach-session", "-t", "cost", stdin=slave, stdout=slave, stderr=slave, env=env,
                start_new_session=True)
            os.close(slave)
            reader = PtyReader(master, watch)
            loop.add_reader(master, reader.ready)
            clients.append((proc, reader))
        pid_proc = await asyncio.create_subprocess_exec(
            *base, "display-message", "-p", "#{pid}", stdout=asyncio.subprocess.PIPE, env=env)
        out, _ = await pid_proc.communicate()
        server_pid = int(out.strip())
        await asyncio.sleep(0.5)
        samples: list[tuple[float, float]] = []
        stop = asyncio.Event()
        sampler = asyncio.create_task(sample_pids([server_pid, clients[0][0].pid], samples, stop))
        go.write_text("go")
        async with asyncio.timeout(seconds + 30):
            while not times.exists():
                await asyncio.sleep(0.05)
            await asyncio.sleep(1.0)
        stop.set()
        await sampler
        paced = json.loads(times.read_text())
        window = (paced["start"] + 0.5, paced["end"])
        viewer = clients[1][1]
        seen = [(t, s) for t, _, s in viewer.marks if s >= 0]
        inside = [(t, b) for t, b, _ in viewer.marks if window[0] <= t <= window[1]]
        sent = inside[-1][1] - inside[0][1] if len(inside) >= 2 else 0
        in_window = _written_in(paced, window)
        return {
            "cpu_pct": cpu_rate(samples, *window),
            "bytes_written": in_window,
            "bytes_to_agent": sent,
            "bytes_ratio": round(sent / in_window, 4) if in_window else None,
            **lags(paced["ticks"], seen, *window),
        }
    finally:
        for proc, reader in clients:
            loop.remove_reader(reader.fd)
            os.close(reader.fd)
            if proc.returncode is None:
                proc.kill()
            await proc.wait()
        kill = await asyncio.create_subprocess_exec(*base, "kill-server", env=env, stderr=asyncio.subprocess.DEVNULL)
        await kill.wait()


# ---------------------------------------------------------------- main


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    from relay.config import RelayConfig
    from relay.server import serve_relay

    start = time.monotonic()
    rates = [parse_rate(r) for r in args.rates.split(",")]
    counter = RelayCounter()
    counter.install()
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="cobrowse-cost-") as tmpdir:
        tmp = Path(tmpdir)
        (tmp / "pacer.py").write_text(PACER)
        loglines = tmp / "lines.log"
        make_log(loglines, 2_000_000)
        if args.erase:  # each line ends in EL, as grep --color, compilers' colours and progress lines do
            loglines.write_bytes(loglines.read_bytes().replace(b"\n", b"\x1b[K\n"))
        if args.hide:  # each line written with the cursor hidden, as programs redrawing do
            loglines.write_bytes(b"".join(HIDE + line + SHOW + b"\n" for line in loglines.read_bytes().split(b"\n")[:-1]))
        relay = await serve_relay(RelayConfig(host="127.0.0.1", port=0))
        counter.rooms = relay.rooms
        relay_url = f"ws://127.0.0.1:{relay.port}"
        try:
            for rate in rates:
                label = _label(rate)
                row: dict[str, Any] = {}
                modes = ("tmux", "cobrowse", "app") if args.app else ("tmux", "cobrowse")
                for mode in modes[1:] if args.no_tmux else modes:
                    if mode == "tmux":
                        row[mode] = await run_tmux(rate, args.seconds, tmp, loglines)
                    else:
                        row[mode] = await run_cobrowse(rate, args.seconds, tmp, relay_url, counter, loglines,
                                                       app=mode == "app", profile=args.profile, tty=args.tty)
                    log(f"{label:>7s} {mode:8s} {row[mode]}")
                if args.no_tmux:
                    row["tmux"] = {"cpu_pct": None, "bytes_ratio": None, "lag_ms_p50": None}
                cb, tm = row["cobrowse"]["cpu_pct"], row["tmux"]["cpu_pct"]
                row["cpu_ratio_vs_tmux"] = round(cb / tm, 2) if cb is not None and tm else None
                results[label] = row
        finally:
            relay.close()
            try:
                async with asyncio.timeout(5):
                    await relay.wait_closed()
            except TimeoutError:
                pass
    return {
        "cpu_pct": {k: {m: v[m]["cpu_pct"] for m in ("tmux", "cobrowse", "app") if m in v} for k, v in results.items()},
        "cpu_ratio_vs_tmux": {k: v["cpu_ratio_vs_tmux"] for k, v in results.items()},
        "bytes_ratio": {k: {"tmux": v["tmux"]["bytes_ratio"], "cobrowse": v["cobrowse"]["bytes_ratio"]} for k, v in results.items()},
        "lag_ms_p50": {k: {m: v[m]["lag_ms_p50"] for m in ("tmux", "cobrowse", "app") if m in v} for k, v in results.items()},
        "frames_per_s_during": {k: v["cobrowse"]["frames_per_s_during"] for k, v in results.items()},
        "rates": results,
        "seconds": args.seconds,
        "baseline": "tmux server + attached client (customer) with a second attached client (agent), same pacer",
        "machine": f"{platform.machine()} {os.cpu_count()} cpu, Python {platform.python_version()}",
        "elapsed_s": round(time.monotonic() - start, 1),
    }


def _label(rate: float) -> str:
    return f"{rate / 1e6:g}MB/s" if rate >= 1e6 else f"{rate / 1e3:g}KB/s"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rates", default="10k,100k,1m,10m", help="output rates, bytes/s (k, m suffixes)")
    ap.add_argument("--seconds", type=float, default=5.0, help="paced seconds per rate and mode")
    ap.add_argument("--app", action="store_true", help="also run the customer app (Textual) on a pty")
    ap.add_argument("--profile", type=Path, default=None,
                    help="py-spy the customer during the paced window (raw samples into DIR/<mode>-<rate>.txt)")
    ap.add_argument("--no-tmux", action="store_true", help="skip the tmux baseline (profiling runs)")
    ap.add_argument("--tty", action="store_true",
                    help="plain mode on a pty (the notice lane on, as in a customer's terminal), not a pipe")
    ap.add_argument("--hide", action="store_true",
                    help="write each log line with the cursor hidden (ESC [ ? 25 l ... ESC [ ? 25 h), as redraws do")
    ap.add_argument("--erase", action="store_true", help="end each log line in EL (ESC [ K), as grep --color does")
    args = ap.parse_args()
    print(json.dumps(asyncio.run(bench(args))))


if __name__ == "__main__":
    main()

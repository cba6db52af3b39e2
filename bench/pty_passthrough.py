"""How much slower does `cat` of a big file reach the customer through cobrowse's plain mode?

Baseline ("direct"): `cat FILE` runs on a pty whose master the consumer reads with a tight
os.read loop -- what a terminal emulator does without cobrowse.

Through cobrowse: a child process runs `cat FILE` with PtyProcess + passthrough (with an
observer that copies every chunk, as a screen capture would). Its stdout is either
  * "pty":  the slave of an outer pty whose master the consumer tight-reads (the customer's
            real terminal: the child is in raw mode, like the real thing), or
  * "pipe": a pipe the consumer tight-reads;
and the output is written either through the private non-blocking reopen of stdout
("nb", the default) or blocking on fd 1 ("blk"). "pty-tight" is the floor for comparison:
a plain blocking read/write loop in Python with no asyncio, no observer, same outer pty.
On a 2-vCPU VM, the second pty hop itself (the customer's own terminal) costs the most;
``ratio_nb_vs_tight`` isolates cobrowse's own overhead on top of it.

Time = from just before the child spawns `cat` (CLOCK_MONOTONIC, shared between processes)
to the consumer reading EOF. Modes are interleaved, each repeated; we report the median and
the best, and customer_speed_ratio = direct / through-cobrowse time (1.0 = no slowdown) for
the default configuration (pty, nb), using medians.

Usage: python bench/pty_passthrough.py [--mb 100] [--reps 3] [--budget 60] [--modes a,b]
Progress goes to stderr; the last stdout line is a JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import json
import os
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def make_file(path: Path, mb: int) -> int:
    line = b"x" * 99 + b"\n"
    block = line * 10_000  # ~1 MB
    with open(path, "wb") as f:
        for _ in range(mb):
            f.write(block)
    return mb * len(block)


def drain_fd(fd: int) -> tuple[int, float]:
    """Tight read loop until EOF/EIO: bytes read and the monotonic time of the end."""
    n = 0
    while True:
        try:
            data = os.read(fd, 1 << 16)
        except OSError:
            break
        if not data:
            break
        n += len(data)
    return n, time.monotonic()


def _ctty() -> None:
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def run_direct(path: Path) -> dict[str, float]:
    master, slave = os.openpty()
    t0 = time.monotonic()
    proc = subprocess.Popen(
        ["cat", str(path)], stdin=slave, stdout=slave, stderr=slave, start_new_session=True, preexec_fn=_ctty
    )
    os.close(slave)
    n, t1 = drain_fd(master)
    os.close(master)
    proc.wait()
    return {"bytes": n, "seconds": t1 - t0}


def run_through(path: Path, sink: str, write_mode: str) -> dict[str, float]:
    fd, result_path = tempfile.mkstemp(suffix=".json")
    os.close(fd)
    args = [sys.executable, __file__, "--child", str(path), "--result", result_path, "--write-mode", write_mode]
    if sink == "pty":
        master, slave = os.openpty()
        proc = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=subprocess.DEVNULL, start_new_session=True)
        os.close(slave)
        read_fd = master
    else:
        r, w = os.pipe()
        proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=w, stderr=subprocess.DEVNULL)
        os.close(w)
        read_fd = r
    n, t1 = drain_fd(read_fd)
    os.close(read_fd)
    proc.wait(timeout=30)
    info = json.loads(Path(result_path).read_text())
    os.unlink(result_path)
    return {
        "bytes": n,
        "seconds": t1 - info["t0"],
        "observed": info["observed"],
        "max_buffered": info["max_buffered"],
        "exit": info["status"],
        "cpu_s": info["cpu_s"],
    }


def tight_child_main(path: str, result: str) -> None:
    """Reference relay: blocking read of the inner pty, blocking write to stdout, no asyncio.

    The least any relay written in Python can cost; the gap between it and "direct" is the
    price of the second pty hop itself (the kernel work of the customer's own terminal).
    """
    import tty

    if os.isatty(0):
        tty.setraw(0)
    master, slave = os.openpty()
    t0 = time.monotonic()
    proc = subprocess.Popen(["cat", path], stdin=slave, stdout=slave, stderr=slave, start_new_session=True, preexec_fn=_ctty)
    os.close(slave)
    n = 0
    while True:
        try:
            data = os.read(master, 1 << 16)
        except OSError:
            break
        if not data:
            break
        n += len(data)
        view = memoryview(data)
        while view:
            view = view[os.write(1, view):]
    status = proc.wait()
    ru = resource.getrusage(resource.RUSAGE_SELF)
    info = {"t0": t0, "observed": n, "max_buffered": 0, "status": status, "cpu_s": ru.ru_utime + ru.ru_stime}
    Path(result).write_text(json.dumps(info))


async def child_main(path: str, result: str, write_mode: str) -> None:
    from cobrowse.io.pty import LocalTerminal, PtyProcess, passthrough

    observed = 0
    tail = bytearray()

    def observer(data: bytes) -> None:
        # What a screen capture's hand-off costs: keep the bytes (bounded), parse elsewhere.
        nonlocal observed
        observed += len(data)
        tail.extend(data)
        if len(tail) > 1 << 20:
            del tail[: len(tail) - (1 << 19)]

    with LocalTerminal(nonblocking_output=(write_mode == "nb")) as term:
        cols, rows = term.size()
        t0 = time.monotonic()
        async with await PtyProcess.spawn(["cat", path], cols, rows) as proc:
            status = await passthrough(proc, term, observer=observer)
        max_buffered = term.max_buffered
    ru = resource.getrusage(resource.RUSAGE_SELF)
    info = {"t0": t0, "observed": observed, "max_buffered": max_buffered, "status": status}
    info["cpu_s"] = ru.ru_utime + ru.ru_stime  # includes interpreter start-up (~0.05 s)
    Path(result).write_text(json.dumps(info))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=100)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--budget", type=float, default=60.0, help="stop starting new runs after this many seconds")
    ap.add_argument("--child")
    ap.add_argument("--result")
    ap.add_argument("--write-mode", default="nb")
    ap.add_argument("--modes", default="direct,pty-nb,pty-blk,pipe-nb,pty-tight", help="comma-separated subset")
    a = ap.parse_args()
    if a.child:
        if a.write_mode == "tight":
            tight_child_main(a.child, a.result)
        else:
            asyncio.run(child_main(a.child, a.result, a.write_mode))
        return

    signal.alarm(int(a.budget) + 90)  # a hung run must not hang the caller: SIGALRM ends us
    start = time.monotonic()
    modes = [("direct", None, None), ("pty-nb", "pty", "nb"), ("pty-blk", "pty", "blk"), ("pipe-nb", "pipe", "nb"), ("pty-tight", "pty", "tight")]
    wanted = a.modes.split(",")
    modes = [m for m in modes if m[0] in wanted]
    results: dict[str, list[dict[str, float]]] = {m[0]: [] for m in modes}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.txt"
        size = make_file(path, a.mb)
        log(f"file: {size / 1e6:.0f} MB, {a.reps} reps per mode, budget {a.budget:.0f}s")
        expected = size + size // 100  # ONLCR turns each of the size/100 "\n" into "\r\n"
        for rep in range(a.reps):
            for name, sink, write_mode in modes:
                if time.monotonic() - start > a.budget:
                    log("budget exhausted, stopping early")
                    break
                r = run_direct(path) if sink is None else run_through(path, sink, write_mode or "nb")
                ok = r["bytes"] == expected and r.get("observed", expected) == expected
                results[name].append(r)
                log(
                    f"rep {rep} {name:8s} {r['seconds']:.3f}s {r['bytes'] / r['seconds'] / 1e6:7.1f} MB/s"
                    + ("" if ok else f"  BYTES MISMATCH {r['bytes']} vs {expected}")
                    + (f"  max_buffered={r['max_buffered']} cobrowse_cpu={r['cpu_s']:.2f}s" if "cpu_s" in r else "")
                )

    summary: dict[str, object] = {"file_mb": a.mb, "expected_bytes": expected, "reps": a.reps}
    for name, runs in results.items():
        if not runs:
            continue
        secs = [r["seconds"] for r in runs]
        summary[name] = {
            "median_s": round(statistics.median(secs), 4),
            "best_s": round(min(secs), 4),
            "median_MBps": round(expected / statistics.median(secs) / 1e6, 1),
            "complete": all(r["bytes"] == expected for r in runs),
        }
    direct = statistics.median(r["seconds"] for r in results["direct"]) if results.get("direct") else None
    for name in ("pty-nb", "pty-blk", "pipe-nb", "pty-tight"):
        if direct and results.get(name):
            summary[f"ratio_{name}"] = round(direct / statistics.median(r["seconds"] for r in results[name]), 3)
    summary["customer_speed_ratio"] = summary.get("ratio_pty-nb")
    if results.get("pty-nb") and results.get("pty-tight"):
        summary["ratio_nb_vs_tight"] = round(
            statistics.median(r["seconds"] for r in results["pty-tight"])
            / statistics.median(r["seconds"] for r in results["pty-nb"]),
            3,
        )
    summary["elapsed_s"] = round(time.monotonic() - start, 1)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()

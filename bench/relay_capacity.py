"""How many paired idle sessions one relay node holds, and its memory per session.

    python bench/relay_capacity.py [--sessions 10000] [--workers 4] [--seconds 150]

The relay runs as its own process (``python -m relay`` on 127.0.0.1, a free port) with its
open-file limit raised (to 2 x sessions + slack when we may raise the hard limit, i.e. as
root; otherwise soft = hard). Client worker processes (this script's ``--worker`` mode; a
worker holds 2 sockets per session, so several workers keep each under its own limit) open
and pair the sessions with raw websocket clients (open + claim, as bench/relay_throughput.py
does) and then hold them idle. The relay's VmRSS is read from /proc before any session and
once every session is paired and the relay has settled: kb_per_session = growth / sessions.

cross_node_ratio: a real ``redis-server`` on a free loopback port and two relay processes
on it (``--redis``); rounds alternate between a pair whose two sides are on the same node
and a pair whose sides are on different nodes (frames then go through Redis pub/sub), each
streaming 1 KiB frames one way for --cross-seconds; every frame must arrive, in order.
cross_node_ratio = median frames/s across nodes / median frames/s within one node. Null
with the reason when redis-server is not installed. ``--cross-only`` skips the capacity
part. Progress goes to stderr; the last stdout line is one JSON object. Bounded: pairing
stops at --seconds, the whole run at about --seconds + 90 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# every client here is 127.0.0.1: lift the per-address admission limits (docs/relay.md)
ONE_ADDRESS = ["--connections-per-address", "1000000", "--open-burst", "1000000", "--open-rate", "1000000",
               "--unpaired-per-address", "1000000", "--reserved-connections", "16"]


def log(msg: str) -> None:
    print(f"[relay_capacity] {msg}", file=sys.stderr, flush=True)


def raise_nofile(want: int) -> int:
    """Raise RLIMIT_NOFILE towards ``want`` (the hard limit too if allowed); the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if want > hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, want))
            return want
        except (ValueError, OSError):
            pass
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(max(soft, want), hard), hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def vm_rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


# ---------------------------------------------------------------- worker: hold sessions


async def worker(url: str, sessions: int, seconds: float) -> None:
    from websockets.asyncio.client import connect

    from cobrowse.wire.envelope import Claim, Open, decode_relay

    held: list = []
    failed = 0
    gate = asyncio.Semaphore(64)
    deadline = time.monotonic() + seconds

    async def one() -> None:
        nonlocal failed
        if time.monotonic() > deadline:
            return
        async with gate:
            try:
                a = await connect(url, compression=None, open_timeout=10)
                await a.send(Open("agent", 1).encode())
                opened = decode_relay(await asyncio.wait_for(a.recv(), 10))
                b = await connect(url, compression=None, open_timeout=10)
                await b.send(Claim("customer", 1, opened.nameplate).encode())  # type: ignore[attr-defined]
                for ws, n in ((b, 2), (a, 1)):  # claimed + peer joined / peer joined
                    for _ in range(n):
                        msg = decode_relay(await asyncio.wait_for(ws.recv(), 10))
                        if msg.type not in ("claimed", "peer"):
                            raise RuntimeError(f"unexpected {msg}")
                held.append((a, b))
            except Exception as exc:  # counted and reported, never fatal for the others
                failed += 1
                if failed <= 3:
                    print(f"worker error: {exc!r}", file=sys.stderr, flush=True)

    await asyncio.gather(*(one() for _ in range(sessions)))
    print(f"paired {len(held)} failed {failed}", flush=True)
    # hold them idle until told to stop (a line on stdin, or EOF), at most 10 minutes
    loop = asyncio.get_running_loop()
    await asyncio.wait_for(loop.run_in_executor(None, sys.stdin.readline), 600)
    alive = sum(1 for a, b in held if a.state.name == "OPEN" and b.state.name == "OPEN")
    print(f"alive {alive}", flush=True)
    for a, b in held:
        a.transport.abort()
        b.transport.abort()


# ---------------------------------------------------------------- the run


def start_relay(want_fds: int) -> tuple[subprocess.Popen[str], int]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COBROWSE_RELAY")}
    argv = [sys.executable, "-m", "relay", "--host", "127.0.0.1", "--port", "0", *ONE_ADDRESS]
    proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True, preexec_fn=lambda: raise_nofile(want_fds))
    assert proc.stderr is not None
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        if "listening on" in line:
            port = int(line.split("ws://", 1)[1].split()[0].rsplit(":", 1)[1])
            # keep reading its stderr so the relay never blocks on a full pipe
            import threading

            threading.Thread(target=lambda: [None for _ in proc.stderr], daemon=True).start()  # type: ignore[union-attr]
            return proc, port
    proc.kill()
    raise SystemExit(f"could not start {argv!r}")


def relay_nofile(pid: int) -> int:
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max open files"):
            return int(line.split()[3])
    return 0


# ---------------------------------------------------------------- frames across two nodes


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_redis() -> tuple[subprocess.Popen[bytes], str] | None:
    import shutil
    import socket

    binary = shutil.which("redis-server")
    if binary is None:
        return None
    port = free_port()
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                if sock.recv(16).startswith(b"+PONG"):
                    return proc, f"redis://127.0.0.1:{port}/0"
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("redis-server did not start")


def start_node(redis_url: str, name: str) -> tuple[subprocess.Popen[str], int]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COBROWSE_RELAY")}
    port = free_port()
    argv = [sys.executable, "-m", "relay", "--host", "127.0.0.1", "--port", str(port), "--redis", redis_url,
            "--node-id", name, "--token-store", os.devnull]
    proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        if "listening on" in line:
            import threading

            threading.Thread(target=lambda: [None for _ in proc.stderr], daemon=True).start()  # type: ignore[union-attr]
            return proc, port
    proc.kill()
    raise SystemExit(f"could not start {argv!r}")


async def stream_round(agent_url: str, customer_url: str, seconds: float, size: int = 1024) -> float:
    """Frames/s from an agent to a customer (paired across whatever nodes the URLs are)."""
    from websockets.asyncio.client import connect

    from cobrowse.wire.envelope import Claim, Close, Open, decode_relay

    a = await connect(agent_url, compression=None, max_size=None)
    await a.send(Open("agent", 1).encode())
    opened = decode_relay(await asyncio.wait_for(a.recv(), 10))
    b = await connect(customer_url, compression=None, max_size=None)
    await b.send(Claim("customer", 1, opened.nameplate).encode())  # type: ignore[attr-defined]
    for ws, n in ((b, 2), (a, 1)):
        for _ in range(n):
            decode_relay(await asyncio.wait_for(ws.recv(), 10))
    pad = os.urandom(size - 8)
    state = {"stop": False, "count": 0, "counting": False}

    async def sender() -> None:
        seq = 0
        while not state["stop"]:
            await a.send(seq.to_bytes(8, "big") + pad)
            seq += 1
        await a.send(b"\xff" * 8)

    async def receiver() -> None:
        expected = 0
        while True:
            frame = await b.recv()
            if frame == b"\xff" * 8:
                return
            seq = int.from_bytes(frame[:8], "big")  # type: ignore[arg-type]
            if seq != expected:
                raise AssertionError(f"frame {seq} arrived, expected {expected}")
            expected += 1
            if state["counting"]:
                state["count"] += 1

    tasks = [asyncio.create_task(sender()), asyncio.create_task(receiver())]
    await asyncio.sleep(0.3)
    state["counting"] = True
    t0 = time.perf_counter()
    await asyncio.sleep(seconds)
    state["counting"] = False
    elapsed = time.perf_counter() - t0
    state["stop"] = True
    await asyncio.wait_for(asyncio.gather(*tasks), 30)
    await a.send(Close("ended").encode())
    await a.close()
    await b.close()
    return state["count"] / elapsed


def cross_node(args: argparse.Namespace) -> dict:
    import statistics

    started = start_redis()
    if started is None:
        return {"cross_node_ratio": None, "cross_node": "not measured: redis-server is not installed"}
    redis_proc, redis_url = started
    nodes = []
    try:
        nodes = [start_node(redis_url, "bench-a"), start_node(redis_url, "bench-b")]
        a_url, b_url = (f"ws://127.0.0.1:{port}" for _, port in nodes)
        one, two = [], []
        for i in range(args.cross_rounds):
            one.append(asyncio.run(stream_round(a_url, a_url, args.cross_seconds)))
            two.append(asyncio.run(stream_round(a_url, b_url, args.cross_seconds)))
            log(f"round {i + 1}: one node {one[-1]:8.0f} frames/s, across two nodes {two[-1]:8.0f} frames/s")
    finally:
        for proc, _ in nodes:
            proc.send_signal(signal.SIGTERM)
        for proc, _ in nodes:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        redis_proc.terminate()
        redis_proc.wait(timeout=10)
    one_med, two_med = statistics.median(one), statistics.median(two)
    return {
        "cross_node_ratio": round(two_med / one_med, 3),
        "cross_node_frames_per_s": round(two_med),
        "one_node_frames_per_s": round(one_med),
        "cross_node_frame_bytes": 1024,
    }


def run(args: argparse.Namespace) -> dict:
    k = args.sessions
    relay, port = start_relay(2 * k + 1024)
    url = f"ws://127.0.0.1:{port}"
    relay_fds = relay_nofile(relay.pid)
    log(f"relay pid {relay.pid} on {url}, open-file limit {relay_fds}")
    if relay_fds < 2 * k + 64:
        log(f"the relay can hold at most ~{(relay_fds - 64) // 2} sessions with its open-file limit")
    workers: list[subprocess.Popen[str]] = []
    try:
        time.sleep(1.0)
        before = vm_rss_kb(relay.pid)
        log(f"relay VmRSS before: {before} kB")
        per = [k // args.workers + (1 if i < k % args.workers else 0) for i in range(args.workers)]
        t0 = time.monotonic()
        for n in per:
            workers.append(subprocess.Popen(
                [sys.executable, str(Path(__file__).resolve()), "--worker", "--url", url,
                 "--sessions", str(n), "--seconds", str(args.seconds)],
                cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            ))
        paired = failed = 0
        for w in workers:
            assert w.stdout is not None
            line = ""
            end = t0 + args.seconds + 30
            while time.monotonic() < end:
                line = w.stdout.readline()
                if not line or line.startswith("paired"):
                    break
            parts = line.split()
            if len(parts) == 4:
                paired += int(parts[1])
                failed += int(parts[3])
        pair_s = time.monotonic() - t0
        log(f"paired {paired} sessions ({failed} failed) in {pair_s:.1f} s")
        time.sleep(3.0)  # let the relay settle (buffers, the tick)
        after = vm_rss_kb(relay.pid)
        log(f"relay VmRSS after: {after} kB")
        alive = 0
        for w in workers:
            assert w.stdin is not None and w.stdout is not None
            w.stdin.write("stop\n")
            w.stdin.flush()
            line = w.stdout.readline()
            if line.startswith("alive"):
                alive += int(line.split()[1])
        log(f"{alive} sessions still open when measured")
    finally:
        for w in workers:
            try:
                w.wait(timeout=20)
            except subprocess.TimeoutExpired:
                w.kill()
        relay.send_signal(signal.SIGTERM)
        try:
            relay.wait(timeout=20)
        except subprocess.TimeoutExpired:
            relay.kill()
    import websockets

    return {
        "idle_sessions": min(paired, alive),
        "kb_per_session": round((after - before) / paired, 2) if paired else None,
        "sessions_asked": k,
        "sessions_failed": failed,
        "relay_rss_before_kb": before,
        "relay_rss_after_kb": after,
        "relay_open_file_limit": relay_fds,
        "fd_limited": relay_fds < 2 * k + 64,  # the relay could not hold 2 sockets per asked session
        "client_workers": args.workers,
        "pair_seconds": round(pair_s, 1),
        "python": platform.python_version(),
        "websockets": websockets.__version__,
        "cpus": os.cpu_count(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--sessions", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=4, help="client processes (2 sockets per session each)")
    parser.add_argument("--seconds", type=float, default=150.0, help="time limit for pairing")
    parser.add_argument("--cross-seconds", type=float, default=2.5, help="length of one cross-node round")
    parser.add_argument("--cross-rounds", type=int, default=3, help="rounds per setup (one node, two nodes)")
    parser.add_argument("--cross-only", action="store_true", help="measure only cross_node_ratio")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    if args.worker:
        raise_nofile(2 * args.sessions + 256)
        asyncio.run(worker(args.url, args.sessions, args.seconds))
        return
    result = {} if args.cross_only else run(args)
    result.update(cross_node(args))
    print(json.dumps(result))


if __name__ == "__main__":
    main()

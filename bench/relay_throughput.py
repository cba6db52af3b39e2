"""Sealed frames through our relay vs a bare websockets forwarder, side by side in one run.

    python bench/relay_throughput.py [--seconds 2.5] [--rounds 4] [--payload 1024]

Both relays run as their own processes on 127.0.0.1 (ours through ``python -m relay``, the
bare one through this script's ``--bare`` mode: pair two sockets, forward binary frames,
nothing else). The clients run here: the sender seals 1 KiB payloads with
``cobrowse.crypto.aead.Sealer``, the receiver opens every frame with ``Opener``, so sealing
costs the same in both runs. Rounds alternate between the two relays so a noisy machine
hurts both alike. Per relay we measure frames/s delivered (opened) at the receiver, the
relay process's CPU time per frame (from /proc), and the round-trip time of a sealed
ping-pong. Progress goes to stderr; the last stdout line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAX_SIZE = 256 * 1024 + 64 * 1024  # what our relay accepts at its defaults


def log(msg: str) -> None:
    print(f"[relay_throughput] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- the bare forwarder


async def bare_server() -> None:
    """Pair connections two by two and forward every message to the other one."""
    from websockets.asyncio.server import serve
    from websockets.exceptions import ConnectionClosed

    waiting: list = []
    peers: dict = {}

    async def handler(ws) -> None:  # type: ignore[no-untyped-def]
        if waiting:
            other = waiting.pop()
            peers[ws], peers[other] = other, ws
            await other.send("paired")
            await ws.send("paired")
        else:
            waiting.append(ws)
        try:
            async for msg in ws:
                peer = peers.get(ws)
                if peer is not None:
                    try:
                        await peer.send(msg)
                    except ConnectionClosed:
                        pass
        finally:
            if ws in waiting:
                waiting.remove(ws)
            peer = peers.pop(ws, None)
            if peer is not None:
                peers.pop(peer, None)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    async with serve(handler, "127.0.0.1", 0, compression=None, max_size=MAX_SIZE) as server:
        port = list(server.sockets)[0].getsockname()[1]
        print(f"port {port}", flush=True)
        await stop.wait()


# ---------------------------------------------------------------- clients


@dataclass
class Target:
    name: str
    proc: subprocess.Popen[str]
    url: str
    frames: int = 0
    seconds: float = 0.0
    cpu: float = 0.0
    rtts: list[float] = field(default_factory=list)
    rates: list[float] = field(default_factory=list)


def cpu_seconds(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def pair_clients(target: Target):  # type: ignore[no-untyped-def]
    from websockets.asyncio.client import connect

    from cobrowse.wire.envelope import Claim, Open, decode_relay

    a = await connect(target.url, compression=None, max_size=None)
    if target.name == "bare":
        b = await connect(target.url, compression=None, max_size=None)
        assert await asyncio.wait_for(a.recv(), 5) == "paired"
        assert await asyncio.wait_for(b.recv(), 5) == "paired"
        return a, b
    await a.send(Open("agent", 1).encode())
    opened = decode_relay(await asyncio.wait_for(a.recv(), 5))
    b = await connect(target.url, compression=None, max_size=None)
    await b.send(Claim("customer", 1, opened.nameplate).encode())  # type: ignore[attr-defined]
    for ws, n in ((b, 2), (a, 1)):  # claimed + peer joined / peer joined
        for _ in range(n):
            decode_relay(await asyncio.wait_for(ws.recv(), 5))
    return a, b


async def finish(target: Target, a, b) -> None:  # type: ignore[no-untyped-def]
    from cobrowse.wire.envelope import Close

    if target.name != "bare":
        await a.send(Close("ended").encode())
    await a.close()
    await b.close()


async def throughput_round(target: Target, seconds: float, payload: bytes) -> None:
    from cobrowse.crypto.aead import Opener, Sealer

    key = os.urandom(32)
    sealer, opener = Sealer(key), Opener(key)
    a, b = await pair_clients(target)
    warmup = 0.2
    state = {"count": 0, "counting": False, "stop": False}

    async def sender() -> None:
        seq = 0
        send = a.send
        while not state["stop"]:
            await send(sealer.seal(1, seq, payload))
            seq += 1
        await send(sealer.seal(2, seq, b""))  # the end marker: the receiver drains up to it

    async def receiver() -> None:
        expected = 0
        recv = b.recv
        while True:
            kind, seq, plain = opener.open(await recv())
            if seq != expected:
                raise AssertionError(f"frame {seq} arrived, expected {expected}")
            if kind == 2:
                return
            if len(plain) != len(payload):
                raise AssertionError(f"frame {seq} has the wrong size")
            expected += 1
            if state["counting"]:
                state["count"] += 1

    tasks = [asyncio.create_task(sender()), asyncio.create_task(receiver())]
    await asyncio.sleep(warmup)
    cpu0 = cpu_seconds(target.proc.pid)
    t0 = time.perf_counter()
    state["counting"] = True
    await asyncio.sleep(seconds)
    state["counting"] = False
    elapsed = time.perf_counter() - t0
    cpu1 = cpu_seconds(target.proc.pid)
    frames = state["count"]
    state["stop"] = True
    # every frame sent must arrive, in order and intact (the receiver checks each one)
    await asyncio.wait_for(asyncio.gather(*tasks), 30)
    await finish(target, a, b)
    target.frames += frames
    target.rates.append(frames / elapsed)
    target.seconds += elapsed
    if cpu0 is not None and cpu1 is not None:
        target.cpu += cpu1 - cpu0
    log(f"{target.name:>5}: {frames / elapsed:9.0f} frames/s")


async def rtt_round(target: Target, count: int, payload: bytes) -> None:
    from cobrowse.crypto.aead import Opener, Sealer

    ka, kb = os.urandom(32), os.urandom(32)
    seal_a, open_a, seal_b, open_b = Sealer(ka), Opener(kb), Sealer(kb), Opener(ka)
    a, b = await pair_clients(target)

    async def echo() -> None:
        while True:
            _, seq, plain = open_b.open(await b.recv())
            await b.send(seal_b.seal(1, seq, plain))

    task = asyncio.create_task(echo())
    for seq in range(count + 20):
        t0 = time.perf_counter()
        await a.send(seal_a.seal(1, seq, payload))
        _, back, _ = open_a.open(await asyncio.wait_for(a.recv(), 5))
        dt = time.perf_counter() - t0
        assert back == seq
        if seq >= 20:
            target.rtts.append(dt)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await finish(target, a, b)


def start_process(argv: list[str], port_from: str) -> tuple[subprocess.Popen[str], int]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COBROWSE_RELAY")}
    proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stream = proc.stdout if port_from == "stdout" else proc.stderr
    assert stream is not None
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        line = stream.readline()
        if not line:
            break
        if port_from == "stdout" and line.startswith("port "):
            return proc, int(line.split()[1])
        if port_from == "stderr" and "listening on" in line:
            return proc, int(line.split("ws://", 1)[1].split()[0].rsplit(":", 1)[1])
    proc.kill()
    raise SystemExit(f"could not start {argv!r}")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def run(args: argparse.Namespace) -> dict:
    import websockets

    payload = os.urandom(args.payload)
    ours_proc, ours_port = start_process(
        [sys.executable, "-m", "relay", "--host", "127.0.0.1", "--port", "0"], "stderr"
    )
    bare_proc, bare_port = start_process([sys.executable, str(Path(__file__).resolve()), "--bare"], "stdout")
    ours = Target("relay", ours_proc, f"ws://127.0.0.1:{ours_port}")
    bare = Target("bare", bare_proc, f"ws://127.0.0.1:{bare_port}")
    try:
        for r in range(args.rounds):
            order = (ours, bare) if r % 2 == 0 else (bare, ours)
            log(f"round {r + 1}/{args.rounds}")
            for target in order:
                await throughput_round(target, args.seconds, payload)
            for target in order:
                await rtt_round(target, args.pings, payload)
    finally:
        for proc in (ours_proc, bare_proc):
            proc.send_signal(signal.SIGTERM)
        for proc in (ours_proc, bare_proc):
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()

    def rate(t: Target) -> float:
        return t.frames / t.seconds

    def cpu_us(t: Target) -> float | None:
        return round(t.cpu / t.frames * 1e6, 2) if t.cpu and t.frames else None

    ours_cpu, bare_cpu = cpu_us(ours), cpu_us(bare)
    return {
        "ratio_vs_bare": round(rate(ours) / rate(bare), 3),
        "frames_per_s": round(rate(ours)),
        "bare_frames_per_s": round(rate(bare)),
        "rtt_p50_ms": round(statistics.median(ours.rtts) * 1e3, 3),
        "rtt_p99_ms": round(pct(ours.rtts, 0.99) * 1e3, 3),
        "bare_rtt_p50_ms": round(statistics.median(bare.rtts) * 1e3, 3),
        "bare_rtt_p99_ms": round(pct(bare.rtts, 0.99) * 1e3, 3),
        "relay_cpu_us_per_frame": ours_cpu,
        "bare_cpu_us_per_frame": bare_cpu,
        "cpu_ratio_vs_bare": round(bare_cpu / ours_cpu, 3) if ours_cpu and bare_cpu else None,
        "round_ratios": [round(o / b, 3) for o, b in zip(ours.rates, bare.rates)],
        "payload_bytes": args.payload,
        "frame_bytes": args.payload + 9 + 16,
        "rounds": args.rounds,
        "seconds_per_round": args.seconds,
        "pings_per_round": args.pings,
        "python": platform.python_version(),
        "websockets": websockets.__version__,
        "cpus": os.cpu_count(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bare", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--seconds", type=float, default=2.5, help="throughput time per relay per round")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--pings", type=int, default=300, help="round trips per relay per round")
    parser.add_argument("--payload", type=int, default=1024)
    args = parser.parse_args()
    if args.bare:
        asyncio.run(bare_server())
        return
    sys.path.insert(0, str(ROOT))
    result = asyncio.run(run(args))
    print(json.dumps(result))


if __name__ == "__main__":
    main()

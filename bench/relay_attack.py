"""A legitimate agent's open latency on a relay under attack, beside the same on a quiet relay.

    python bench/relay_attack.py [--samples 100] [--addresses 99] [--per-address 48] [--nofile 4096] [--seconds 20]

The relay runs as its own process (``python -m relay`` on 127.0.0.1, a free port, one agent
token, default limits sized from the machine, its RLIMIT_NOFILE set to --nofile so that the
attacker can fill its socket table: 99 x 48 sockets > 4096). An attacker process (this script's
``--attack`` mode) sweeps source addresses 127.0.0.2 ... 127.0.0.(addresses+1) (all
loopback): each address keeps opening anonymous sessions and holding idle sockets, as many
as the relay lets it, reconnecting whatever is refused or dropped, for the whole run. The
measuring side (this process, 127.0.0.1) opens a websocket and sends ``open`` with the agent
token, ``--samples`` times, once quiet and once under attack: legit_open_ms = connect to
``opened``. Also: refusals the attacker saw, the relay's VmRSS and /healthz under attack.
The last stdout line is one JSON object. Target: legit_open_ms_p99 under attack < 100.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "cbt_bench-relay-attack"
TIMEOUT = 10.0


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def start_relay(nofile: int) -> tuple[subprocess.Popen[str], int]:
    def limit() -> None:
        _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(nofile, hard), hard))

    env = {k: v for k, v in os.environ.items() if not k.startswith("COBROWSE_RELAY")}
    env["COBROWSE_RELAY_AGENT_TOKENS"] = hashlib.sha256(TOKEN.encode()).hexdigest()
    env["COBROWSE_RELAY_TOKEN_STORE"] = os.devnull
    proc = subprocess.Popen([sys.executable, "-m", "relay", "--host", "127.0.0.1", "--port", "0"], cwd=ROOT,
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, preexec_fn=limit)
    assert proc.stderr is not None
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if "listening on" in line:
            stderr = proc.stderr
            threading.Thread(target=lambda: [None for _ in stderr], daemon=True).start()  # a full pipe would block it
            return proc, int(re.search(r"ws://127\.0\.0\.1:(\d+)", line).group(1))  # type: ignore[union-attr]
        if not line:
            break
    proc.kill()
    raise SystemExit("the relay did not start")


async def legit_opens(url: str, samples: int) -> list[float]:
    from websockets.asyncio.client import connect
    from websockets.exceptions import InvalidStatus

    from cobrowse.wire.envelope import Open

    out = []
    for _ in range(samples):
        t0 = time.perf_counter()
        try:
            async with connect(url, compression=None, proxy=None, open_timeout=TIMEOUT) as ws:
                await ws.send(Open("agent", 1, TOKEN).encode())
                reply = json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))
                assert reply["type"] == "opened", reply
                out.append((time.perf_counter() - t0) * 1000)
        except (OSError, TimeoutError, InvalidStatus) as exc:  # counted as the timeout: p99 shows it
            log(f"legit open failed after {(time.perf_counter() - t0):.1f} s: {exc!r}")
            out.append(TIMEOUT * 1000)
        log(f"legit open {out[-1]:.1f} ms")
        await asyncio.sleep(0.25)  # 4 opens a second: under the per-address connection rate (5/s)
    return out


async def attack(url: str, addresses: int, per_address: int, seconds: float) -> None:
    """One process, every address: open anonymous sessions and hold sockets, forever refused."""
    from websockets.asyncio.client import connect

    from cobrowse.wire.envelope import Open

    counts: dict[str, int] = {}
    stop = time.monotonic() + seconds
    first_tries = [addresses * per_address]

    def tried() -> None:
        first_tries[0] -= 1
        if first_tries[0] == 0:
            print("filled", flush=True)  # every socket was tried once: the table is as full as it gets

    async def one(source: str, n: int) -> None:
        first = True
        while time.monotonic() < stop:
            if not first:
                await asyncio.sleep(0.05)
            try:
                ws = await connect(url, compression=None, proxy=None, open_timeout=10, local_addr=(source, 0))
            except Exception as exc:  # refused (429/503) or dropped: count and go again
                key = type(exc).__name__
                counts[key] = counts.get(key, 0) + 1
                if first:
                    first = False
                    tried()
                continue
            try:
                if n % 2 == 0:
                    await ws.send(Open("customer", 1).encode())
                    reply = json.loads(await asyncio.wait_for(ws.recv(), 10))
                    key = reply.get("code", reply["type"])
                    counts[key] = counts.get(key, 0) + 1
                if first:
                    first = False
                    tried()
                await asyncio.wait_for(ws.wait_closed(), max(0.0, stop - time.monotonic()))  # hold it
            except TimeoutError:
                pass  # the attack is over
            except Exception:
                counts["dropped"] = counts.get("dropped", 0) + 1
            finally:
                await ws.close()

    tasks = [one(f"127.0.0.{2 + i % addresses}", i) for i in range(addresses * per_address)]
    await asyncio.gather(*tasks, return_exceptions=True)
    try:
        print(json.dumps(counts), flush=True)
    except BrokenPipeError:
        pass


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    proc, port = start_relay(args.nofile)
    url = f"ws://127.0.0.1:{port}"
    try:
        rss_quiet = rss_kb(proc.pid)
        quiet = await legit_opens(url, args.samples)
        attacker = subprocess.Popen([sys.executable, __file__, "--attack", url, "--addresses", str(args.addresses),
                                     "--seconds", str(args.seconds), "--per-address", str(args.per_address)],
                                    cwd=ROOT, stdout=subprocess.PIPE, text=True)
        assert attacker.stdout is not None
        filling = await legit_opens(url, max(1, args.samples // 5))  # while the sockets pour in
        filled = await asyncio.to_thread(attacker.stdout.readline)
        log(f"attacker: {filled.strip()}")
        under = await legit_opens(url, args.samples)  # while the attacker holds what it got
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as reply:
            health = json.loads(reply.read())
        rss_attack = rss_kb(proc.pid)
        out, _ = attacker.communicate(timeout=args.seconds + 60)
        counts = json.loads(out.strip().splitlines()[-1]) if out.strip() else {}
    finally:
        proc.terminate()
        proc.wait(timeout=15)
    return {
        "legit_open_ms_p50_quiet": pct(quiet, 0.5), "legit_open_ms_p99_quiet": pct(quiet, 0.99),
        "legit_open_ms_p50": pct(under, 0.5), "legit_open_ms_p99": pct(under, 0.99),
        "legit_open_ms_mean": round(statistics.fmean(under), 2), "samples": args.samples,
        "legit_open_ms_p50_filling": pct(filling, 0.5), "legit_open_ms_max_filling": round(max(filling), 2),
        "attacker_addresses": args.addresses, "attacker_outcomes": counts,
        "health_under_attack": {k: health.get(k) for k in ("status", "sockets", "max_sockets", "unpaired", "sessions")},
        "relay_rss_kb_quiet": rss_quiet, "relay_rss_kb_attack": rss_attack,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--addresses", type=int, default=99)
    parser.add_argument("--seconds", type=float, default=40.0)
    parser.add_argument("--nofile", type=int, default=4096, help="the relay's RLIMIT_NOFILE (its limits follow)")
    parser.add_argument("--per-address", type=int, default=48, help="sockets each attacking address tries to hold")
    parser.add_argument("--attack", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.attack:
        asyncio.run(attack(args.attack, args.addresses, args.per_address, args.seconds))
        return
    print(json.dumps(asyncio.run(run(args))))


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()

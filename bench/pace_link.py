"""The customer's frame pace over a slow or thin link: frames, bytes and the agent's view.

    python bench/pace_link.py [--one-way-ms 75] [--bandwidth 0] [--rate 100k] [--seconds 15]
    cd /tmp/main_base && python /path/to/bench/pace_link.py ...   (the tree run from is measured)

In one process: a real relay on 127.0.0.1, a customer runtime whose program (a real pty)
writes ``--rate`` bytes/s of numbered, timestamped 100-byte lines in 10 ms ticks, and an agent
runtime that reaches the relay through a forwarder here: ``--one-way-ms`` each way and, with
``--bandwidth`` (bytes/s, 0: none), a serial link toward the agent (each chunk waits for the
ones before it to go through at that rate: a thin uplink's queue). WebRTC off.

Per second, then as one JSON object: the customer's frames sent, the bytes its session sent
(sealed, retransmissions included), the smoothed round trip its pings measured (screen/pace.py;
absent before it), the screens the agent got, and the agent's view lag (when each screen
arrived minus the newest timestamp it shows; p50 over the run after its first 2 s).
It imports the tree it is run from (the current directory first), so the same script
measures /tmp/main_base from there.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import sys
import time
from typing import Any

sys.path.insert(0, os.getcwd())

from cobrowse.io.agent import AgentRuntime  # noqa: E402
from cobrowse.io.customer import CustomerRuntime  # noqa: E402
from cobrowse.io.link import RelayLink  # noqa: E402
from cobrowse.io.pty import PtyProcess  # noqa: E402
from cobrowse.policy.events import Event, as_json  # noqa: E402
from relay.server import RelayConfig, serve_relay  # noqa: E402

ENV = {"PATH": "/usr/bin:/bin", "TERM": "xterm-256color"}
STAMP = re.compile(r"^(\d+\.\d{4}) ")


def parse_rate(text: str) -> int:
    scale = {"k": 1000, "m": 1000_000}.get(text[-1].lower(), 1)
    return int(float(text[:-1] if scale != 1 else text) * scale)


def stamps(lines: list[str]) -> list[float]:
    return [float(m.group(1)) for m in map(STAMP.match, lines) if m]


def writer(rate: int) -> str:
    """A program writing ``rate`` bytes/s of 100-byte lines, each numbered and stamped."""
    per = max(1, rate // 100 // 100)
    return ("import sys,time\nt=time.monotonic()\nn=0\nwhile True:\n"
            f" s='%.4f ' % time.monotonic()\n"
            f" sys.stdout.write(''.join(s+'%8d '%(n+i)+'x'*78+'\\n' for i in range({per})));sys.stdout.flush();n+={per}\n"
            " t+=0.01;time.sleep(max(0,t-time.monotonic()))\n")


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float, rate: float) -> None:
    queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

    async def read() -> None:
        free_at = 0.0
        while data := await reader.read(4096):
            start = max(time.monotonic(), free_at)
            free_at = start + (len(data) / rate if rate else 0.0)
            queue.put_nowait((free_at + delay, data))
        queue.put_nowait((0.0, b""))

    async def write() -> None:
        while True:
            due, data = await queue.get()
            if not data:
                writer.close()
                return
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            writer.write(data)
            await writer.drain()

    await asyncio.gather(read(), write(), return_exceptions=True)


async def forwarder(upstream: int, delay: float, rate: float) -> tuple[asyncio.Server, int]:
    """A TCP forwarder to 127.0.0.1:``upstream``: ``delay`` s each way, ``rate`` bytes/s toward the client."""
    async def handle(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        ur, uw = await asyncio.open_connection("127.0.0.1", upstream)
        await asyncio.gather(_pipe(r, uw, delay, 0.0), _pipe(ur, w, delay, rate), return_exceptions=True)

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


async def run(args: argparse.Namespace) -> dict[str, Any]:
    os.environ["COBROWSE_DIRECT"] = "0"
    relay = await serve_relay(RelayConfig(host="127.0.0.1", port=0, grace=3.0, unclaimed_ttl=30.0))
    server, port = await forwarder(relay.port, args.one_way_ms / 1000, args.bandwidth)
    screens: list[tuple[float, list[str]]] = []

    def agent_emit(event: Event) -> None:
        data = as_json(event)
        if data.get("event") == "screen":
            screens.append((time.monotonic(), data["lines"]))

    agent = AgentRuntime(RelayLink(f"ws://127.0.0.1:{port}", "agent", reconnect_for=10), agent_emit)
    agent.local_echo = None
    code = await agent.create()
    customer = CustomerRuntime(RelayLink(f"ws://127.0.0.1:{relay.port}", "customer", reconnect_for=10), lambda e: None)
    await customer.join(code)
    tasks = [asyncio.create_task(agent.run()), asyncio.create_task(customer.run())]
    process = None
    per_s: list[dict[str, Any]] = []
    try:
        async with asyncio.timeout(30):
            while not screens:
                await asyncio.sleep(0.05)
        process = await PtyProcess.spawn([sys.executable, "-c", writer(args.rate)], 80, 24, env=ENV)
        process.set_output_handler(customer.program_output)
        start = time.monotonic()
        for second in range(int(args.seconds)):
            session = customer.session
            assert session is not None
            n0, b0, s0 = customer.frames_sent, session.bytes_sent, len(screens)
            await asyncio.sleep(1.0)
            srtt = getattr(customer.screen, "link_interval", 0.0) * 2000 or None
            row = {"t": second + 1, "frames": customer.frames_sent - n0, "bytes": session.bytes_sent - b0,
                   "agent_screens": len(screens) - s0, "srtt_ms": round(srtt) if srtt else None}
            per_s.append(row)
            print(json.dumps(row), file=sys.stderr)
        lags = [(at - newest) * 1000 for at, lines in screens if at >= start + 2.0
                if (newest := max(stamps(lines), default=None)) is not None]
    finally:
        if process is not None:
            await process.terminate()
            process.close()
        for runtime in (agent, customer):
            if runtime.outcome is None:
                try:
                    async with asyncio.timeout(5):
                        await runtime.end("agent_ended" if runtime.role == "agent" else "customer_ended")
                except TimeoutError:
                    pass
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        server.close()
        relay.close()
    tail = per_s[2:] or per_s
    return {"one_way_ms": args.one_way_ms, "bandwidth_bps": args.bandwidth, "rate_bps": args.rate,
            "frames_per_s": round(statistics.mean(r["frames"] for r in tail), 1),
            "bytes_per_s": round(statistics.mean(r["bytes"] for r in tail)),
            "agent_screens_per_s": round(statistics.mean(r["agent_screens"] for r in tail), 1),
            "srtt_ms": per_s[-1]["srtt_ms"] if per_s else None,
            "view_lag_ms_p50": round(statistics.median(lags), 1) if lags else None,
            "view_lag_ms_last": round(lags[-1], 1) if lags else None,
            "tree": os.getcwd()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--one-way-ms", type=float, default=75.0)
    ap.add_argument("--bandwidth", type=float, default=0.0, help="bytes/s toward the agent (0: unlimited)")
    ap.add_argument("--rate", type=parse_rate, default=100_000, help="the program's output, bytes/s (10k, 1m ...)")
    ap.add_argument("--seconds", type=float, default=15.0)
    args = ap.parse_args()
    print(json.dumps(asyncio.run(run(args))))


if __name__ == "__main__":
    main()

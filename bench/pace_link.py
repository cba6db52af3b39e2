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

``--switch``: the pace across a path switch, relay -> direct -> relay (see :func:`switch`;
the direct path on 127.0.0.1, so the voice extra is needed):

    python bench/pace_link.py --switch --one-way-ms 150 --seconds 16

``--console``: how promptly the agent's side answers the customer's pings while it shows
heavy output (the round trip the pace follows includes that side's own delay). The customer
runtime here shares (``create``), pinging every ``--ping-every`` s; the agent is a real
process of the tree run from, ``cobrowse agent --join CODE`` (the Textual console on a pty
of ours, 140x45 at least, read and dropped) or, as the control, ``--headless`` (no UI: its
JSON lines read and dropped), reaching the relay through the forwarder (``--one-way-ms``, 0
for loopback). Each session: ``--seconds`` idle (the screen still), then ``--seconds`` with a
program writing ``--rate`` on the customer's pty (``--size``, 80x24). Per agent kind, the
pings' round trips (mean: what the smoothed round trip tends to; p50, p90, max; ms) idle and
busy, the agent process's CPU and the frames a second, and the agent's event-loop stalls while
busy (how late a 2 ms sleep in its loop wakes, ms: p50, p99, max) and its collector's pauses
(per generation: how many of 1 ms or more, the longest), by a probe loaded into that process by
a ``sitecustomize`` of ours, the same for either tree; the kinds alternate,
``--rounds`` sessions each:

    python bench/pace_link.py --console --one-way-ms 0 --rate 1m --seconds 8 --size 200x50
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


async def _teardown(process: Any, runtimes: tuple[Any, ...], tasks: list[asyncio.Task[Any]], server: Any,
                    relay: Any) -> None:
    """What a run started, stopped in order, each side ended by its own words (bounded)."""
    if process is not None:
        await process.terminate()
        process.close()
    for runtime in runtimes:
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
        await _teardown(process, (agent, customer), tasks, server, relay)
    tail = per_s[2:] or per_s
    return {"one_way_ms": args.one_way_ms, "bandwidth_bps": args.bandwidth, "rate_bps": args.rate,
            "frames_per_s": round(statistics.mean(r["frames"] for r in tail), 1),
            "bytes_per_s": round(statistics.mean(r["bytes"] for r in tail)),
            "agent_screens_per_s": round(statistics.mean(r["agent_screens"] for r in tail), 1),
            "srtt_ms": per_s[-1]["srtt_ms"] if per_s else None,
            "view_lag_ms_p50": round(statistics.median(lags), 1) if lags else None,
            "view_lag_ms_last": round(lags[-1], 1) if lags else None,
            "tree": os.getcwd()}


async def _agent_process(kind: str, code: str, url: str, tmp: str, size: tuple[int, int]) -> tuple[asyncio.subprocess.Process, list[int]]:
    """``cobrowse agent --join CODE`` of the tree run from: the console on a pty of ``size``
    (``kind`` "console") or headless; what it writes is read and dropped. Its event loop's
    stalls go to ``tmp``/stalls (:data:`STALL_PROBE`)."""
    probe = os.path.join(tmp, "probe")
    os.makedirs(probe, exist_ok=True)
    with open(os.path.join(probe, "sitecustomize.py"), "w") as f:
        f.write(STALL_PROBE)
    env = {**os.environ, "PYTHONPATH": os.getcwd() + os.pathsep + probe, "PYTHONUNBUFFERED": "1",
           "COBROWSE_CONFIG": os.devnull, "COBROWSE_DIRECT": "0", "TERM": "xterm-256color", "COBROWSE_DATA_DIR": tmp,
           "PACE_STALL_FILE": os.path.join(tmp, "stalls")}
    argv = [sys.executable, "-m", "cobrowse", "agent", "--join", code, "--relay", url]
    loop = asyncio.get_running_loop()
    if kind == "headless":
        proc = await asyncio.create_subprocess_exec(*argv, "--headless", stdin=asyncio.subprocess.PIPE,
                                                    stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
                                                    env=env, cwd=os.getcwd())

        async def drain() -> None:
            assert proc.stdout is not None
            while await proc.stdout.read(1 << 16):
                pass

        loop.create_task(drain())
        return proc, []
    from cobrowse.io.pty_process import _set_winsize

    master, slave = os.openpty()
    _set_winsize(slave, *size)
    os.set_blocking(master, False)

    def drop() -> None:
        try:
            os.read(master, 1 << 16)
        except OSError:
            loop.remove_reader(master)

    loop.add_reader(master, drop)
    proc = await asyncio.create_subprocess_exec(*argv, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=os.getcwd())
    return proc, [master, slave]


#: Loaded into the agent process (``sitecustomize``): a task on its first event loop sleeping
#: 2 ms at a time, appending ``monotonic overshoot_ms`` lines to $PACE_STALL_FILE (every 0.25 s:
#: the process is killed at the end, nothing waits for an exit).
STALL_PROBE = """
import os
_path = os.environ.get("PACE_STALL_FILE")
if _path:
    import asyncio, time
    _run_forever = asyncio.BaseEventLoop.run_forever
    _started = []

    async def _probe():
        lines, flushed = [], time.monotonic()
        while True:
            t = time.monotonic()
            await asyncio.sleep(0.002)
            now = time.monotonic()
            lines.append("%.4f %.3f\\n" % (now, (now - t - 0.002) * 1000))
            if now - flushed > 0.25:
                with open(_path, "a") as f:
                    f.writelines(lines)
                lines.clear()
                flushed = now

    import gc
    _gc_start = [0.0]

    def _gc_timed(phase, info):
        now = time.monotonic()
        if phase == "start":
            _gc_start[0] = now
        elif now - _gc_start[0] >= 0.001:
            with open(_path + ".gc", "a") as f:
                f.write("%.4f %d %.3f\\n" % (now, info["generation"], (now - _gc_start[0]) * 1000))

    gc.callbacks.append(_gc_timed)

    def run_forever(self):
        if not _started:
            _started.append(self.create_task(_probe()))
        return _run_forever(self)

    asyncio.BaseEventLoop.run_forever = run_forever
"""


def _collections(path: str, start: float, end: float) -> dict[str, Any]:
    """The collector's pauses of 1 ms or more between ``start`` and ``end``, per generation: count, max ms."""
    try:
        with open(path) as f:
            rows = [line.split() for line in f]
    except FileNotFoundError:
        rows = []
    out: dict[str, Any] = {}
    for at, gen, ms in rows:
        if start <= float(at) < end:
            n, top = out.get(f"gen{gen}", (0, 0.0))
            out[f"gen{gen}"] = (n + 1, max(top, round(float(ms), 1)))
    return out


def _stalls(path: str, start: float, end: float) -> list[float]:
    """The probe's overshoots (ms) between ``start`` and ``end`` (monotonic, system-wide)."""
    try:
        with open(path) as f:
            pairs = [line.split() for line in f]
    except FileNotFoundError:
        return []
    return [float(ms) for at, ms in pairs if start <= float(at) < end]


def _cpu(pid: int) -> float:
    """utime + stime of a live process, s (/proc)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _stats(values: list[float]) -> dict[str, float | int | None]:
    ordered = sorted(values)
    if not ordered:
        return {"n": 0, "mean": None, "p50": None, "p90": None, "max": None}
    return {"n": len(ordered), "mean": round(statistics.mean(ordered), 1), "p50": round(statistics.median(ordered), 1),
            "p90": round(ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))], 1), "max": round(ordered[-1], 1)}


def _stall_stats(values: list[float]) -> dict[str, float | int | None]:
    """The loop's stalls: how late the probe's 2 ms sleeps woke (ms), p50, p99, max."""
    ordered = sorted(values)
    if not ordered:
        return {"n": 0, "p50": None, "p99": None, "max": None}
    return {"n": len(ordered), "p50": round(statistics.median(ordered), 2),
            "p99": round(ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))], 1), "max": round(ordered[-1], 1)}


async def console_round(kind: str, args: argparse.Namespace) -> dict[str, list[float]]:
    """One session with an agent process of ``kind``: the customer's pings' round trips (ms),
    the screen still, then with ``--rate`` of output."""
    import tempfile

    import cobrowse.io.runtime as runtime_module

    os.environ["COBROWSE_DIRECT"] = "0"
    runtime_module.PING_EVERY = args.ping_every  # a tree without ``ping_every`` reads the module's
    relay = await serve_relay(RelayConfig(host="127.0.0.1", port=0, grace=3.0, unclaimed_ttl=30.0))
    server, port = await forwarder(relay.port, args.one_way_ms / 1000, args.bandwidth)
    cols, rows = args.size
    customer = CustomerRuntime(RelayLink(f"ws://127.0.0.1:{relay.port}", "customer", reconnect_for=10), lambda e: None,
                               cols=cols, rows=rows)
    if hasattr(customer, "ping_every"):
        customer.ping_every = args.ping_every
    samples: list[tuple[float, float]] = []
    measured = customer.rtt_measured

    def record(seconds: float) -> None:
        measured(seconds)
        samples.append((time.monotonic(), seconds * 1000))

    customer.rtt_measured = record  # type: ignore[method-assign]
    code = await customer.create()
    task = asyncio.create_task(customer.run())
    process = None
    proc: asyncio.subprocess.Process | None = None
    fds: list[int] = []
    out: dict[str, list[float]] = {"idle": [], "busy": []}
    with tempfile.TemporaryDirectory(prefix="cobrowse-pace-console-") as tmp:
        try:
            console_size = (max(140, cols + 60), max(45, rows + 12))  # the mirror whole beside the panels
            proc, fds = await _agent_process(kind, str(code), f"ws://127.0.0.1:{port}", tmp, console_size)
            async with asyncio.timeout(60):
                while len(samples) < 3:
                    if proc.returncode is not None:
                        raise RuntimeError(f"the {kind} agent exited ({proc.returncode})")
                    await asyncio.sleep(0.05)
            await asyncio.sleep(1.0)  # the first screen and the hello settle
            t0, c0 = time.monotonic(), _cpu(proc.pid)
            await asyncio.sleep(args.seconds)
            t1, c1 = time.monotonic(), _cpu(proc.pid)
            process = await PtyProcess.spawn([sys.executable, "-c", writer(args.rate)], cols, rows, env=ENV)
            process.set_output_handler(customer.program_output)
            await asyncio.sleep(1.0)  # the console takes up the flow
            t2, c2, f2 = time.monotonic(), _cpu(proc.pid), customer.frames_sent
            await asyncio.sleep(args.seconds)
            t3, c3, f3 = time.monotonic(), _cpu(proc.pid), customer.frames_sent
            out["idle"] = [ms for at, ms in samples if t0 <= at < t1]
            out["busy"] = [ms for at, ms in samples if t2 <= at < t3]
            out["agent_cpu_pct"] = [100 * (c1 - c0) / (t1 - t0), 100 * (c3 - c2) / (t3 - t2)]
            out["frames_per_s"] = [(f3 - f2) / (t3 - t2)]
            out["stalls"] = _stalls(os.path.join(tmp, "stalls"), t2, t3)
            out["gc_busy"] = [_collections(os.path.join(tmp, "stalls.gc"), t2, t3)]
            if proc.returncode is not None:
                raise RuntimeError(f"the {kind} agent exited ({proc.returncode}) during the run")
        finally:
            if process is not None:
                await process.terminate()
                process.close()
            if proc is not None and proc.returncode is None:
                proc.kill()
                await proc.wait()
            for fd in fds:
                try:
                    asyncio.get_running_loop().remove_reader(fd)
                except (ValueError, OSError):
                    pass
                os.close(fd)
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            server.close()
            relay.close()
    return out


async def console(args: argparse.Namespace) -> dict[str, Any]:
    got: dict[str, dict[str, list[float]]] = {k: {"idle": [], "busy": []} for k in ("console", "headless")}
    extra: dict[str, list[Any]] = {}
    for n in range(args.rounds):
        for kind in ("console", "headless"):
            res = await console_round(kind, args)
            for phase in ("idle", "busy", "stalls"):
                got[kind].setdefault(phase, []).extend(res[phase])
            for key in ("agent_cpu_pct", "frames_per_s"):
                extra.setdefault(f"{kind}_{key}", []).append([round(v, 1) for v in res[key]])
            print(json.dumps({"round": n, "kind": kind, "idle": _stats(res["idle"]), "busy": _stats(res["busy"]),
                              "stalls_busy": _stall_stats(res["stalls"]), "gc_busy_n_max_ms": res["gc_busy"][0],
                              "agent_cpu_pct_idle_busy": [round(v, 1) for v in res["agent_cpu_pct"]],
                              "frames_per_s": round(res["frames_per_s"][0], 1)}), file=sys.stderr)
    result: dict[str, Any] = {"one_way_ms": args.one_way_ms, "rate_bps": args.rate, "ping_every_s": args.ping_every,
                              "size": "x".join(map(str, args.size)),
                              "seconds": args.seconds, "rounds": args.rounds}
    for kind, phases in got.items():
        for phase, values in phases.items():
            if phase == "stalls":
                result[f"{kind}_busy_stall_ms"] = _stall_stats(values)
            else:
                result[f"{kind}_{phase}_rtt_ms"] = _stats(values)
    result.update(extra)
    result["load"] = os.getloadavg()[0]
    result["tree"] = os.getcwd()
    return result


async def switch(args: argparse.Namespace) -> dict[str, Any]:
    """``--switch``: the pace across relay -> direct -> relay (the agent behind the forwarder,
    both sides on the direct data channel over 127.0.0.1 once it opens, ``--seconds`` on each
    path, the customer's program writing ``--rate``): per switch, the seconds until the pace
    let the steady rate back (direct) or reached half the relay's (back on the relay), and
    the frames a second in the first 4 s after it and in the last 4 s on that path."""
    from cobrowse.screen.sync import STEADY_FPS
    from cobrowse.voice.settings import RtcSettings

    rtc = RtcSettings(direct=True, ice_hosts=("127.0.0.1",), mic="none", speaker="none", retry_backoff=())
    relay = await serve_relay(RelayConfig(host="127.0.0.1", port=0, grace=3.0, unclaimed_ttl=30.0))
    server, port = await forwarder(relay.port, args.one_way_ms / 1000, args.bandwidth)
    agent = AgentRuntime(RelayLink(f"ws://127.0.0.1:{port}", "agent", reconnect_for=10), lambda e: None, rtc=rtc)
    agent.local_echo = None
    code = await agent.create()
    customer = CustomerRuntime(RelayLink(f"ws://127.0.0.1:{relay.port}", "customer", reconnect_for=10), lambda e: None,
                               rtc=rtc)
    await customer.join(code)
    tasks = [asyncio.create_task(agent.run()), asyncio.create_task(customer.run())]
    process = None
    timeline: list[tuple[float, str, float, int]] = []  # (t, path, the pace's interval, frames sent)

    async def watch(seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            timeline.append((time.monotonic(), customer.rtc.path, customer.screen.link_interval, customer.frames_sent))
            await asyncio.sleep(0.05)

    def after(since: float, path: str, done: Any) -> dict[str, Any]:
        points = [p for p in timeline if p[0] >= since and p[1] == path]
        hit = next((p[0] - since for p in points if done(p[2])), None)
        first = [p for p in points if p[0] <= since + 4.0]
        last = [p for p in points if p[0] >= points[-1][0] - 4.0] if points else []
        fps = [round((q[-1][3] - q[0][3]) / (q[-1][0] - q[0][0]), 1) if len(q) > 1 else None for q in (first, last)]
        return {"follows_after_s": None if hit is None else round(hit, 2), "fps_first_4s": fps[0], "fps_last_4s": fps[1],
                "interval_ms_at_end": round(points[-1][2] * 1000, 1) if points else None}

    try:
        process = await PtyProcess.spawn([sys.executable, "-c", writer(args.rate)], 80, 24, env=ENV)
        process.set_output_handler(customer.program_output)
        async with asyncio.timeout(30):
            while customer.rtc.path != "direct":
                timeline.append((time.monotonic(), customer.rtc.path, customer.screen.link_interval, customer.frames_sent))
                await asyncio.sleep(0.01)
        relay_interval = max((p[2] for p in timeline), default=0.0)
        t_direct = time.monotonic()
        await watch(args.seconds)
        assert customer.rtc._data_pc is not None
        await customer.rtc._data_pc.close()  # the customer's network drops the direct path
        async with asyncio.timeout(10):
            while customer.rtc.path != "relay":
                await asyncio.sleep(0.01)
        t_relay = time.monotonic()
        await watch(args.seconds)
        return {"one_way_ms": args.one_way_ms, "rate_bps": args.rate, "seconds": args.seconds,
                "relay_interval_ms_before": round(relay_interval * 1000, 1),
                "to_direct": after(t_direct, "direct", lambda i: i < 1 / STEADY_FPS),
                "back_to_relay": after(t_relay, "relay", lambda i: i >= args.one_way_ms / 1000 / 2),
                "load": os.getloadavg()[0], "tree": os.getcwd()}
    finally:
        await _teardown(process, (agent, customer), tasks, server, relay)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--one-way-ms", type=float, default=75.0)
    ap.add_argument("--bandwidth", type=float, default=0.0, help="bytes/s toward the agent (0: unlimited)")
    ap.add_argument("--rate", type=parse_rate, default=100_000, help="the program's output, bytes/s (10k, 1m ...)")
    ap.add_argument("--seconds", type=float, default=15.0)
    ap.add_argument("--switch", action="store_true", help="the pace across relay -> direct -> relay (see switch())")
    ap.add_argument("--console", action="store_true", help="the agent console's promptness answering pings (see above)")
    ap.add_argument("--rounds", type=int, default=2, help="--console: sessions per agent kind")
    ap.add_argument("--ping-every", type=float, default=0.1, help="--console: the customer's ping interval, s")
    ap.add_argument("--size", type=lambda t: tuple(int(v) for v in t.split("x")), default=(80, 24),
                    help="--console: the customer's screen, COLSxROWS (the console's pty: 60 columns and 12 rows more)")
    args = ap.parse_args()
    print(json.dumps(asyncio.run(console(args) if args.console else switch(args) if args.switch else run(args))))


if __name__ == "__main__":
    main()

"""From `cobrowse join` to the agent's first screen, on loopback.

    python bench/join_latency.py [--n 20] [--budget 150] [--versus DIR] [--rtt MS [--loss P]]

A real relay runs in this process on 127.0.0.1:0. Each of ``n`` rounds starts a fresh
headless agent (``python -m cobrowse agent --headless --relay URL``) and waits, untimed,
for its ``code`` event; then the clock starts just before launching the customer
(``python -m cobrowse join CODE --relay URL --command "bash --norc --noprofile"``, stdin and
stdout pipes, as in tests/e2e/harness.py) and stops when this script reads the agent's first
``screen`` event from its stdout. Every timestamp is CLOCK_MONOTONIC taken here when a line
arrives (children run with PYTHONUNBUFFERED), so the phases below add up to the total:

``spawn_ms``         create_subprocess_exec returned (fork/exec);
``connect_ms``       the customer's websocket reached the relay (interpreter start-up, imports,
                     argument parsing, settings: everything before the first packet);
``claim_ms``         the relay got the customer's claim of the code;
``joined_ms``        the customer's ``joined; checking the code`` line (the claim answered);
``pake_ms``          the relay forwarded the customer's first sealed-channel frame (its SPAKE2
                     message);
``confirmed_ms``     the customer's ``connected. Compare these words`` line: the key exchange
                     and the agent's key confirmation checked at the customer;
``paired_ms``        the agent's ``paired`` event: the customer's confirmation checked;
``hello_ms``         the agent's ``hello`` event (the customer's hello message);
``first_screen_ms``  the agent's first ``screen`` event (the total);
``prompt_ms``        the agent's first screen that shows bash's prompt (extra).

``agent_code_ms`` (apart, before the clock starts): from launching the headless agent to its
``code`` event (its start-up, imports and the relay's answer).

``customer_cpu_ms``: the CPU time the customer's process (all its threads) had run when the
agent's first screen arrived, from /proc (ns resolution); ``agent_cpu_after_code_ms``: the
agent's CPU time over the same span. Steadier than the wall times on a shared machine.

The relay's marks come from this process's relay (its connection and claim hooks, wrapped
here for the benchmark only); ``phase_ms_p50`` gives each phase's own length (the
difference from the mark before).

Baselines measured in the same run, interleaved with the rounds: ``python -m cobrowse
--version`` (interpreter start-up plus the CLI's top-level imports), ``python -c "import
cobrowse.cli.customer, cobrowse.cli.commands"`` (start-up plus everything ``join`` imports
before it does anything; after cobrowse.cli.lean_imports' shims where the tree has them, as
``main`` installs them), and ``python -c pass`` (the bare interpreter); ``*_cpu_ms_p50`` is
the same runs' CPU time (user + system), steadier than wall time on a shared machine.

Bytecode: the tree's modules are compiled first (``compileall``, as ``pip install`` does),
so start-up is measured as an installed customer pays it even where the environment sets
PYTHONDONTWRITEBYTECODE (then every run would compile the sources: ~200 ms more here);
``--source`` skips that. The JSON says which (``bytecode``).

Over a network (``--rtt MS``): both sides reach the relay through bench/netlink.py's
userspace shaper on loopback (its own process: ``MS / 2`` each way on every chunk, the TCP
handshake's round trip modelled, ``--loss`` per direction, 0 by default so that the figures
count round trips), the customer through one listening port, the agent through another, so
the relay sits ``MS`` away from each side (and the sides ``2 × MS`` from each other). Each
round trip on the customer's critical path then shows as ~``MS`` in its phase. With
``--relay-at customer`` only the agent's connection is shaped (the customer reaches the relay
directly: bench/latency.py's layout, a relay near the customer).

The customer app (``--app``): the customer runs without ``--plain`` on a pty of the bench
(100x30, TERM xterm-256color; the bench reads it as a terminal would, answering nothing), so
``joined_ms`` and ``confirmed_ms`` (plain mode's lines) are absent; instead, from what the app
writes to its terminal: ``app_screen_ms`` (it enters the alternate screen: Textual started
drawing), ``app_visible_ms`` (its banner says "Your terminal is visible"), ``app_prompt_ms``
(bash's ``$`` prompt drawn in its pane, after the alternate screen).

Installed (``--venv DIR``, ``--versus-venv DIR``): the customer is launched as a customer runs
it, by the console script pip wrote (``DIR/bin/cobrowse join ...``, cwd ``/``), from a venv
where the tree was installed as a wheel (no editable finder, no tree on ``sys.path``); the
baselines run that venv's interpreter, and ``entry_*`` adds its console script's ``--version``.
The agent is still the tree's ``python -m cobrowse`` (its start-up is not timed).

Progress goes to stderr; the last stdout line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import json
import os
import platform
import re
import struct
import termios
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

WAIT = 20.0
PHASES = ("spawn_ms", "connect_ms", "claim_ms", "joined_ms", "pake_ms", "confirmed_ms", "paired_ms", "hello_ms",
          "first_screen_ms", "prompt_ms")
APP_PHASES = ("spawn_ms", "connect_ms", "claim_ms", "pake_ms", "paired_ms", "hello_ms", "first_screen_ms", "prompt_ms",
              "app_screen_ms", "app_visible_ms", "app_prompt_ms")
APP_SIZE = (100, 30)
#: --prompt: what the prompt says, and the gap between two typed characters (s).
PROMPT_TEXT = "Enter the code"
TYPING_GAP = 0.05
BASELINES = {
    "version": ["-m", "cobrowse", "--version"],
    # as cobrowse.cli.main does it: with its import shims where the tree has them
    "join_imports": ["-c", "try:\n    from cobrowse.cli import lean_imports\n    lean_imports.install()\n"
                           "except ImportError:\n    pass\nimport cobrowse.cli.customer, cobrowse.cli.commands"],
    "bare_python": ["-c", "pass"],
    "entry": ["entry", "--version"],
}


def launcher(venv: Path | None) -> list[str]:
    """How a customer starts cobrowse: the venv's console script, else the tree's ``-m``."""
    return [str(venv / "bin" / "cobrowse")] if venv else [sys.executable, "-m", "cobrowse"]


def cpu_ms(pid: int) -> float | None:
    """CPU time a process's threads have run so far (ms, from /proc/PID/task/*/schedstat: ns,
    not the clock ticks of rusage), whatever else the machine does; None off Linux."""
    try:
        total = 0
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/schedstat") as file:
                total += int(file.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return round(total / 1e6, 1)


def log(msg: str) -> None:
    print(f"[join_latency] {msg}", file=sys.stderr, flush=True)


def child_env() -> dict[str, str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "COBROWSE_CONFIG": os.devnull, "TERM": "xterm-256color", "PS1": "$ "}
    env.pop("COBROWSE_RELAY", None)
    return env


class Child:
    """A subprocess whose stdout (JSON events) and stderr lines are timestamped as they arrive."""

    def __init__(self, proc: asyncio.subprocess.Process, name: str, json_stdout: bool) -> None:
        self.master: int | None = None
        self.proc = proc
        self.name = name
        self.lines: list[tuple[float, str, str]] = []  # (time, "out"/"err", text)
        self.events: list[tuple[float, dict[str, Any]]] = []
        self.changed = asyncio.Event()
        self.tasks = [asyncio.create_task(self._read(proc.stdout, "out", json_stdout)),
                      asyncio.create_task(self._read(proc.stderr, "err", False))]

    @classmethod
    async def start_tty(cls, name: str, *args: str, cwd: Path = ROOT, venv: Path | None = None) -> Child:
        """The customer app: stdin, stdout and stderr on a pty of APP_SIZE; its output (what the
        app draws) read as ``"tty"`` lines."""
        master, slave = os.openpty()
        cols, rows = APP_SIZE
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        proc = await asyncio.create_subprocess_exec(
            *launcher(venv), *args, stdin=slave, stdout=slave, stderr=slave, env=child_env(),
            cwd="/" if venv else cwd, start_new_session=True)
        os.close(slave)
        os.set_blocking(master, False)
        child = cls(proc, name, False)
        child.master = master
        child.tasks.append(asyncio.create_task(child._read_tty(master)))
        return child

    async def _read_tty(self, fd: int) -> None:
        loop = asyncio.get_running_loop()
        readable = asyncio.Event()
        loop.add_reader(fd, readable.set)
        try:
            while True:
                await readable.wait()
                readable.clear()
                try:
                    chunk = os.read(fd, 65536)
                except BlockingIOError:
                    continue
                except OSError:
                    break
                if not chunk:
                    break
                self.lines.append((time.monotonic(), "tty", chunk.decode(errors="replace")))
                if b"\x1b[6n" in chunk:  # where the cursor is, as a terminal answers (plain mode's notices ask)
                    os.write(fd, b"\x1b[30;1R")
                self.changed.set()
        finally:
            loop.remove_reader(fd)
            self.changed.set()

    def tty_time(self, pattern: str, after: float = 0.0) -> float | None:
        """When the app's output so far first matched ``pattern`` (escape sequences removed
        unless the pattern has one), at or after ``after``."""
        text, times = "", []
        for t, kind, chunk in self.lines:
            if kind == "tty" and t >= after:
                times.append((len(text), t))
                text += chunk if "\\x1b" in pattern else ESCAPES.sub("", chunk)
        found = re.search(pattern, text)
        if found is None:
            return None
        return next(t for start, t in reversed(times) if start <= max(found.start(), found.end() - 1))

    @classmethod
    async def start(cls, name: str, *args: str, json_stdout: bool = False, cwd: Path = ROOT,
                    venv: Path | None = None) -> Child:
        proc = await asyncio.create_subprocess_exec(
            *launcher(venv), *args, stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=child_env(), cwd="/" if venv else cwd)
        return cls(proc, name, json_stdout)

    async def _read(self, stream: asyncio.StreamReader | None, kind: str, parse: bool) -> None:
        if stream is None:
            return
        while True:
            # bash's prompt ends without a newline: read what is there rather than whole lines
            chunk = await (stream.readline() if parse else stream.read(65536))
            if not chunk:
                break
            now = time.monotonic()
            text = chunk.decode(errors="replace")
            self.lines.append((now, kind, text))
            if parse:
                try:
                    event = json.loads(chunk)
                except ValueError:
                    event = None
                if isinstance(event, dict):
                    self.events.append((now, event))
            self.changed.set()
        self.changed.set()

    async def until(self, check: Any, what: str, timeout: float = WAIT) -> Any:
        try:
            async with asyncio.timeout(timeout):
                while True:
                    self.changed.clear()
                    found = check()
                    if found is not None:
                        return found
                    if self.proc.returncode is not None and all(t.done() for t in self.tasks):
                        raise RuntimeError(f"{self.name} exited before {what}: {self.tail()}")
                    try:
                        async with asyncio.timeout(0.5):
                            await self.changed.wait()
                    except TimeoutError:
                        pass
        except TimeoutError:
            raise RuntimeError(f"{self.name}: no {what} in {timeout}s: {self.tail()}") from None

    def event_time(self, kind: str, pred: Any = None) -> float | None:
        return next((t for t, e in self.events if e.get("event") == kind and (pred is None or pred(e))), None)

    def err_time(self, needle: str) -> float | None:
        return next((t for t, k, s in self.lines if k == "err" and needle in s), None)

    def tail(self) -> list[str]:
        return [s.strip() for _, k, s in self.lines if k == "err"][-6:]

    async def send(self, obj: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write((json.dumps(obj) + "\n").encode())
            await self.proc.stdin.drain()
        except (BrokenPipeError, ConnectionResetError):
            pass

    async def stop(self, grace: float = 3.0) -> None:
        try:
            async with asyncio.timeout(grace):
                await self.proc.wait()
        except TimeoutError:
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
        if self.master is not None:
            await asyncio.sleep(0)
            os.close(self.master)
            self.master = None


class RelayMarks:
    """When this process's relay saw a new connection, its claim and its first binary frame
    (wrapped hooks of the relay's rooms; the benchmark's own instrumentation)."""

    def __init__(self, rooms: Any) -> None:
        self.since = 0.0
        self.conn: object | None = None
        self.marks: dict[str, float] = {}
        connected, receive, route_of = rooms.connected, rooms.receive, rooms.route_of

        def on_connected(conn: Any, *args: Any, **kw: Any) -> Any:
            if self.conn is None and self.since:
                self.conn = conn
                self.marks["connect_ms"] = time.monotonic()
            return connected(conn, *args, **kw)

        def on_receive(conn: Any, msg: Any, *args: Any, **kw: Any) -> Any:
            # the claimant's connection (with --prompt, a connection made while the code was typed,
            # maybe not the first: cobrowse.io.ahead replaces it every few seconds)
            if self.since and type(msg).__name__ == "Claim" and "claim_ms" not in self.marks:
                self.conn = conn
                self.marks["claim_ms"] = time.monotonic()
            return receive(conn, msg, *args, **kw)

        def on_route(conn: Any) -> Any:
            if conn is self.conn:
                self.marks.setdefault("pake_ms", time.monotonic())
            return route_of(conn)

        rooms.connected, rooms.receive, rooms.route_of = on_connected, on_receive, on_route

    def start(self) -> None:
        self.since, self.conn, self.marks = time.monotonic(), None, {}


MARKS: RelayMarks | None = None
#: CSI/OSC/other escape sequences, removed before looking for the app's texts.
ESCAPES = re.compile(r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[@-Z\\-_]|.)")


async def one_round(relay_url: str, tree: Path = ROOT, agent_url: str | None = None, app: bool = False,
                    typing_pause: float | None = None, venv: Path | None = None) -> dict[str, float]:
    """One join; with ``typing_pause`` (s): ``cobrowse join`` with no code on a pty,
    the code typed at its prompt, the marks from Enter."""
    t_agent = time.monotonic()
    agent = await Child.start("agent", "agent", "--headless", "--relay", agent_url or relay_url, json_stdout=True,
                              cwd=tree)
    customer: Child | None = None
    try:
        code = (await agent.until(lambda: next((e for _, e in agent.events if e.get("event") == "code"), None),
                                  "code event"))["code"]
        agent_cpu_at_code = cpu_ms(agent.proc.pid)
        if MARKS is not None:
            MARKS.start()
        t0 = time.monotonic()
        join = ("join", code, "--relay", relay_url, "--command", "bash --norc --noprofile")
        launched = t0
        if typing_pause is not None:
            customer = await Child.start_tty("customer", *join[:1], *join[2:], *(() if app else ("--plain",)), cwd=tree,
                                             venv=venv)
            t_spawned = time.monotonic()
            shown = await customer.until(lambda: customer.tty_time(PROMPT_TEXT), "the code prompt")
            await asyncio.sleep(typing_pause)  # the person reads the code, then types it as a terminal sends it
            assert customer.master is not None
            for char in code:
                os.write(customer.master, char.encode())
                await asyncio.sleep(TYPING_GAP)
            t0 = time.monotonic()
            os.write(customer.master, b"\r")
        elif app:
            customer = await Child.start_tty("customer", *join, cwd=tree, venv=venv)
            t_spawned = time.monotonic()
        else:
            customer = await Child.start("customer", *join, cwd=tree, venv=venv)
            t_spawned = time.monotonic()
        await agent.until(lambda: agent.event_time("screen"), "first screen event")
        customer_cpu, agent_cpu = cpu_ms(customer.proc.pid), cpu_ms(agent.proc.pid)
        prompt = lambda e: any(line.startswith("$") for line in e.get("lines", []))  # noqa: E731
        try:
            await agent.until(lambda: agent.event_time("screen", prompt), "a screen with the prompt", 5.0)
        except RuntimeError:
            pass
        if app:  # the app draws its pane after the agent's first screen: wait for it too
            alt = r"\x1b\[\?1049h"
            try:
                await customer.until(lambda: customer.tty_time(r"\$ ", customer.tty_time(alt) or float("inf")),
                                     "the prompt in the app's pane", 10.0)
            except RuntimeError:
                pass
        relay_marks = MARKS.marks if MARKS is not None else {}
        marks = {
            "spawn_ms": t_spawned,
            "connect_ms": relay_marks.get("connect_ms"),
            "claim_ms": relay_marks.get("claim_ms"),
            "joined_ms": customer.err_time("joined; checking the code"),
            "pake_ms": relay_marks.get("pake_ms"),
            "confirmed_ms": customer.err_time("Compare these words"),
            "paired_ms": agent.event_time("paired"),
            "hello_ms": agent.event_time("hello"),
            "first_screen_ms": agent.event_time("screen"),
            "prompt_ms": agent.event_time("screen", prompt),
        }
        if typing_pause is not None:
            marks["joined_ms"] = customer.tty_time("joined; checking the code")
            marks["confirmed_ms"] = customer.tty_time("Compare these words")
        if app:
            del marks["joined_ms"], marks["confirmed_ms"]
            alt_at = customer.tty_time(r"\x1b\[\?1049h")
            marks["app_screen_ms"] = alt_at
            marks["app_visible_ms"] = customer.tty_time("Your terminal is visible")
            marks["app_prompt_ms"] = customer.tty_time(r"\$ ", alt_at) if alt_at is not None else None
        if typing_pause is not None:
            early = {"spawn_ms": marks.pop("spawn_ms"), "connect_ms": marks.pop("connect_ms")}
        result = {k: round((v - t0) * 1000, 1) if v is not None else None for k, v in marks.items()}
        if typing_pause is not None:
            result["prompt_shown_ms"] = round((shown - launched) * 1000, 1)
            result["relay_ready_ms"] = (round((early["connect_ms"] - launched) * 1000, 1)
                                        if early["connect_ms"] is not None else None)
        result["customer_cpu_ms"] = customer_cpu
        result["agent_cpu_after_code_ms"] = (round(agent_cpu - agent_cpu_at_code, 1)
                                             if agent_cpu is not None and agent_cpu_at_code is not None else None)
        code_at = agent.event_time("code")
        result["agent_code_ms"] = round((code_at - t_agent) * 1000, 1) if code_at is not None else None
        await agent.send({"cmd": "end"})
        return result  # type: ignore[return-value]
    finally:
        await agent.stop()
        if customer is not None:
            await customer.stop()


async def baseline(args: list[str], tree: Path = ROOT, venv: Path | None = None) -> tuple[float, float]:
    """Wall time and CPU time (user + system, from the reaped child's rusage) of one run: the CPU
    is what start-up costs, whatever else the machine is doing; the wall time adds the wait."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    if args[:1] == ["entry"]:  # the console script itself (its interpreter's start-up, its `import re`, main())
        argv = [str(venv / "bin" / "cobrowse") if venv else sys.executable, *([] if venv else ["-m", "cobrowse"]), *args[1:]]
    else:
        argv = [str(venv / "bin" / "python") if venv else sys.executable, *args]
    proc = await asyncio.create_subprocess_exec(*argv, stdin=asyncio.subprocess.DEVNULL,
                                                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
                                                env=child_env(), cwd="/" if venv else tree)
    try:
        async with asyncio.timeout(WAIT):
            code = await proc.wait()
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    if code != 0:
        raise RuntimeError(f"{args} exited {code}")
    wall = (time.monotonic() - t0) * 1000
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000
    return wall, cpu


APP = False


def phases(prompt: bool = False) -> tuple[str, ...]:
    """The marks of a round: from the launch, or with ``prompt`` from Enter (the launch's
    spawn and the relay's connection come before it: ``prompt_shown_ms``, ``relay_ready_ms``)."""
    marks = APP_PHASES if APP else PHASES
    if not prompt:
        return marks
    return tuple(k for k in marks if k not in ("spawn_ms", "connect_ms")) + ("prompt_shown_ms", "relay_ready_ms")


EXTRA = ("prompt_ms", "app_screen_ms", "app_visible_ms", "app_prompt_ms", "prompt_shown_ms", "relay_ready_ms")


def own_phases(rounds: list[dict[str, float | None]], prompt: bool = False) -> dict[str, float]:
    """Each phase's own length: its mark minus the mark before it (medians over rounds)."""
    order = [k for k in phases(prompt) if k not in EXTRA]
    out: dict[str, float] = {}
    for prev, cur in zip(["start"] + order, order):
        gaps = [r[cur] - (r[prev] if prev != "start" else 0.0) for r in rounds
                if r.get(cur) is not None and (prev == "start" or r.get(prev) is not None)]
        if gaps:
            out[cur.removesuffix("_ms")] = round(statistics.median(gaps), 1)  # type: ignore[operator]
    return out


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    k = (len(values) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    from relay.config import RelayConfig
    from relay.server import serve_relay

    start = time.monotonic()
    relay = await serve_relay(RelayConfig(host="127.0.0.1", port=0))
    global MARKS
    MARKS = RelayMarks(relay.rooms)
    relay_url = agent_url = f"ws://127.0.0.1:{relay.port}"
    shaper = None
    if args.rtt:
        shaper, shaped_cust, agent_url = await start_shaper(relay.port, args.rtt, args.loss)
        if args.relay_at == "middle":
            relay_url = shaped_cust
    trees = [ROOT] + ([args.versus] if args.versus else [])
    venvs = {ROOT: args.venv, **({args.versus: args.versus_venv} if args.versus else {})}
    runs = {tree: Run() for tree in trees}
    asked = Run(prompt=True)  # --prompt: this tree's `cobrowse join` with no code
    try:
        for i in range(args.n):
            if i and time.monotonic() - start > args.budget:
                log("budget spent: no more rounds")
                break
            for tree in trees if i % 2 == 0 else trees[::-1]:  # interleaved, each tree first every other round
                run = runs[tree]
                for name, argv in BASELINES.items():
                    wall, cpu = await baseline(argv, tree, venvs[tree])
                    run.base[name].append(wall)
                    run.base_cpu[name].append(cpu)
                r = await one_round(relay_url, tree, agent_url, args.app, venv=venvs[tree])
                run.rounds.append(r)
                log(f"round {i} ({tree.name}): " + " ".join(f"{k}={r.get(k)}" for k in (*phases(), "customer_cpu_ms",
                                                                                      "agent_cpu_after_code_ms"))
                    + " | " + " ".join(f"{k}={run.base[k][-1]:.0f}ms" for k in BASELINES))
                if args.prompt is not None and tree == ROOT:
                    r = await one_round(relay_url, tree, agent_url, args.app, typing_pause=args.prompt,
                                        venv=venvs[tree])
                    asked.rounds.append(r)
                    log(f"round {i} ({tree.name}, prompt): " + " ".join(f"{k}={r.get(k)}" for k in phases(True)))
    finally:
        if shaper is not None:
            shaper.kill()
            await shaper.wait()
        relay.close()
        try:
            async with asyncio.timeout(5):
                await relay.wait_closed()
        except TimeoutError:
            pass

    result = runs[ROOT].summary()
    if args.prompt is not None:
        result["prompt"] = {"typing_pause_s": args.prompt, **asked.summary()}
    if args.versus:
        result["versus"] = {"tree": str(args.versus), "venv": str(args.versus_venv or ""), **runs[args.versus].summary()}
    result["venv"] = str(args.venv or "")
    result["rtt_ms"], result["loss"] = args.rtt, args.loss
    result["front_end"] = "app" if args.app else "plain"
    if args.rtt:
        result["relay_at"] = args.relay_at
    result["machine"] = f"{platform.machine()} {os.cpu_count()} cpu, Python {platform.python_version()}"
    result["elapsed_s"] = round(time.monotonic() - start, 1)
    return result


async def start_shaper(relay_port: int, rtt_ms: float, loss: float) -> tuple[asyncio.subprocess.Process, str, str]:
    """bench/netlink.py's shaper in front of the relay: (process, customer URL, agent URL)."""
    sys.path.insert(0, str(ROOT / "bench"))
    from netlink import free_port

    cust, agent = free_port(), free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(ROOT / "bench" / "netlink.py"), "shaper", str(rtt_ms / 2000), str(loss), "1",
        f"{cust}:127.0.0.1:{relay_port}", f"{agent}:127.0.0.1:{relay_port}", stdout=asyncio.subprocess.PIPE)
    assert proc.stdout is not None
    async with asyncio.timeout(WAIT):
        line = await proc.stdout.readline()
    if line.strip() != b"ready":
        raise RuntimeError(f"the shaper did not start: {line!r}")
    log(f"shaper: {rtt_ms:g} ms RTT, {loss:.1%} loss each way, between each side and the relay")
    return proc, f"ws://127.0.0.1:{cust}", f"ws://127.0.0.1:{agent}"


class Run:
    """One tree's rounds and baselines."""

    def __init__(self, prompt: bool = False) -> None:
        self.prompt = prompt
        self.rounds: list[dict[str, float]] = []
        self.base: dict[str, list[float]] = {k: [] for k in BASELINES}
        self.base_cpu: dict[str, list[float]] = {k: [] for k in BASELINES}

    def summary(self) -> dict[str, Any]:
        rounds, base, base_cpu = self.rounds, self.base, self.base_cpu
        totals = [r["first_screen_ms"] for r in rounds]
        med = statistics.median
        marks = {k: round(med(r[k] for r in rounds if r.get(k) is not None), 1) for k in phases(self.prompt)
                 if any(r.get(k) is not None for r in rounds)}
        if self.prompt:  # Enter → the agent's first screen; no baselines of its own
            return {"enter_to_first_screen_ms_p50": round(med(totals), 1),
                    "enter_to_first_screen_ms_p90": round(pct(totals, 0.9), 1),
                    "enter_to_first_screen_ms_max": round(max(totals), 1), "n": len(rounds),
                    "phases_ms_p50": marks, "phase_ms_p50": own_phases(rounds, True)}
        return {
            "join_to_first_screen_ms_p50": round(med(totals), 1),
            "join_to_first_screen_ms_p90": round(pct(totals, 0.9), 1),
            "join_to_first_screen_ms_max": round(max(totals), 1),
            "n": len(rounds),
            "phases_ms_p50": marks,
            "phase_ms_p50": own_phases(rounds, self.prompt),
            "after_joined_ms_p50": round(med(r["first_screen_ms"] - r["joined_ms"] for r in rounds
                                             if r.get("joined_ms") is not None), 1) if not APP else None,
            "agent_code_ms_p50": round(med(r["agent_code_ms"] for r in rounds if r.get("agent_code_ms") is not None), 1),
            "customer_cpu_ms_p50": _p50(rounds, "customer_cpu_ms"),
            "agent_cpu_after_code_ms_p50": _p50(rounds, "agent_cpu_after_code_ms"),
            "python_version_ms_p50": round(med(base["version"]), 1),
            "join_imports_ms_p50": round(med(base["join_imports"]), 1),
            "bare_python_ms_p50": round(med(base["bare_python"]), 1),
            "join_imports_cpu_ms_p50": round(med(base_cpu["join_imports"]), 1),
            "bare_python_cpu_ms_p50": round(med(base_cpu["bare_python"]), 1),
            "entry_version_ms_p50": round(med(base["entry"]), 1),
            "entry_version_cpu_ms_p50": round(med(base_cpu["entry"]), 1),
        }


def _p50(rounds: list[dict[str, float]], key: str) -> float | None:
    values = [r[key] for r in rounds if r.get(key) is not None]
    return round(statistics.median(values), 1) if values else None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=20, help="rounds, each a fresh agent and customer (default 20)")
    ap.add_argument("--budget", type=float, default=150.0, help="start no new round after this many seconds")
    ap.add_argument("--source", action="store_true", help="do not compile the tree's bytecode first")
    ap.add_argument("--versus", type=Path, metavar="DIR",
                    help="another checkout (e.g. main exported to /tmp): its rounds run interleaved with "
                         "this tree's, against the same relay; its figures go under \"versus\"")
    ap.add_argument("--venv", type=Path, metavar="DIR",
                    help="launch this tree's customer by DIR/bin/cobrowse (a venv with the tree installed as a wheel)")
    ap.add_argument("--versus-venv", type=Path, metavar="DIR", help="the same for --versus's tree")
    ap.add_argument("--rtt", type=float, default=0.0, metavar="MS",
                    help="each side reaches the relay through a shaped link of this round-trip time (bench/netlink.py)")
    ap.add_argument("--loss", type=float, default=0.0, metavar="P", help="with --rtt: loss per direction (default 0)")
    ap.add_argument("--app", action="store_true",
                    help="the customer app (no --plain) on a pty instead of plain mode on pipes")
    ap.add_argument("--prompt", type=float, nargs="?", const=3.0, default=None, metavar="S",
                    help="also `cobrowse join` with no code (this tree only): wait for its prompt, pause S s "
                         "(default 3: the code read over the phone), type the code, and time from Enter")
    ap.add_argument("--relay-at", choices=("middle", "customer"), default="middle",
                    help="with --rtt: both sides shaped (middle, default) or only the agent's (a relay near the customer)")
    args = ap.parse_args()
    global APP
    APP = args.app
    if args.versus:
        args.versus = args.versus.resolve()
    if not args.source:
        import compileall

        for tree in [ROOT] + ([args.versus] if args.versus else []):
            for package in ("cobrowse", "relay"):
                compileall.compile_dir(str(tree / package), quiet=1)
    result = asyncio.run(bench(args))
    result["bytecode"] = "source" if args.source else "compiled"
    print(json.dumps(result))


if __name__ == "__main__":
    main()

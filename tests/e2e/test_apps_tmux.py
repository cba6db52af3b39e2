"""Both real apps, each in its own tmux terminal, against a real relay: what a person sees.

The customer types a command and the agent's mirror shows it; the agent asks for control,
the customer allows it, the agent types a command that the customer's shell runs; after
the customer revokes, the agent's keys no longer reach the shell; the agent ends the
session and the customer's app exits 0.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import shlex
import shutil
import subprocess
import sys
from typing import Callable

import pytest

from cobrowse.trust.tripwire import COOLDOWN
from cobrowse.protocol.prompts import ARMING

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (apt-get install tmux)")


class Tmux:
    def __init__(self) -> None:
        self.socket = f"cobrowse-apps-{secrets.token_hex(4)}"

    def run(self, *args: str) -> str:
        out = subprocess.run(["tmux", "-L", self.socket, "-f", "/dev/null", *args],
                             capture_output=True, text=True, timeout=10)
        return out.stdout

    def start(self, name: str, command: str, cols: int, rows: int) -> None:
        # with no client attached, tmux 3.3 sometimes took a window back to its default 80x24
        # once another session started (the console then laid itself out for 80 columns)
        self.run("new-session", "-d", "-s", name, "-x", str(cols), "-y", str(rows), command)
        self.run("set-option", "-w", "-t", name, "window-size", "manual")
        self.run("resize-window", "-t", name, "-x", str(cols), "-y", str(rows))

    def keys(self, name: str, *keys: str, literal: bool = False) -> None:
        self.run("send-keys", "-t", name, *(["-l"] if literal else []), *keys)

    def screen(self, name: str) -> str:
        return self.run("capture-pane", "-p", "-t", name)

    async def wait(self, name: str, check: Callable[[str], object], what: str, timeout: float = 20.0) -> str:
        screen = ""
        try:
            async with asyncio.timeout(timeout):
                while True:
                    screen = self.screen(name)
                    if check(screen):
                        return screen
                    await asyncio.sleep(0.2)
        except TimeoutError:
            raise AssertionError(f"{name}: no {what} in {timeout}s; screen:\n{screen}") from None

    def kill(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, timeout=10)


def app_command(*args: str) -> str:
    cobrowse = " ".join(shlex.quote(a) for a in (sys.executable, "-m", "cobrowse", *args))
    return f"env PS1='$ ' COBROWSE_CONFIG=/dev/null TERM=xterm-256color {cobrowse}; echo APP-EXIT=$?; sleep 30"


async def test_agent_console_and_customer_app_in_real_terminals(relay_url: str) -> None:
    tmux = Tmux()
    try:
        tmux.start("agent", app_command("agent", "--relay", relay_url), 120, 40)
        await tmux.wait("agent", lambda s: "New session" in s, "start screen")
        tmux.keys("agent", "F2")
        screen = await tmux.wait("agent", lambda s: re.search(r"cobrowse join (\d+-\d{4}-\d{4})", s), "session code")
        code = re.search(r"cobrowse join (\d+-\d{4}-\d{4})", screen)[1]  # type: ignore[index]

        tmux.start("customer", app_command("join", code, "--relay", relay_url, "--command", "bash --norc --noprofile"), 120, 35)
        await tmux.wait("customer", lambda s: "visible to" in s, "the sharing banner")
        agent_screen = await tmux.wait("agent", lambda s: "SAS" in s, "the SAS")
        sas = re.search(r"SAS ([a-z]+ [a-z]+ [a-z]+)", agent_screen)[1]  # type: ignore[index]
        # word by word: the toast wraps the sentence where the random words' lengths put the edge
        await tmux.wait("customer", lambda s: all(word in s for word in sas.split()), "the same SAS on the customer's side")

        tmux.keys("customer", "echo hello-from-customer", literal=True)
        tmux.keys("customer", "Enter")
        await tmux.wait("agent", lambda s: re.search(r"^\W?hello-from-customer", s, re.M), "the customer's output in the mirror")

        # shifted function keys as tmux sends them (ESC[1;2Q for shift+F2; ESC[1;2P for shift+F1)
        tmux.keys("agent", "S-F2")
        await tmux.wait("agent", lambda s: "Suggest a command" in s, "the suggest dialog on shift+F2")
        tmux.keys("agent", "echo suggested-by-agent", literal=True)
        tmux.keys("agent", "Enter")
        await tmux.wait("customer", lambda s: "suggested-by-agent" in s, "the suggestion at the customer")
        tmux.keys("customer", "C-]")
        tmux.keys("customer", "d")
        # the log's width depends on the layout the console picks (120 columns: the side panel,
        # where a line wraps onto the next row; narrower: below the screen); both are seen here
        await tmux.wait("agent", lambda s: "customer declined: echo" in s, "the decline in the agent's log")
        tmux.keys("agent", "S-F11")
        await tmux.wait("agent", lambda s: "Point at the customer" in s, "the point dialog on shift+F11")
        tmux.keys("agent", "Escape")
        await tmux.wait("agent", lambda s: "Point at the customer" not in s, "the point dialog closed")

        tmux.keys("agent", "F4")
        await tmux.wait("customer", lambda s: "asks to CONTROL" in s, "the consent request")
        await asyncio.sleep(ARMING + 0.1)  # a new prompt ignores answers for ARMING s
        tmux.keys("customer", "C-]")
        tmux.keys("customer", "y")
        await tmux.wait("customer", lambda s: "UNVERIFIED" in s, "the unverified-agent warning")
        await asyncio.sleep(COOLDOWN + 0.2)  # the tripwire: a second, deliberate press after the cool-down
        tmux.keys("customer", "C-]")
        tmux.keys("customer", "y")
        await tmux.wait("agent", lambda s: "CONTROL GRANTED" in s, "control granted")
        tmux.keys("agent", "F12")
        await tmux.wait("agent", lambda s: "TYPING INTO" in s, "typing mode")
        tmux.keys("agent", "echo agent-typed-$((40+2))", literal=True)
        tmux.keys("agent", "Enter")
        await tmux.wait("customer", lambda s: re.search(r"^\W?agent-typed-42", s, re.M), "the agent's command run by the shell")

        tmux.keys("customer", "C-]")
        tmux.keys("customer", "r")
        await tmux.wait("agent", lambda s: "VIEW ONLY" in s and "TYPING INTO" not in s, "revoke seen by the agent")
        tmux.keys("agent", "F12")
        tmux.keys("agent", "echo dropped-$((1+1))", literal=True)
        tmux.keys("agent", "Enter")
        await asyncio.sleep(1.5)
        assert "dropped-2" not in tmux.screen("customer")

        tmux.keys("agent", "F8")
        await tmux.wait("agent", lambda s: "End the session" in s, "the end confirmation")
        tmux.keys("agent", "y")
        # the customer is asked whether it was solved (docs/records.md) and answers with two keys
        await tmux.wait("customer", lambda s: "Was your problem solved?" in s, "the feedback dialog")
        tmux.keys("customer", "y")
        tmux.keys("customer", "5")
        await tmux.wait("customer", lambda s: "APP-EXIT=0" in s, "the customer's app exiting 0")
        await tmux.wait("agent", lambda s: "ended" in s, "the ended session")
        await tmux.wait("agent", lambda s: "customer feedback: solved" in s and "5/5" in s,
                        "the customer's feedback in the console")
    finally:
        tmux.kill()

"""Plain mode's ``[cobrowse]`` lines in a real terminal (issue 14): bash in a real pty under
tmux, a headless agent, and capture-pane for what the customer sees.

A notice never lands inside the command line being typed (it goes above it, and readline
still edits the line it owns); over a full-screen program (less) ordinary notices wait until
it exits, a consent question shows at once on the bottom row and the screen comes back on
the next key; answering still works.
"""

from __future__ import annotations

import asyncio
import shlex
import shutil
import sys
from pathlib import Path

import pytest

from cobrowse.protocol.prompts import ARMING
from tests.e2e.harness import start_agent
from tests.e2e.test_apps_tmux import Tmux

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None or shutil.which("less") is None,
                                reason="tmux and less are needed (apt-get install tmux less)")


def plain(code: str, relay: str, shell: str = "bash --norc --noprofile") -> str:
    cobrowse = " ".join(shlex.quote(a) for a in (sys.executable, "-m", "cobrowse", "join", code, "--plain",
                                                 "--relay", relay, "--command", shell))
    return (f"env -u COLUMNS -u LINES PS1='$ ' COBROWSE_CONFIG=/dev/null LESS= TERM=xterm-256color {cobrowse}; "
            "echo APP-EXIT=$?; sleep 30")


def rows_with(screen: str, needle: str) -> list[int]:
    return [i for i, line in enumerate(screen.splitlines()) if needle in line]


async def test_notices_never_split_the_typed_line_nor_draw_over_less(relay_url: str) -> None:
    agent = await start_agent(relay_url)
    tmux = Tmux()
    try:
        code = (await agent.event("code"))["code"]
        tmux.start("customer", plain(code, relay_url), 80, 24)
        await agent.event("paired")
        await tmux.wait("customer", lambda s: "Ctrl-] ?" in s and s.rstrip().endswith("$"), "the shell's prompt")

        # a long command being typed (it wraps), then a chat line from the agent arrives
        typed = "echo " + "abcdefghij" * 9 + " TYPED-END"
        tmux.keys("customer", typed, literal=True)
        await tmux.wait("customer", lambda s: "TYPED-END" in s, "the typed line")
        await agent.send({"cmd": "chat", "text": "hello while you type"})
        screen = await tmux.wait("customer", lambda s: "hello while you type" in s, "the chat notice")
        flat = screen.replace("\n", "")
        assert "$ " + typed in flat, screen  # the typed line is whole, on its own rows
        notice_row = rows_with(screen, "hello while you type")[0]
        assert notice_row < rows_with(screen, "$ echo abc")[0], screen  # above the line being typed
        # readline still owns its line: editing it and running it works
        tmux.keys("customer", "C-a")
        tmux.keys("customer", "C-k")
        tmux.keys("customer", "echo RAN-$((6*7))", literal=True)
        tmux.keys("customer", "Enter")
        screen = await tmux.wait("customer", lambda s: "RAN-42" in s.replace("RAN-$((", ""), "the edited command's output")
        assert "TYPED-END" not in screen.split("hello while you type")[-1], screen

        # a full-screen program: ordinary notices wait, a consent question does not
        tmux.keys("customer", "seq 1 200 | less", literal=True)
        tmux.keys("customer", "Enter")
        await tmux.wait("customer", lambda s: s.splitlines()[0].strip() == "1" and "23" in s, "less")
        await agent.send({"cmd": "chat", "text": "a chat during less"})
        await agent.send({"cmd": "request_control", "level": "suggest"})
        screen = await tmux.wait("customer", lambda s: "SUGGEST" in "".join(s.splitlines()[-4:]), "the consent question")
        lines = screen.splitlines()
        assert "a chat during less" not in screen, screen  # held, not drawn over less
        assert [line.strip() for line in lines[:18]] == [str(n) for n in range(1, 19)], screen  # less is intact above it
        assert "Ctrl-] y" in "".join(lines[-4:]), screen  # the whole question, with how to answer
        await asyncio.sleep(ARMING + 0.3)  # a question is armed 1 s after it shows (no answering by typeahead)
        tmux.keys("customer", "C-]")  # answering: the prefix key restores less's rows, then y allows
        tmux.keys("customer", "y")
        await agent.event("consent", level="suggest")
        screen = await tmux.wait("customer", lambda s: all(line.strip() == str(n) for n, line in
                                                           zip(range(1, 22), s.splitlines())), "less's rows back")
        tmux.keys("customer", "q")
        screen = await tmux.wait("customer", lambda s: "a chat during less" in s and s.rstrip().endswith("$"),
                                 "the held chat after less, then the prompt")
        assert rows_with(screen, "$ seq 1 200 | less")[0] < rows_with(screen, "a chat during less")[0], screen

        if shutil.which("vim") is None:
            return
        tmux.keys("customer", "vim -u NONE -N -n -c 'call setline(1, \"VIM-BUFFER\")'", literal=True)
        tmux.keys("customer", "Enter")
        await tmux.wait("customer", lambda s: s.startswith("VIM-BUFFER") and "~" in s, "vim")
        await agent.send({"cmd": "chat", "text": "a chat during vim"})
        await agent.send({"cmd": "request_control", "level": "control"})  # after the chat: messages are ordered
        screen = await tmux.wait("customer", lambda s: "CONTROL" in "".join(s.splitlines()[-5:]), "the question over vim")
        assert "a chat during vim" not in screen and screen.startswith("VIM-BUFFER"), screen
        await asyncio.sleep(ARMING + 0.3)
        tmux.keys("customer", "C-]")
        tmux.keys("customer", "n")
        tmux.keys("customer", ":q!", "Enter")
        await tmux.wait("customer", lambda s: "a chat during vim" in s and s.rstrip().endswith("$"), "the chat after vim")
    finally:
        tmux.kill()
        await agent.kill()


@pytest.mark.skipif(shutil.which("fish") is None, reason="fish is needed (apt-get install fish)")
async def test_a_notice_keeps_off_fishs_command_line_that_fills_its_row_exactly(relay_url: str, tmp_path: Path) -> None:
    """fish moves on from a command line that fills its row exactly with a newline of its own
    (no wrap), then climbs back to redraw: a notice put between the two rows took fish's redraw
    and the line showed garbled (the agent's line, then ``xx`` at its end, the rest below).
    fish's default configuration (syntax colours after the newline), in an empty home."""
    agent = await start_agent(relay_url)
    tmux = Tmux()
    try:
        code = (await agent.event("code"))["code"]
        prompt = "function fish_prompt; echo -n '$ '; end; function fish_greeting; end"
        fish = f"env HOME={shlex.quote(str(tmp_path))} XDG_CONFIG_HOME={shlex.quote(str(tmp_path))} fish -C {shlex.quote(prompt)}"
        tmux.start("customer", plain(code, relay_url, fish), 80, 24)
        await agent.event("paired")
        await tmux.wait("customer", lambda s: "Ctrl-] ?" in s and s.rstrip().endswith("$"), "fish's prompt")
        typed = "echo " + "x" * 73  # with the prompt: exactly 80 columns
        tmux.keys("customer", typed, literal=True)
        await tmux.wait("customer", lambda s: "$ " + typed in s.splitlines(), "the typed line")
        await agent.send({"cmd": "chat", "text": "hello from the agent"})
        await tmux.wait("customer", lambda s: "hello from the agent" in s, "the chat notice")
        tmux.keys("customer", "yz", literal=True)
        screen = await tmux.wait("customer", lambda s: "yz" in s, "the next keys")
        lines = screen.splitlines()
        row = lines.index("$ " + typed)
        assert lines[row - 1].rstrip() == "[cobrowse] the agent: hello from the agent", screen
        assert lines[row + 1].rstrip() == "yz", screen
        tmux.keys("customer", "Enter")
        await tmux.wait("customer", lambda s: "x" * 73 + "yz" in s.replace("echo " + "x" * 73, ""), "the command's output")
    finally:
        tmux.kill()
        await agent.kill()

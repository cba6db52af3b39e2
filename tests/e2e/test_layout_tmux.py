"""The customer app's layout in real terminals (issue 14): both apps in tmux at 80×24,
100×30 and 200×50 (and the customer at 40×10), driven by real key sequences, checked on what a
person sees (capture-pane) and on what the shared shell is told (``stty size``).

The shell gets the whole window but the status lines: (W, H - 2), or (W, H - 1) below 80
columns; the side panel and the chat open over it and never change that; the unverified-agent
warning stays on screen; the agent sees the customer's real size.
"""

from __future__ import annotations

import re
import shlex
import shutil
import sys

import pytest

from tests.e2e.test_apps_tmux import Tmux

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (apt-get install tmux)")


def command(*args: str) -> str:
    cobrowse = " ".join(shlex.quote(a) for a in (sys.executable, "-m", "cobrowse", *args))
    return (f"env -u COLUMNS -u LINES PS1='$ ' COBROWSE_CONFIG=/dev/null TERM=xterm-256color {cobrowse}; "
            "echo APP-EXIT=$?; sleep 30")


def stty_line(rows: int, cols: int) -> re.Pattern[str]:
    """``stty size``'s answer on a line of its own (in the customer's shell, or framed in the mirror)."""
    return re.compile(rf"(?:^|[^\w$]){rows} {cols}(?=\s|$|[^\w])", re.M)


@pytest.mark.parametrize(("agent_size", "size"), [((80, 24), (80, 24)), ((100, 30), (100, 30)),
                                                  ((200, 50), (200, 50)), ((80, 24), (40, 10))],
                         ids=["80x24", "100x30", "200x50", "customer-40x10"])
async def test_the_shell_gets_the_window_but_the_status_lines(relay_url: str, agent_size: tuple[int, int],
                                                              size: tuple[int, int]) -> None:
    cols, rows = size
    shell_rows = rows - (2 if cols >= 80 else 1)
    tmux = Tmux()
    try:
        tmux.start("agent", command("agent", "--relay", relay_url), *agent_size)
        await tmux.wait("agent", lambda s: "New session" in s, "start screen")
        tmux.keys("agent", "F2")
        screen = await tmux.wait("agent", lambda s: re.search(r"cobrowse join (\d+-\d{4}-\d{4})", s), "session code")
        code = re.search(r"cobrowse join (\d+-\d{4}-\d{4})", screen)[1]  # type: ignore[index]

        tmux.start("customer", command("join", code, "--relay", relay_url, "--command", "bash --norc --noprofile"),
                   cols, rows)
        await tmux.wait("customer", lambda s: "UNVERIFIED" in s, "the unverified-agent warning")
        lines = [line.strip() for line in tmux.screen("customer").splitlines()]
        if cols >= 80:  # a red status line at the bottom, the banner at the top
            assert "visible to" in lines[0] and "UNVERIFIED AGENT" in lines[-1], lines
        else:  # one status line: the warning first
            assert lines[0] == "⚠ UNVERIFIED · they see this", lines

        tmux.keys("customer", "stty size", literal=True)
        tmux.keys("customer", "Enter")
        await tmux.wait("customer", lambda s: stty_line(shell_rows, cols).search(s), f"stty size {shell_rows} {cols}")
        await tmux.wait("agent", lambda s: stty_line(shell_rows, cols).search(s), "the customer's size in the mirror")

        # the side panel and the chat open over the shell: its size does not change
        tmux.keys("customer", "C-]")
        tmux.keys("customer", "c")
        await tmux.wait("customer", lambda s: "message the agent" in s, "the chat")
        tmux.keys("customer", "hello from the chat", literal=True)
        tmux.keys("customer", "Enter")
        await tmux.wait("agent", lambda s: "hello from the chat" in s, "the chat at the agent")
        await tmux.wait("customer", lambda s: "message the agent" not in s, "the chat closed after sending")
        tmux.keys("customer", "C-]")
        tmux.keys("customer", "b")
        details = "⚠ UNVERIFIED AGENT: they did not"  # the panel's first lines: the details of the warning
        await tmux.wait("customer", lambda s: details in s, "the side panel")
        tmux.keys("customer", "clear; stty size", literal=True)
        tmux.keys("customer", "Enter")
        # cleared: the answer on the shell's first row, right under the banner (beside the panel when
        # there is room for both, under it at 40 columns)
        first_row = lambda s: re.match(rf"{shell_rows} {cols}(\s|$)", s.splitlines()[1])  # noqa: E731
        if cols >= 80:
            screen = await tmux.wait("customer", first_row, "stty size, panel open")
            assert details in screen
        tmux.keys("customer", "C-]")
        tmux.keys("customer", "b")
        await tmux.wait("customer", lambda s: details not in s, "the side panel closed")
        await tmux.wait("customer", first_row, "stty size, panel closed")

        tmux.keys("customer", "C-]")
        tmux.keys("customer", "e")
        await tmux.wait("customer", lambda s: "End the session" in s, "the end confirmation")
        tmux.keys("customer", "C-]")
        tmux.keys("customer", "e")
        await tmux.wait("customer", lambda s: "APP-EXIT=0" in s, "the customer's app exiting 0")
    finally:
        tmux.kill()


async def test_the_dialogs_are_not_clipped_at_80x24(relay_url: str) -> None:
    """F3 and F8 in the console at 80×24, from real keys: each dialog's sentence is whole
    (issue 14: "they ran `cobrows"), wrapped inside its border."""
    tmux = Tmux()
    try:
        tmux.start("agent", command("agent", "--relay", relay_url), 80, 24)
        await tmux.wait("agent", lambda s: "New session" in s, "start screen")
        tmux.keys("agent", "F3")
        screen = await tmux.wait("agent", lambda s: "Join a customer's session" in s, "the join dialog")
        assert "(they ran" in screen and "`cobrowse share`):" in screen, screen
        tmux.keys("agent", "Escape")
        await tmux.wait("agent", lambda s: "Join a customer's session" not in s, "the join dialog closed")
        tmux.keys("agent", "F2")
        screen = await tmux.wait("agent", lambda s: re.search(r"cobrowse join (\d+-\d{4}-\d{4})", s), "session code")
        code = re.search(r"cobrowse join (\d+-\d{4}-\d{4})", screen)[1]  # type: ignore[index]
        tmux.keys("agent", "F8")
        question = f"End the session with the customer ({code})?"
        screen = await tmux.wait("agent", lambda s: "End session (y)" in s, "the end confirmation")
        assert question in screen and "Cancel (n)" in screen, screen
    finally:
        tmux.kill()

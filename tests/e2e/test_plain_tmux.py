"""Plain mode (``cobrowse join --plain``) as a person sees it in a real terminal (tmux): what
the customer types into chat shows as typed, and plain mode ends on a line of its own.
Real processes and a real relay on 127.0.0.1."""

from __future__ import annotations

import re
import shutil

import pytest

from tests.e2e.harness import Proc
from tests.e2e.test_apps_tmux import Tmux, app_command

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (apt-get install tmux)")

ENV = {"COBROWSE_DIRECT": "0"}


async def plain_session(tmux: Tmux, relay_url: str, cols: int, rows: int) -> Proc:
    agent = await Proc.start("agent", "--headless", "--no-feedback", "--relay", relay_url, name="agent", env=ENV)
    code = (await agent.event("code"))["code"]
    tmux.start("customer", "env COBROWSE_DIRECT=0 " + app_command(
        "join", code, "--relay", relay_url, "--plain", "--command", "bash --norc --noprofile"), cols, rows)
    await agent.event("paired")
    await tmux.wait("customer", lambda s: re.search(r"^\$ ?$", s, re.M), "the shell's prompt")
    return agent


@pytest.mark.parametrize("size", [(80, 24), (200, 50)])
async def test_plain_mode_ends_on_a_line_of_its_own(relay_url: str, size: tuple[int, int]) -> None:
    """The agent ends the session while the inner shell's prompt waits: the outer shell's next
    output starts a line (it read ``$ APP-EXIT=0``)."""
    tmux = Tmux()
    agent: Proc | None = None
    try:
        agent = await plain_session(tmux, relay_url, *size)
        await agent.send({"cmd": "end"})
        screen = await tmux.wait("customer", lambda s: "APP-EXIT=" in s, "plain mode's end")
        assert re.search(r"^APP-EXIT=\d+$", screen, re.M), screen
        assert not re.search(r"^\$ APP-EXIT", screen, re.M), screen
    finally:
        tmux.kill()
        if agent is not None:
            await agent.kill()


@pytest.mark.parametrize("size", [(80, 24), (200, 50)])
async def test_chat_shows_what_is_typed_with_its_edits(relay_url: str, size: tuple[int, int]) -> None:
    """After ``Ctrl-] c`` the screen showed ``[cobrowse] chat>`` and nothing as the customer
    typed; the text appeared only after Enter."""
    tmux = Tmux()
    agent: Proc | None = None
    try:
        agent = await plain_session(tmux, relay_url, *size)
        tmux.keys("customer", "C-]", "c")
        tmux.keys("customer", "hello agnt", literal=True)
        await tmux.wait("customer", lambda s: "[cobrowse] chat> hello agnt" in s, "the chat line as typed")
        tmux.keys("customer", "BSpace", "BSpace", "BSpace", "Left", "Up")
        tmux.keys("customer", "gent!", literal=True)
        screen = await tmux.wait("customer", lambda s: "[cobrowse] chat> hello agent!" in s, "the line as edited")
        assert "\x1b" not in screen and "[A" not in screen and "^[" not in screen, screen
        await agent.send({"cmd": "chat", "text": "a line from the agent"})
        await tmux.wait("customer", lambda s: "a line from the agent" in s, "the agent's line while typing")
        tmux.keys("customer", " ok", literal=True)
        screen = await tmux.wait("customer", lambda s: "chat> hello agent! ok" in s, "typing goes on")
        rows = screen.splitlines()
        draft = next(i for i, row in enumerate(rows) if "chat> hello agent! ok" in row)
        # the agent's line just above the chat line, the chat line just above the prompt (the
        # agent's line landed rows higher ~1 run in 4: the lane's row for a notice just after pairing)
        assert "a line from the agent" in rows[draft - 1] and re.match(r"^\$ ?$", rows[draft + 1]), screen
        tmux.keys("customer", "Enter")
        await agent.event("chat", text="hello agent! ok")
        screen = await tmux.wait("customer", lambda s: "[cobrowse] you: hello agent! ok" in s, "the line sent")
        assert "chat> hello" not in screen, screen  # the result took the chat line's row
        tmux.keys("customer", "echo shell-again", literal=True)
        tmux.keys("customer", "Enter")
        await tmux.wait("customer", lambda s: re.search(r"^shell-again$", s, re.M), "the shell gets the keys again")
    finally:
        tmux.kill()
        if agent is not None:
            await agent.kill()

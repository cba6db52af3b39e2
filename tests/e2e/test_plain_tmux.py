"""Plain mode (``cobrowse join --plain``) as a person sees it in a real terminal (tmux): what
the customer types into chat shows as typed, and plain mode ends on a line of its own.
Real processes and a real relay on 127.0.0.1."""

from __future__ import annotations

import asyncio
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

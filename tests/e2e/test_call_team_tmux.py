"""A team's call as the customer sees it in the app, in a real terminal (tmux, 100×30): an
invited agent rings, the call bar names him, Ctrl-] t answers, the bar says who the call is
with; the first agent's ring meanwhile is declined and never shows; Ctrl-] o hangs up. Real
processes, a real relay and a private PulseAudio server (the customer's microphone)."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import AsyncIterator

import pytest

from cobrowse.protocol.prompts import ARMING
from tests.e2e import pulse
from tests.e2e.harness import Proc
from tests.e2e.test_apps_tmux import Tmux, app_command

pytestmark = [pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (apt-get install tmux)"),
              pytest.mark.skipif(bool(pulse.missing()), reason=f"needs {', '.join(pulse.missing())} (installed by .ci/run)")]


@pytest.fixture
def pulse_server(tmp_path: Path) -> AsyncIterator[pulse.PulseServer]:
    root = tmp_path / "pulse"
    root.mkdir()
    root.chmod(0o700)
    server = pulse.PulseServer(root, ("customer_mic", "alice_speaker", "bob_speaker"))
    try:
        yield server
    finally:
        server.close()


async def test_the_app_s_call_bar_names_the_invited_agent_on_the_call(relay_url: str,
                                                                      pulse_server: pulse.PulseServer) -> None:
    env = {**pulse_server.env, "COBROWSE_DIRECT": "0"}
    tmux = Tmux()
    procs: list[Proc] = []

    async def agent(name: str, *extra: str) -> Proc:
        proc = await Proc.start("agent", "--headless", "--relay", relay_url, "--name", name, "--mic", "none",
                                "--speaker", f"{name.lower()}_speaker", *extra, name=name, env=env)
        procs.append(proc)
        return proc

    try:
        alice = await agent("Alice")
        code = (await alice.event("code"))["code"]
        exports = " ".join(f"{k}={v}" for k, v in env.items())
        tmux.start("customer", f"env {exports} " + app_command(
            "join", code, "--relay", relay_url, "--mic", "customer_mic.monitor", "--speaker", "none",
            "--command", "bash --norc --noprofile"), 100, 30)
        await tmux.wait("customer", lambda s: "visible to" in s, "the sharing banner")
        await alice.send({"cmd": "invite"})
        bob = await agent("Bob", "--join", (await alice.event("invite"))["code"])
        await tmux.wait("customer", lambda s: "asks to SEE your screen" in s, "the question about Bob")
        await asyncio.sleep(ARMING + 0.2)
        tmux.keys("customer", "C-]", "y")
        await bob.event("sharing", active=True)

        await bob.send({"cmd": "call"})
        await tmux.wait("customer", lambda s: "Bob (agent 2) is calling you. Answer?" in s, "Bob's ring in the call bar")
        tmux.keys("customer", "C-]", "t")
        await bob.event("voice", state="active")
        await tmux.wait("customer", lambda s: "On a call with Bob (agent 2)" in s, "the call bar naming Bob")

        await alice.send({"cmd": "call"})
        declined = await alice.event("voice", state="ended")
        assert "the customer is on a call with Bob (agent 2)" in declined["detail"]
        screen = tmux.screen("customer")
        assert "On a call with Bob (agent 2)" in screen and "Alice (agent 1) is calling you" not in screen

        tmux.keys("customer", "C-]", "o")
        await bob.event("voice", state="ended", reason="hung up")
        await tmux.wait("customer", lambda s: "On a call with" not in s, "the call bar gone")
    finally:
        tmux.kill()
        for proc in procs:
            await proc.kill()

"""A hostile agent's suggestions against the real customer (``cobrowse join``) and real shells
in a real pty: dash (no bracketed paste) and bash. Nothing runs without the customer's Enter;
control bytes are refused before anything reaches the pty."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from pathlib import Path

import pytest
from harness import start_customer

from cobrowse.io.agent import AgentRuntime
from cobrowse.io.link import RelayLink
from cobrowse.protocol import messages as m
from tests.io.test_resume import Recorder
from tests.waiting import until

SHELLS = ["sh", "bash --norc --noprofile"]


@pytest.mark.parametrize("shell", SHELLS)
async def test_no_suggestion_runs_without_the_customers_enter(relay_url: str, shell: str) -> None:
    # A short folder: "$ touch <path>" must fit one row of the shell's 80 columns to be found on
    # screen (a pytest-xdist worker's tmp_path is longer).
    tmp_path = Path(tempfile.mkdtemp(prefix="cb-"))
    events = Recorder()
    agent = AgentRuntime(RelayLink(relay_url, "agent", reconnect_for=10), events)
    code = await agent.create()
    task = asyncio.create_task(agent.run())
    customer = await start_customer(relay_url, str(code), command=shell)
    try:
        await events.until(lambda: events.of("consent"), timeout=20)
        await events.until(lambda: events.of("screen"))

        def screen_has(text: str) -> bool:
            screens = events.of("screen")
            return bool(screens) and any(text in line for line in screens[-1]["lines"])

        hostile = {1: f"sleep 3\x1a touch {tmp_path}/z", 2: f"sleep 3\x1c touch {tmp_path}/q",
                   3: f"true\rtouch {tmp_path}/cr", 4: f"true\ntouch {tmp_path}/lf",
                   5: f"echo \x1b[201~; touch {tmp_path}/esc"}
        for sid, command in hostile.items():
            agent._suggested[sid] = command  # a modified client: its own checks skipped
            await agent.send(m.Suggest(sid, command))
            await events.until(lambda sid=sid: any(e["id"] == sid for e in events.of("suggestion")))
        answers = {e["id"]: e for e in events.of("suggestion")}
        assert all(answers[sid]["answer"] == "refused" for sid in hostile), answers
        await customer.stderr_line("refused a command the agent suggested")
        await customer.send(b"\x1da")  # the customer tries to paste anyway
        await customer.stderr_line("no suggested command to answer")

        marker = tmp_path / "ran"
        await agent.command({"cmd": "suggest", "command": f"touch {marker}"})
        await customer.stderr_line("the agent suggests")
        await customer.send(b"\x1da")
        await until(lambda: screen_has(f"touch {marker}"), "the pasted command on screen")
        await asyncio.sleep(0.5)  # time enough for a shell to run what it was given
        assert not marker.exists()
        await customer.send(b"\r")  # the customer's own Enter
        await until(marker.exists, "the command to run after Enter")
        assert not any((tmp_path / name).exists() for name in ("z", "q", "cr", "lf", "esc"))
    finally:
        await customer.kill()
        if agent.outcome is None:
            await agent.end("agent_ended")
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        shutil.rmtree(tmp_path, ignore_errors=True)

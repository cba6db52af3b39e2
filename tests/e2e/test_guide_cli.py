"""`cobrowse guide PLAYBOOK --plain` through a real process: steps on stderr, auto-advance on
what the customer's shell prints, Ctrl-] ! for a session an agent joins, bad playbooks refused."""

from __future__ import annotations

import asyncio
from pathlib import Path

from harness import Proc, start_agent
from cobrowse.playbook.catalogue import SAMPLES

PLAYBOOK = str(SAMPLES / "collect-diagnostics.md")
BASH = "bash --norc --noprofile"
SHELL_ENV = {"PS1": "$ ", "TERM": "xterm-256color"}


async def start_guide(*extra: str, playbook: str = PLAYBOOK) -> Proc:
    return await Proc.start("guide", playbook, "--plain", "--command", BASH, *extra, name="guide", env=SHELL_ENV)


async def test_guide_steps_auto_advance_on_typed_commands() -> None:
    guide = await start_guide("--relay", "ws://127.0.0.1:9")  # never contacted: nobody asks for help
    try:
        await guide.stderr_line("[cobrowse] guide: Collect diagnostics for a support ticket (6 steps)")
        await guide.stderr_line("[cobrowse] step 1/6: Check the operating system")
        await guide.stderr_line("[cobrowse]   $ uname -srm")
        await guide.send("uname -srm\n")
        await guide.stderr_line("[cobrowse] step 1/6 done: Check the operating system (by auto)")
        await guide.stderr_line("[cobrowse] step 2/6: Check the clock")
        await guide.send("echo not a date\n")
        await asyncio.sleep(0.5)
        assert not any("step 2/6 done" in line for line in guide.stderr_lines)
        await guide.send("\x1dk")  # skip it
        await guide.stderr_line("[cobrowse] step 2/6 skipped: Check the clock (by customer)")
        await guide.stderr_line("[cobrowse] step 3/6: Note the shell and terminal")
        await guide.send("\x1da")  # paste the step's command, then run it
        await guide.stderr_line("pasted the step's command")
        await guide.send("\n")
        await guide.stderr_line("[cobrowse] step 3/6 done: Note the shell and terminal (by auto)")
        await guide.send("exit\n")
        assert await guide.wait() == 0
        assert any("guide ended" in line and "2 done, 1 skipped" in line for line in guide.stderr_lines)
        assert b"shell=" in guide.stdout_raw  # the shell's output passes straight through
    finally:
        await guide.kill()


async def test_guide_get_help_creates_a_session_the_agent_sees_the_steps(relay_url: str) -> None:
    guide = await start_guide("--relay", relay_url)
    agent = None
    try:
        await guide.stderr_line("[cobrowse] step 1/6: Check the operating system")
        await guide.send("uname -srm\n")
        await guide.stderr_line("step 1/6 done")
        await guide.send("\x1d!")
        line = await guide.stderr_line("cobrowse code: ")
        code = line.split("cobrowse code: ", 1)[1].strip()
        agent = await start_agent(relay_url, "--join", code)
        await agent.event("paired")
        steps = await agent.event("steps")
        assert steps["current"] == 1
        assert [s["status"] for s in steps["steps"]][:2] == ["done", "active"]
        await agent.send({"cmd": "step", "index": 1, "status": "skipped"})
        await guide.stderr_line("step 2/6 skipped: Check the clock (by agent)")
        await agent.send({"cmd": "end"})
        assert await guide.wait() == 0
    finally:
        await guide.kill()
        if agent is not None:
            await agent.kill()


async def test_invalid_playbook_exits_2_with_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "guide.md"
    bad.write_text("# Title\n\n## Step\n\nexpect: `(unclosed`\n")
    proc = await Proc.start("guide", str(bad), "--plain", name="guide")
    assert await proc.wait() == 2
    assert any(line.startswith(f"cobrowse: {bad}:5: expect: invalid regex") for line in proc.stderr_lines), proc.stderr_lines
    missing = await Proc.start("guide", str(tmp_path / "nope.md"), "--plain", name="guide")
    assert await missing.wait() == 2
    assert any("no such file" in line for line in missing.stderr_lines)

"""Suggested commands and step-by-step guidance through real processes."""

from __future__ import annotations

import asyncio
import time

from harness import pair


async def test_suggested_command_is_pasted_never_run_until_the_customer_presses_enter(relay_url: str) -> None:
    agent, customer, _ = await pair(relay_url)
    try:
        await agent.event("consent", level="view")  # works in view-only consent: the customer acts
        await agent.send({"cmd": "suggest", "command": "echo suggested-$((2+3))"})
        await customer.stderr_line("the agent suggests: echo suggested-$((2+3))")
        await customer.send(b"\x1da")
        await agent.event("suggestion", answer="pasted")
        await agent.screen(lambda lines: any(line.endswith("echo suggested-$((2+3))") for line in lines))
        await asyncio.sleep(0.5)
        assert not any("suggested-5" == line for line in agent.all("screen")[-1]["lines"])
        await customer.send(b"\r")
        await agent.screen(lambda lines: "suggested-5" in lines)

        await agent.send({"cmd": "suggest", "command": "rm -rf ~/important"})
        await customer.stderr_line("the agent suggests: rm -rf ~/important")
        await customer.send(b"\x1dd")
        declined = await agent.event("suggestion", answer="declined")
        assert declined["command"] == "rm -rf ~/important"
        await asyncio.sleep(0.3)
        assert not any("rm -rf" in line for line in agent.all("screen")[-1]["lines"])
    finally:
        await agent.kill()
        await customer.kill()


async def test_bad_suggest_commands_are_refused(relay_url: str) -> None:
    agent, customer, _ = await pair(relay_url)
    try:
        await agent.send({"cmd": "suggest"})
        await agent.send({"cmd": "suggest", "command": ""})
        await agent.until(lambda: len(agent.all("error")) >= 2, "2 refusals", 10)
        assert all("suggest needs" in e["message"] for e in agent.all("error"))
    finally:
        await agent.kill()
        await customer.kill()


def status(event: dict) -> list[str]:
    return [step["status"] for step in event["steps"]]


async def test_steps_advance_on_the_customers_output_and_either_side_can_change_them(relay_url: str) -> None:
    began = time.monotonic()
    agent, customer, _ = await pair(relay_url)
    try:
        await agent.send({"cmd": "steps", "title": "Check the machine", "steps": [
            {"title": "Print the kernel", "command": "uname -s", "expect": "^Linux$"},
            {"title": "Print a marker", "command": "echo step-two-$((1+1))", "expect": "step-two-2"},
            {"title": "Optional cleanup"},
            {"title": "Say goodbye"},
        ]})
        first = await agent.event("steps")
        assert first["title"] == "Check the machine"
        assert status(first) == ["active", "pending", "pending", "pending"] and first["current"] == 0
        await customer.stderr_line("the agent started a guide: Check the machine")

        # a fast scroll cannot hide the pattern: it is matched on every printed line
        await customer.send(b"uname -s; seq 1 200\r")
        await agent.event("steps", current=1)
        await customer.send(b"echo step-two-$((1+1))\r")
        third = await agent.event("steps", current=2)
        assert status(third)[:3] == ["done", "done", "active"]
        assert [s["by"] for s in third["steps"][:2]] == ["auto", "auto"]
        # "at": seconds since the agent's session started, on its clock (not the customer's)
        times = [s["at"] for s in third["steps"][:3]]
        assert all(isinstance(t, float) for t in times), times
        assert 0 <= times[0] <= times[1] <= times[2] <= time.monotonic() - began, times

        await agent.send({"cmd": "step", "index": 2, "status": "skipped"})
        skipped = await agent.event("steps", current=3)
        assert skipped["steps"][2]["status"] == "skipped" and skipped["steps"][2]["by"] == "agent"
        assert [s["at"] for s in skipped["steps"][:2]] == times[:2]  # unchanged steps keep their time
        await customer.send(b"\x1dm")  # the customer marks the current step done
        done = [e for e in agent.all("steps") if e["steps"][3]["status"] == "done"]
        if not done:
            await agent.event("steps", finished=True)
            done = [e for e in agent.all("steps") if e["steps"][3]["status"] == "done"]
        assert done[-1]["steps"][3]["by"] == "customer"

        await agent.send({"cmd": "step", "action": "back"})
        await agent.until(lambda: agent.all("steps")[-1]["steps"][3]["status"] == "active"
                          and agent.all("steps")[-1]["steps"][3]["by"] == "agent", "step 4 active again, by the agent", 10)

        await agent.send({"cmd": "end"})
        ended = await agent.event("ended")
        assert ended["summary"]["playbook"] == "Check the machine"
        assert ended["summary"]["steps"] == {"pending": 0, "active": 1, "done": 2, "skipped": 1, "failed": 0}
    finally:
        await agent.kill()
        await customer.kill()


async def test_playbook_files_and_bad_playbooks(relay_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    agent, customer, _ = await pair(relay_url)
    try:
        await agent.send({"cmd": "playbook", "path": "cobrowse/playbook/samples/collect-diagnostics.md"})
        pushed = await agent.event("steps")
        assert pushed["steps"] and pushed["steps"][0]["status"] == "active"
        bad = tmp_path / "bad.md"
        bad.write_text("# Title\n\n## Step\nexpect: `(unclosed`\n")
        await agent.send({"cmd": "playbook", "path": str(bad)})
        await agent.send({"cmd": "playbook", "path": str(tmp_path / "missing.md")})
        await agent.send({"cmd": "step", "index": 99, "status": "done"})
        await agent.until(lambda: len(agent.all("error")) >= 3, "3 refusals", 10)
        messages = [e["message"] for e in agent.all("error")]
        assert any("bad.md:4" in text for text in messages), messages
        assert any("missing.md" in text for text in messages), messages
        assert any("99" in text for text in messages), messages
    finally:
        await agent.kill()
        await customer.kill()


async def test_agent_points_at_rows_and_patterns(relay_url: str) -> None:
    agent, customer, _ = await pair(relay_url)
    try:
        await customer.send(b"printf 'alpha\\nERROR: disk full\\nomega\\n'\r")
        screen = await agent.screen(lambda lines: "ERROR: disk full" in lines)
        row = screen["lines"].index("ERROR: disk full")
        await agent.send({"cmd": "point", "rows": [row]})
        await customer.stderr_line(f"the agent points at row {row + 1}: ERROR: disk full")
        await agent.send({"cmd": "point", "pattern": "^(alpha|omega)$"})
        await customer.stderr_line("the agent points at lines matching '^(alpha|omega)$': alpha | omega")
        await agent.send({"cmd": "point"})
        await customer.stderr_line("the agent cleared the highlight")
        await agent.send({"cmd": "point", "pattern": "(unclosed"})
        await agent.send({"cmd": "point", "rows": [1, 2, 3]})
        await agent.until(lambda: len(agent.all("error")) >= 2, "2 refusals", 10)
        assert "not a valid regex" in agent.all("error")[0]["message"]
    finally:
        await agent.kill()
        await customer.kill()


async def test_pushed_playbook_suggested_command_pasted_and_run_completes_the_step_on_both_sides(relay_url: str) -> None:
    agent, customer, _ = await pair(relay_url)
    try:
        await agent.send({"cmd": "steps", "title": "Find the version", "steps": [
            {"title": "Show the shell version", "command": "echo shell-version-$((6*7))", "expect": "^shell-version-42$"},
            {"title": "Done"},
        ]})
        first = await agent.event("steps")
        await customer.stderr_line("step 1/2: Show the shell version")
        await agent.send({"cmd": "suggest", "command": first["steps"][0]["command"]})
        await customer.stderr_line("the agent suggests: echo shell-version-$((6*7))")
        await customer.send(b"\x1da")
        await agent.event("suggestion", answer="pasted")
        await customer.send(b"\r")  # the customer runs it
        done = await agent.event("steps", current=1)
        assert done["steps"][0]["status"] == "done" and done["steps"][0]["by"] == "auto"
        await customer.stderr_line("step 1/2 done: Show the shell version (by auto)")
    finally:
        await agent.kill()
        await customer.kill()

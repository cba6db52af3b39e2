"""The customer app, driven by Textual pilots against a real relay, a real agent runtime
(in-process) and a real bash on a pty. Every wait is bounded."""

from __future__ import annotations

from textual.events import Key

import asyncio
import random
import socket
import threading
from typing import Any, AsyncIterator

import pytest

from cobrowse.io.agent import AgentRuntime, CommandError
from cobrowse.io.link import RelayLink
from cobrowse.policy.events import as_json
from cobrowse.protocol import messages as m
from cobrowse.wire.code import parse_code
from cobrowse.protocol.prompts import ARMING
from relay.config import RelayConfig
from relay.server import RelayServer, serve_relay
from tui.customer_app import CustomerApp, ShellPane
from tests.waiting import until

BASH = "bash --norc --noprofile"
WAIT = 10.0
PREFIX = "ctrl+right_square_bracket"


@pytest.fixture(autouse=True)
def _shell_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PS1", "$ ")
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.delenv("PROMPT_COMMAND", raising=False)


class Agent:
    """The agent's side, in-process: an AgentRuntime and the events it emitted."""

    def __init__(self, url: str) -> None:
        self.events: list[dict[str, Any]] = []
        self.rt = AgentRuntime(RelayLink(url, "agent"), lambda e: self.events.append(as_json(e)), name="Alice")
        self.task: asyncio.Task | None = None

    async def create(self) -> str:
        code = await self.rt.create()
        self.task = asyncio.create_task(self.rt.run())
        return str(code)

    async def join(self, code: str) -> None:
        await self.rt.join(parse_code(code))
        self.task = asyncio.create_task(self.rt.run())

    async def event(self, kind: str, timeout: float = WAIT, **match: Any) -> dict[str, Any]:
        found = await until(lambda: next((e for e in self.events if e.get("event") == kind
                                          and all(e.get(k) == v for k, v in match.items())), None),
                            f"agent event {kind} {match}; got {[e.get('event') for e in self.events]}", timeout)
        return found

    def lines(self) -> list[str]:
        state = self.rt.mirror.state
        return state.lines() if state is not None else []

    async def close(self) -> None:
        if self.task is not None and not self.task.done():
            await self.rt.end("agent_ended")
            try:
                async with asyncio.timeout(5):
                    await self.task
            except BaseException:
                self.task.cancel()


@pytest.fixture
async def agent(relay_url: str) -> AsyncIterator[Agent]:
    a = Agent(relay_url)
    try:
        yield a
    finally:
        await a.close()


def pane_lines(app: CustomerApp) -> list[str]:
    state = app.query_one("#shell", ShellPane).state
    return state.lines() if state is not None else []


def has_line(lines: list[str], text: str) -> bool:
    return any(line.rstrip() == text for line in lines)


async def type_text(pilot: Any, text: str) -> None:
    await pilot.press(*text)


async def paired_app(pilot: Any, agent: Agent) -> CustomerApp:
    app: CustomerApp = pilot.app
    await until(lambda: app.sas is not None and agent.rt.paired, what="pairing")
    await agent.event("hello")
    await until(lambda: app.agent_name == "Alice", what="the agent's hello")
    await until(lambda: any(line.startswith("$") for line in pane_lines(app)), what="the shell prompt in the pane")
    return app


async def prefix(pilot: Any, key: str) -> None:
    await pilot.press(PREFIX, key)
    await pilot.pause()


# -- pairing, typing, Ctrl-C -------------------------------------------------------------


async def test_join_pair_type_and_interrupt(agent: Agent, relay_url: str) -> None:
    code = await agent.create()
    app = CustomerApp(relay_url, code, BASH, consent_timeout=30.0)
    async with app.run_test(size=(120, 36)) as pilot:
        await paired_app(pilot, agent)
        paired = await agent.event("paired")
        assert app.sas == paired["sas"]
        assert paired["sas"] in str(app.query_one("#sas").content)
        assert app.banner_text.startswith("Your terminal is visible to Alice")
        assert "Alice" in str(app.query_one("#who").content)

        # the pty has the pane's size, and the agent sees that size
        pane = app.query_one("#shell", ShellPane)
        # the banners above the pane settle after pairing (the agent's identity line), and the
        # pty follows the pane's last size
        await until(lambda: app.process is not None and app.process.size == tuple(pane.content_size),
                    what="the pty at the pane's size")
        cols, rows = pane.content_size
        await until(lambda: agent.rt.mirror.state is not None and agent.rt.mirror.state.size == (cols, rows),
                    what="the agent's mirror at the pane's size")

        await type_text(pilot, "echo hello-from-customer")
        await pilot.press("enter")
        await until(lambda: has_line(pane_lines(app), "hello-from-customer"), what="output in the customer's pane")
        await until(lambda: has_line(agent.lines(), "hello-from-customer"), what="output in the agent's mirror")

        # Ctrl-C reaches the shell's foreground job (not Textual's copy / quit)
        await type_text(pilot, "sleep 100")
        await pilot.press("enter")
        await until(lambda: any("sleep 100" in line for line in pane_lines(app)), what="sleep echoed")
        await asyncio.sleep(0.3)
        await pilot.press("ctrl+c")
        await type_text(pilot, "echo after-interrupt")
        await pilot.press("enter")
        await until(lambda: has_line(pane_lines(app), "after-interrupt"), timeout=5, what="sleep interrupted")

        # Ctrl-Q and Escape go to the shell too: the app is still running
        await pilot.press("ctrl+q", "escape")
        await pilot.pause()
        assert app.is_running and app.return_code is None


async def test_resize_follows_the_window_and_the_panel_never_resizes_the_shell(agent: Agent, relay_url: str) -> None:
    """The pty is always (window width, window height - the two status lines): the side
    panel, the chat and the consent bar open over the shell, a window resize reaches the pty."""
    code = await agent.create()
    app = CustomerApp(relay_url, code, BASH)
    async with app.run_test(size=(120, 36)) as pilot:
        await paired_app(pilot, agent)
        pane = app.query_one("#shell", ShellPane)
        await until(lambda: app.process is not None and app.process.size == (120, 34), what="the pty at 120x34")
        await prefix(pilot, "b")  # the side panel opens over the shell
        assert not app.query_one("#side").has_class("collapsed") and app.query_one("#side").region.width == 40
        await prefix(pilot, "c")  # and the chat
        await agent.rt.command({"cmd": "request_control", "level": "suggest"})
        await until(lambda: app.prompt_visible, what="the consent prompt")
        await pilot.pause(0.2)
        assert tuple(pane.content_size) == (120, 34) and app.process is not None and app.process.size == (120, 34)
        await pilot.press("escape")
        await pilot.resize_terminal(100, 30)
        await until(lambda: tuple(pane.content_size) == (100, 28), what="the pane at the window's size")
        await until(lambda: app.process is not None and app.process.size == (100, 28), what="pty resized")
        await until(lambda: agent.rt.mirror.state is not None and agent.rt.mirror.state.size == (100, 28),
                    what="the agent's mirror resized")
        await type_text(pilot, "stty size")
        await pilot.press("enter")
        await until(lambda: has_line(pane_lines(app), "28 100"), what="stty size in the shell")


@pytest.mark.parametrize("gone", ["#consent-bar", "#consent-countdown"])
async def test_a_countdown_tick_while_the_app_closes_is_quiet(agent: Agent, relay_url: str, gone: str) -> None:
    """Quitting with a question on show: the widgets go one by one before the app's timers stop,
    and a tick in between once crashed the exit (NoMatches '#consent-countdown', CI with Textual 8.2)."""
    code = await agent.create()
    app = CustomerApp(relay_url, code, BASH)
    async with app.run_test(size=(120, 36)) as pilot:
        await paired_app(pilot, agent)
        await agent.rt.command({"cmd": "request_control", "level": "suggest"})
        await until(lambda: app.prompt_visible, what="the consent prompt")
        assert app._prompt_timer is not None
        await app.query_one(gone).remove()
        app._tick_prompt()
        assert app._prompt_timer is None
        await pilot.pause()
        assert app.is_running and app.return_code is None


async def test_a_second_early_confirmation_replaces_the_warning_and_leaves_the_bar_whole(agent: Agent,
                                                                                        relay_url: str) -> None:
    """An unverified agent: the first Ctrl-] y warns, a second one too soon says "not yet". At
    80x24 the two toasts stacked grew up over the consent bar's Deny button; one at a time, then
    (fix10b) none: each answer takes the question's place in the bar."""
    from textual.widgets._toast import Toast

    code = await agent.create()
    app = CustomerApp(relay_url, code, BASH)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await paired_app(pilot, agent)
        await agent.rt.command({"cmd": "request_control", "level": "control"})
        await until(lambda: app.prompt_visible, what="the consent prompt")
        await asyncio.sleep(ARMING)
        await prefix(pilot, "y")
        await until(lambda: any("WAIT: this agent is NOT verified" in line for line in app.log_lines), what="the warning")
        await prefix(pilot, "y")
        await until(lambda: any("not yet" in line for line in app.log_lines), what="not yet")
        await pilot.pause(0.3)
        titles = [n.title for n in app._notifications]
        assert titles.count("Not verified: confirm control") == 0, titles
        assert "not yet" in str(app.query_one("#consent-text").render())
        assert "WAIT" not in str(app.query_one("#consent-text").render())
        bar = app.query_one("#consent-bar").region
        toasts = [t.region for t in app.query(Toast) if t.display]
        assert not any(bar.overlaps(region) for region in toasts), (bar, toasts)
        assert app.runtime.consent.level == "view" and app.prompt_visible


# -- chat ----------------------------------------------------------------------------------


async def test_chat_both_ways(agent: Agent, relay_url: str) -> None:
    code = await agent.create()
    app = CustomerApp(relay_url, code, BASH)
    async with app.run_test(size=(120, 36)) as pilot:
        await paired_app(pilot, agent)
        await agent.rt.command({"cmd": "chat", "text": "hi, can you run ls?"})
        await until(lambda: "Alice: hi, can you run ls?" in app.log_lines, what="the agent's chat in the panel")

        await prefix(pilot, "c")
        assert app.focused is app.query_one("#chat-input")
        await type_text(pilot, "sure thing")
        await pilot.press("enter")
        chat = await agent.event("chat", text="sure thing")
        assert chat["from"] == "customer"
        assert "you: sure thing" in app.log_lines
        assert app.focused is app.query_one("#shell")  # back to the shell
        # the chat text never went to the shell
        assert not any("sure thing" in line for line in pane_lines(app))
        # Escape leaves the chat input without sending
        await prefix(pilot, "c")
        await type_text(pilot, "never sent")
        await pilot.press("escape")
        await pilot.pause()
        assert app.focused is app.query_one("#shell")
        await asyncio.sleep(0.2)
        assert not any(e.get("text") == "never sent" for e in agent.events)


# -- consent -------------------------------------------------------------------------------


async def test_request_allow_then_revoke(agent: Agent, relay_url: str) -> None:
    code = await agent.create()
    app = CustomerApp(relay_url, code, BASH, control_cooldown=0.3)
    async with app.run_test(size=(120, 36)) as pilot:
        await paired_app(pilot, agent)
        await agent.rt.command({"cmd": "request_control", "level": "control"})
        await until(lambda: app.prompt_visible, what="the consent prompt")
        await asyncio.sleep(ARMING)  # a new prompt ignores answers for ARMING s
        text = str(app.query_one("#consent-text").content)
        assert "Alice asks to CONTROL your terminal" in text
        assert "NOT VERIFIED (you will have to confirm twice): Alice asks" in text
        assert "denied automatically in" in str(app.query_one("#consent-countdown").content)
        # a bare "y" typed in the shell answers nothing
        await pilot.press("y")
        await asyncio.sleep(0.2)
        assert app.runtime is not None and app.runtime.consent.level == "view" and app.prompt_visible
        await pilot.press("backspace")

        await prefix(pilot, "y")  # an unverified agent: the tripwire's first press only warns
        await until(lambda: any("WAIT: this agent is NOT verified" in line for line in app.log_lines), what="the warning")
        assert app.runtime.consent.level == "view" and app.prompt_visible
        await asyncio.sleep(0.35)
        await prefix(pilot, "y")
        await agent.event("consent", level="control")
        assert not app.prompt_visible
        assert "CONTROL" in str(app.query_one("#level").content)
        assert "they can TYPE in it" in app.banner_text

        await agent.rt.command({"cmd": "keys", "data": "echo from-agent\r"})
        await until(lambda: has_line(pane_lines(app), "from-agent"), what="the agent's keys in the shell")

        await prefix(pilot, "r")  # revoke: effective at once, on this machine
        assert app.runtime.consent.level == "view"
        assert "VIEW ONLY" in str(app.query_one("#level").content)
        assert "view only" in app.banner_text
        await agent.event("consent", level="view")
        with pytest.raises(CommandError):
            await agent.rt.command({"cmd": "keys", "data": "echo refused\r"})
        # a client that ignores the level: the customer drops its keys anyway
        await agent.rt.send(m.Keys("echo dropped-keys\r"))
        await until(lambda: any("ignored keys from the agent" in line for line in app.log_lines),
                    what="the dropped-keys notice")
        await asyncio.sleep(0.3)
        assert not any("dropped-keys" in line for line in pane_lines(app))


async def test_buttons_grant_and_deny(agent: Agent, relay_url: str) -> None:
    code = await agent.create()
    app = CustomerApp(relay_url, code, BASH)
    async with app.run_test(size=(120, 36)) as pilot:
        await paired_app(pilot, agent)
        await agent.rt.command({"cmd": "request_control", "level": "suggest"})
        await until(lambda: app.prompt_visible, what="the consent prompt")
        await until(lambda: app.query_one("#deny").region.width > 0, what="the Deny button laid out")
        await pilot.pause()
        await asyncio.sleep(ARMING)
        await pilot.click("#deny")
        await until(lambda: not app.prompt_visible, what="the prompt to close")
        await agent.event("consent", level="view")
        assert app.runtime is not None and app.runtime.consent.level == "view"
        await prefix(pilot, "b")  # the side panel, over the shell
        await pilot.pause()
        await pilot.click("#grant-suggest")
        await agent.event("consent", level="suggest")
        assert "SUGGEST" in str(app.query_one("#level").content)
        assert app.focused is app.query_one("#shell")  # clicking never took the keyboard


async def test_unanswered_prompt_is_denied(agent: Agent, relay_url: str) -> None:
    code = await agent.create()
    app = CustomerApp(relay_url, code, BASH, consent_timeout=1.0)
    async with app.run_test(size=(120, 36)) as pilot:
        await paired_app(pilot, agent)
        await agent.rt.command({"cmd": "request_control", "level": "control"})
        await until(lambda: app.prompt_visible, what="the consent prompt")
        await until(lambda: not app.prompt_visible, timeout=5, what="the prompt to expire")
        assert app.runtime is not None and app.runtime.consent.level == "view"
        await until(lambda: any("no answer" in line for line in app.log_lines), what="the denial notice")
        # answering late changes nothing
        await prefix(pilot, "y")
        assert app.runtime.consent.level == "view"
        await asyncio.sleep(0.2)
        assert all(e["level"] == "view" for e in agent.events if e.get("event") == "consent")
        assert agent.rt.consent == "view"


# -- pause, preview, end -------------------------------------------------------------------


async def test_pause_and_resume(agent: Agent, relay_url: str) -> None:
    code = await agent.create()
    app = CustomerApp(relay_url, code, BASH)
    async with app.run_test(size=(120, 36)) as pilot:
        await paired_app(pilot, agent)
        await until(lambda: agent.rt.screen_frames > 0, what="a first frame")
        await prefix(pilot, "p")
        await agent.event("sharing", active=False)
        assert app.banner_text.startswith("Sharing paused: Alice sees nothing")
        frames = agent.rt.screen_frames
        await type_text(pilot, "echo while-paused")
        await pilot.press("enter")
        await until(lambda: has_line(pane_lines(app), "while-paused"), what="output in the customer's pane")
        await asyncio.sleep(0.4)
        assert agent.rt.screen_frames == frames
        assert not any("while-paused" in line for line in agent.lines())

        # the preview says the agent sees nothing
        await prefix(pilot, "v")
        preview = app.screen
        assert type(preview).__name__ == "PreviewScreen"
        await pilot.pause(0.15)
        assert "paused" in (preview.query_one("#preview-screen").placeholder or "")
        await pilot.press("escape")
        await pilot.pause()
        assert app.focused is app.query_one("#shell")

        # resuming first shows what would become visible; n keeps sharing paused
        await prefix(pilot, "p")
        await until(lambda: type(app.screen).__name__ == "ResumeReviewScreen", what="the review of what changed")
        shown = "\n".join(str(w.render()) for w in app.screen.query("#review-lines PlainStatic"))
        assert "while-paused" in shown
        title = str(app.screen.query_one("#review-title").render())
        assert "sharing again shows Alice your screen" in title and "changed while paused" in title
        await pilot.press("n")
        await pilot.pause(0.3)
        assert not any("while-paused" in line for line in agent.lines()) and agent.rt.screen_frames == frames

        # Ctrl-] p again, then s: shared as it is
        await prefix(pilot, "p")
        await until(lambda: type(app.screen).__name__ == "ResumeReviewScreen", what="the review again")
        await pilot.press("s")
        await agent.event("sharing", active=True)
        assert app.banner_text.startswith("Your terminal is visible to Alice")
        await until(lambda: has_line(agent.lines(), "while-paused"), what="the screen after resume")


async def test_resume_after_clearing_shares_a_clean_screen(agent: Agent, relay_url: str) -> None:
    code = await agent.create()
    app = CustomerApp(relay_url, code, BASH)
    async with app.run_test(size=(120, 36)) as pilot:
        await paired_app(pilot, agent)
        await until(lambda: agent.rt.screen_frames > 0, what="a first frame")
        await prefix(pilot, "p")
        await agent.event("sharing", active=False)
        await type_text(pilot, "echo secret-while-paused")
        await pilot.press("enter")
        await until(lambda: has_line(pane_lines(app), "secret-while-paused"), what="output in the customer's pane")
        await prefix(pilot, "p")
        await until(lambda: type(app.screen).__name__ == "ResumeReviewScreen", what="the review of what changed")
        await pilot.press("c")
        await agent.event("sharing", active=True)
        await until(lambda: not has_line(pane_lines(app), "secret-while-paused"), what="the customer's own screen cleared")
        await asyncio.sleep(0.5)
        assert not any("secret-while-paused" in line for line in agent.lines())


async def test_preview_shows_what_was_sent(agent: Agent, relay_url: str) -> None:
    code = await agent.create()
    app = CustomerApp(relay_url, code, BASH)
    async with app.run_test(size=(120, 36)) as pilot:
        await paired_app(pilot, agent)
        await type_text(pilot, "echo preview-me")
        await pilot.press("enter")
        await until(lambda: has_line(agent.lines(), "preview-me"), what="the agent's mirror")
        await prefix(pilot, "v")
        view = app.screen.query_one("#preview-screen")
        await until(lambda: view.state is not None and has_line(view.state.lines(), "preview-me"),
                    what="the preview")
        assert view.state.lines() == agent.lines()


async def test_customer_ends_the_session(agent: Agent, relay_url: str) -> None:
    code = await agent.create()
    app = CustomerApp(relay_url, code, BASH)
    async with app.run_test(size=(120, 36)) as pilot:
        await paired_app(pilot, agent)
        process = app.process
        await prefix(pilot, "e")
        await until(lambda: any(n.message.startswith("press Ctrl-] e again") for n in app._notifications),
                    what="the confirmation")
        assert app.is_running
        await prefix(pilot, "e")
        ended = await agent.event("ended")
        assert ended["reason"] == "customer_ended"
        await until(lambda: not app.is_running, what="the app to exit")
    assert app.return_code == 0
    assert process is not None and process.returncode is not None  # the shell was terminated


async def test_agent_ends_the_session(agent: Agent, relay_url: str) -> None:
    code = await agent.create()
    app = CustomerApp(relay_url, code, BASH)
    async with app.run_test(size=(120, 36)) as pilot:
        await paired_app(pilot, agent)
        process = app.process
        await agent.rt.command({"cmd": "end"})
        await until(lambda: not app.is_running, what="the app to exit")
    assert app.return_code == 0
    assert app.outcome is not None and app.outcome.reason == "agent_ended"
    assert process is not None and process.returncode is not None


async def test_shell_exit_ends_the_session(agent: Agent, relay_url: str) -> None:
    code = await agent.create()
    app = CustomerApp(relay_url, code, BASH)
    async with app.run_test(size=(120, 36)) as pilot:
        await paired_app(pilot, agent)
        await type_text(pilot, "exit")
        await pilot.press("enter")
        await agent.event("ended", reason="command_exited")
        await until(lambda: not app.is_running, what="the app to exit")
    assert app.return_code == 0


async def test_literal_prefix_and_help(agent: Agent, relay_url: str) -> None:
    code = await agent.create()
    app = CustomerApp(relay_url, code, BASH)
    async with app.run_test(size=(120, 36)) as pilot:
        await paired_app(pilot, agent)
        await pilot.press(PREFIX)
        assert app.prefix_armed
        assert "prefix: press a key" in str(app.query_one("#status").content)
        await pilot.press("question_mark")
        await pilot.pause()
        assert type(app.screen).__name__ == "HelpScreen"
        await pilot.press("space")
        await pilot.pause()
        assert not app.prefix_armed and type(app.screen).__name__ == "Screen"
        # Ctrl-] Ctrl-] types one 0x1d: od shows it
        await type_text(pilot, "od -c")
        await pilot.press("enter")
        await asyncio.sleep(0.2)
        await pilot.press(PREFIX, PREFIX, "enter", "ctrl+d")
        await until(lambda: any("035" in line for line in pane_lines(app)), what="a literal 0x1d for od")


# -- guide steps and the pointer -----------------------------------------------------------

INLINE = {"cmd": "steps", "title": "Try it", "steps": [
    {"title": "Say hello", "body": "Print a **greeting**.", "command": "echo hel''lo-there", "expect": "^hello-there$"},
    {"title": "Count", "body": "Count to three.", "command": "seq 3"},
]}


def steps_text(app: CustomerApp) -> str:
    return str(app.query_one("#steps-list").content)


async def test_steps_panel_follows_the_agent_and_auto_advances(agent: Agent, relay_url: str) -> None:
    code = await agent.create()
    app = CustomerApp(relay_url, code, BASH)
    async with app.run_test(size=(120, 36)) as pilot:
        await paired_app(pilot, agent)
        await agent.rt.command(INLINE)
        await until(lambda: app.query_one("#guide").has_class("shown"), what="the guide section")
        assert app.query_one("#guide").display
        assert "▶ 1. Say hello" in steps_text(app) and "· 2. Count" in steps_text(app)
        assert "Guide: Try it" in str(app.query_one("#guide-title").content)
        command = str(app.query_one("#step-command").content)
        assert "$ echo hel''lo-there" in command and "Ctrl-] a pastes a suggested command" in command
        assert "greeting" in app.query_one("#step-body").source
        # no suggestion from the agent: Ctrl-] a pastes the step's command; the customer runs it
        await prefix(pilot, "a")
        await until(lambda: any("echo hel''lo-there" in line for line in pane_lines(app)), what="the pasted command")
        await pilot.press("enter")
        await until(lambda: "✓ 1. Say hello" in steps_text(app), what="auto-advance")
        assert "▶ 2. Count" in steps_text(app)
        state = await agent.event("steps", current=1)
        assert state["steps"][0]["status"] == "done" and state["steps"][0]["by"] == "auto"
        # the customer skips the last one with Ctrl-] k
        await prefix(pilot, "k")
        await until(lambda: "↷ 2. Count" in steps_text(app), what="the skipped step")
        await until(lambda: "All steps finished" in app.query_one("#step-body").source, what="the end")
        await agent.event("steps", finished=True)


async def test_steps_notify_when_the_panel_is_collapsed(agent: Agent, relay_url: str) -> None:
    code = await agent.create()
    app = CustomerApp(relay_url, code, BASH)
    async with app.run_test(size=(80, 24)) as pilot:
        await paired_app(pilot, agent)
        assert app.query_one("#side").has_class("collapsed")
        await agent.rt.command(INLINE)
        await until(lambda: any("Step 1/2: Say hello" in str(n.message) for n in app._notifications),
                    what="a notification for the step")
        await prefix(pilot, "m")
        await until(lambda: any("Step 2/2: Count" in str(n.message) for n in app._notifications),
                    what="a notification for the next step")
        await prefix(pilot, "b")
        assert app.query_one("#guide").display and "✓ 1. Say hello" in steps_text(app)


async def test_pointer_highlights_rows_until_cleared(agent: Agent, relay_url: str) -> None:
    code = await agent.create()
    app = CustomerApp(relay_url, code, BASH)
    async with app.run_test(size=(120, 36)) as pilot:
        await paired_app(pilot, agent)
        shell = app.query_one("#shell", ShellPane)
        await agent.rt.command({"cmd": "point", "rows": [0, 1]})
        await until(lambda: shell.highlight == {0, 1}, what="rows highlighted")
        assert any("the agent points at rows 1-2" in line for line in app.log_lines)
        # drawn with the highlight style: the strip of row 0 differs from a plain one
        highlighted = shell.render_line(0)
        assert any(seg.style is not None and seg.style.underline for seg in highlighted)
        await agent.rt.command({"cmd": "point", "pattern": "^marker-[0-9]+$"})
        await until(lambda: shell.highlight == frozenset(), what="no match yet")
        await type_text(pilot, "echo marker-42")
        await pilot.press("enter")
        await until(lambda: len(shell.highlight) == 1, what="the pattern's row highlighted after the output")
        row = next(iter(shell.highlight))
        assert pane_lines(app)[row].rstrip() == "marker-42"
        await agent.rt.command({"cmd": "point"})
        await until(lambda: shell.highlight == frozenset(), what="the highlight cleared")
        assert not any(seg.style is not None and seg.style.underline for seg in shell.render_line(row))
        assert any("cleared" in line for line in app.log_lines)


# -- share (create a code) -----------------------------------------------------------------


async def test_share_shows_the_code_and_pairs(relay_url: str) -> None:
    app = CustomerApp(relay_url, None, BASH)
    agent = Agent(relay_url)
    try:
        async with app.run_test(size=(120, 36)) as pilot:
            await until(lambda: app.code is not None, what="a code")
            assert app.query_one("#waiting").has_class("shown")
            assert app.banner_text.startswith("Waiting for your agent")
            code = str(app.code)
            assert app.code.spoken() in str(app.query_one("#code-spoken").content)
            await agent.join(code)
            await paired_app(pilot, agent)
            assert app.sas == (await agent.event("paired"))["sas"]
            assert not app.query_one("#waiting").has_class("shown")
            assert app.banner_text.startswith("Your terminal is visible to Alice")
    finally:
        await agent.close()


# -- errors --------------------------------------------------------------------------------


async def _error_screen(app: CustomerApp, pilot: Any) -> str:
    await until(
        lambda: type(app.screen).__name__ == "SessionOverScreen" and bool(app.screen.query("#over-message")),
        timeout=15,
        what="the error screen",
    )
    message = str(app.screen.query_one("#over-message").content)
    assert "Traceback" not in message
    await pilot.press("enter")
    await until(lambda: not app.is_running, what="the app to exit")
    return message


async def test_wrong_code(agent: Agent, relay_url: str) -> None:
    code = parse_code(await agent.create())
    wrong = f"{code.nameplate}-{(int(code.secret) + 1) % 10**8:08d}"
    app = CustomerApp(relay_url, wrong, BASH)
    async with app.run_test(size=(100, 30)) as pilot:
        message = await _error_screen(app, pilot)
    assert "code" in message.lower()
    assert app.return_code == 5
    assert app.process is None


async def test_several_keys_on_the_end_screen_close_it_once(agent: Agent, relay_url: str,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    """Each key at "Press any key to close." called exit again: Textual printed the message
    once and "NOTE: 1 of 6 errors shown. Run with textual run --dev..." after it."""
    code = parse_code(await agent.create())
    wrong = f"{code.nameplate}-{(int(code.secret) + 1) % 10**8:08d}"
    app = CustomerApp(relay_url, wrong, BASH)
    async with app.run_test(size=(100, 30)):
        await until(lambda: type(app.screen).__name__ == "SessionOverScreen", timeout=15, what="the error screen")
        screen = app.screen
        for key in ("a", "enter", "space", "x", "escape", "q"):
            screen.post_message(Key(key, None))  # queued before the app's exit takes effect
        await until(lambda: not app.is_running, what="the app to exit")
    assert app.return_code == 5
    said = capsys.readouterr().err
    assert said.count("cobrowse: ") == 1 and "NOTE" not in said and "errors shown" not in said, said


async def test_unknown_code(relay_url: str) -> None:
    app = CustomerApp(relay_url, "98765-1234-5678", BASH)
    async with app.run_test(size=(100, 30)) as pilot:
        message = await _error_screen(app, pilot)
    assert app.return_code == 4, message


async def test_relay_down() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = CustomerApp(f"ws://127.0.0.1:{port}", "42-7193-0518", BASH)
    async with app.run_test(size=(100, 30)) as pilot:
        message = await _error_screen(app, pilot)
    assert "cannot reach the relay" in message
    assert app.return_code == 3


async def test_bad_code_format() -> None:
    app = CustomerApp("ws://127.0.0.1:9", "not-a-code", BASH)
    async with app.run_test(size=(100, 30)) as pilot:
        message = await _error_screen(app, pilot)
    assert "not a session code" in message
    assert app.return_code == 2


# -- snapshot ------------------------------------------------------------------------------


class ThreadedRelay:
    """A relay on its own loop in a thread, for snap_compare (which runs its own loop)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.server: RelayServer | None = None
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)

        async def start() -> None:
            self.server = await serve_relay(RelayConfig(host="127.0.0.1", port=0), rng=random.Random(7))
            self.ready.set()

        self.loop.run_until_complete(start())
        self.loop.run_forever()

    def __enter__(self) -> "ThreadedRelay":
        self.thread.start()
        assert self.ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        async def stop() -> None:
            assert self.server is not None
            self.server.close()
            await self.server.wait_closed()

        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"ws://127.0.0.1:{self.server.port}"


def test_snapshot_waiting_for_the_agent(snap_compare: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """`cobrowse share`: the code, big, while nobody joined yet (a blank `cat` as the program)."""
    import cobrowse.io.runtime as runtime_module

    monkeypatch.setattr(runtime_module, "new_secret", lambda randbelow: "71930518")
    with ThreadedRelay() as relay:
        monkeypatch.setattr("cobrowse.cli.config.DEFAULT_RELAY", relay.url)  # its port varies: the card says no --relay
        app = CustomerApp(relay.url, None, "cat")

        async def ready(pilot: Any) -> None:
            await until(lambda: app.process is not None and app.code is not None, what="the code and the pty")
            await until(lambda: app.query_one("#shell", ShellPane).state is not None, what="the first frame")
            await pilot.pause(0.1)

        assert snap_compare(app, terminal_size=(110, 32), run_before=ready)


# -- calls -----------------------------------------------------------------------------------


async def test_incoming_call_rings_is_answered_muted_and_hung_up(relay_url: str) -> None:
    from textual.widgets import Static

    from cobrowse.voice.settings import RtcSettings

    tone = RtcSettings(direct=False, ice_hosts=("127.0.0.1",), mic="tone:500", speaker="none")
    agent = Agent(relay_url)
    agent.rt.rtc.settings = tone
    try:
        code = await agent.create()
        app = CustomerApp(relay_url, code, BASH, rtc=tone)
        async with app.run_test(size=(120, 36)) as pilot:
            await paired_app(pilot, agent)
            await agent.rt.command({"cmd": "call"})
            await until(lambda: app.query_one("#call-bar").has_class("ringing"), what="the call bar ringing")
            assert "is calling you" in str(app.query_one("#call-text", Static).content)
            assert app.runtime is not None and app.runtime.rtc._mic is None  # no microphone before answering
            await prefix(pilot, "t")
            await agent.event("voice", state="active", timeout=15)
            await until(lambda: "On a call with Alice" in str(app.query_one("#call-text", Static).content),
                        what="the call bar in a call")
            await until(lambda: agent.rt.rtc.levels()[1] > 0.3, what="the agent hearing the tone")
            await prefix(pilot, "u")
            await agent.event("voice", remote_muted=True)
            await until(lambda: "(muted)" in str(app.query_one("#call-text", Static).content), what="muted shown")
            await pilot.click("#call-hangup")
            await agent.event("voice", state="ended")
            await until(lambda: not app.query_one("#call-bar").has_class("shown"), what="the call bar gone")
            assert app.runtime.rtc._mic is None
            await prefix(pilot, "e")
            await prefix(pilot, "e")
    finally:
        await agent.close()


async def test_below_80_columns_one_status_line_says_it_all(agent: Agent, relay_url: str) -> None:
    """40×10: the banner alone, short enough to be read whole, the unverified warning first;
    the pty is the window but that one line."""
    code = await agent.create()
    app = CustomerApp(relay_url, code, BASH)
    async with app.run_test(size=(40, 10)) as pilot:
        await paired_app(pilot, agent)
        await until(lambda: app.identity is not None, what="the identity verdict")
        await until(lambda: app.process is not None and app.process.size == (40, 9), what="the pty at 40x9")
        assert not app.query_one("#status").display or app.query_one("#status").region.height == 0
        await until(lambda: app.banner_text == "⚠ UNVERIFIED · they see this", what="the short banner")
        assert app.query_one("#banner").has_class("unverified")
        await pilot.resize_terminal(100, 30)  # wide again: two lines, the red one at the bottom
        await until(lambda: app.process is not None and app.process.size == (100, 28), what="the pty at 100x28")
        await until(lambda: app.banner_text.startswith("Your terminal is visible to Alice"), what="the full banner")
        assert str(app.query_one("#status").content).startswith("⚠ UNVERIFIED AGENT")
        assert app.query_one("#status").has_class("unverified")


def toasts_top(app: CustomerApp) -> bool:
    """The screen's toast rack is docked at the top (tui/customer.tcss)."""
    rack = app.screen.query_one("ToastRack")
    return rack.has_class("toasts-top") and rack.styles.dock == "top"


async def test_notifications_stay_off_the_cursor_and_go_when_answered(agent: Agent, relay_url: str) -> None:
    """Toasts sit in the half of the window the cursor is not in; at most two; an answered
    suggestion's toast goes at once (not after its 30 s)."""
    code = await agent.create()
    app = CustomerApp(relay_url, code, BASH)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await paired_app(pilot, agent)
        assert not toasts_top(app)  # the prompt is on the first rows: toasts at the bottom
        await type_text(pilot, "clear; seq 30")
        await pilot.press("enter")
        await until(lambda: toasts_top(app), what="toasts moved to the top (the cursor is low)")
        await until(lambda: agent.rt.mirror.state is not None, what="the agent's mirror")
        await agent.rt.command({"cmd": "request_control", "level": "suggest"})
        await until(lambda: app.prompt_visible, what="the consent prompt")
        await asyncio.sleep(ARMING)
        await prefix(pilot, "y")
        await agent.event("consent", level="suggest")
        await agent.rt.command({"cmd": "suggest", "command": "echo toast-test"})
        await until(lambda: any(n.title == "Suggested command" for n in app._notifications), what="the suggestion toast")
        assert len(app._notifications) <= 2
        await prefix(pilot, "d")
        await until(lambda: not any(n.title == "Suggested command" for n in app._notifications),
                    what="the answered suggestion's toast gone")
        await type_text(pilot, "clear")
        await pilot.press("enter")
        await until(lambda: not toasts_top(app), what="toasts back at the bottom")


def test_status_hints_fit_whole_items_and_keep_help() -> None:
    from tui.customer_texts import armed_hint, fit_hint, status_hint, unverified_hint

    UNVERIFIED_HINT = unverified_hint()
    for hint in (status_hint(), armed_hint(), UNVERIFIED_HINT):
        for width in (38, 78, 98):
            fitted = fit_hint(hint, width)
            assert fitted.endswith(("? help", "Esc cancel")) and fitted.startswith(hint.split(" · ")[0])
            assert len(fitted) <= width or width < 60, (width, fitted)
            assert all(item in hint.split(" · ") for item in fitted.split(" · "))
    assert fit_hint(UNVERIFIED_HINT, 78).startswith("⚠ UNVERIFIED AGENT: never give control or passwords")


async def test_a_lost_relay_with_the_direct_path_up_says_sharing_goes_on(agent: Agent, relay_url: str) -> None:
    """The banner said "nothing is shared meanwhile" while the session went on over the direct
    path (the runtime's ``connection`` event says which: ``direct``)."""
    from cobrowse.policy.session_events import DataPath, PathChanged, Reconnecting

    code = await agent.create()
    app = CustomerApp(relay_url, code, BASH, consent_timeout=30.0)
    async with app.run_test(size=(120, 36)) as pilot:
        await paired_app(pilot, agent)
        app._emit(Reconnecting(attempt=1, direct=True, message="the relay restarts"))
        await pilot.pause()
        assert "sharing goes on over the direct path" in app.banner_text, app.banner_text
        assert "nothing is shared" not in app.banner_text
        assert "(connected)" in str(app.query_one("#who").content)
        app._emit(PathChanged(DataPath.RELAY, "the direct path closed"))  # and then the direct path went too
        await pilot.pause()
        assert "nothing is shared meanwhile" in app.banner_text, app.banner_text
        app._emit(Reconnecting(attempt=2, direct=False))
        await pilot.pause()
        assert "nothing is shared meanwhile" in app.banner_text, app.banner_text


@pytest.mark.parametrize("size", [(80, 24), (40, 10)])
async def test_a_consent_question_is_read_whole_and_on_top(agent: Agent, relay_url: str, size: tuple[int, int]) -> None:
    """Toasts covered the question (a step card over the recording question at 80x24,
    "connected / Compare these words" over the control dialog at 40x10) and the countdown was
    cut to "denied automatically in 16" at 80 columns. While a question is on show the toasts
    wait; they come back once it is answered."""
    from rich.cells import cell_len

    code = await agent.create()
    app = CustomerApp(relay_url, code, BASH, consent_timeout=30.0)
    async with app.run_test(size=size) as pilot:
        await paired_app(pilot, agent)
        app.notify("a step card", title="Guide: disk full", timeout=20)
        await pilot.pause()
        assert any(n.message == "a step card" for n in app._notifications)  # noqa: SLF001
        await agent.rt.command({"cmd": "request_control", "level": "control"})
        await until(lambda: app.prompt_visible, what="the consent prompt")
        await agent.rt.command({"cmd": "chat", "text": "while you read"})
        await pilot.pause(0.3)
        assert not list(app._notifications), [n.message for n in app._notifications]  # noqa: SLF001
        countdown = app.query_one("#consent-countdown")
        text = str(countdown.content)
        assert text.startswith("denied automatically in") and text.rstrip().endswith("seconds"), text
        region = countdown.region
        assert region.right <= size[0] and region.width * region.height >= cell_len(text), (region, text)
        bar = app.query_one("#consent-bar").region
        assert bar.y >= 0 and bar.bottom <= size[1], bar  # every row of the question on screen
        await asyncio.sleep(ARMING + 0.1)  # a new question ignores answers for ARMING s
        await prefix(pilot, "n")
        await until(lambda: not app.prompt_visible, what="the question answered")
        back = "a step card" if size[0] >= 80 else "while you read"  # one toast at a time below 80 columns: the newest
        await until(lambda: any(n.message == back for n in app._notifications),  # noqa: SLF001
                    what="the held toasts back")

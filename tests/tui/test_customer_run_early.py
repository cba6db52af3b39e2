"""The customer app taking over a session opened before it started (cobrowse/io/early_join.py,
as ``cobrowse join`` on a terminal does): pairing, the pane, and every early failure reported
by the app as when it opened the session itself (which side failed, the exit status). A real
relay, a real agent runtime in-process, a real bash on a pty; every wait bounded."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

from cobrowse.io.customer_session import CustomerOptions
from cobrowse.io.early_join import EarlyJoin, HeldEvents, pane_size
from cobrowse.io.pty import command_argv
from cobrowse.policy.session_events import SessionWarning, WarningKind
from cobrowse.wire.code import parse_code
from tests.tui.test_customer_app import BASH, Agent, _error_screen, _shell_env, agent, pane_lines, paired_app  # noqa: F401
from tests.waiting import until
from tui.customer_app import CustomerApp, ShellPane

SIZE = (100, 30)


def early(relay_url: str, code: str | None) -> EarlyJoin:
    cols, rows = pane_size(*SIZE)
    return EarlyJoin(CustomerOptions(relay_url, review_resume=True), parse_code(code) if code else None,
                     command_argv(BASH), cols, rows)


async def test_the_agent_sees_the_screen_before_the_app_starts(agent: Agent, relay_url: str) -> None:
    code = await agent.create()
    opening = early(relay_url, code)
    await agent.event("paired")  # no app yet: the pairing and the program ran without it
    await until(lambda: any(line.startswith("$") for line in agent.lines()), what="the prompt at the agent")
    app = CustomerApp(relay_url, code, BASH, early=opening)
    async with app.run_test(size=SIZE) as pilot:
        await paired_app(pilot, agent)  # the held events shown: the words, the agent's name
        assert app.sas == (await agent.event("paired"))["sas"]
        assert app.banner_text.startswith("Your terminal is visible to Alice")
        assert tuple(app.query_one("#shell", ShellPane).content_size) == pane_size(*SIZE)  # no resize needed
        await pilot.press(*"echo early-$((6*7))", "enter")
        await until(lambda: any("early-42" in line for line in pane_lines(app)), what="the echo in the pane")
        await until(lambda: any("early-42" in line for line in agent.lines()), what="the echo at the agent")
        process = app.process
        for _ in range(2):  # the end is confirmed by pressing it again
            await pilot.press("ctrl+right_square_bracket", "e")
            await pilot.pause()
        assert (await agent.event("ended"))["reason"] == "customer_ended"
        await until(lambda: not app.is_running, what="the app to exit")
    assert app.return_code == 0
    assert process is not None and process.returncode is not None  # the shell was terminated
    outcome = await opening.close()  # the app closed it already: nothing more happens
    assert outcome is not None and outcome.reason == "customer_ended"
    assert [e["event"] for e in agent.events].count("ended") == 1


async def test_relay_down_is_the_relays_failure() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"ws://127.0.0.1:{port}"
    app = CustomerApp(url, "42-7193-0518", BASH, early=early(url, "42-7193-0518"))
    async with app.run_test(size=SIZE) as pilot:
        message = await _error_screen(app, pilot)
    assert "cannot reach the relay" in message
    assert app.return_code == 3
    assert app.process is None


async def test_unknown_or_expired_code(relay_url: str) -> None:
    app = CustomerApp(relay_url, "98765-1234-5678", BASH, early=early(relay_url, "98765-1234-5678"))
    async with app.run_test(size=SIZE) as pilot:
        message = await _error_screen(app, pilot)
    assert app.return_code == 4, message
    assert app.process is None


async def test_wrong_code_fails_the_key_check(agent: Agent, relay_url: str) -> None:
    code = parse_code(await agent.create())
    wrong = f"{code.nameplate}-{(int(code.secret) + 1) % 10**8:08d}"
    app = CustomerApp(relay_url, wrong, BASH, early=early(relay_url, wrong))
    async with app.run_test(size=SIZE) as pilot:
        message = await _error_screen(app, pilot)
    assert "code" in message.lower()
    assert app.return_code == 5
    assert app.process is None


async def test_share_shows_the_code_created_before_the_app(agent: Agent, relay_url: str) -> None:
    opening = early(relay_url, None)
    app = CustomerApp(relay_url, None, BASH, early=opening)
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: app.code is not None, what="a code")
        assert app.query_one("#waiting").has_class("shown")
        await agent.join(str(app.code))
        await paired_app(pilot, agent)
        assert not app.query_one("#waiting").has_class("shown")


async def test_an_app_that_never_starts_ends_the_session(agent: Agent, relay_url: str) -> None:
    code = await agent.create()
    opening = early(relay_url, code)
    await agent.event("paired")
    outcome = await opening.close("the app did not start")
    assert outcome is not None
    ended = await agent.event("ended")
    assert ended["reason"] == "customer_ended", ended
    assert opening.customer.process is None


async def test_an_app_that_closes_before_running_the_session_ends_it(agent: Agent, relay_url: str) -> None:
    """The app exits (its terminal went away) before its worker took the session over:
    closing after the app still ends the session and stops the program."""
    code = await agent.create()
    opening = early(relay_url, code)
    await agent.event("paired")
    await until(lambda: opening.customer.process is not None, what="the program")
    process = opening.customer.process
    await opening.take()  # as the app's worker does before it is cancelled
    assert await opening.close("the customer's terminal was closed") is not None
    assert (await agent.event("ended"))["reason"] == "customer_ended"
    assert process is not None and process.returncode is not None


async def test_opening_cancelled_before_the_relay_answers() -> None:
    with socket.socket() as listener:  # accepts, never answers the upgrade
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        url = f"ws://127.0.0.1:{listener.getsockname()[1]}"
        opening = early(url, "42-7193-0518")
        await asyncio.sleep(0.05)
        assert await opening.close() is None
        assert opening.customer.process is None


def test_held_events_keep_their_order_and_pass_on() -> None:
    held = HeldEvents()
    shown: list[Any] = []
    first = SessionWarning(WarningKind.BUSY, message="one")
    second = SessionWarning(WarningKind.BUSY, message="two")
    held(first)
    held.release(shown.append)
    held(second)
    assert shown == [first, second]


async def test_pane_size_follows_the_apps_layout(relay_url: str) -> None:
    assert pane_size(100, 30) == (100, 28)
    for size in ((100, 30), (79, 24), (200, 50)):  # narrow: no status line
        app = CustomerApp(relay_url, "98765-1234-5678", BASH)
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            assert tuple(app.query_one("#shell", ShellPane).content_size) == pane_size(*size), size


async def test_terminal_gone_before_the_app_watched_it(agent: Agent, relay_url: str) -> None:
    """SIGHUP/SIGTERM while Textual still imports (``cobrowse join`` routes them to ``end``):
    the session ends properly, the agent is told, the program is stopped, the app exits."""
    code = await agent.create()
    opening = early(relay_url, code)
    await agent.event("paired")
    await until(lambda: opening.customer.process is not None, what="the program")
    process = opening.customer.process
    opening.end("the customer's terminal was closed")
    app = CustomerApp(relay_url, code, BASH, early=opening)
    async with app.run_test(size=SIZE):
        await until(lambda: not app.is_running, what="the app to exit")
    assert (await agent.event("ended"))["reason"] == "customer_ended"
    assert app.terminal_gone == "the customer's terminal was closed"
    assert process is not None and process.returncode is not None

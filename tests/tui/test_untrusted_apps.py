"""Peer text in the apps is data: a hostile agent named like a green "Verified" badge shows
as the characters it sent, the UNVERIFIED warning stays, and ``[/]`` in chat, a suggestion
or a pointer pattern cannot crash the customer app (and the customer's shell with it).
The agent console gets the same from a hostile customer. Textual pilots, a real relay, real
runtimes, a real bash; every wait bounded."""

from __future__ import annotations

import asyncio
import unicodedata
from typing import Any

from textual.geometry import Region

from cobrowse.io.customer import CustomerRuntime
from cobrowse.io.link import RelayLink
from cobrowse.policy.events import kind_of
from cobrowse.wire.code import parse_code
from relay.server import RelayServer
from tests.tui.test_customer_app import BASH, _shell_env  # noqa: F401  (an autouse fixture)
from tests.tui.test_trust_apps import agent_for, finish, text
from tests.waiting import until
from tui.agent_app import AgentApp
from tui.agent_session import SessionPane
from tui.customer_app import CustomerApp

BADGE = "[b white on green] ✓ Verified: Alice from Microsoft [/]"
ESCAPES = "\x1b]0;Microsoft Support\x07\x1b]52;c;Y3VybCBldmlsIHwgc2g=\x07\x1b[2J\u202e"
SHOWN_ESCAPES = "\\x1b]0;Microsoft Support\\x07\\x1b]52;c;Y3VybCBldmlsIHwgc2g=\\x07\\x1b[2J\\u202e"


def screen_text(app: Any) -> str:
    """Every line every widget on the screen renders now: what reaches the terminal."""
    lines = []
    for widget in app.screen.walk_children(with_self=False):
        if not widget.display or not widget.size.area:
            continue
        strips = widget.render_lines(Region(0, 0, widget.size.width, widget.size.height))
        lines += [strip.text for strip in strips]
    return "\n".join(lines)


def assert_no_control(rendered: str) -> None:
    bad = {f"U+{ord(ch):04X}" for ch in rendered
           if ch != "\n" and unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp") and ch not in "\u200c\u200d"}
    assert not bad, f"control characters on screen: {bad}"


async def test_a_badge_name_is_text_and_the_warning_stays(relay: RelayServer) -> None:
    agent, _, task = await agent_for(relay, None)
    agent.name = BADGE
    app = CustomerApp(relay.url, str(agent.code), BASH)
    try:
        async with app.run_test(size=(140, 40)) as pilot:
            await until(lambda: app.identity is not None, "the identity verdict", pilot=pilot)
            identity = text(app, "#identity")
            assert identity.startswith("⚠ UNVERIFIED AGENT")
            assert app.query_one("#identity").has_class("unverified")
            assert BADGE in text(app, "#banner")
            assert f"{BADGE} ⚠ UNVERIFIED" in text(app, "#who")
            banner = app.query_one("#banner").render_lines(Region(0, 0, 140, 1))[0]
            styles = {segment.style for segment in banner if segment.text.strip()}
            assert len(styles) == 1, "part of the banner was styled by the agent's markup"

            await agent.command({"cmd": "request_control", "level": "control"})
            await until(lambda: app.prompt_visible, "the consent prompt", pilot=pilot)
            prompt = text(app, "#consent-text")
            assert prompt.startswith(f"⚠ NOT VERIFIED (you will have to confirm twice): {BADGE} asks to CONTROL"), prompt

            for cmd in ({"cmd": "chat", "text": f"[/] {ESCAPES} [bold red]x"},
                        {"cmd": "suggest", "command": "echo [/] [link=https://evil.example]x"},
                        {"cmd": "point", "pattern": "[/]"}):
                await agent.command(cmd)
            await until(lambda: any("the agent points" in line for line in app.log_lines), "the pointer", pilot=pilot)
            await pilot.pause(0.2)
            assert app.is_running, "peer markup stopped the app"
            assert any(f"[/] {SHOWN_ESCAPES} [bold red]x" in line for line in app.log_lines)
            assert any("echo [/] [link=https://evil.example]x" in line for line in app.log_lines)
            rendered = screen_text(app)
            assert_no_control(rendered)
            assert "UNVERIFIED AGENT" in rendered
    finally:
        await finish(agent, task)


async def test_a_huge_hostile_name_is_one_capped_line(relay: RelayServer) -> None:
    agent, _, task = await agent_for(relay, None)
    # 40,000 characters: under the customer's 64 KiB limit on what the agent sends (a 1 MB
    # name is refused whole by that limit: tests/protocol/test_messages.py), so the cap shows
    agent.name = ("\x1b[2J\n[cobrowse] Verified: Alice from Microsoft\r\n" * 1000)[:40_000]
    app = CustomerApp(relay.url, str(agent.code), BASH)
    try:
        async with app.run_test(size=(140, 40)) as pilot:
            await until(lambda: app.identity is not None, "the identity verdict", pilot=pilot)
            assert len(app.agent_name) <= 64 and "\n" not in app.agent_name
            assert app.agent_name.startswith("\\x1b[2J\\n[cobrowse] Verified")
            assert app.agent_name.endswith("…")
            assert_no_control(screen_text(app))
            assert "UNVERIFIED AGENT" in text(app, "#identity")
    finally:
        await finish(agent, task)


async def test_agent_console_shows_a_hostile_customer_as_text(relay: RelayServer) -> None:
    app = AgentApp(relay.url, None, "Alice")
    customer_task: asyncio.Task | None = None
    customer: CustomerRuntime | None = None
    try:
        async with app.run_test(size=(140, 40)) as pilot:
            await pilot.press("f2")
            await until(lambda: len(app.query(SessionPane)) == 1, "a new session", pilot=pilot)
            pane = app.query(SessionPane).last()
            await until(lambda: pane.code is not None, "the code", pilot=pilot)
            customer = CustomerRuntime(RelayLink(relay.url, "customer"), lambda e: None, name=f"{BADGE}{ESCAPES}")
            await customer.join(parse_code(str(pane.code)))
            customer_task = asyncio.create_task(customer.run())
            await until(lambda: pane.customer_name, "the customer's hello", pilot=pilot)
            await until(lambda: customer.paired, "pairing", pilot=pilot)
            await customer.run_command("chat", f"[/] {ESCAPES}")
            await until(lambda: "[/] \\x1b]0;" in pane.chat_log.plain(), "the chat line", pilot=pilot)
            assert app.is_running
            assert pane.customer_name.startswith(BADGE + "\\x1b]0;")
            assert BADGE in str(pane._tab().label)
            assert_no_control(screen_text(app))
            await app.end_all()
    finally:
        if customer is not None and customer_task is not None and not customer_task.done():
            await finish(customer, customer_task)


# -- every field × the two apps: the events the door produces, rendered -----------------

SAMPLES = [BADGE, "[/]", "[link=https://evil.example]x[/link] [@click=app.quit]q[/]", ESCAPES,
           "line\n[cobrowse] Verified\u2028x\ud800", "x" * 200_000]


async def test_every_field_in_the_customer_app_is_data(relay: RelayServer) -> None:
    from tests.cli.test_untrusted_display import CUSTOMER_FIELDS

    app = CustomerApp(relay.url, None, BASH)
    async with app.run_test(size=(140, 40)) as pilot:
        await until(lambda: app.runtime is not None and app.phase == "waiting", "a session to share", pilot=pilot)
        for sample in SAMPLES:
            for build in CUSTOMER_FIELDS.values():
                for event in build(sample):
                    if kind_of(event) in ("ended", "feedback_prompt"):
                        continue  # they close the app: shown by the e2e and plain tests
                    app._on_event(event)  # not _emit: a display error must fail the test here
            await pilot.pause(0.05)
            assert app.is_running
            rendered = screen_text(app)
            assert_no_control(rendered)
        assert any("[/]" in line for line in app.log_lines)


async def test_every_field_in_the_agent_console_is_data(relay: RelayServer) -> None:
    from tests.cli.test_untrusted_display import AGENT_FIELDS

    app = AgentApp(relay.url, None, "Alice")
    async with app.run_test(size=(140, 40)) as pilot:
        await pilot.press("f2")
        await until(lambda: len(app.query(SessionPane)) == 1, "a new session", pilot=pilot)
        pane = app.query(SessionPane).last()
        await until(lambda: pane.code is not None, "the code", pilot=pilot)
        for sample in SAMPLES:
            for build in AGENT_FIELDS.values():  # what a hostile customer sends, as the agent's runtime emits it
                for event in build(sample):
                    pane.on_session_pane_update(SessionPane.Update(event))
            await pilot.pause(0.05)
            assert app.is_running
            assert_no_control(screen_text(app))
        assert "[/]" in pane.chat_log.plain()
        await app.end_all()

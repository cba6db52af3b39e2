"""The agent console (tui/agent_app.py) driven by Textual pilots against a real relay.

The customer side is real too: a CustomerRuntime in this process (its program's output is
fed with ``program_output``; what the agent types lands in ``program_input``), or a real
``python -m cobrowse join`` subprocess sharing bash. Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import re
import os
import socket
import sys
from pathlib import Path
from typing import Any, AsyncIterator, Callable

import pytest
from textual.command import CommandList, CommandPalette
from textual.pilot import Pilot
from textual.widgets import Digits, Input, OptionList, Static, TabbedContent

from cobrowse.io.customer import CustomerRuntime
from cobrowse.trust.tripwire import COOLDOWN
from cobrowse.io.link import RelayLink
from cobrowse.policy.agent_commands import Point, Step, StepStatus
from cobrowse.wire.code import parse_code
from relay.config import RelayConfig
from relay.server import RelayServer, serve_relay
from cobrowse.policy.events import as_json
from tests.tui.terminal_keys import press_key
from tests.waiting import until
from tui.agent_home import HomePane
from tui.agent_app import (
    PALETTE,
    AgentApp,
    ChatLog,
    ConfirmDialog,
    JoinDialog,
    PlaybookDialog,
    PromptDialog,
    SessionPane,
    parse_point,
)

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(__file__)), "e2e"))

WAIT = 15.0
SIZE = (120, 40)


class Customer:
    """A real customer runtime in this process."""

    def __init__(self, url: str) -> None:
        self.events: list[dict[str, Any]] = []
        self.program_input = bytearray()
        self.runtime = CustomerRuntime(RelayLink(url, "customer", reconnect_for=5), self.events.append,
                                       write_program=self.program_input.extend, control_cooldown=0,
                                       prompt_arming=0)
        self.task: asyncio.Task[Any] | None = None

    async def join(self, code: str) -> None:
        await self.runtime.join(parse_code(code))
        self.task = asyncio.create_task(self.runtime.run())

    async def create(self) -> str:
        code = await self.runtime.create()
        self.task = asyncio.create_task(self.runtime.run())
        return str(code)

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in map(as_json, self.events) if e.get("event") == kind]

    async def stop(self) -> None:
        if self.task is None:
            return
        if self.runtime.outcome is None:
            try:
                async with asyncio.timeout(5):
                    await self.runtime.end("customer_ended")
            except TimeoutError:
                pass
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)


@pytest.fixture
async def customers(relay: RelayServer) -> AsyncIterator[Callable[[], Customer]]:
    made: list[Customer] = []

    def make() -> Customer:
        customer = Customer(relay.url)
        made.append(customer)
        return customer

    try:
        yield make
    finally:
        for customer in made:
            await customer.stop()


def palette_offers(app: AgentApp, words: str) -> bool:
    """The command palette's highlighted command is the one searched for (Enter would run it)."""
    for results in app.screen.query(CommandList):
        index = results.highlighted
        if index is not None and results.option_count:
            prompt = results.get_option_at_index(index).prompt
            return words.split()[-1] in str(getattr(prompt, "plain", prompt)).lower()
    return False


def text_of(widget: Static) -> str:
    content = widget.content
    return getattr(content, "plain", None) or str(content)


def mirror_text(pane: SessionPane) -> str:
    mirror = pane.mirror
    return "\n".join(mirror.render_line(y).text for y in range(mirror.size.height))


def log_text(log: ChatLog) -> str:
    return log.plain()


async def new_session(pilot: Pilot) -> SessionPane:
    app = pilot.app
    before = len(app.query(SessionPane))
    await press_key(pilot, "F2")
    await until(lambda: len(app.query(SessionPane)) > before, "a new session tab", pilot=pilot)
    pane = app.query(SessionPane).last()
    await until(lambda: pane.code is not None, "the session code", pilot=pilot)
    return pane


async def paired_session(pilot: Pilot, customer: Customer) -> SessionPane:
    pane = await new_session(pilot)
    await customer.join(str(pane.code))
    await until(lambda: pane.sas is not None and customer.of("paired"), "pairing", pilot=pilot)
    return pane


async def leave(app: AgentApp) -> None:
    await app.end_all()


# the workflows


async def test_create_pair_mirror_and_chat(relay: RelayServer, customers: Callable[[], Customer]) -> None:
    app = AgentApp(relay.url, None, "Alice")
    async with app.run_test(size=SIZE) as pilot:
        pane = await new_session(pilot)
        # the code, large and readable, how to say it, and the exact customer command
        code = str(pane.code)
        assert pane.query_one("#code-digits", Digits).value == code
        assert pane.query_one("#code-card").display
        assert text_of(pane.query_one("#code-spoken", Static)) == f"Say it as: {pane.code.spoken()}"
        assert f"cobrowse join {code} --relay {relay.url}" in text_of(pane.query_one("#code-command", Static))
        # beside the digits (no row taken at 80×24): the command alone, with the code at its prompt
        assert text_of(pane.query_one("#code-asked", Static)) == \
            "or they type  cobrowse join\nthen the code when it asks\n(with the same --relay)"
        assert code in str(app.query_one("#sessions").get_tab(pane).label)

        customer = customers()
        await customer.join(code)  # the customer types exactly what the console shows
        await until(lambda: pane.sas is not None and customer.of("paired"), "pairing", pilot=pilot)
        assert pane.sas == customer.of("paired")[0]["sas"]
        assert pane.sas in text_of(pane.query_one("#sas", Static))
        assert not pane.query_one("#code-card").display
        assert "VIEW ONLY" in text_of(pane.query_one("#consent", Static))

        customer.runtime.program_output(b"$ echo hello-from-customer\r\nhello-from-customer\r\n$ ")
        await until(lambda: "hello-from-customer" in mirror_text(pane), "the customer's output in the mirror", pilot=pilot)
        assert pane.mirror.state is not None and pane.mirror.state.lines()[1].startswith("hello-from-customer")

        # chat, agent to customer
        await pilot.click("#chat-input")
        chat = pane.query_one("#chat-input", Input)
        chat.value = "hello, can you see my message?"
        await pilot.press("enter")
        await until(lambda: customer.of("chat"), "the agent's chat at the customer", pilot=pilot)
        assert customer.of("chat")[0] == {"event": "chat", "from": "agent", "text": "hello, can you see my message?"}
        assert chat.value == ""
        # chat, customer to agent
        await customer.runtime.run_command("chat", "yes I can")
        log = pane.query_one("#chat-log", ChatLog)
        await until(lambda: "yes I can" in log_text(log), "the customer's chat in the log", pilot=pilot)
        assert "you: hello, can you see my message?" in log_text(log)

        # connection facts: the path, the relay, the measured round trip, real byte counts
        await until(lambda: pane.runtime is not None and pane.runtime.rtt_ms is not None, "a measured rtt", pilot=pilot)
        facts = await until(lambda: re.search(r"path      relay · rtt [0-9.]+ ms", text := text_of(pane.query_one("#facts", Static)))
                            and text, "the rtt in the facts box", pilot=pilot)
        rtt = re.search(r"path      relay · rtt ([0-9.]+) ms", facts)
        assert rtt and 0 < float(rtt[1]) < 1000 and relay.url in facts
        assert "link      connected" in facts
        assert pane.link is not None and pane.link.bytes_received > 0
        await leave(app)


async def test_request_grant_type_and_revoke_control(relay: RelayServer, customers: Callable[[], Customer]) -> None:
    app = AgentApp(relay.url, None, "Alice")
    async with app.run_test(size=SIZE) as pilot:
        customer = customers()
        pane = await paired_session(pilot, customer)
        customer.runtime.program_output(b"$ ")
        await until(lambda: pane.mirror.state is not None, "the first screen", pilot=pilot)

        # typing before control is granted is refused with a message, not a crash
        await press_key(pilot, "F12")
        assert not pane.typing and not pane.mirror.control

        await press_key(pilot, "F4")
        await until(lambda: customer.of("consent_prompt"), "the customer's consent prompt", pilot=pilot)
        await customer.runtime.run_command("allow")  # an unverified agent: the tripwire's first press
        await customer.runtime.run_command("allow")
        await until(lambda: pane.consent == "control", "consent: control", pilot=pilot)
        assert "CONTROL" in text_of(pane.query_one("#consent", Static))
        assert pane.query_one("#consent").has_class("-control")

        await press_key(pilot, "F12")
        assert pane.typing and pane.mirror.control and pane.mirror.has_focus
        assert pane.has_class("-typing") and pane.query_one("#typing-bar").display
        assert "TYPING INTO CUSTOMER'S TERMINAL" in text_of(pane.query_one("#typing-bar", Static))

        await pilot.press("l", "s", "enter")
        await until(lambda: bytes(customer.program_input) == b"ls\r", "the agent's keys at the customer's pty", pilot=pilot)
        # while typing, ctrl+p and ctrl+q are the customer's (readline, flow control):
        # neither the palette nor quit
        await pilot.press("ctrl+p", "ctrl+q", "up")
        await until(lambda: bytes(customer.program_input) == b"ls\r\x10\x11\x1b[A", "ctrl keys at the customer", pilot=pilot)
        assert not isinstance(app.screen, CommandPalette) and app.is_running

        typed = len(customer.program_input)
        await customer.runtime.run_command("revoke")
        await until(lambda: not pane.typing, "typing mode off after revoke", pilot=pilot)
        assert not pane.mirror.control and not pane.has_class("-typing")
        assert pane.consent == "view"
        await pilot.press("x", "y", "z")
        await pilot.pause(0.5)
        assert len(customer.program_input) == typed, "keys after revoke must be dropped"
        await leave(app)


async def test_end_session_with_confirmation(relay: RelayServer, customers: Callable[[], Customer]) -> None:
    app = AgentApp(relay.url, None, "Alice")
    async with app.run_test(size=SIZE) as pilot:
        customer = customers()
        pane = await paired_session(pilot, customer)
        await press_key(pilot, "F8")
        await until(lambda: isinstance(app.screen, ConfirmDialog), "the confirmation", pilot=pilot)
        await pilot.press("n")  # cancel: nothing happens
        await pilot.pause(0.2)
        assert not pane.ended and customer.runtime.outcome is None
        await press_key(pilot, "F8")
        await until(lambda: isinstance(app.screen, ConfirmDialog), "the confirmation", pilot=pilot)
        await pilot.press("y")
        await until(lambda: pane.ended, "the session to end", pilot=pilot)
        await until(lambda: customer.runtime.outcome is not None, "the customer to see the end", pilot=pilot)
        assert customer.runtime.outcome.reason == "agent_ended"
        # the ended session stays visible with its reason
        assert pane in app.query(SessionPane)
        assert "ENDED" in text_of(pane.query_one("#state", Static))
        assert "agent ended" in text_of(pane.query_one("#state", Static))
        assert pane.has_class("-ended")


async def test_quit_with_a_live_session_asks_then_ends_it(relay: RelayServer, customers: Callable[[], Customer]) -> None:
    app = AgentApp(relay.url, None, "Alice")
    async with app.run_test(size=SIZE) as pilot:
        customer = customers()
        await paired_session(pilot, customer)
        await pilot.press("ctrl+q")
        await until(lambda: isinstance(app.screen, ConfirmDialog), "the quit confirmation", pilot=pilot)
        await pilot.press("y")
        await until(lambda: not app.is_running, "the app to quit", pilot=pilot)
    await until(lambda: customer.runtime.outcome is not None, "the customer to see the end")
    assert customer.runtime.outcome.reason == "agent_ended"


async def test_customer_ends_the_session(relay: RelayServer, customers: Callable[[], Customer]) -> None:
    app = AgentApp(relay.url, None, "Alice")
    async with app.run_test(size=SIZE) as pilot:
        customer = customers()
        pane = await paired_session(pilot, customer)
        await customer.runtime.run_command("end")
        await customer.runtime.run_command("end")  # a paired customer confirms with a second press
        await until(lambda: pane.ended, "the session to end", pilot=pilot)
        assert "customer ended the session" in text_of(pane.query_one("#state", Static))


async def test_two_sessions_and_attention_marker(relay: RelayServer, customers: Callable[[], Customer]) -> None:
    app = AgentApp(relay.url, None, "Alice")
    async with app.run_test(size=SIZE) as pilot:
        first_customer, second_customer = customers(), customers()
        first = await paired_session(pilot, first_customer)
        second = await paired_session(pilot, second_customer)
        tabs = app.query_one("#sessions")
        await until(lambda: tabs.active == second.id, "the new session's tab", pilot=pilot)
        assert first.code != second.code and first.sas is not None and second.sas is not None
        first.clear_attention()  # the pairing itself may have flagged it

        await first_customer.runtime.run_command("chat", "are you there?")
        await until(lambda: first.attention, "the attention marker on the first tab", pilot=pilot)
        tab = tabs.get_tab(first)
        assert tab.has_class("-attention") and str(tab.label).startswith("●")
        assert not second.attention

        # each session has its own state: the second one's mirror is not the first's
        first_customer.runtime.program_output(b"first-screen")
        second_customer.runtime.program_output(b"second-screen")
        await until(lambda: "second-screen" in mirror_text(second), "the second mirror", pilot=pilot)
        await press_key(pilot, "F6")  # previous session
        await until(lambda: tabs.active == first.id, "the first tab", pilot=pilot)
        assert not first.attention and not tab.has_class("-attention")
        await until(lambda: "first-screen" in mirror_text(first), "the first mirror", pilot=pilot)
        assert "second-screen" not in mirror_text(first)
        assert "are you there?" in log_text(first.query_one("#chat-log", ChatLog))
        assert "are you there?" not in log_text(second.query_one("#chat-log", ChatLog))

        await second_customer.runtime.run_command("end")
        await second_customer.runtime.run_command("end")  # confirmed
        await until(lambda: second.attention and second.ended, "the ended marker on the second tab", pilot=pilot)
        assert "(ended)" in str(tabs.get_tab(second).label)
        for _ in range(3):  # F7 cycles (Start, #1, #2): it reaches the second tab
            await press_key(pilot, "F7")
            await pilot.pause(0.05)
            if tabs.active == second.id:
                break
        await until(lambda: tabs.active == second.id, "the second tab", pilot=pilot)
        await leave(app)


async def test_join_by_code(relay: RelayServer, customers: Callable[[], Customer]) -> None:
    app = AgentApp(relay.url, None, "Alice")
    async with app.run_test(size=SIZE) as pilot:
        customer = customers()
        code = await customer.create()  # `cobrowse share`
        await press_key(pilot, "F3")
        await until(lambda: isinstance(app.screen, JoinDialog), "the join dialog", pilot=pilot)
        await pilot.press(*"hello", "enter")  # not a code: the dialog says why and stays
        assert isinstance(app.screen, JoinDialog)
        assert "not a session code" in str(app.screen.query_one("#join-error").content)
        app.screen.query_one("#join-input", Input).value = code.replace("-", " ")
        await pilot.press("enter")
        await until(lambda: len(app.query(SessionPane)) == 1, "the joined session", pilot=pilot)
        pane = app.query_one(SessionPane)
        await until(lambda: pane.sas is not None and customer.of("paired"), "pairing", pilot=pilot)
        assert pane.sas == customer.of("paired")[0]["sas"]
        assert str(pane.code) == code
        await leave(app)


async def test_join_flag_attaches_at_once(relay: RelayServer, customers: Callable[[], Customer]) -> None:
    customer = customers()
    code = await customer.create()
    app = AgentApp(relay.url, None, "Alice", join_code=code)
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: app.query(SessionPane), "the session tab", pilot=pilot)
        pane = app.query_one(SessionPane)
        await until(lambda: pane.sas is not None, "pairing", pilot=pilot)
        await leave(app)


async def test_unknown_code_is_a_readable_error(relay: RelayServer) -> None:
    app = AgentApp(relay.url, None, "Alice", join_code="98765-1234-5678")
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: app.query(SessionPane), "the session tab", pilot=pilot)
        pane = app.query_one(SessionPane)
        await until(lambda: pane.ended, "the failure", pilot=pilot)
        alert = text_of(pane.query_one("#alert", Static))
        assert alert.startswith("Error: ") and "Traceback" not in alert
        assert "ENDED" in text_of(pane.query_one("#state", Static))


async def test_relay_lost_mid_session_is_shown_then_ends_readably() -> None:
    server = await serve_relay(RelayConfig(host="127.0.0.1", port=0, grace=3.0))
    app = AgentApp(server.url, None, "Alice", reconnect_for=1.5)
    try:
        async with app.run_test(size=SIZE) as pilot:
            customer = Customer(server.url)
            pane = await paired_session(pilot, customer)
            server.close()
            await server.wait_closed()
            await until(lambda: pane.link_state.startswith("reconnecting"), "the reconnecting state", pilot=pilot)
            assert "reconnecting" in text_of(pane.query_one("#facts", Static))
            await until(lambda: pane.ended, "giving up on the relay", pilot=pilot)
            assert "stopped and was not back" in text_of(pane.query_one("#state", Static))  # the relay went away
            await customer.stop()
    finally:
        server.close()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_relay_down_is_a_readable_error() -> None:
    url = f"ws://127.0.0.1:{closed_port()}"
    app = AgentApp(url, None, "Alice")
    async with app.run_test(size=SIZE) as pilot:
        await press_key(pilot, "F2")
        await until(lambda: app.query(SessionPane), "the session tab", pilot=pilot)
        pane = app.query_one(SessionPane)
        await until(lambda: pane.ended, "the failure", pilot=pilot)
        alert = text_of(pane.query_one("#alert", Static))
        assert f"cannot reach the relay at {url}" in alert and "Traceback" not in alert
        assert "cannot reach the relay" in text_of(pane.query_one("#state", Static))
        assert pane.mirror.state is None
        # the console still works: another attempt is one key away
        await press_key(pilot, "F2")
        await until(lambda: len(app.query(SessionPane)) == 2, "a second attempt", pilot=pilot)


async def test_quitting_while_a_new_session_tab_mounts_ends_cleanly() -> None:
    """F2, then the console closes before the new tab finished mounting (Ctrl-Q at once, or a
    busy machine): the tab strip was gone when the tab was brought to the front, and the exit
    ended in NoMatches instead of a clean close."""
    app = AgentApp(f"ws://127.0.0.1:{closed_port()}", None, "Alice")
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: app.query(HomePane), "the home tab", pilot=pilot)
        opening = asyncio.ensure_future(app.action_new_session())  # what F2 runs
        await asyncio.sleep(0)  # the tab is mounting: the console closes now
    await asyncio.wait_for(opening, 5)


async def test_a_wrong_code_is_a_readable_warning_and_the_session_stays_open(
        relay: RelayServer, customers: Callable[[], Customer]) -> None:
    app = AgentApp(relay.url, None, "Alice")
    async with app.run_test(size=SIZE) as pilot:
        pane = await new_session(pilot)
        assert pane.code is not None
        wrong_secret = "00000000" if pane.code.secret != "00000000" else "11111111"
        customer = customers()
        await customer.join(f"{pane.code.nameplate}-{wrong_secret}")
        await until(lambda: "someone tried a wrong code (attempt 1 of 3)" in log_text(pane.chat_log), "the wrong-code warning", pilot=pilot)
        assert not pane.ended and pane.sas is None
        assert "Traceback" not in notifications(app)


async def test_copy_code_and_theme_from_the_palette(relay: RelayServer) -> None:
    app = AgentApp(relay.url, None, "Alice")
    async with app.run_test(size=SIZE) as pilot:
        pane = await new_session(pilot)
        await press_key(pilot, "F5")
        assert app.clipboard == str(pane.code)

        dark = app.current_theme.dark
        await pilot.press("ctrl+p")
        await until(lambda: isinstance(app.screen, CommandPalette), "the palette", pilot=pilot)
        await pilot.press(*"toggle dark")
        await until(lambda: palette_offers(app, "toggle dark"), "toggle dark offered first in the palette", pilot=pilot)
        await pilot.press("enter")
        await until(lambda: app.current_theme.dark != dark, "the theme to switch", pilot=pilot)
        await leave(app)


async def test_palette_lists_every_action(relay: RelayServer) -> None:
    titles = {title for title, _, _ in PALETTE}
    assert {"New session", "Join by code", "Copy code", "Request control", "Toggle typing", "End session",
            "Next session", "Previous session", "Toggle dark/light theme"} <= titles
    app = AgentApp(relay.url, None, "Alice")
    async with app.run_test(size=SIZE) as pilot:
        for _, _, action in PALETTE:
            assert hasattr(app, f"action_{action}"), action
        await press_key(pilot, "F9")
        await until(lambda: isinstance(app.screen, CommandPalette), "the palette", pilot=pilot)
        await pilot.press(*"new session")
        await until(lambda: palette_offers(app, "new session"), "new session offered first in the palette", pilot=pilot)
        await pilot.press("enter")
        await until(lambda: app.query(SessionPane), "a session from the palette", pilot=pilot)
        await leave(app)


async def test_fits_80x24(relay: RelayServer, customers: Callable[[], Customer]) -> None:
    app = AgentApp(relay.url, None, "Alice")
    async with app.run_test(size=(80, 24)) as pilot:
        customer = customers()
        pane = await new_session(pilot)
        assert app.screen.has_class("-narrow")
        screen_region = app.screen.region
        for selector in ("#code-digits", "#code-command", "#consent", "#mirror", "#chat-input", "#facts"):
            region = pane.query_one(selector).region
            assert region.area > 0 and screen_region.contains_region(region), selector
        await customer.join(str(pane.code))
        await until(lambda: pane.sas is not None, "pairing", pilot=pilot)
        customer.runtime.program_output(b"hello-small-screen")
        await until(lambda: "hello-small-screen" in mirror_text(pane), "the mirror at 80x24", pilot=pilot)
        for selector in ("#sas", "#consent", "#mirror", "#chat-input"):
            region = pane.query_one(selector).region
            assert region.area > 0 and screen_region.contains_region(region), selector
        await leave(app)


async def test_real_customer_process_shares_bash(relay: RelayServer) -> None:
    from harness import Proc  # tests/e2e/harness.py

    app = AgentApp(relay.url, None, "Alice")
    async with app.run_test(size=SIZE) as pilot:
        pane = await new_session(pilot)
        proc = await Proc.start("join", str(pane.code), "--relay", relay.url,
                                "--command", "bash --norc --noprofile", name="customer",
                                env={"PS1": "$ ", "TERM": "xterm-256color"})
        try:
            await until(lambda: pane.sas is not None, "pairing with the real customer", timeout=20, pilot=pilot)
            assert proc.proc.stdin is not None
            proc.proc.stdin.write(b"echo hello-from-$((6*7))\n")
            await proc.proc.stdin.drain()
            await until(lambda: "hello-from-42" in mirror_text(pane), "bash output in the mirror", timeout=20, pilot=pilot)
            proc.proc.stdin.write(b"\x1dg")  # Ctrl-] g: grant control (unverified: warns first)
            await proc.proc.stdin.drain()
            await asyncio.sleep(COOLDOWN + 0.2)
            proc.proc.stdin.write(b"\x1dg")  # the deliberate second press
            await proc.proc.stdin.drain()
            await until(lambda: pane.consent == "control", "control granted", timeout=20, pilot=pilot)
            await press_key(pilot, "F12")
            await pilot.press(*"echo agent-$((2+3))", "enter")
            await until(lambda: "agent-5" in mirror_text(pane), "the agent's command run by bash", timeout=20, pilot=pilot)
        finally:
            await app.end_all()
            if proc.proc.returncode is None:
                proc.proc.kill()
            async with asyncio.timeout(10):
                await proc.proc.wait()


# playbooks, steps, suggestions, pointer

PLAYBOOK = """# Check the toolbox

Makes sure the tools are there.

## Print the version

The version tells support which **release** you run.

```sh
toolbox --version
```

expect: `^toolbox-ok \\d+`

## Print the config

command: `toolbox config show`

## Send the report

Attach it to the ticket.

## Say goodbye

command: `echo bye`
"""


@pytest.fixture
def library(tmp_path: Path) -> Path:
    folder = tmp_path / "playbooks"
    folder.mkdir()
    (folder / "toolbox.md").write_text(PLAYBOOK, encoding="utf-8")
    (folder / "other.md").write_text("# Reset the widget\n\n## Unplug it\n\nWait ten seconds.\n", encoding="utf-8")
    (folder / "broken.md").write_text("no title here\n", encoding="utf-8")
    return folder


def statuses(pane: SessionPane) -> list[tuple[str, str | None]]:
    return [(s["status"], s.get("by")) for s in (pane.steps or {}).get("steps", [])]


def notifications(app: AgentApp) -> str:
    return "\n".join(n.message for n in app._notifications)


async def push_toolbox(pilot: Pilot, pane: SessionPane) -> None:
    app = pilot.app
    await press_key(pilot, "F1")
    await until(lambda: isinstance(app.screen, PlaybookDialog), "the playbook library", pilot=pilot)
    dialog = app.screen
    options = dialog.query_one("#playbook-list", OptionList)
    # every file is listed; the invalid one with its error, not pickable
    assert options.option_count == 3
    broken = [options.get_option_at_index(i) for i in range(3) if options.get_option_at_index(i).disabled]
    assert len(broken) == 1 and "broken.md" in str(broken[0].prompt) and "invalid" in str(broken[0].prompt)
    await pilot.press(*"toolbox")  # the search filters the list (Library.search)
    await until(lambda: options.option_count == 1, "the search to filter", pilot=pilot)
    assert "Check the toolbox" in str(options.get_option_at_index(0).prompt)
    await pilot.press("enter")
    await until(lambda: not isinstance(app.screen, PlaybookDialog), "the dialog to close", pilot=pilot)
    await until(lambda: pane.steps is not None, "the steps event", pilot=pilot)


async def test_push_playbook_and_drive_the_steps(relay: RelayServer, customers: Callable[[], Customer],
                                                 library: Path) -> None:
    app = AgentApp(relay.url, None, "Alice", playbook_dir=library)
    async with app.run_test(size=SIZE) as pilot:
        customer = customers()
        pane = await paired_session(pilot, customer)
        customer.runtime.program_output(b"$ ")
        await push_toolbox(pilot, pane)
        assert customer.runtime.steps is not None and customer.of("steps")
        assert statuses(pane)[0][0] == "active" and [s for s, _ in statuses(pane)[1:]] == ["pending"] * 3
        # the panel: title, the list with the first one active, its explanation and command
        assert pane.query_one("#side-tabs", TabbedContent).active == "steps-tab"
        assert "Check the toolbox" in text_of(pane.query_one("#steps-title", Static))
        listed = text_of(pane.query_one("#steps-list", Static))
        assert "▶ 1. Print the version" in listed and "○ 2. Print the config" in listed
        assert "Step 1: Print the version" in text_of(pane.query_one("#step-heading", Static))
        assert "toolbox --version" in text_of(pane.query_one("#step-command", Static))
        assert "which **release**" in pane.query_one("#step-body").source

        # the customer's output matches the step's expect: done by "auto", on both sides
        customer.runtime.program_output(b"toolbox --version\r\ntoolbox-ok 3\r\n$ ")
        await until(lambda: statuses(pane)[:2] == [("done", "auto"), ("active", "auto")]
                    or statuses(pane)[0] == ("done", "auto"), "the step auto-completed", pilot=pilot)
        await until(lambda: "done · auto" in text_of(pane.query_one("#steps-list", Static)), "the panel", pilot=pilot)
        assert pane.current_step() == 1
        assert "toolbox config show" in text_of(pane.query_one("#step-command", Static))

        await press_key(pilot, "F10")  # step done
        await until(lambda: statuses(pane)[1] == ("done", "agent"), "step 2 done by the agent", pilot=pilot)
        assert pane.current_step() == 2
        await press_key(pilot, "F11")  # skip step
        await until(lambda: statuses(pane)[2] == ("skipped", "agent"), "step 3 skipped", pilot=pilot)
        assert pane.current_step() == 3
        assert "↷ 3. Send the report" in text_of(pane.query_one("#steps-list", Static))
        await press_key(pilot, "⇧F10")
        await until(lambda: pane.current_step() == 2, "back to step 3", pilot=pilot)
        assert statuses(pane)[2][0] == "active" and statuses(pane)[3][0] == "pending"
        assert customer.runtime.steps.current == 2

        # the customer marks it done on their side: the console follows
        await customer.runtime.run_command("step_done")
        await until(lambda: statuses(pane)[2] == ("done", "customer"), "done by the customer", pilot=pilot)
        assert "step 3 done by customer" in log_text(pane.chat_log)

        # an error from the customer's side is a readable notification, not a crash
        assert await pane.command(Step.mark(99, StepStatus.DONE))
        await until(lambda: "Error:" in log_text(pane.chat_log), "the refused step change", pilot=pilot)
        assert "Traceback" not in notifications(app) and app.is_running
        await leave(app)


async def test_suggest_point_and_clear(relay: RelayServer, customers: Callable[[], Customer],
                                       library: Path) -> None:
    app = AgentApp(relay.url, None, "Alice", playbook_dir=library)
    async with app.run_test(size=SIZE) as pilot:
        customer = customers()
        pane = await paired_session(pilot, customer)
        customer.runtime.program_output(b"line one\r\nline two\r\nline three\r\nline four\r\n$ ")
        await push_toolbox(pilot, pane)

        # suggest: the dialog offers the active step's command
        await press_key(pilot, "⇧F2")
        await until(lambda: isinstance(app.screen, PromptDialog), "the suggest dialog", pilot=pilot)
        assert app.screen.query_one("#prompt-input", Input).value == "toolbox --version"
        await pilot.press("enter")
        await until(lambda: customer.of("suggestion"), "the suggestion at the customer", pilot=pilot)
        assert customer.of("suggestion")[0]["command"] == "toolbox --version"
        await customer.runtime.run_command("paste_suggestion")
        await until(lambda: "customer pasted: toolbox --version" in log_text(pane.chat_log), "pasted", pilot=pilot)
        assert b"toolbox --version" in bytes(customer.program_input)
        assert b"\r" not in bytes(customer.program_input)  # never run without the customer's Enter

        # a typed suggestion, declined
        await press_key(pilot, "⇧F2")
        await until(lambda: isinstance(app.screen, PromptDialog), "the suggest dialog", pilot=pilot)
        app.screen.query_one("#prompt-input", Input).value = "rm -rf /tmp/x"
        await pilot.press("enter")
        await until(lambda: len(customer.of("suggestion")) == 2, "the second suggestion", pilot=pilot)
        await customer.runtime.run_command("decline_suggestion")
        await until(lambda: "declined: rm -rf /tmp/x" in log_text(pane.chat_log), "declined", pilot=pilot)

        # point at rows (1-based in the dialog, 0-based on the wire)
        await press_key(pilot, "⇧F11")
        await until(lambda: isinstance(app.screen, PromptDialog), "the point dialog", pilot=pilot)
        await pilot.press(*"0-2", "enter")  # rows count from 1: the dialog says so and stays
        assert isinstance(app.screen, PromptDialog)
        assert "count from 1" in str(app.screen.query_one("#prompt-error").content)
        app.screen.query_one("#prompt-input", Input).value = "2-3"
        await pilot.press("enter")
        await until(lambda: customer.runtime.pointer is not None, "the pointer at the customer", pilot=pilot)
        assert (customer.runtime.pointer.first, customer.runtime.pointer.last) == (1, 2)
        assert customer.of("pointer")[-1]["rows"] == [1, 2]

        await press_key(pilot, "⇧F11")
        await until(lambda: isinstance(app.screen, PromptDialog), "the point dialog", pilot=pilot)
        await pilot.press(*"line t.*", "enter")
        await until(lambda: customer.runtime.pointer is not None and customer.runtime.pointer.pattern, "the pattern pointer", pilot=pilot)
        assert customer.of("pointer")[-1]["rows"] == [1, 2]

        await press_key(pilot, "⇧F4")
        await until(lambda: customer.runtime.pointer is None, "the pointer cleared", pilot=pilot)
        await leave(app)


async def test_steps_mark_an_unfocused_tab(relay: RelayServer, customers: Callable[[], Customer],
                                           library: Path) -> None:
    app = AgentApp(relay.url, None, "Alice", playbook_dir=library)
    async with app.run_test(size=SIZE) as pilot:
        customer = customers()
        first = await paired_session(pilot, customer)
        await push_toolbox(pilot, first)
        await new_session(pilot)  # another tab in front
        first.clear_attention()
        await customer.runtime.run_command("step_skip")
        await until(lambda: first.attention, "the attention marker", pilot=pilot)
        assert statuses(first)[0] == ("skipped", "customer")
        assert str(app.query_one("#sessions", TabbedContent).get_tab(first).label).startswith("●")
        # step keys act on the session in front, which has no playbook: a readable warning
        await press_key(pilot, "F10")
        await until(lambda: "Wait for the customer" in notifications(app), "the warning", pilot=pilot)
        await leave(app)


async def test_steps_panel_at_80x24_and_palette(relay: RelayServer, customers: Callable[[], Customer],
                                                library: Path) -> None:
    app = AgentApp(relay.url, None, "Alice", playbook_dir=library)
    async with app.run_test(size=(80, 24)) as pilot:
        customer = customers()
        pane = await paired_session(pilot, customer)
        await pilot.press("ctrl+p")
        await until(lambda: isinstance(app.screen, CommandPalette), "the palette", pilot=pilot)
        await pilot.press(*"push playbook")
        await until(lambda: palette_offers(app, "push playbook"), "push playbook offered first in the palette", pilot=pilot)
        await pilot.press("enter")
        await until(lambda: isinstance(app.screen, PlaybookDialog), "the library from the palette", pilot=pilot)
        await pilot.press(*"widget", "enter")
        await until(lambda: pane.steps is not None, "the steps", pilot=pilot)
        screen_region = app.screen.region
        for selector in ("#steps-title", "#steps-list", "#mirror"):
            region = pane.query_one(selector).region
            assert region.area > 0 and screen_region.contains_region(region), selector
        await press_key(pilot, "⇧F1")
        assert pane.query_one("#side-tabs", TabbedContent).active == "chat-tab"
        region = pane.query_one("#chat-input").region
        assert region.area > 0 and screen_region.contains_region(region)
        await leave(app)


def test_parse_point() -> None:
    assert parse_point("3-5") == Point(rows=(2, 4))
    assert parse_point(" 7 ") == Point(rows=(6, 6))
    assert parse_point("5-3") == Point(rows=(2, 4))
    assert parse_point("error: .*") == Point(pattern="error: .*")
    for bad in ("", "0", "(unclosed"):
        with pytest.raises(ValueError):
            parse_point(bad)


# snapshot


def test_home_screen_snapshot(snap_compare: Any) -> None:
    app = AgentApp("ws://127.0.0.1:8765", None, "Alice",
                   relay_note="no relay configured: started an embedded relay on ws://127.0.0.1:8765 "
                              "(customers on this machine join with the default; others need --relay)")

    async def settle(pilot: Pilot) -> None:
        app.clear_notifications()
        await pilot.pause()

    assert snap_compare(app, terminal_size=(100, 30), run_before=settle)


async def test_call_from_the_console_shows_state_meters_and_path(relay: RelayServer,
                                                                 customers: Callable[[], Customer]) -> None:
    from cobrowse.voice.settings import RtcSettings

    settings = RtcSettings(direct=True, ice_hosts=("127.0.0.1",), mic="tone:440", speaker="none")
    app = AgentApp(relay.url, None, "Alice", rtc=settings)
    customer = customers()
    customer.runtime.rtc.settings = settings
    customer.runtime.rtc.policy.enabled = True
    async with app.run_test(size=SIZE) as pilot:
        pane = await paired_session(pilot, customer)
        await until(lambda: "path      direct" in pane.facts_text(), "the direct path in the facts", pilot=pilot)
        await press_key(pilot, "⇧F7")
        await until(lambda: any(e.get("state") == "ringing" for e in customer.of("voice")), "the customer's phone ringing", pilot=pilot)
        assert "call      calling" in pane.facts_text()
        await customer.runtime.run_command("call")  # the customer answers (Ctrl-] t)
        await until(lambda: "call      active" in pane.facts_text(), "the call connecting", timeout=20, pilot=pilot)
        await until(lambda: "customer  ▮▮▮" in pane.facts_text(), "the customer's level on the meter", pilot=pilot)
        await press_key(pilot, "⇧F9")
        await until(lambda: "muted" in pane.facts_text().split("\nmic", 1)[1].splitlines()[0], "mute shown", pilot=pilot)
        await until(lambda: customer.runtime.rtc.call.remote_muted, "the customer seeing the mute", pilot=pilot)
        await press_key(pilot, "⇧F8")
        await until(lambda: "call " not in pane.facts_text(), "the call gone from the facts", pilot=pilot)
        assert any("call ended" in line for line in log_text(pane.chat_log).splitlines())


def test_the_code_card_says_the_command_alone_for_the_default_relay() -> None:
    """With the default relay there is no --relay to repeat: two lines beside the digits."""
    from cobrowse.cli.config import DEFAULT_RELAY

    pane = SessionPane.__new__(SessionPane)
    pane.relay_url = DEFAULT_RELAY
    assert pane.customer_command(None) == "cobrowse join"
    assert pane.asked_text().plain == "or they type  cobrowse join\nthen the code when it asks"


@pytest.mark.parametrize("typed", ["help", "keys", "shortcuts"])
async def test_the_keys_screen_is_found_by_help(relay: RelayServer, typed: str) -> None:
    """A person looking for the keys types "help" (Textual's own entry is called "Keys" only)."""
    app = AgentApp(relay.url, None, "Alice")
    async with app.run_test(size=SIZE) as pilot:
        await press_key(pilot, "F9")
        await until(lambda: isinstance(app.screen, CommandPalette), "the palette", pilot=pilot)
        await pilot.press(*typed)
        await until(lambda: palette_offers(app, "shortcuts"), f"the keys screen offered first for {typed!r}", pilot=pilot)
        offered = [str(getattr(o.prompt, "plain", o.prompt)) for c in app.screen.query(CommandList) for o in c.options]
        assert not any(line.startswith("Keys") for line in offered)  # one entry: Textual's own tied with it
        await pilot.press("enter")
        await until(lambda: bool(app.screen.query("HelpPanel")), "the keys panel", pilot=pilot)
        await leave(app)

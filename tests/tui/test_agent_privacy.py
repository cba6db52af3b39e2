"""The agent console shows masks as masks and a paused share as paused (real relay, a real
CustomerRuntime in this process, Textual pilot)."""

from __future__ import annotations

import os
import sys
from typing import Callable

from textual.app import App, ComposeResult

from cobrowse.screen import Emulator
from cobrowse.screen.redact import MASK_CHAR, Redactor
from relay.server import RelayServer
from tui.agent_app import AgentApp
from tui.widgets.remote_screen import RemoteScreen

sys.path.insert(0, os.path.dirname(__file__))
from test_agent_app import SIZE, Customer, customers, leave, mirror_text, paired_session  # noqa: E402,F401
from tests.waiting import until


class OneScreen(App):
    def compose(self) -> ComposeResult:
        yield RemoteScreen()


async def test_masked_cells_are_drawn_in_the_redacted_style() -> None:
    app = OneScreen()
    async with app.run_test(size=(42, 6)) as pilot:
        widget = app.query_one(RemoteScreen)
        emu = Emulator(40, 4)
        emu.feed(b"\x1b[31mpassword: hunter2xyz\x1b[0m ok\x1b[?25l")
        widget.set_state(Redactor().redact_state(emu.state()))
        await pilot.pause()
        line = widget.render_line(0)
        assert line.text.startswith("password: " + MASK_CHAR * 10 + " ok")
        masked = [seg for seg in line if MASK_CHAR in seg.text]
        label = [seg for seg in line if "password" in seg.text][0]
        redacted = widget.get_component_rich_style("remote-screen--redacted", partial=True)
        assert masked and all(seg.style.bgcolor == redacted.bgcolor and seg.style.color == redacted.color
                              for seg in masked)
        assert label.style.color != masked[0].style.color  # the mask does not pass for the text's colour


async def test_console_shows_masks_and_the_pause(relay: RelayServer, customers: Callable[[], Customer]) -> None:
    app = AgentApp(relay.url, None, "Alice", redact_patterns=(r"ACME-\d{6}",))
    async with app.run_test(size=SIZE) as pilot:
        customer = customers()
        pane = await paired_session(pilot, customer)
        await until(lambda: customer.runtime.redactor.remote_patterns == (r"ACME-\d{6}",), "the organisation's pattern at the customer", pilot=pilot)
        customer.runtime.program_output(b"$ cat notes\r\npassword: hunter2xyz\r\nref ACME-123456\r\n$ ")
        await until(lambda: "ref " + MASK_CHAR * 11 in mirror_text(pane), "the masked screen", pilot=pilot)
        text = mirror_text(pane)
        assert "hunter2xyz" not in text and "ACME-123456" not in text
        assert "password: " + MASK_CHAR * 10 in text

        await customer.runtime.run_command("pause")
        await until(lambda: "the customer paused sharing" in mirror_text(pane), "the paused placeholder", pilot=pilot)
        assert pane.state == "paused by the customer"
        customer.runtime.program_output(b"echo private\r\nprivate-output\r\n$ ")
        await pilot.pause(0.5)
        assert "private-output" not in mirror_text(pane)
        assert pane.runtime is not None and "private-output" not in "\n".join(pane.runtime.mirror.state.lines())

        await customer.runtime.run_command("pause")  # the screen changed while paused: the customer reviews it first
        await pilot.pause(0.3)
        assert "private-output" not in mirror_text(pane)
        await customer.runtime.run_command("resume_share")
        await until(lambda: "private-output" in mirror_text(pane), "the current screen after the resume", pilot=pilot)
        assert pane.state == "connected"
        await leave(app)

"""Can a person put a lone surrogate into the console's chat? Textual decodes the terminal's
bytes as strict UTF-8 (no surrogate survives it), but a kitty-protocol key (``CSI 55296 u``)
is parsed as the key U+D800: the chat input drops it (not printable). Should one reach a
chat anyway (a paste from an integration, a value set in-process), the command is refused
with a toast and the session goes on (it raised UnicodeEncodeError inside the runtime).
Real relay and customer runtime; Textual pilot."""

from __future__ import annotations

from typing import Callable

from textual.widgets import Input

from relay.server import RelayServer
from tests.tui.terminal_keys import type_bytes
from tests.tui.test_agent_app import Customer, customers, paired_session  # noqa: F401  (fixture)
from tests.waiting import until
from tui.agent_app import AgentApp


async def test_the_console_chat_never_sends_a_lone_surrogate(relay: RelayServer, customers: Callable[[], Customer]) -> None:  # noqa: F811
    app = AgentApp(relay.url, None, "Alice")
    toasts: list[str] = []
    notify = app.notify
    app.notify = lambda message, *a, **kw: (toasts.append(str(message)), notify(message, *a, **kw))[1]  # type: ignore[method-assign]
    async with app.run_test(size=(80, 24)) as pilot:
        customer = customers()
        pane = await paired_session(pilot, customer)
        await pilot.click("#chat-input")
        chat = pane.query_one("#chat-input", Input)
        await type_bytes(pilot, b"h\x1b[55296ui\r")  # as a terminal speaking kitty's key protocol sends it
        await until(lambda: customer.of("chat"), "the chat at the customer", pilot=pilot)
        assert customer.of("chat")[0]["text"] == "hi"

        chat.value = "a\ud800b"
        await pilot.press("enter")
        await until(lambda: any("lone surrogate" in t for t in toasts), "the refusal's toast", pilot=pilot)
        assert chat.value == "a\ud800b"  # kept, to be fixed
        chat.value = "after"
        await pilot.press("enter")
        await until(lambda: len(customer.of("chat")) == 2, "the next chat", pilot=pilot)
        assert customer.of("chat")[1]["text"] == "after" and pane.runtime is not None and not pane.ended

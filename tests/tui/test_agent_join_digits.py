"""The console's Join dialog reads a code typed with another script's digits (a Persian
keyboard's ۴۲, an IME's full-width ４２) as the digits they are, as `cobrowse join`'s prompt
does; it said "not a session code". Typed as the terminal's UTF-8 bytes."""

from __future__ import annotations

from typing import Callable

from relay.server import RelayServer
from tests.tui.terminal_keys import press_key, type_bytes
from tests.tui.test_agent_app import SIZE, Customer, customers, leave  # noqa: F401 (fixture)
from tests.waiting import until
from tui.agent_app import AgentApp, JoinDialog, SessionPane

PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


async def test_join_dialog_takes_persian_digits(relay: RelayServer, customers: Callable[[], Customer]) -> None:
    app = AgentApp(relay.url, None, "Alice")
    async with app.run_test(size=SIZE) as pilot:
        customer = customers()
        code = await customer.create()  # `cobrowse share`
        await press_key(pilot, "F3")
        await until(lambda: isinstance(app.screen, JoinDialog), "the join dialog", pilot=pilot)
        await type_bytes(pilot, code.translate(PERSIAN).encode() + b"\r")
        await until(lambda: len(app.query(SessionPane)) == 1, "the joined session", pilot=pilot)
        pane = app.query_one(SessionPane)
        await until(lambda: pane.sas is not None and customer.of("paired"), "pairing", pilot=pilot)
        assert str(pane.code) == code
        await leave(app)

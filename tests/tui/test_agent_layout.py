"""The agent's view of the customer's screen (issue 14): drawn at the customer's real size,
centred in the console, never stretched or squeezed into the console's size. A Textual pilot,
a real relay, a real CustomerRuntime in this process; every wait bounded."""

from __future__ import annotations

from typing import Callable

from relay.server import RelayServer
from tests.tui.test_agent_app import Customer, customers, leave, mirror_text, paired_session  # noqa: F401
from tests.waiting import until
from tui.agent_app import AgentApp


async def test_the_remote_screen_is_centred_at_the_customers_size(relay: RelayServer,
                                                                  customers: Callable[[], Customer]) -> None:
    app = AgentApp(relay.url, None, "Alice")
    async with app.run_test(size=(200, 50)) as pilot:
        customer = customers()
        pane = await paired_session(pilot, customer)
        customer.runtime.resize(80, 24)
        customer.runtime.program_output(b"hello-centred")
        await until(lambda: "hello-centred" in mirror_text(pane), "the customer's screen", pilot=pilot)
        mirror = pane.mirror
        box = pane.query_one("#mirror-box").region
        await until(lambda: tuple(mirror.size) == (80, 24), "the mirror at the customer's 80x24", pilot=pilot)
        region = mirror.content_region
        left, right = region.x - box.x, box.right - region.right
        top, bottom = region.y - box.y, box.bottom - region.bottom
        assert abs(left - right) <= 1 and abs(top - bottom) <= 1, (box, region)
        assert mirror.size_mismatch is None

        customer.runtime.resize(100, 30)  # the customer's window grows: the view follows
        customer.runtime.program_output(b"\r\nafter-resize")
        await until(lambda: tuple(mirror.size) == (100, 30), "the mirror at the customer's 100x30", pilot=pilot)
        await leave(app)

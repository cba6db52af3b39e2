"""At 80×24 the mirror (78×7 inside its border) shows part of an 80×24 customer screen; the
status line said "customer's terminal is 80×24" after the state text, past the 80th column,
so nothing on screen told the agent that columns 79-80 and most rows were out of view. The
mirror's border says it now, and only while the view is cropped."""

from __future__ import annotations

from typing import Callable

import pytest

from relay.server import RelayServer
from tests.tui.test_agent_app import Customer, customers, leave, paired_session  # noqa: F401 (a fixture)
from tests.waiting import until
from tui.agent_app import AgentApp


@pytest.mark.parametrize("size, cropped", [((80, 24), True), ((200, 50), False)])
async def test_the_mirror_says_when_it_is_cropped(relay: RelayServer, customers: Callable[[], Customer],  # noqa: F811
                                                  size: tuple[int, int], cropped: bool) -> None:
    app = AgentApp(relay.url, None, "Alice")
    async with app.run_test(size=size) as pilot:
        pane = await paired_session(pilot, customers())
        await until(lambda: pane.mirror.state is not None, "the customer's first screen", pilot=pilot)
        state = pane.mirror.state
        assert state is not None and (state.cols, state.row_count) == (80, 24)  # CustomerRuntime's default
        title = str(pane.mirror.border_title or "")
        if cropped:
            assert title == "cropped: the customer's terminal is 80×24; the view follows the cursor"
            assert len(title) <= pane.mirror.size.width  # on the border, whole
        else:
            assert title == ""
        await pilot.resize_terminal(*((200, 50) if cropped else (80, 24)))  # no new frame from the customer
        await until(lambda: bool(pane.mirror.border_title) != cropped, "the border after a resize", pilot=pilot)
        await leave(app)

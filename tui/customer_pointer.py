"""The highlight in the customer app follows whichever agent pointed last (docs/team.md).

The first agent's pattern pointer was always looked for again as the screen changes; an
invited agent's was shown once, when it pointed, and then went stale — or, worse, the first
agent's older pointer came back over it on the next frame. Here every frame asks the team
for the pointer shown now (``CustomerTeam.pointer``: the last agent to point, under its own
pattern budget and rules) and looks for its rows again, at most every ``POINTER_INTERVAL``.
"""

from __future__ import annotations

import logging

from cobrowse.io.customer_team import CustomerTeam
from tui.customer_run import POINTER_INTERVAL, CustomerRun
from tui.widgets.shell_pane import ShellPane

logger = logging.getLogger(__name__)


class TeamPointer(CustomerRun):
    """``CustomerRun``'s frames, with the highlight of the agent that pointed last."""

    def _pointing_team(self) -> CustomerTeam | None:
        customer = self.customer
        return customer.team if customer is not None else None

    def _render_frame(self, exact: bool = True) -> None:
        super()._render_frame(exact)
        team = self._pointing_team()
        if team is None or self._loop is None or self._pointer_handle is not None:
            return
        pointer = team.pointer
        if pointer is not None and pointer.pattern:
            when = max(self._last_frame, self._pointer_at + POINTER_INTERVAL)
            self._pointer_handle = self._loop.call_at(when, self._update_pointer)

    def _update_pointer(self) -> None:
        """Look for the pointing agent's rows again (the screen changed)."""
        team = self._pointing_team()
        if team is None:
            super()._update_pointer()
            return
        self._pointer_handle = None
        if self._loop is None:
            return
        event = team.pointer_event()
        if event is None:
            return
        self._pointer_at = self._loop.time()
        try:
            self.query_one("#shell", ShellPane).set_highlight(event.get("rows"))
        except Exception:
            logger.debug("pane not available", exc_info=True)

"""The customer app in the help queue (``cobrowse help --org TRUSTFILE --topic TEXT``,
docs/helpdesk.md): no code to read out; the box over the shell shows the place in the
organisation's queue and the relay's estimate, the guides that may solve it alone, and how to
leave (Esc, Ctrl-C or Ctrl-] e). An agent's pick goes on as any session: the queue handshake
checks they are from the organisation before anything is shared."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cobrowse.i18n.text import N_, current, joined
from cobrowse.queue.events import ASKING, LEFT, PICKED, WHILE_YOU_WAIT, QueuePosition
from tui.customer_events import CustomerEvents
from tui.customer_view import Phase
from tui.safe import PlainStatic
from tui.widgets.shell_pane import ShellPane

if TYPE_CHECKING:
    from cobrowse.cli.help import HelpRequest, QueueWait
    from cobrowse.io.customer_session import CustomerSession

#: The bytes that leave the queue while waiting (the shell does not run yet): Esc, Ctrl-C.
LEAVE_KEYS = (b"\x1b", b"\x03")

QUEUE_TITLE = N_("Asking {org} for help: no code needed")
QUEUE_TOPIC = N_("Your topic: {topic}")
QUEUE_JOINING = N_("Joining {org}'s queue…")
QUEUE_HINT = N_("Esc or Ctrl-C leaves the queue · Ctrl-] ? help")
GUIDE_OFFER = N_("cobrowse guide {name}: {title}")
QUEUE_BANNER = N_("Waiting in {org}'s queue: nothing is shared yet · Esc leaves")
QUEUE_PLACEHOLDER = N_("Your terminal starts here when an agent of {org} connects.")


class CustomerQueue(CustomerEvents):
    """The wait in the queue; the attributes are set by CustomerApp."""

    help_request: HelpRequest | None
    queue_wait: QueueWait | None
    #: The organisation's queue the customer left (the app then exits with that line).
    left_queue: str | None

    async def _wait_in_queue(self, customer: CustomerSession) -> bool:
        """Join the queue and wait for a pick (True) or the customer leaving (False)."""
        from cobrowse.cli.help import QueueWait, guide_offers

        request = self.help_request
        assert request is not None
        tr = current()
        org = request.org.name
        wait = self.queue_wait = QueueWait(customer, request, self._show_position)
        self.phase = Phase.QUEUED
        self.query_one("#queue-title", PlainStatic).update(tr(QUEUE_TITLE, org=org))
        self.query_one("#queue-position", PlainStatic).update(tr(QUEUE_JOINING, org=org))
        self.query_one("#queue-topic", PlainStatic).update(tr(QUEUE_TOPIC, topic=request.topic) if request.topic else "")
        self.query_one("#queue-hint", PlainStatic).update(tr(QUEUE_HINT))
        self._show_status()
        self.query_one("#queue").add_class("shown")
        self.query_one("#shell", ShellPane).set_placeholder(tr(QUEUE_PLACEHOLDER, org=org))
        self._note(tr(ASKING, org=org), "dim")
        self._refresh_banner()
        await wait.join()
        offers = guide_offers(request.topic, tr.language)
        if offers:
            lines = [tr(WHILE_YOU_WAIT), *(tr(GUIDE_OFFER, name=name, title=title) for name, title in offers)]
            self.query_one("#queue-offers", PlainStatic).update(joined("\n", lines))
        picked = await wait.picked()
        self.queue_wait = None
        self.query_one("#queue").remove_class("shown")
        if not picked:
            self.left_queue = tr(LEFT, org=org)
            return False
        self.phase = Phase.CHECKING
        self._note(tr(PICKED, org=org), "bold")
        self._refresh_banner()
        self._show_status()
        return True

    def _show_position(self, shown: QueuePosition) -> None:
        self.query_one("#queue-position", PlainStatic).update(shown.text())
        self._note(shown.text(), "dim")

    def leave_queue(self) -> bool:
        """Esc / Ctrl-C / Ctrl-] e while queued: leave (True when the customer was queued)."""
        if self.phase != Phase.QUEUED or self.queue_wait is None:
            return False
        self.queue_wait.leave()
        return True

    @property
    def checking_banner(self) -> str:
        if self.help_request is None:
            return super().checking_banner
        return current()(PICKED, org=self.help_request.org.name)

    @property
    def queue_hint(self) -> str:
        """The bottom line while queued: how to leave (the session's keys come later)."""
        return current()(QUEUE_HINT)

    @property
    def queue_banner(self) -> str:
        org = self.help_request.org.name if self.help_request is not None else ""
        return current()(QUEUE_BANNER, org=org)

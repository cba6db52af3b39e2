"""The agent console's help queue (docs/helpdesk.md, "The queue"): a tab listing the
customers who wait for the agent's organisation, Enter picks one and opens a session tab
for them. Topics are what customers typed: shown as data, never markup."""

from __future__ import annotations

import time
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.css.query import NoMatches
from textual.message import Message
from textual.widgets import OptionList, TabPane
from textual.widgets.option_list import Option, OptionDoesNotExist

from cobrowse.errors import CobrowseError
from cobrowse.io.agent import AgentRuntime
from cobrowse.io.link import RelayLink
from cobrowse.policy.agent_commands import CommandError
from cobrowse.queue.events import QueueChanged, QueuePicked, queue_changed, refusal_explained
from cobrowse.queue.link import PickedAgentLink, QueueWatcher
from cobrowse.queue.sessions import join_picked
from cobrowse.wire import envelope as env
from tui.agent_keys import told
from tui.agent_session import SessionPane
from tui.safe import PlainStatic, plain


def entry_line(waiting_s: float, lang: str, topic: str) -> Text:
    """One row per customer, cut with an ellipsis where the list ends (a long topic wrapped
    over rows at 80 columns); the whole topic is in the picked session's chat log."""
    minutes = int(waiting_s // 60)
    waited = f"{minutes} min" if minutes else f"{int(waiting_s)} s"
    line = plain(f"{waited:>7}  {('[' + lang + ']') if lang else '    '}  {topic or '(no topic)'}".replace("\n", " "))
    line.no_wrap, line.overflow = True, "ellipsis"
    return line


def tab_label(total: int) -> str:
    """The Queue tab's label: how many wait, seen from any tab (a toast alone goes in 3 s)."""
    return f"Queue ● {total}" if total > 0 else "Queue"


class QueuePane(TabPane):
    """Who waits in the organisation's queue; Enter picks the highlighted customer."""

    DEFAULT_CSS = """
    QueuePane #queue-list { text-wrap: nowrap; text-overflow: ellipsis; }
    """

    class Changed(Message):
        def __init__(self, event: QueueChanged) -> None:
            super().__init__()
            self.event = event

    def __init__(self, relay_url: str, token: str | None, identity: Any, proxy: Any = None,
                 reconnect_for: float = 60.0) -> None:
        super().__init__("Queue", id="queue")
        self.identity = identity
        self.org = identity.credential.org
        self.watcher = QueueWatcher(relay_url, identity.credential.org_key_id, token, self._relay_said,
                                    proxy=proxy, reconnect_for=reconnect_for, on_error=self._error)
        self.latest = QueueChanged(self.org)
        #: When ``latest`` arrived (monotonic): the waits it gave keep growing on screen until the next.
        self.latest_at = time.monotonic()

    def _relay_said(self, message: env.QueueList) -> None:
        self.post_message(self.Changed(queue_changed(self.org, message.waiting, message.total)))

    def compose(self) -> ComposeResult:
        with Vertical(id="queue-body"):
            yield PlainStatic(f"{self.org}'s help queue: connecting…", id="queue-title")
            yield PlainStatic("Customers who ran `cobrowse help` with your organisation's trust file wait here. "
                              "Enter picks the highlighted one and opens a session tab; their client checks your "
                              "credential before anything is shared.", id="queue-help")
            yield OptionList(id="queue-list")

    def on_mount(self) -> None:
        self.run_worker(self._watch(), name="queue-watch", group="queue", exit_on_error=False)
        self.set_interval(1.0, self._tick)

    def _tick(self) -> None:
        """The relay says how long each customer had waited when the queue last changed; the
        list counts on from there (it showed "7 s" for as long as nothing changed)."""
        since = time.monotonic() - self.latest_at
        options = self.query_one("#queue-list", OptionList)
        for w in self.latest.waiting:
            try:
                options.replace_option_prompt(w.id, entry_line(w.waiting_s + since, w.lang, w.topic))
            except OptionDoesNotExist:
                pass

    async def _watch(self) -> None:
        try:
            await self.watcher.connect()
        except CobrowseError as exc:
            self._error(f"could not watch the queue: {exc}")
            return
        await self.watcher.run()

    def _error(self, text: str) -> None:
        self.app.notify(text, title="Help queue", severity="warning", timeout=10)

    @on(Changed)
    def _changed(self, message: Changed) -> None:
        event = self.latest = message.event
        self.latest_at = time.monotonic()
        shown = len(event.waiting)
        more = f" (the first {shown} shown)" if event.total > shown else ""
        self.query_one("#queue-title", PlainStatic).update(
            plain(f"{self.org}'s help queue: {event.total} waiting{more}"))
        options = self.query_one("#queue-list", OptionList)
        highlighted = options.highlighted_option.id if options.highlighted_option is not None else None
        options.clear_options()
        options.add_options([Option(entry_line(w.waiting_s, w.lang, w.topic), id=w.id) for w in event.waiting])
        ids = [w.id for w in event.waiting]
        if ids:
            options.highlighted = ids.index(highlighted) if highlighted in ids else 0
        try:
            self.app.tabs.get_tab(self).label = plain(tab_label(event.total))  # type: ignore[attr-defined]
        except NoMatches:  # the console is closing: its tabs are gone
            pass
        if self.app.tabs.active != "queue" and event.total:  # type: ignore[attr-defined]
            self.app.notify(told(f"{event.total} waiting in the help queue: the Queue tab (F6/F7 switch tabs)"),
                            title="Help queue", timeout=3)

    @on(OptionList.OptionSelected, "#queue-list")
    async def _selected(self, event: OptionList.OptionSelected) -> None:
        await self.pick(str(event.option.id))

    async def pick(self, entry_id: str) -> PickedSessionPane | None:
        """Pick that customer; a session tab for them, or None (someone was faster)."""
        topic = next((w.topic for w in self.latest.waiting if w.id == entry_id), "")
        try:
            picked = await self.watcher.pick(entry_id)
        except CommandError as exc:
            self.app.notify(str(exc), title="Help queue", severity="warning")
            return None
        return await self.app.open_picked(picked, topic)  # type: ignore[attr-defined]


class PickedSessionPane(SessionPane):
    """A session with a customer picked from the queue: claimed with the pick's ticket,
    paired by the queue handshake (the customer's client checks the credential)."""

    def __init__(self, *args: Any, picked: env.Picked, topic: str, org_key_id: str, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.picked, self.topic, self.org_key_id = picked, topic, org_key_id
        self._explained = refusal_explained(super()._emit, self.identity.credential.org)

    def _emit(self, event: Any) -> None:
        self._explained(event)

    def on_mount(self) -> None:  # Textual runs SessionPane.on_mount too (each class's handler)
        if self.topic and self.query("#chat-log"):  # whole: the Queue tab's row may have cut it
            self.chat_log.write(plain(f"· their topic: {self.topic}", style="dim italic"))

    def facts_text(self) -> str:
        lines = super().facts_text().split("\n")
        return "\n".join("code      none (help queue)"
                         if line.startswith("code ") else line for line in lines)

    def make_link(self) -> RelayLink:
        return PickedAgentLink(self.relay_url, self.picked.ticket, self.token, reconnect_for=self.reconnect_for,
                               proxy=self.proxy)

    async def start(self, runtime: AgentRuntime) -> None:
        await join_picked(runtime, self.picked.nameplate, self.org_key_id, self.identity)
        self.code = None  # the runtime's code is the nameplate and zeros: no code anyone could type (F5 copied it)
        self.link_state = "connected"  # no code event comes to say so: it said "connecting" all along
        runtime.emit(QueuePicked(self.picked.id, self.topic, self.picked.waited_s,  # through the history tap
                                 self.identity.credential.org))

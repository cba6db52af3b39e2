"""A session pane's state and how it shows: the tab's title and attention mark, the state
line, alerts, notes in the chat log, and the facts box (code, customer, identity, path and
round trip, the call's meters, relay, link, traffic in and out, recording)."""

from __future__ import annotations

from typing import Any

from rich.cells import cell_len, set_cell_size
from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Input, TabbedContent, TabPane

from cobrowse.cli.config import colleague_command, join_command
from cobrowse.io.agent import AgentRuntime
from cobrowse.io.link import RelayLink
from cobrowse.policy.agent_events import IdentityReported, RecordingState
from cobrowse.wire.code import Code
from tui.safe import PlainStatic, plain
from tui.widgets.meter import meter_bar
from tui.widgets.remote_screen import RemoteScreen

CONSENT_LABELS = {
    "view": "VIEW ONLY",
    "suggest": "SUGGEST",
    "control": "CONTROL GRANTED",
}


def human_rate(value: float) -> str:
    if value < 1000:
        return f"{value:.0f} B/s"
    if value < 1_000_000:
        return f"{value / 1000:.1f} kB/s"
    return f"{value / 1_000_000:.1f} MB/s"


def human_bytes(value: int) -> str:
    if value < 1000:
        return f"{value} B"
    if value < 1_000_000:
        return f"{value / 1000:.1f} kB"
    return f"{value / 1_000_000:.1f} MB"


def facts_resized(old: object, new: str, width: int) -> bool:
    """True if the facts box may change height showing ``new`` instead of ``old`` at ``width``
    columns: another number of lines, or a line that may wrap. Otherwise it is repainted without
    a layout of the whole console (its rates change every second: issue 17)."""
    if not isinstance(old, str) or width <= 0:
        return True
    lines, before = new.split("\n"), old.split("\n")
    return len(lines) != len(before) or any(cell_len(line) > width for line in (*lines, *before))


def one_row_each(text: str, width: int) -> str:
    """Each fact on one row, cut with an ellipsis past ``width`` cells: at 80×24 the box has
    rows for its facts and no more, and a fact that wrapped (a long customer name, ``team 2
    agents · invite 9:52``, a long relay URL) pushed the traffic rows out of sight."""
    if width <= 1:
        return text
    return "\n".join(line if cell_len(line) <= width else set_cell_size(line, width - 1).rstrip(" ") + "…"
                     for line in text.split("\n"))


#: The cells of the state kept beside the SAS words in the status row (else they get a row).
STATE_ROOM = 20


class ChatLog(VerticalScroll):
    """Chat and session notes; one PlainStatic per entry, so text reflows when the pane resizes
    (a RichLog wraps at the width it had when written, which is tiny in a hidden tab)."""

    MAX_ENTRIES = 500

    def on_mount(self) -> None:
        self.anchor()

    def write(self, text: Text) -> None:
        entries = self.query(".entry")
        if len(entries) >= self.MAX_ENTRIES:
            entries.first().remove()
        self.mount(PlainStatic(text, classes="entry"))

    def plain(self) -> str:
        """The log as text, one entry a line (tests)."""
        return "\n".join(getattr(e.content, "plain", str(e.content)) for e in self.query(".entry").results(PlainStatic))


class SessionView(TabPane):
    """What a session pane knows and shows (set up by ``SessionPane.__init__``)."""

    number: int
    base_title: str
    relay_url: str
    runtime: AgentRuntime | None
    link: RelayLink | None
    code: Code | None
    sas: str | None
    consent: str
    state: str
    link_state: str
    customer_name: str
    ended: bool
    left: bool
    end_message: str
    attention: bool
    typing: bool
    rate_in: float
    rate_out: float
    seen_as: IdentityReported | None
    steps: dict[str, Any] | None
    _last_bytes: tuple[int, int] | None
    _title_core: str

    @property
    def mirror(self) -> RemoteScreen:
        """The pane's mirror (looked up once: it is asked for on every frame)."""
        mirror: RemoteScreen | None = getattr(self, "_mirror", None)
        if mirror is None:
            mirror = self._mirror = self.query_one("#mirror", RemoteScreen)
        return mirror

    @property
    def chat_log(self) -> ChatLog:
        return self.query_one("#chat-log", ChatLog)

    def customer_command(self, code: Code | None) -> str:
        """What the customer types; with no ``code``, the command that asks them for it."""
        return join_command(code, self.relay_url)

    def colleague_command(self, code: object) -> str:
        """What a colleague invited into this session types (``--relay`` as for the customer)."""
        return colleague_command(code, self.relay_url)

    def asked_text(self) -> Text:
        """Beside the code's digits (three lines, to fit at 80×24): the customer may also type
        the command alone and the code at its prompt (cobrowse.cli.code_prompt)."""
        relay = self.customer_command(None) != "cobrowse join"
        return Text.assemble("or they type  ", ("cobrowse join", "bold"), "\nthen the code when it asks",
                             "\n(with the same --relay)" if relay else "")

    def _set_title(self, core: str) -> None:
        self._title_core = core
        self._apply_title()

    def _apply_title(self) -> None:
        core = self._title_core
        label = core if core == self.base_title or core.startswith(f"{self.base_title} ") else f"{self.base_title} {core}"
        if self.attention:
            label = f"● {label}"
        try:
            tab = self._tab()
        except Exception:
            return
        tab.label = plain(label)  # a str would be parsed as markup: it holds the customer's name
        tab.set_class(self.attention, "-attention")

    def _tab(self) -> Any:
        return self.app.query_one("#sessions", TabbedContent).get_tab(self)

    def flag_attention(self) -> None:
        tabs = self.app.query_one("#sessions", TabbedContent)
        if tabs.active == self.id:
            return
        if not self.attention:
            self.attention = True
            self._apply_title()

    def clear_attention(self) -> None:
        if self.attention:
            self.attention = False
            self._apply_title()

    def _connected(self) -> str:
        """The state line of a live session: a pause outlives reconnects."""
        runtime = self.runtime
        return "paused by the customer" if runtime is not None and not runtime.sharing else "connected"

    def _set_state(self, text: str) -> None:
        self.state = text
        self._render_status_extra()

    def on_resize(self) -> None:
        """The console resized: whether the mirror crops changed with it, without a frame."""
        self.call_after_refresh(self._render_status_extra)
        self._show_sas()

    def _show_sas(self) -> None:
        """The SAS words in the status row, or on a row of their own when the row cannot hold
        them whole beside the consent badge and some of the state: they are what the agent
        reads to the customer (a Russian customer's words with their romanisation are ~75
        cells, cut at 80 columns)."""
        if not self.sas:
            return
        label = CONSENT_LABELS.get(self.consent, str(self.consent).upper())
        badge = cell_len(label) + 2 if self.query_one("#consent").display else 0
        words = Text.assemble("SAS ", (self.sas, "bold"))
        room = self.size.width or self.app.size.width
        self.set_class(badge + words.cell_len + 2 + STATE_ROOM > room, "-sas-line")
        self.query_one("#sas", PlainStatic).update(words)
        self.query_one("#sas-line", PlainStatic).update(words)

    def _render_status_extra(self) -> None:
        text = self.state
        try:
            mismatch = self.mirror.size_mismatch
        except Exception:
            mismatch = None
        cropped = ""
        if mismatch is not None and not self.ended:
            cols, rows = mismatch
            text = f"{text} · customer's terminal is {cols}×{rows}"
            width, height = self.mirror.size
            if cols > width or rows > height:  # at 80×24 the status line is cut before it says so
                cropped = f"cropped: the customer's terminal is {cols}×{rows}; the view follows the cursor"
        if (self.mirror.border_title or "") != cropped:  # each assignment repaints the whole mirror
            self.mirror.border_title = cropped
        self.query_one("#state", PlainStatic).update(text)

    def _alert(self, text: str) -> None:
        alert = self.query_one("#alert", PlainStatic)
        alert.update(text)
        alert.display = True

    def _system(self, text: str) -> None:
        self.chat_log.write(Text(f"· {text}", style="dim italic"))

    def _traffic(self) -> tuple[int, int]:
        """Bytes in and out on whichever path frames take (the link's counters freeze once the
        direct path carries them)."""
        return self.runtime.traffic() if self.runtime is not None else (0, 0)

    def _sample(self) -> None:
        if self.runtime is None:
            return
        now = self._traffic()
        if self._last_bytes is not None:
            self.rate_in = float(now[0] - self._last_bytes[0])
            self.rate_out = float(now[1] - self._last_bytes[1])
        self._last_bytes = now
        if self.ended:
            self.rate_in = self.rate_out = 0.0
        self._render_facts()

    def facts_text(self) -> str:
        received, sent = self._traffic()
        lines = [
            f"code      {self.code or '—'}",
            f"customer  {self.customer_text()}",
            f"you       {self._seen_text()}",
            f"path      {self._path_text()} · rtt {self._rtt_text()}",
            *self._call_lines(),
            f"relay     {self.relay_url}",
            f"link      {self.link_state}",
            f"in        {human_rate(self.rate_in)} ({human_bytes(received)})",
            f"out       {human_rate(self.rate_out)} ({human_bytes(sent)})",
        ]
        recording = self.runtime.recording_state if self.runtime is not None else RecordingState.OFF
        if recording is not RecordingState.OFF:
            lines.append("record    ● RECORDING" if recording is RecordingState.ON else "record    asked the customer…")
        return "\n".join(lines)

    def customer_text(self) -> str:
        """Their name, else whether they are connected (never once the session is over here)."""
        return self.customer_name or ("—" if self.sas is None or self.ended else "connected")

    def _path_text(self) -> str:
        rtc = self.runtime.rtc if self.runtime is not None else None
        if rtc is None or rtc.path != "direct":
            return "relay"
        return {"host": "direct", "srflx": "direct (through NAT)", "relay": "direct via TURN"}.get(rtc.route_via, "direct")

    def _call_lines(self) -> list[str]:
        runtime = self.runtime
        if runtime is None or runtime.rtc.call.state == "idle":
            return []
        call = runtime.rtc.call
        lines = [f"call      {call.state}"]
        if call.in_call:
            mine, theirs = runtime.rtc.levels()
            lines.append(f"mic       {meter_bar(mine)}{' muted' if call.muted else ''}")
            lines.append(f"customer  {meter_bar(theirs)}{' muted' if call.remote_muted else ''}")
        return lines

    def _call_meters(self) -> None:
        if self.runtime is not None and self.runtime.rtc.call.in_call:
            self._render_facts()

    def _seen_text(self) -> str:
        seen = self.seen_as
        if seen is None:
            return "—" if self.sas is None else "identity not reported"
        if seen.get("verified"):
            return f"✓ verified ({seen.get('org')})"
        return f"⚠ UNVERIFIED ({seen.get('status')})"

    def _rtt_text(self) -> str:
        rtt = self.runtime.rtt_ms if self.runtime is not None else None
        return "n/a" if rtt is None else f"{rtt:.1f} ms"

    def _render_facts(self) -> None:
        facts = self.query_one("#facts", PlainStatic)
        text = self.facts_text()
        if self.screen.has_class("-narrow"):
            text = one_row_each(text, facts.content_size.width)
        facts.update(text, layout=facts_resized(facts.content, text, facts.content_size.width))

    def _refresh_bindings(self) -> None:
        if self.app.screen_stack:  # not while the app shuts down
            self.app.refresh_bindings()

    def set_typing(self, on: bool) -> None:
        self.typing = on
        mirror = self.mirror
        mirror.control = on
        self.set_class(on, "-typing")
        if on:
            mirror.focus()
        elif mirror.has_focus and not self.query_one("#chat-input", Input).disabled:
            self.query_one("#chat-input", Input).focus()
        self._refresh_bindings()

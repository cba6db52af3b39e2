"""The customer app's call bar: an incoming call to answer, or the call's state, mute and
level meters. Presentation only: the app feeds it the CallMachine and the levels."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button

from cobrowse.voice.call import CallMachine
from tui.safe import PlainStatic
from tui.widgets.meter import meter_bar


class CallBar(Vertical):
    def compose(self) -> ComposeResult:
        yield PlainStatic("", id="call-text")
        with Horizontal(id="call-buttons"):
            yield Button("Answer (Ctrl-] t)", id="call-answer", variant="success", compact=True)
            yield Button("Mute (Ctrl-] u)", id="call-mute", compact=True)
            yield Button("Decline (Ctrl-] o)", id="call-hangup", variant="error", compact=True)

    def show(self, call: CallMachine | None, levels: tuple[float, float], who: str) -> None:
        if call is None or call.state == "idle":
            self.remove_class("shown")
            return
        self.add_class("shown")
        self.set_class(call.state == "ringing", "ringing")
        self.query_one("#call-answer", Button).display = call.state == "ringing"
        mute = self.query_one("#call-mute", Button)
        mute.display = call.in_call
        mute.label = "Unmute (Ctrl-] u)" if call.muted else "Mute (Ctrl-] u)"
        self.query_one("#call-hangup", Button).label = (
            "Decline (Ctrl-] o)" if call.state == "ringing" else "Hang up (Ctrl-] o)")
        self.query_one("#call-text", PlainStatic).update(self.text(call, levels, who))

    @staticmethod
    def text(call: CallMachine, levels: tuple[float, float], who: str) -> str:
        if call.state == "ringing":
            return f"{who} is calling you. Answer? Your microphone turns on only if you answer."
        if call.state == "calling":
            return f"Calling {who}…"
        if call.state == "connecting":
            return "Connecting the call…"
        mine, theirs = levels
        return (f"On a call with {who} · you {meter_bar(mine)}{' (muted)' if call.muted else ''}"
                f" · {who} {meter_bar(theirs)}{' (muted)' if call.remote_muted else ''}")

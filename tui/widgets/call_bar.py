"""The customer app's call bar: an incoming call to answer, or the call's state, mute and
level meters. Presentation only: the app feeds it the CallMachine and the levels."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button

from cobrowse.voice.call import CallMachine
from cobrowse.i18n.text import current
from tui.safe import PlainStatic
from tui.widgets.meter import meter_bar


def relabel(button: Button, label: str) -> None:
    """A new label, and the button's width with it: Textual's ``label`` does not lay the
    button out again, so a longer label (Persian "Hang up" after "Decline") was cut."""
    if str(button.label) != label:
        button.label = label
        button.refresh(layout=True)


class CallBar(Vertical):
    def compose(self) -> ComposeResult:
        tr = current()
        yield PlainStatic("", id="call-text")
        with Horizontal(id="call-buttons"):
            yield Button(tr("Answer (Ctrl-] t)"), id="call-answer", variant="success", compact=True)
            yield Button(tr("Mute (Ctrl-] u)"), id="call-mute", compact=True)
            yield Button(tr("Decline (Ctrl-] o)"), id="call-hangup", variant="error", compact=True)

    def show(self, call: CallMachine | None, levels: tuple[float, float], who: str) -> None:
        if call is None or call.state == "idle":
            self.remove_class("shown")
            return
        self.add_class("shown")
        self.set_class(call.state == "ringing", "ringing")
        self.query_one("#call-answer", Button).display = call.state == "ringing"
        mute = self.query_one("#call-mute", Button)
        mute.display = call.in_call
        tr = current()
        relabel(mute, tr("Unmute (Ctrl-] u)") if call.muted else tr("Mute (Ctrl-] u)"))
        relabel(self.query_one("#call-hangup", Button),
                tr("Decline (Ctrl-] o)") if call.state == "ringing" else tr("Hang up (Ctrl-] o)"))
        self.query_one("#call-text", PlainStatic).update(self.text(call, levels, who))

    @staticmethod
    def text(call: CallMachine, levels: tuple[float, float], who: str) -> str:
        tr = current()
        if call.state == "ringing":
            return tr("{agent} is calling you. Answer? Your microphone turns on only if you answer.", agent=who)
        if call.state == "calling":
            return tr("Calling {agent}…", agent=who)
        if call.state == "connecting":
            return tr("Connecting the call…")
        mine, theirs = meter_bar(levels[0]), meter_bar(levels[1])
        you = tr("you {meter} (muted)", meter=mine) if call.muted else tr("you {meter}", meter=mine)
        them = (tr("{agent} {meter} (muted)", agent=who, meter=theirs) if call.remote_muted
                else tr("{agent} {meter}", agent=who, meter=theirs))
        return tr("On a call with {agent} · {you} · {them}", agent=who, you=you, them=them)

"""The call bar's hang-up button changes its label (Decline while ringing, Hang up after): in
Persian, Russian or Chinese the labels differ in length and Textual does not lay a button out
again for a new label, so "قطع تماس (Ctrl-] o)" showed as "قطع تماس (Ctrl-]" at 80×24 (seen
in tmux). Every label of the bar is drawn whole, whatever the state went through."""

from __future__ import annotations

import pytest
from rich.cells import cell_len
from textual.app import App, ComposeResult
from textual.widgets import Button

from cobrowse.i18n.catalogues import translator
from cobrowse.i18n.language import Language
from cobrowse.i18n.text import ENGLISH, install
from cobrowse.voice.call import CallMachine
from tui.widgets.call_bar import CallBar


class BarApp(App[None]):
    def compose(self) -> ComposeResult:
        yield CallBar(id="call-bar", classes="shown")


def call_in(state: str, muted: bool = False) -> CallMachine:
    call = CallMachine("customer")
    call.state, call.muted = state, muted
    return call


@pytest.mark.parametrize("language", [Language.FA, Language.RU, Language.ZH, Language.EN])
async def test_every_label_is_whole_after_the_state_changes(language: Language) -> None:
    install(translator(language))
    try:
        app = BarApp()
        async with app.run_test(size=(80, 24)) as pilot:
            bar = app.query_one(CallBar)
            for state, muted in (("ringing", False), ("active", False), ("active", True), ("calling", False),
                                 ("ringing", False)):
                bar.show(call_in(state, muted), (0.0, 0.0), "Alice")
                await pilot.pause()
                for button in bar.query(Button):
                    if button.display:
                        label = str(button.label)
                        assert button.content_region.width >= cell_len(label), (state, label, button.content_region)
    finally:
        install(ENGLISH)

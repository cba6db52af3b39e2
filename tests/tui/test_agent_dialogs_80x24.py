"""Every agent console dialog at 80×24 shows all of its text (issue 14: "they ran `cobrows"
was cut by the dialog's border). What reaches the terminal is read widget by widget; a
sentence wrapped over several lines must still be there whole, word after word."""

from __future__ import annotations

import re
from typing import Any

import pytest
from textual.app import App
from textual.screen import ModalScreen

from cobrowse.playbook.catalogue import SAMPLES, Catalogue
from tui.agent_app import CSS as CONSOLE_CSS
from tui.agent_dialogs import ConfirmDialog, JoinDialog, PlaybookDialog, PromptDialog, parse_point


def screen_words(app: Any) -> str:
    """The screen as composited for the terminal (clipping included), as words."""
    lines = [strip.text for strip in app.screen._compositor.render_strips()]
    return " ".join(re.sub(r"[^\w`'()·?:.,/-]+", " ", "\n".join(lines)).split())


def words(text: str) -> str:
    return " ".join(re.sub(r"[^\w`'()·?:.,/-]+", " ", text).split())


class Console(App[None]):
    CSS = CONSOLE_CSS  # the console's own rules for #dialog


DIALOGS: dict[str, tuple[Any, list[str]]] = {
    "join": (lambda: JoinDialog(), ["Join a customer's session",
                                    "Type the code the customer reads to you (they ran `cobrowse share`):"]),
    "end": (lambda: ConfirmDialog("End the session with Alexandra Montgomery-Whitfield (42-7193-0518)?",
                                  yes="End session"),
            ["End the session with Alexandra Montgomery-Whitfield (42-7193-0518)?", "End session (y)", "Cancel (n)"]),
    "suggest": (lambda: PromptDialog("Suggest a command", "The customer sees it and may paste it at their prompt (it "
                                     "only runs when they press Enter), edit it, or decline.", ok="Suggest"),
                ["Suggest a command", "The customer sees it and may paste it at their prompt (it only runs when they "
                 "press Enter), edit it, or decline."]),
    "point": (lambda: PromptDialog("Point at the customer's screen", "Rows as you count them from the top (3-5, or 7), "
                                   "or a regex: every line it matches is highlighted.", ok="Point", parse=parse_point),
              ["Rows as you count them from the top (3-5, or 7), or a regex: every line it matches is highlighted."]),
    "playbook": (lambda: PlaybookDialog(Catalogue([SAMPLES])),
                 ["Push a playbook to the customer", "search: an error, a command, words; or a path to a .md file", "Enter pushes the highlighted playbook · Esc cancels"]),
}


@pytest.mark.parametrize("name", list(DIALOGS))
async def test_no_dialog_is_clipped_at_80x24(name: str) -> None:
    make, texts = DIALOGS[name]
    app = Console()
    async with app.run_test(size=(80, 24)) as pilot:
        screen: ModalScreen[Any] = make()
        app.push_screen(screen)
        await pilot.pause()
        shown = screen_words(app)
        for text in texts:
            assert words(text) in shown, f"{name}: {text!r} not whole on screen: {shown!r}"
        dialog = screen.query_one("#dialog")
        assert dialog.region.right <= 80 and dialog.region.bottom <= 24, dialog.region

"""A Textual app showing our Persian sentences in a bordered box, handed to ``PlainStatic``
whole (tests/e2e/test_rtl.py runs it in tmux)."""

from __future__ import annotations

from textual.app import App, ComposeResult

from cobrowse.i18n.catalogues import translator
from cobrowse.i18n.language import Language
from tui.safe import PlainStatic

FA = translator(Language.FA)
GATE = ("not yet: wait {n} more second, then press {keys} again to give control",
        "not yet: wait {n} more seconds, then press {keys} again to give control")


class Box(App[None]):
    CSS = "PlainStatic { border: solid white; width: 72; height: auto; }"

    def compose(self) -> ComposeResult:
        yield PlainStatic(FA.plural(*GATE, 3, keys="Ctrl-] g"))
        yield PlainStatic(FA("Verified: {agent} from {org}", agent="Alice", org="Acme"))


if __name__ == "__main__":
    Box().run()

"""The agent console's footer: only whole items, the most important first.

Textual's footer lays its keys out in a row and cuts the row at the window's edge ("F1 Pla"
at 80 columns). This one hides the items that do not fit, whole: the command palette's key
always stays (the palette reaches every action), then the others in the key table's order
(``tui/agent_keys.py``), which is their order of importance, until the first that does not fit.
"""

from __future__ import annotations

from rich.cells import cell_len
from textual import events
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

#: The action the footer never hides.
ALWAYS = "open_palette"


def fitting(widths: list[tuple[str, int]], room: int) -> set[int]:
    """Which items (by index) to show: ``widths`` is (action, cells) in the footer's order."""
    kept = {i for i, (action, _) in enumerate(widths) if action == ALWAYS}
    used = sum(widths[i][1] for i in kept)
    for i, (action, width) in enumerate(widths):
        if i in kept:
            continue
        if used + width > room:
            break
        kept.add(i)
        used += width
    return kept


class FittedFooter(Footer):
    """A footer that never shows part of an item."""

    async def recompose(self) -> None:
        await super().recompose()
        self._fit()

    def on_mount(self) -> None:
        super().on_mount()
        self.call_after_refresh(self._fit)

    def on_resize(self, event: events.Resize) -> None:
        self._fit()

    def _fit(self) -> None:
        keys = list(self.query(FooterKey))
        room = self.size.width or self.app.size.width
        widths = [(key.action, self._width(key)) for key in keys]
        kept = fitting(widths, room)
        for i, key in enumerate(keys):
            key.display = i in kept

    @staticmethod
    def _width(key: FooterKey) -> int:
        """The cells the item takes: its text as rendered, and its margins."""
        margin = key.styles.margin
        return cell_len(key.render().plain) + margin.left + margin.right

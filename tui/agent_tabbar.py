"""The console's tab bar when its tabs do not fit (fix8): at 40 columns two sessions pushed the
Start tab out of the bar with nothing to say it was there (F6/F7 still reached it). A mark at
the bar's right end counts the tabs out of sight on each side (``◂1 2▸``), and the front tab is
scrolled back into view whenever a label's width changes (a code, a ● for attention)."""

from __future__ import annotations

from textual.containers import Container
from textual.css.query import NoMatches
from textual.widgets import Static, Tab, Tabs

from tui.agent_keys import told

#: How often the mark is checked besides the tab bar's own changes (labels change width quietly).
REFRESH_S = 0.5


def hidden_sides(tabs: list[tuple[int, int]], left_edge: int, right_edge: int) -> tuple[int, int]:
    """How many tabs (their column spans in the bar's scrolled content) lie, even in part, left
    and right of the columns shown, ``left_edge`` to ``right_edge`` (a tab out of sight has no
    region on screen at all: the spans are counted in the content, not on the screen)."""
    left = sum(1 for start, end in tabs if end > start and start < left_edge)
    right = sum(1 for start, end in tabs if end > start and end > right_edge)
    return left, right


def mark_text(left: int, right: int) -> str:
    return " ".join(part for part in (f"◂{left}" if left else "", f"{right}▸" if right else "") if part)


class TabsMark(Static):
    """``◂1 2▸``: tabs out of sight in the tab bar, on each side; hidden when all fit."""

    DEFAULT_CSS = """
    TabsMark { dock: right; width: auto; height: 1; padding: 0 0 0 1; color: $warning; text-style: bold;
               display: none; }
    """

    def __init__(self, tabs: Tabs) -> None:
        super().__init__("", id="tabs-mark", markup=False)
        self.tabs = tabs
        self._shown = ""

    def on_mount(self) -> None:
        self.watch(self.tabs, "active", self._soon)
        self.set_interval(REFRESH_S, self.check)

    def _soon(self) -> None:
        self.call_after_refresh(self.check)

    def check(self) -> None:
        """Keep the front tab whole in view, then say what is out of sight."""
        try:
            scroll = self.tabs.query_one("#tabs-scroll", Container)
        except NoMatches:
            return  # the console is closing
        left_edge = round(scroll.scroll_x)
        right_edge = left_edge + scroll.size.width
        active = self.tabs.active_tab
        if active is not None and scroll.size.width:
            start, end = active.virtual_region.column_span
            if start < left_edge or end > right_edge:
                scroll.scroll_to_center(active, animate=False, force=True)
                self.call_after_refresh(self.check)
                return
        spans = [tab.virtual_region.column_span for tab in self.tabs.query(Tab) if tab.display]
        left, right = hidden_sides(spans, left_edge, right_edge)
        text = mark_text(left, right)
        if text == self._shown:
            return  # twice a second while nothing changes: no repaint
        self._shown = text
        self.update(text)
        self.display = bool(text)
        self.tooltip = told(f"{left + right} more tab(s): F6/F7 switch tabs") if text else None

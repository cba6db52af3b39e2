"""Text that may hold the other side's words, in Textual: always data, never markup.

Peer strings arrive as ``SafeText`` (``cobrowse.protocol.untrusted``): escaped and capped.
Textual would still parse a ``str`` given to ``Static``, ``Label``, ``notify`` or a tab label
as content markup, so ``[b white on green]Verified[/]`` from an agent would become a badge
and a lone ``[/]`` would raise ``MarkupError`` and take the customer's shell with the app.
Everything here shows a string as it is, and escapes any control character again on the
way (the last guard for text that did not come through the door, such as a suggestion).
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import App
from textual.notifications import SeverityLevel
from textual.visual import VisualType
from textual.widgets import Static

from cobrowse.protocol.untrusted import visible


def plain(text: object, style: str = "") -> Text:
    """A line of ours with peer values in it, styled as a whole, never parsed."""
    return Text(visible(_as_str(text), multiline=True), style=style)


def _as_str(text: object) -> str:
    """``text`` as a string; a ``Translated`` sentence stays one (its isolates survive the guard)."""
    return text if isinstance(text, str) else str(text)


def as_data(content: VisualType) -> VisualType:
    """A str as literal text with controls escaped; Text, Content and renderables as they are
    (they are never parsed as markup)."""
    return visible(content, multiline=True) if isinstance(content, str) else content


class PlainStatic(Static):
    """A ``Static`` that never parses markup: what it is given is what it shows.

    Given what it already shows, it does nothing: Textual's ``update`` always asks for a
    layout of the whole screen, and status lines are set again on every event (the agent
    console's state line on every screen frame: a quarter of its CPU, issue 17)."""

    def __init__(self, content: VisualType = "", **kwargs: Any) -> None:
        kwargs["markup"] = False
        super().__init__(as_data(content), **kwargs)

    def update(self, content: VisualType = "", *, layout: bool = True) -> None:
        content = as_data(content)
        if _same(content, self.content):
            return
        super().update(content, layout=layout)


def _same(new: VisualType, old: VisualType) -> bool:
    """True if showing ``new`` instead of ``old`` changes nothing (the same object may have
    been changed in place: it is shown again, unless it is an immutable str)."""
    if type(new) is not type(old) or (new is old and not isinstance(new, str)):
        return False
    if isinstance(new, str):
        return new == old
    if isinstance(new, Text) and isinstance(old, Text):  # Text's == looks at the plain text and spans only
        return (new.plain, new.spans, new.style, new.justify, new.overflow, new.no_wrap, new.end) == \
               (old.plain, old.spans, old.style, old.justify, old.overflow, old.no_wrap, old.end)
    return False  # Content's == compares the text only; other renderables: always drawn


def toast_text(message: object) -> str:
    """What a toast of ``message`` shows (to find it again, e.g. to dismiss it once answered)."""
    return visible(_as_str(message), multiline=True)


def notify_plain(app: App[Any], message: str, *, title: str = "", severity: SeverityLevel = "information",
                 timeout: float | None = None) -> None:
    """``App.notify`` with the message and title as literal text."""
    kwargs: dict[str, Any] = {} if timeout is None else {"timeout": timeout}
    App.notify(app, toast_text(message), title=visible(_as_str(title)), severity=severity, markup=False, **kwargs)

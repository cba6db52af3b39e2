"""Every function-key binding of the agent console answers to the bytes real terminals send."""

from __future__ import annotations

import pytest
from textual.binding import Binding

from tests.tui.terminal_keys import TERMS, keys_of, terminfo_key
from tui.agent_app import AgentApp
from tui.history_screen import HistoryScreen


def shown_keys(bindings: list[Binding]) -> list[tuple[str, Binding]]:
    out = []
    for binding in bindings:
        shown = binding.key_display or binding.key.split(",")[0].upper()
        if shown.lstrip("⇧").startswith("F"):
            out.append((shown, binding))
    return out


@pytest.mark.parametrize("term", TERMS)
@pytest.mark.parametrize("shown,binding", shown_keys([b for b in AgentApp.BINDINGS if isinstance(b, Binding)])
                         + shown_keys([b for b in HistoryScreen.BINDINGS if isinstance(b, Binding)]))
def test_the_key_shown_is_the_key_the_terminal_sends(term: str, shown: str, binding: Binding) -> None:
    received = keys_of(terminfo_key(term, shown))
    assert len(received) == 1, f"{term} sends {terminfo_key(term, shown)!r} for {shown}: Textual sees {received}"
    assert received[0] in binding.key.split(","), (
        f"{binding.action}: shown as {shown}, {term} sends {terminfo_key(term, shown)!r} which Textual reports as "
        f"{received[0]!r}, but the binding is {binding.key!r}")


def test_xterm_shift_f3_is_not_a_key_so_nothing_relies_on_it() -> None:
    assert keys_of(terminfo_key("xterm-256color", "⇧F3")) == []
    shown = {b.key_display for b in AgentApp.BINDINGS if isinstance(b, Binding)}
    assert "⇧F3" not in shown


def test_the_palette_names_the_same_key_as_the_footer() -> None:
    from tui.agent_keys import CONSOLE_KEYS
    from tui.agent_palette import PALETTE

    by_action = {action: help_text for _, help_text, action in PALETTE}
    for key in CONSOLE_KEYS:
        if key.shown and key.title:
            assert by_action[key.action].endswith(f"({key.shown.replace('⇧', 'shift+')})")
    # Ctrl-Q: Textual's, re-described; no_session: the session keys with no session; Escape: closes
    # Textual's keys panel only while it shows (fix8), not a console key to configure
    bound = {b.action for b in AgentApp.BINDINGS if isinstance(b, Binding)} - {"quit", "no_session", "hide_help_panel"}
    assert {k.action for k in CONSOLE_KEYS if k.shown} == bound

"""`cobrowse guide PLAYBOOK` on a terminal: a playbook run alone, help one key away.

The customer app in guide mode (:class:`~tui.customer_app.CustomerApp` with ``guide=``):
the customer's shell runs in the main pane with no session at all, the playbook's steps
show in the side panel (notifications when it is collapsed) and auto-advance on their
patterns. **Ctrl-] !** "gets help": it creates a session on the relay and shows its code,
big, to give to an agent, who then sees the step state so far. Every other key goes to the
shell; Ctrl-] a pastes the current step's command, Ctrl-] m / k mark it done / skip it,
Ctrl-] e ends the guide before a session exists.
"""

from __future__ import annotations

from typing import Any, Sequence

from cobrowse.playbook import Playbook
from cobrowse.voice.settings import RtcSettings
from cobrowse.wire.proxy import ProxyChoice
from tui.customer_app import HELP_KEY, CustomerApp

__all__ = ["GuideApp", "HELP_KEY"]


class GuideApp(CustomerApp):
    def __init__(self, relay_url: str, playbook: Playbook, command: str | None, consent_timeout: float = 30.0,
                 *, name: str = "", reconnect_for: float = 60.0, env: dict[str, str] | None = None,
                 redact_patterns: tuple[str, ...] = (), rtc: RtcSettings | None = None,
                 trusted: Sequence[Any] = (), proxy: ProxyChoice | None = None) -> None:
        super().__init__(relay_url, None, command, consent_timeout, name=name, reconnect_for=reconnect_for,
                         env=env, guide=playbook, redact_patterns=redact_patterns, rtc=rtc, trusted=trusted,
                         proxy=proxy)

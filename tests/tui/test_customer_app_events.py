"""The customer app reads the policy's typed events, and the runtime's own events as dicts or
as typed events it does not know (issue 12); it speaks the customer's language (issue 15). A
real relay, the app waiting for its agent."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Iterator

import pytest

from cobrowse.i18n.language import Language
from cobrowse.policy.events import Event
from cobrowse.policy.customer_events import ChatReceived, ConsentChanged, Level, Notice, SharingChanged
from cobrowse.policy.session_events import DataPath, PathChanged, PeerLeft
from cobrowse.queue.events import QueueRefused
from tests.speaking import speaking
from tests.tui.test_customer_app import until
from tui.customer_app import CustomerApp
from tui.customer_texts import bare
from tui.safe import PlainStatic


@dataclass(frozen=True)
class Later(Event):
    """A typed runtime event the app has no class for (helper "typed" converts io/runtime.py)."""

    KIND: ClassVar[str] = "path"
    path: str = ""


@pytest.fixture
def russian() -> Iterator[None]:
    with speaking(Language.RU):
        yield


async def waiting_app(pilot: Any) -> CustomerApp:
    app: CustomerApp = pilot.app
    await until(lambda: app.code is not None and app.process is not None, what="the code and the shell")
    return app


async def test_policy_and_runtime_events_show_their_lines(relay_url: str) -> None:
    app = CustomerApp(relay_url, None, "cat")
    async with app.run_test(size=(100, 30)) as pilot:
        await waiting_app(pilot)
        app._emit(ChatReceived("typed hello"))
        app._emit(SharingChanged(False))
        app._emit(ConsentChanged(Level.SUGGEST))
        app._emit(Notice("a notice of the policy"))
        app._emit(Notice("a notice of the runtime"))
        app._emit(QueueRefused("unverified_agent", "refused, you keep your place"))  # typed, read by its name
        app._emit(PathChanged(DataPath.RELAY, "no direct route"))  # a runtime event, read by its name
        app._emit(Later("direct"))  # what io/runtime.py's dicts become: read by the name too
        app._emit(PeerLeft())
        await pilot.pause()
        lines = app.log_lines
        assert "the agent: typed hello" in lines
        assert "sharing paused: the agent sees nothing until you press Ctrl-] p" in lines
        assert "consent: suggest (the agent may propose commands)" in lines
        assert "a notice of the policy" in lines and "a notice of the runtime" in lines
        assert "warning: refused, you keep your place" in lines
        assert "via the relay: no direct route" in lines and "direct connection to the agent" in lines
        assert any(line.startswith("the agent's connection dropped") for line in lines)
        assert not app.peer_present


async def test_the_app_in_russian(relay_url: str, russian: None) -> None:
    app = CustomerApp(relay_url, None, "cat")
    async with app.run_test(size=(80, 24)) as pilot:
        await waiting_app(pilot)
        await pilot.pause()
        assert app.banner_text.startswith("Ждём подключения специалиста")
        assert str(app.query_one("#waiting-title", PlainStatic).content) == "Продиктуйте этот код специалисту:"
        status = bare(str(app.query_one("#status", PlainStatic).content))
        assert status.startswith("Ctrl-], затем:") and status.endswith("? справка")
        app._emit(ChatReceived("привет"))
        await pilot.pause()
        assert "специалист: привет" in app.log_lines


async def test_the_code_card_names_the_relay_the_agent_needs(relay_url: str) -> None:
    """Seen in tmux: `cobrowse share --relay ws://127.0.0.1:18733` told the customer to have the
    agent type `cobrowse agent --join CODE`, which looks for the session on the default relay."""
    app = CustomerApp(relay_url, None, "cat")
    async with app.run_test(size=(80, 24)) as pilot:
        await waiting_app(pilot)
        await pilot.pause()
        how = str(app.query_one("#code-how", PlainStatic).content)
        assert f"cobrowse agent --join {app.code} --relay {relay_url}" in how, how

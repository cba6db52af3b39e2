"""The customer app's main screens at 80×24 (issue 14), as a person sees them: the code box
over the shell while waiting, the side panel and the chat opened over it, the help. A real
relay (in a thread: snap_compare runs its own loop), a fixed session code, ``cat`` as the
shared program so the shell's area is blank and stable."""

from __future__ import annotations

from typing import Any, Awaitable, Callable

import pytest

from tests.tui.test_customer_app import PREFIX, ThreadedRelay, until
from tui.customer_app import CustomerApp, ShellPane

SIZE = (80, 24)


def waiting(keys: tuple[str, ...] = ()) -> Callable[[Any], Awaitable[None]]:
    async def ready(pilot: Any) -> None:
        app: CustomerApp = pilot.app
        await until(lambda: app.process is not None and app.code is not None, what="the code and the pty")
        await until(lambda: app.query_one("#shell", ShellPane).state is not None, what="the first frame")
        for key in keys:
            await pilot.press(PREFIX, key)
        await pilot.pause(0.2)
        assert app.process is not None and app.process.size == (80, 22)  # nothing opened over the shell resized it
        if keys == ("question_mark",):
            assert type(app.screen).__name__ == "HelpScreen"

    return ready


@pytest.fixture
def fixed_code(monkeypatch: pytest.MonkeyPatch) -> None:
    import cobrowse.io.runtime as runtime_module

    monkeypatch.setattr(runtime_module, "new_secret", lambda randbelow: "71930518")


@pytest.mark.parametrize("keys", [(), ("b",), ("c",), ("question_mark",)], ids=["waiting", "panel", "chat", "help"])
def test_customer_screens_at_80x24(snap_compare: Any, fixed_code: None, keys: tuple[str, ...],
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    with ThreadedRelay() as relay:
        monkeypatch.setattr("cobrowse.cli.config.DEFAULT_RELAY", relay.url)  # its port varies: the card says no --relay
        app = CustomerApp(relay.url, None, "cat")
        assert snap_compare(app, terminal_size=SIZE, run_before=waiting(keys))


def test_queue_screen_at_80x24(snap_compare: Any) -> None:
    """``cobrowse help``: the place in Acme's queue (no agent online), the topic, the guide
    to try alone, how to leave."""
    import os
    import time

    from cobrowse.cli.help import HelpRequest
    from cobrowse.trust.credential import OrgKey

    trust = OrgKey.generate("Acme", os.urandom).trust(int(time.time()))

    async def queued(pilot: Any) -> None:
        app: CustomerApp = pilot.app
        await until(lambda: "no agent is online" in str(app.query_one("#queue-position").content)
                    and "fix-git-push" in str(app.query_one("#queue-offers").content), what="the place in the queue")
        await pilot.pause(0.2)

    with ThreadedRelay() as relay:
        app = CustomerApp(relay.url, None, "cat", trusted=(trust,),
                          help_request=HelpRequest(trust, "git push is rejected", "en"))
        assert snap_compare(app, terminal_size=SIZE, run_before=queued)

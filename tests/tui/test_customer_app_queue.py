"""``cobrowse help`` in the customer app (docs/helpdesk.md, "The queue"): the app waits in the
organisation's queue on a real relay showing its place and the guides to try alone; an agent
of the organisation watches the queue, picks, proves the credential over the handshake and the
normal session starts (a real bash on a pty); Esc, Ctrl-C or Ctrl-] e leave the queue cleanly."""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

import pytest

from cobrowse.cli.help import HelpRequest
from cobrowse.i18n.catalogues import translator
from cobrowse.i18n.language import Language
from cobrowse.i18n.text import ENGLISH, install
from cobrowse.io.agent import AgentRuntime
from cobrowse.policy.events import as_json
from cobrowse.queue.link import PickedAgentLink, QueueWatcher
from cobrowse.queue.sessions import join_picked
from cobrowse.trust.credential import OrgKey
from cobrowse.wire import envelope as env
from tests.tui.test_customer_app import BASH, PREFIX, WAIT, pane_lines, until
from tui.customer_app import CustomerApp
from tui.customer_view import Phase
from tui.safe import PlainStatic

NOW = int(time.time())
ACME = OrgKey.generate("Acme", os.urandom)
TOPIC = "git push is rejected"


@pytest.fixture(autouse=True)
def _shell_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PS1", "$ ")
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.delenv("PROMPT_COMMAND", raising=False)


def queued_app(relay_url: str, topic: str = TOPIC) -> CustomerApp:
    trust = ACME.trust(NOW)
    return CustomerApp(relay_url, None, BASH, reconnect_for=0, trusted=(trust,),
                       help_request=HelpRequest(trust, topic, "en"))


def text(app: CustomerApp, selector: str) -> str:
    return str(app.query_one(selector, PlainStatic).content)


async def watch(relay_url: str) -> tuple[QueueWatcher, list[env.QueueList]]:
    lists: list[env.QueueList] = []
    watcher = QueueWatcher(relay_url, ACME.key_id, None, lists.append)
    await watcher.connect()
    asyncio.get_running_loop().create_task(watcher.run())
    return watcher, lists


async def test_the_app_waits_in_the_queue_then_an_agent_picks_and_the_session_starts(relay_url: str) -> None:
    watcher, lists = await watch(relay_url)
    app = queued_app(relay_url)
    agent_events: list[dict[str, Any]] = []
    agent: AgentRuntime | None = None
    task: asyncio.Task[Any] | None = None
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await until(lambda: "you are next" in text(app, "#queue-position"), what="the place in the queue")
            assert app.phase == Phase.QUEUED and app.query_one("#queue").has_class("shown")
            assert "Waiting in Acme's queue" in app.banner_text
            assert "cobrowse guide fix-git-push" in text(app, "#queue-offers")  # the best match, to try alone
            assert TOPIC in text(app, "#queue-topic")
            await until(lambda: lists and lists[-1].total == 1, what="the agent's queue listing")
            entry = lists[-1].waiting[0]
            assert entry["topic"] == TOPIC
            picked = await watcher.pick(entry["id"])
            agent = AgentRuntime(PickedAgentLink(relay_url, picked.ticket), lambda e: agent_events.append(as_json(e)),
                                 name="Alice", identity=ACME.issue("Alice", NOW, 30, os.urandom)[1])
            await join_picked(agent, picked.nameplate, ACME.key_id, agent.identity)
            task = asyncio.create_task(agent.run())
            await until(lambda: app.sas is not None and app.phase == Phase.PAIRED, what="pairing after the pick")
            assert not app.query_one("#queue").has_class("shown")
            await until(lambda: app.identity is not None and app.identity.get("verified"), what="the verified agent")
            await until(lambda: any(line.startswith("$") for line in pane_lines(app)), what="the shell prompt")
            await pilot.press(*"echo queued-ok", "enter")
            await until(lambda: any("queued-ok" in line for line in (agent.mirror.state.lines()
                                                                     if agent.mirror.state else [])),
                        what="the agent seeing the customer's shell")
            assert any("an agent picked you" in line for line in app.log_lines)
            await agent.end("agent_ended")
            await until(lambda: app.outcome is not None, what="the end")
    finally:
        if task is not None:
            task.cancel()
        await watcher.close()


@pytest.mark.parametrize("keys", [("escape",), ("ctrl+c",), (PREFIX, "e")])
async def test_leaving_the_queue(relay_url: str, keys: tuple[str, ...]) -> None:
    watcher, lists = await watch(relay_url)
    app = queued_app(relay_url, "")
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await until(lambda: "you are next" in text(app, "#queue-position"), what="the place in the queue")
            assert text(app, "#queue-offers") == "" and text(app, "#queue-topic") == ""  # no topic: no offer
            await until(lambda: lists and lists[-1].total == 1, what="the agent's queue listing")
            await pilot.press(*keys)
            await until(lambda: lists[-1].total == 0, timeout=WAIT, what="the queue emptied")
            await until(lambda: app.left_queue is not None, what="the app leaving")
        assert app.return_code == 0 and app.process is None
        assert app.left_queue == "you left Acme's queue"
    finally:
        await watcher.close()


async def test_the_queue_in_russian_offers_the_russian_guide(relay_url: str) -> None:
    install(translator(Language.RU))
    try:
        app = queued_app(relay_url)
        async with app.run_test(size=(80, 24)):
            await until(lambda: "вы следующий" in text(app, "#queue-position"), what="the place in the queue, in Russian")
            assert "Ожидание в очереди Acme" in app.banner_text
            # the sample's Russian translation (fix-git-push.ru.md), which `cobrowse guide` runs for this customer
            assert "cobrowse guide fix-git-push: Исправить ошибку git push" in text(app, "#queue-offers")
    finally:
        install(ENGLISH)

"""The help queue from the command line (docs/helpdesk.md, "The queue"): the agent's
``cobrowse agent --headless --queue`` (``queue`` events, ``{"cmd": "pick", "id": ...}``) and
the customer's ``cobrowse help --org TRUSTFILE --topic TEXT``."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from cobrowse.cli.agent import LineConsole, agent_runtime, serve_session
from cobrowse.cli.commands import agent_identity, say
from cobrowse.cli.config import ClientSettings
from cobrowse.cli.org import load_trusted
from cobrowse.errors import CobrowseError, ConfigError
from cobrowse.i18n.language import Language, choose_language
from cobrowse.io.headless import JsonLines, stdin_lines
from cobrowse.io.runtime import exit_code_for
from cobrowse.policy.agent_commands import CommandError
from cobrowse.policy.agent_events import AgentError, AgentWarning
from cobrowse.i18n.text import current
from cobrowse.policy.events import Event, as_json
from cobrowse.protocol.untrusted import Field, clean
from cobrowse.queue.events import (
    ABANDONED,
    ASKING,
    LEFT,
    PICKED,
    REFUSED,
    WHILE_YOU_WAIT,
    QueuePicked,
    QueuePosition,
    QueueRefused,
    queue_changed,
    refusal_explained,
)
from cobrowse.queue.link import PickedAgentLink, QueuedCustomerLink, QueueWatcher
from cobrowse.queue.sessions import join_picked, start_queued
from cobrowse.trust.credential import OrgTrust
from cobrowse.wire import envelope as env

if TYPE_CHECKING:
    from cobrowse.io.customer_session import CustomerSession

NEEDS_CREDENTIAL = ("the queue is your organisation's: pass --credential FILE (from `cobrowse org issue-agent`), "
                    "or set COBROWSE_CREDENTIAL")


async def run_queue_agent(args: argparse.Namespace, settings: ClientSettings, relay_url: str) -> int:
    """Watch the organisation's queue, pick one customer, then serve that session."""
    emit: JsonLines | LineConsole = JsonLines() if args.headless else LineConsole()
    identity = agent_identity(settings)
    if identity is None:
        raise ConfigError(NEEDS_CREDENTIAL)
    org_id, org = identity.credential.org_key_id, identity.credential.org
    watcher = QueueWatcher(relay_url, org_id, settings.token,
                           lambda m: emit(queue_changed(org, m.waiting, m.total)),
                           proxy=settings.proxy_for(relay_url), reconnect_for=settings.reconnect_for,
                           on_error=lambda text: emit(AgentWarning("queue", text)))
    try:
        await watcher.connect()
    except CobrowseError as exc:
        emit(AgentError(str(exc)))
        print(f"cobrowse: {exc}", file=sys.stderr)
        return exit_code_for(exc)
    watching = asyncio.create_task(watcher.run(), name="queue-watch")
    reader = await stdin_lines()
    try:
        while True:
            picked = await _next_pick(reader, watcher, emit)
            if picked is None:
                return 0
            entry_id, topic, nameplate, ticket, waited = picked
            link = PickedAgentLink(relay_url, ticket, settings.token, reconnect_for=settings.reconnect_for,
                                   proxy=settings.proxy_for(relay_url))
            runtime = agent_runtime(args, settings, link, refusal_explained(emit, org), identity)
            try:
                await join_picked(runtime, nameplate, org_id, identity)
            except CobrowseError as exc:
                emit(AgentError(f"could not reach the customer you picked: {exc}", cmd="pick"))
                continue
            runtime.emit(QueuePicked(entry_id, topic, waited, org))  # through the history and webhook taps
            return await serve_session(args, runtime, emit, reader)
    finally:
        watching.cancel()
        await watcher.close()


async def _next_pick(reader: asyncio.StreamReader, watcher: QueueWatcher,
                     emit: JsonLines | LineConsole) -> tuple[str, str, str, str, float | None] | None:
    """Commands until a pick stands: (id, topic, nameplate, ticket, waited_s); None when stdin ends
    or the agent says ``end``."""
    while line := await reader.readline():
        if not line.strip():
            continue
        try:
            cmd = json.loads(line)
        except ValueError as exc:
            emit(AgentError(f"not a JSON command ({exc}): one JSON object a line"))
            continue
        name = cmd.get("cmd") if isinstance(cmd, dict) else None
        if name in ("end", "quit"):
            return None
        if name != "pick":
            emit(AgentError('pick a customer from the queue first: {"cmd": "pick", "id": "..."}',
                            cmd=name if isinstance(name, str) else None))
            continue
        entry_id = cmd.get("id")
        if not isinstance(entry_id, str):
            emit(AgentError('pick needs the "id" of a customer in the queue', cmd="pick"))
            continue
        topic = str(clean(watcher.topic_of(entry_id), Field.REASON))  # the customer's words
        try:
            picked = await watcher.pick(entry_id)
        except CommandError as exc:
            emit(AgentError(str(exc), cmd="pick"))
            continue
        return entry_id, topic, picked.nameplate, picked.ticket, picked.waited_s
    return None


def queue_org(args: argparse.Namespace) -> OrgTrust:
    """The organisation whose queue ``cobrowse help`` joins: its ``--org`` trust file."""
    files = getattr(args, "org", None) or []
    if not files:
        raise ConfigError("cobrowse help needs the trust file of the organisation to ask: --org FILE "
                          "(the organisation publishes it with `cobrowse org publish`)")
    return load_trusted(files[:1])[0]


class QueueWait:
    """The customer's wait in an organisation's queue, shared by plain mode and the app:
    open a session, join the queue, report each new position, until an agent picks
    (:meth:`picked` is True: the session goes on as any other, the queue handshake checks
    the agent) or the customer leaves (:meth:`leave`; False: the session is closed)."""

    def __init__(self, customer: CustomerSession, request: HelpRequest,
                 on_position: Callable[[QueuePosition], None]) -> None:
        org = self.org = request.org
        self.topic = request.topic
        self._customer = customer
        self._waiting: asyncio.Future[None] | None = None
        self._left = False
        last: list[str] = []

        def position(message: env.Queued) -> None:
            shown = QueuePosition(message.position, message.estimate_s, message.agents, org.name)
            if last != [shown.text()]:  # a new estimate that reads the same is not news
                last[:] = [shown.text()]
                on_position(shown)

        options = customer.options
        self.link = QueuedCustomerLink(options.relay, org=org.key_id, topic=self.topic, lang=request.lang, on_queued=position,
                                       reconnect_for=options.reconnect_for, proxy=options.proxy)

    async def join(self) -> None:
        """Open the session on the relay and take a place in the queue."""
        customer = self._customer
        customer.link = customer.runtime.link = self.link
        customer.runtime.emit = refused_as_queue_warning(customer.runtime.emit, self.org.name)
        await start_queued(customer.runtime, self.org)

    async def picked(self) -> bool:
        """Until an agent picks (True) or the customer leaves the queue (False)."""
        waiting = self._waiting = asyncio.ensure_future(self.link.wait_for_pick())
        if self._left:
            waiting.cancel()
        try:
            await waiting
        except asyncio.CancelledError:
            if not waiting.cancelled() or not self._left:
                raise
            await self.link.close("customer_ended")
            return False
        return True

    def leave(self) -> None:
        """The customer leaves the queue (Ctrl-C, Esc): :meth:`picked` returns False."""
        self._left = True
        if self._waiting is not None:
            self._waiting.cancel()


@dataclass(frozen=True)
class HelpRequest:
    """What ``cobrowse help`` asks: the organisation whose queue, the customer's topic and
    language (both shown to the organisation's agents)."""

    org: OrgTrust
    topic: str
    lang: str


def help_request(args: argparse.Namespace) -> HelpRequest:
    """``cobrowse help``'s request from its flags (a bad trust file fails here, before any network)."""
    lang = choose_language(getattr(args, "lang", None), os.environ).language.value
    return HelpRequest(queue_org(args), (args.topic or "").strip(), lang)


async def wait_in_queue(customer: CustomerSession, args: argparse.Namespace) -> bool:
    """Plain mode's ``cobrowse help``: the queue's lines on stderr, Ctrl-C leaves."""
    request = help_request(args)
    org, topic = request.org, request.topic
    tr = current()
    wait = QueueWait(customer, request, lambda shown: say(shown.text()))
    say(str(tr(ASKING, org=org.name)))
    await wait.join()
    offer_guides(topic)
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGINT, wait.leave)
    try:
        picked = await wait.picked()
    finally:
        loop.remove_signal_handler(signal.SIGINT)
    say(str(tr(PICKED if picked else LEFT, org=org.name)))
    return picked


#: Scores are relative to the best match: below this a guide is a guess, not an offer.
OFFER_SCORE = 0.5
OFFERS = 2


def guide_offers(topic: str, language: Language | None = None) -> list[tuple[str, str]]:
    """The playbooks (name, title) that best match the customer's topic, to try alone
    (``cobrowse guide NAME``), titled in ``language`` when the playbook has a translation
    (``cobrowse guide NAME`` runs that one). Ranked on this machine; nothing leaves it."""
    if not topic:
        return []
    from cobrowse.i18n.playbooks import translated
    from cobrowse.io.datadir import data_dir
    from cobrowse.playbook import PlaybookError
    from cobrowse.playbook.catalogue import SAMPLES, Catalogue
    from cobrowse.playbook.parse import load_playbook

    offers = []
    for match in Catalogue([data_dir() / "playbooks", SAMPLES]).search(topic, OFFERS):
        if match.score < OFFER_SCORE:
            continue
        title = match.entry.title
        path = translated(match.entry.path, language)
        if path != match.entry.path:
            try:
                title = load_playbook(path).title
            except (OSError, PlaybookError):
                pass  # the original's title, then
        offers.append((match.entry.name, title))
    return offers


def offer_guides(topic: str) -> None:
    """Plain mode: the offers on stderr while the customer waits."""
    offers = guide_offers(topic, current().language)
    if offers:
        say(str(current()(WHILE_YOU_WAIT)))
        for name, title in offers:
            say(f"  cobrowse guide {name}    {title}")


def refused_as_queue_warning(emit: Callable[[Event], None], org: str) -> Callable[[Event], None]:
    """A refused pick reaches the runtime as a failed attempt at a code; in the queue it is an
    agent who could not prove the organisation, and the customer keeps its place."""

    def queue_emit(event: Event) -> None:
        shape = as_json(event)
        if shape.get("event") == "warning" and shape.get("kind") == "wrong_code":
            left = "left before finishing" in str(shape.get("message", ""))
            event = QueueRefused("pick_abandoned" if left else "unverified_agent",
                                 str(current()(ABANDONED if left else REFUSED, org=org)))
        emit(event)

    return queue_emit

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
from typing import TYPE_CHECKING, Any

from cobrowse.cli.agent import LineConsole, agent_runtime, serve_session
from cobrowse.cli.commands import agent_identity, say
from cobrowse.cli.config import ClientSettings
from cobrowse.cli.org import load_trusted
from cobrowse.errors import CobrowseError, ConfigError
from cobrowse.i18n.language import choose_language
from cobrowse.io.headless import JsonLines, stdin_lines
from cobrowse.io.runtime import exit_code_for
from cobrowse.policy.agent_commands import CommandError
from cobrowse.policy.agent_events import AgentError, AgentWarning
from cobrowse.i18n.text import current
from cobrowse.policy.events import as_json
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
    emit: Any = JsonLines() if args.headless else LineConsole()
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
                     emit: Any) -> tuple[str, str, str, str, float | None] | None:
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


async def wait_in_queue(customer: CustomerSession, args: argparse.Namespace) -> bool:
    """``cobrowse help``: open a session, wait in the organisation's queue showing the place,
    until an agent picks (True: the session goes on as any other, the queue handshake checks
    the agent) or the customer leaves with Ctrl-C (False: the session is closed)."""
    org = queue_org(args)
    topic = (args.topic or "").strip()
    lang = choose_language(getattr(args, "lang", None), os.environ).language.value
    options = customer.options
    shown: list[str] = []

    def position(message: env.Queued) -> None:
        line = QueuePosition(message.position, message.estimate_s, message.agents, org.name).text()
        if not shown or shown[-1] != line:
            shown.append(line)
            say(line)

    link = QueuedCustomerLink(options.relay, org=org.key_id, topic=topic, lang=lang, on_queued=position,
                              reconnect_for=options.reconnect_for, proxy=options.proxy)
    customer.link = customer.runtime.link = link
    customer.runtime.emit = refused_as_queue_warning(customer.runtime.emit, org.name)
    tr = current()
    say(str(tr(ASKING, org=org.name)))
    await start_queued(customer.runtime, org)
    offer_guides(topic)
    loop = asyncio.get_running_loop()
    waiting = asyncio.ensure_future(link.wait_for_pick())
    loop.add_signal_handler(signal.SIGINT, waiting.cancel)
    try:
        await waiting
    except asyncio.CancelledError:
        if not waiting.cancelled():
            raise
        await link.close("customer_ended")
        say(str(tr(LEFT, org=org.name)))
        return False
    finally:
        loop.remove_signal_handler(signal.SIGINT)
    say(str(tr(PICKED, org=org.name)))
    return True


#: Scores are relative to the best match: below this a guide is a guess, not an offer.
OFFER_SCORE = 0.5
OFFERS = 2


def offer_guides(topic: str) -> None:
    """While the customer waits: the playbooks that best match their topic, to try alone
    (``cobrowse guide NAME``). Ranked on this machine; nothing leaves it."""
    if not topic:
        return
    from cobrowse.io.datadir import data_dir
    from cobrowse.playbook.catalogue import SAMPLES, Catalogue

    matches = [m for m in Catalogue([data_dir() / "playbooks", SAMPLES]).search(topic, OFFERS) if m.score >= OFFER_SCORE]
    if matches:
        say(str(current()(WHILE_YOU_WAIT)))
        for match in matches:
            say(f"  cobrowse guide {match.entry.name}    {match.entry.title}")


def refused_as_queue_warning(emit: Any, org: str) -> Any:
    """A refused pick reaches the runtime as a failed attempt at a code; in the queue it is an
    agent who could not prove the organisation, and the customer keeps its place."""

    def queue_emit(event: Any) -> None:
        shape = as_json(event)
        if shape.get("event") == "warning" and shape.get("kind") == "wrong_code":
            left = "left before finishing" in str(shape.get("message", ""))
            event = QueueRefused("pick_abandoned" if left else "unverified_agent",
                                 str(current()(ABANDONED if left else REFUSED, org=org)))
        emit(event)

    return queue_emit

"""The help queue's place in a running relay: which control messages reach relay/queue.py,
the checks that need the rooms (who may queue, who may watch, which claims stand), and
the queue's part in a connection's end and in the relay's ticks. No I/O: it returns the
Output the handler applies."""

from __future__ import annotations

from typing import Any

from cobrowse.wire.envelope import PROTOCOL_VERSION, Claim, Confirm, Enqueue, Error, Message, Pick, Watch
from relay.outcome import CLOSE_POLICY, Event, Output
from relay.queue import HelpQueue
from relay.rooms import Rooms

QUEUE_MESSAGES = (Enqueue, Watch, Pick)


def queue_control(rooms: Rooms, queue: HelpQueue, conn: Any, msg: Message, now: float) -> Output:
    """An ``enqueue``, ``watch`` or ``pick`` from ``conn``."""
    if isinstance(msg, Enqueue):
        nameplate = rooms.queueable(conn)
        if nameplate is None:
            out = Output()
            out.send.append((conn, Error.of("not_queued")))
            return out
        return queue.enqueue(conn, nameplate, msg.org, msg.topic, msg.lang, now)
    if isinstance(msg, Watch):
        out = Output()
        if msg.version != PROTOCOL_VERSION:
            return _fatal(conn, "bad_version", f"relay speaks version {PROTOCOL_VERSION}")
        if rooms.attached(conn):
            out.send.append((conn, Error.of("not_queued", "a session's connection cannot watch a queue")))
            return out
        if not rooms.admits_agent(msg.token):
            return _fatal(conn, "unauthorized", why=rooms.token_refusal(msg.token))
        return queue.watch(conn, msg.org, now)
    assert isinstance(msg, Pick)
    return queue.pick(conn, msg.id, now)


def refuse_claim(queue: HelpQueue, conn: Any, msg: Message) -> Output | None:
    """A claim of a queued customer's session without the ticket of its pick: ``taken``."""
    if not isinstance(msg, Claim):
        return None
    code = queue.admit_claim(msg.nameplate, msg.ticket)
    return _fatal(conn, code, "that customer waits in the help queue: pick them first") if code else None


def after(rooms: Rooms, queue: HelpQueue, conn: Any, msg: Message, nameplate: str | None, now: float) -> Output:
    """After the rooms took ``msg``: the creator's ``confirm`` pairs a queued customer.
    ``nameplate``: the one ``conn``'s session had before (queueable)."""
    if isinstance(msg, Confirm) and nameplate is not None and queue.queued(conn) and rooms.queueable(conn) is None:
        return queue.paired(nameplate, now)
    return Output()


def _fatal(conn: Any, code: str, detail: str = "", why: dict[str, object] | None = None) -> Output:
    out = Output()
    out.send.append((conn, Error.of(code, detail)))
    out.events.append(Event("refused", None, {"code": code, "role": "agent", **(why or {})}))
    out.close.append((conn, CLOSE_POLICY, code))
    return out

"""The control envelope between a client and the relay (websocket text frames, JSON).

Binary websocket frames are opaque to the relay: it forwards them to the other side of the
session untouched. Text frames carry the control messages below; every one is a JSON object
with a ``type``. This module is shared by the relay and the clients and does no I/O.

client -> relay
    open     {role, version, token?}           create a session; answer: opened
    claim    {role, version, nameplate, token?} join a session by nameplate; answer: claimed
    resume   {nameplate, side}                  reattach after a dropped connection; answer: resumed
    close    {reason}                           end the session for both sides
    ping     {}                                 answer: pong
    report   {}                                 the customer reports this session to the relay's
                                                operator (a suspected scam); answer: reported
    confirm  {}                                 the creator's key confirmation succeeded: the claim
                                                stands (from the claimant it is ignored)
    release  {claim?}                           the pairing attempt failed before confirmation: the
                                                creator sends it to let the claimant go (the session
                                                waits again); no answer but ``released``. ``claim``:
                                                which claim (the count of ``peer joined`` the creator
                                                saw), so a late release never hits the next claimant

The help queue (docs/helpdesk.md, "The queue"; relay/queue.py):

client -> relay
    enqueue  {org, topic, lang?}               the customer (creator of an unpaired session) waits
                                                in the queue of ``org`` (an organisation key id)
    watch    {org, version, token?}            an agent's connection that serves only the queue
    pick     {id}                               from a watcher: hold that customer for me
    claim    {..., ticket}                      a picked customer's nameplate is claimed with the
                                                pick's ticket (without it: ``taken``)

relay -> client
    queued   {id, position, estimate_s?, agents} to the customer: its place, now and on changes
    queue    {org, waiting, total}              to watchers: [{id, topic, lang, waiting_s}], on changes
    picked   {id, nameplate, ticket, waited_s?} to the watcher that picked (waited_s: the customer's
                                                time in the queue until this pick)

``ice_servers`` (optional, default ``[]``): STUN/TURN servers for the sides' WebRTC, in the
RTCIceServer shape ``{"urls": [..], "username"?: .., "credential"?: ..}`` (relay/turn.py).

relay -> client
    opened   {nameplate, side, ttl, ice_servers?} ``side`` is the secret that lets this side resume
    claimed  {nameplate, side, ice_servers?}
    resumed  {nameplate, peer, ice_servers?}    ``peer``: whether the other side is attached now
    peer     {state: joined|left|back}          the other side's presence changed
    closed   {reason, message}                  the session is over (either side or the relay ended it)
    error    {code, message}                    a request failed; fatal codes close the socket
    pong     {}
    reported {nameplate}                        the report was recorded (nameplate and time only)
    released {reason, failures}                 to the creator: the claimant was let go before
                                                confirmation (``failed``, ``timeout``, ``left``); the
                                                session waits for a claim again; ``failures``: the
                                                relay's count of failed guesses on this session
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, field
from typing import Any, ClassVar, Literal

from cobrowse.wire.fields import from_json

from cobrowse import PROTOCOL_VERSION as PROTOCOL_VERSION  # re-exported: the relay may import only wire
from cobrowse.wire.frozen import frozen

Role = Literal["agent", "customer"]
ROLES: tuple[str, ...] = ("agent", "customer")
PeerState = Literal["joined", "left", "back"]

# Error codes the relay sends. Clients map them to messages a person can act on.
ERROR_CODES = {
    "unknown_nameplate": "no session with that code: check the digits, or ask for a new code",
    "expired": "that session code has expired: ask for a new code",
    "taken": "someone already joined that session: ask for a new code",
    "rate_limited": "the relay is limiting this address (too many attempts or sessions): wait and try again",
    "unauthorized": ("the relay refused this agent: it needs a valid agent token (none was given, or it is "
                     "mistyped or was revoked): ask the relay's admin for one, then pass --token or set COBROWSE_TOKEN"),
    "forbidden": "the relay does not allow this side to create sessions",
    "too_large": "a frame was larger than the relay allows",
    "malformed": "the relay could not understand a message",
    "bad_version": "this cobrowse version is not supported by the relay: upgrade cobrowse",
    "not_in_session": "open, claim or resume a session first",
    "full": "the relay is busy (at capacity): try again later",
    "bad_resume": "the relay no longer has this session (it ended while this side was away, or the relay lost it): start a new session",
    "unavailable": "the relay could not look the session up just now: trying again",
    "over_quota": "this agent token has as many live sessions as the relay allows: end one first",
    "handshake_timeout": "the relay closed a connection that did not start or join a session in time",
    "slow_consumer": "this connection did not keep up with the data sent to it; it was closed (reconnect to go on)",
    "busy": "someone else is entering a code for this session right now: try again in a few seconds",
    "too_many_attempts": "too many wrong codes were tried for this session: ask for a new code",
    "picked": "that customer was already picked by another agent, or left the queue",
    "not_queued": "that is not possible in the help queue now (only an unpaired customer session may queue)",
}

# After an error with one of these codes the relay closes the socket; the others are answers
# the client can recover from on the same connection.
FATAL_ERROR_CODES = frozenset(ERROR_CODES) - {"not_in_session", "picked", "not_queued"}
# Refusals that pass: a client that gets one keeps trying to resume (with back-off) instead
# of ending the session.
RETRY_ERROR_CODES = frozenset({"rate_limited", "full", "unavailable"})

# Why a session closed, as clients tell their users. Clients show these local texts, never
# the relay's own words: a hostile relay must not be able to put text in front of a customer.
CLOSE_REASONS = {
    "agent_ended": "the agent ended the session",
    "customer_ended": "the customer ended the session",
    "command_exited": "the customer's shared program exited",
    "ended": "the other side ended the session",
    "peer_timeout": "the other side's connection dropped and they did not come back in time: the session is over",
    "expired": "nobody joined before the session code expired: start a new session",
    # every cause of a ``scared``: a wrong code, a tampered frame, a relay or network that replays
    "scared": ("the other side's cobrowse stopped the session: a security check failed (a wrong code, or the relay "
               "or the network altering or replaying what was sent)"),
    "killed": "the relay's administrator ended the session",
    "shutdown": "the relay was stopped and ended the session: start a new session",
    "idle": "the session was idle longer than the relay allows",
    "wrong_code": "wrong code: check the digits with your agent and try again",
    "claim_timeout": "the code was not confirmed in time: check the digits with your agent and try again",
    "renewed": "the other side started over with a new code: ask for the new code",
    "relay_misbehaved": "the other side saw the relay misbehave and ended the session: start a new session, through another relay if it happens again",
}


_WORD = re.compile(r"[a-z0-9_]{1,32}")


def _word(text: str) -> str:
    match = _WORD.match(text)
    return match[0] if match else "unknown"


def describe_error(code: str, retry_after: int | None = None) -> str:
    """The local text for a relay error code (unknown codes are named, not quoted)."""
    text = ERROR_CODES.get(code) or f"the relay refused the request ({_word(code)})"
    if retry_after is not None and 0 < retry_after <= 86400:
        text += f" (try again in {retry_after} s)"
    return text


def describe_close(reason: str) -> str:
    """The local text for why the relay closed a session."""
    return CLOSE_REASONS.get(reason) or f"the relay ended the session ({_word(reason)})"


MAX_CONTROL_BYTES = 4096


class MalformedMessage(ValueError):
    """A control message is not valid JSON or not of a known shape."""


@frozen
class Message:
    type: ClassVar[str]

    def encode(self) -> str:
        body = {k: v for k, v in asdict(self).items() if v is not None}
        return json.dumps({"type": self.type, **body}, separators=(",", ":"))


@frozen
class Open(Message):
    type: ClassVar[str] = "open"
    role: str
    version: int
    token: str | None = None


@frozen
class Claim(Message):
    type: ClassVar[str] = "claim"
    role: str
    version: int
    nameplate: str
    token: str | None = None
    ticket: str | None = None  # a picked queue entry's (relay/queue.py)


@frozen
class Resume(Message):
    type: ClassVar[str] = "resume"
    nameplate: str
    side: str


@frozen
class Close(Message):
    type: ClassVar[str] = "close"
    reason: str = "ended"


@frozen
class Ping(Message):
    type: ClassVar[str] = "ping"


@frozen
class Report(Message):
    """A customer reports the session (a suspected scam). Carries nothing: the relay records
    the nameplate and the time, never content (it has none)."""

    type: ClassVar[str] = "report"


@frozen
class Confirm(Message):
    """The creator's client checked the claimant's key confirmation: the pairing stands.

    Only the creator's word counts (a claimant that could confirm itself could squat), and
    it carries nothing: the relay learns that the code was right, never a key."""

    type: ClassVar[str] = "confirm"


@frozen
class Release(Message):
    """The pairing attempt failed before confirmation: let the claimant go, keep the session.

    From the creator it detaches the claimant; from the claimant it gives up its own claim
    (as ``close`` does before confirmation). After ``confirm`` the relay ignores it: nobody
    can release a good pairing. ``claim`` names the claim (1 for the session's first): a
    release that crossed a new claim on the wire is ignored."""

    type: ClassVar[str] = "release"
    claim: int | None = None


@frozen
class Opened(Message):
    type: ClassVar[str] = "opened"
    nameplate: str
    side: str
    ttl: float
    ice_servers: list[dict[str, Any]] = field(default_factory=list)


@frozen
class Claimed(Message):
    type: ClassVar[str] = "claimed"
    nameplate: str
    side: str
    ice_servers: list[dict[str, Any]] = field(default_factory=list)


@frozen
class Resumed(Message):
    type: ClassVar[str] = "resumed"
    nameplate: str
    peer: bool
    ice_servers: list[dict[str, Any]] = field(default_factory=list)


@frozen
class Peer(Message):
    type: ClassVar[str] = "peer"
    state: str
    # with "left": seconds the relay holds the other side's place (informative: not compared)
    grace: float | None = field(default=None, compare=False)


@frozen
class Closed(Message):
    type: ClassVar[str] = "closed"
    reason: str
    message: str = ""


@frozen
class Error(Message):
    type: ClassVar[str] = "error"
    code: str
    message: str = ""
    retry_after: int | None = None  # seconds worth waiting (a limit refused), when the relay knows

    @classmethod
    def of(cls, code: str, detail: str = "") -> "Error":
        text = ERROR_CODES.get(code, code)
        return cls(code, f"{text} ({detail})" if detail else text)


@frozen
class Pong(Message):
    type: ClassVar[str] = "pong"


@frozen
class Reported(Message):
    type: ClassVar[str] = "reported"
    nameplate: str


@frozen
class Enqueue(Message):
    """The customer asks the organisation ``org`` (its key id) for help, without a code."""

    type: ClassVar[str] = "enqueue"
    org: str
    topic: str
    lang: str = ""


@frozen
class Watch(Message):
    """An agent's connection that serves the queue of ``org`` (and never joins a session)."""

    type: ClassVar[str] = "watch"
    org: str
    version: int
    token: str | None = None


@frozen
class Pick(Message):
    type: ClassVar[str] = "pick"
    id: str


@frozen
class Queued(Message):
    """To a queued customer: its place (1: next), the relay's estimate, agents watching."""

    type: ClassVar[str] = "queued"
    id: str
    position: int
    estimate_s: float | None = None
    agents: int = 0


@frozen
class QueueList(Message):
    """To the agents watching a queue: who waits (the first ``MAX_SHOWN``), how many in all."""

    type: ClassVar[str] = "queue"
    org: str
    waiting: list[dict[str, Any]] = field(default_factory=list)
    total: int = 0


@frozen
class Picked(Message):
    type: ClassVar[str] = "picked"
    id: str
    nameplate: str
    ticket: str
    waited_s: float | None = None  # the customer's time in the queue until this pick (the relay's word)


ORG_ID = re.compile(r"[0-9a-f]{16}")
ENTRY_ID = re.compile(r"[0-9a-z]{1,32}")
MAX_TOPIC = 200
MAX_LANG = 16


RELEASE_REASONS = ("failed", "timeout", "left")


@frozen
class Released(Message):
    """To the creator: its claimant was let go before confirmation; the session waits again."""

    type: ClassVar[str] = "released"
    reason: str
    failures: int = 0


CLIENT_MESSAGES: dict[str, type[Message]] = {
    m.type: m for m in (Open, Claim, Resume, Close, Ping, Report, Confirm, Release, Enqueue, Watch, Pick)
}
RELAY_MESSAGES: dict[str, type[Message]] = {
    m.type: m for m in (Opened, Claimed, Resumed, Peer, Closed, Error, Pong, Reported, Released, Queued, QueueList,
                        Picked)
}

def _decode(text: str | bytes, table: dict[str, type[Message]]) -> Message:
    if len(text) > MAX_CONTROL_BYTES:
        raise MalformedMessage(f"control message over {MAX_CONTROL_BYTES} bytes")
    try:
        obj: Any = json.loads(text)
    except RecursionError:
        raise MalformedMessage("JSON nested too deeply") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedMessage(f"not JSON: {exc}") from None
    if not isinstance(obj, dict) or not isinstance(obj.get("type"), str):
        raise MalformedMessage("expected a JSON object with a string 'type'")
    cls = table.get(obj["type"])
    if cls is None:
        raise MalformedMessage(f"unknown message type {obj['type']!r}")
    msg: Message = from_json(cls, obj, cls.type, MalformedMessage)
    _check(msg)
    return msg


def _check(msg: Message) -> None:
    role = getattr(msg, "role", None)
    if role is not None and role not in ROLES:
        raise MalformedMessage(f"{msg.type}: role must be one of {ROLES}")
    if isinstance(msg, Peer) and msg.state not in ("joined", "left", "back"):
        raise MalformedMessage("peer: unknown state")
    if isinstance(msg, Peer) and msg.grace is not None and not 0 <= msg.grace <= 86400 * 365:
        raise MalformedMessage("peer: grace out of range")
    if isinstance(msg, Released) and (msg.reason not in RELEASE_REASONS or not 0 <= msg.failures <= 1_000_000):
        raise MalformedMessage("released: unknown reason or bad failure count")
    if isinstance(msg, (Enqueue, Watch, QueueList)) and not ORG_ID.fullmatch(msg.org):
        raise MalformedMessage(f"{msg.type}: 'org' must be an organisation key id (16 hex digits)")
    if isinstance(msg, Enqueue) and (len(msg.topic) > MAX_TOPIC or len(msg.lang) > MAX_LANG):
        raise MalformedMessage(f"enqueue: topic over {MAX_TOPIC} or language over {MAX_LANG} characters")
    if isinstance(msg, (Pick, Queued, Picked)) and not ENTRY_ID.fullmatch(msg.id):
        raise MalformedMessage(f"{msg.type}: bad queue entry id")
    if isinstance(msg, Picked) and msg.waited_s is not None and not 0 <= msg.waited_s <= 86400 * 7:
        raise MalformedMessage("picked: waited_s out of range")
    if isinstance(msg, Queued) and (not 0 <= msg.position <= 1_000_000 or not 0 <= msg.agents <= 1_000_000
                                    or msg.estimate_s is not None and not 0 <= msg.estimate_s <= 86400 * 7):
        raise MalformedMessage("queued: position, agents or estimate out of range")
    if isinstance(msg, QueueList):
        check_waiting(msg.waiting)
    servers = getattr(msg, "ice_servers", None)
    if servers is not None:
        check_ice_servers(servers, msg.type)


def check_waiting(waiting: Any) -> None:
    """The entries of a ``queue`` message: what a hostile relay may send an agent is bounded."""
    if not isinstance(waiting, list) or len(waiting) > 50:
        raise MalformedMessage("queue: 'waiting' must be a list of at most 50 entries")
    for entry in waiting:
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str) or not ENTRY_ID.fullmatch(entry["id"]):
            raise MalformedMessage("queue: an entry needs an 'id'")
        if not isinstance(entry.get("topic", ""), str) or not isinstance(entry.get("lang", ""), str):
            raise MalformedMessage("queue: an entry's topic and lang must be text")
        waited = entry.get("waiting_s", 0)
        if not isinstance(waited, (int, float)) or isinstance(waited, bool) or not 0 <= waited <= 86400 * 7:
            raise MalformedMessage("queue: an entry's waiting_s is out of range")


def check_ice_servers(servers: Any, where: str = "ice_servers") -> None:
    """A list of RTCIceServer dicts: ``urls`` a string or a list of strings, optional
    string ``username``/``credential``; raise MalformedMessage otherwise (a hostile relay
    must not hand the WebRTC stack something it chokes on)."""
    if not isinstance(servers, list):
        raise MalformedMessage(f"{where}: 'ice_servers' must be a list")
    for entry in servers:
        if not isinstance(entry, dict):
            raise MalformedMessage(f"{where}: each ICE server must be an object")
        urls = entry.get("urls")
        if isinstance(urls, str):
            urls = [urls]
        if not isinstance(urls, list) or not urls or not all(isinstance(u, str) and u for u in urls):
            raise MalformedMessage(f"{where}: an ICE server's 'urls' must be a string or a list of strings")
        for key in ("username", "credential"):
            if key in entry and not isinstance(entry[key], str):
                raise MalformedMessage(f"{where}: an ICE server's {key!r} must be a string")


def decode_client(text: str | bytes) -> Message:
    """Decode a client->relay control message; raise MalformedMessage."""
    return _decode(text, CLIENT_MESSAGES)


def decode_relay(text: str | bytes) -> Message:
    """Decode a relay->client control message; raise MalformedMessage."""
    return _decode(text, RELAY_MESSAGES)

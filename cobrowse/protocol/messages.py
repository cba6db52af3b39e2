"""Application messages, carried inside sealed DATA frames.

A payload is one byte of encoding followed by the body: ``0x00`` JSON, ``0x01`` zlib-compressed
JSON (used when it pays, which screen frames usually do). The JSON is an object with ``t``
(the type) and the type's fields. Unknown types decode to ``Unknown`` so an older client can
ignore what a newer one sends; malformed payloads raise ``MalformedPayload``.

What a side accepts depends on who sent it (``DecodeLimits``): the agent's messages to the
customer never need megabytes (a playbook of a few hundred KB at most), so the customer
caps their size once inflated, per type, and how far they may inflate, so a small sealed
message cannot cost the customer's machine megabytes of JSON.
"""

from __future__ import annotations

import json
import math
import zlib
from collections.abc import Mapping
from dataclasses import field, replace
from typing import Any, ClassVar

from cobrowse.i18n.language import parse_language
from cobrowse.protocol import team_messages
from cobrowse.protocol.untrusted import Field, clean, clean_playbook, clean_steps_state
from cobrowse.protocol.message_base import AppMessage as AppMessage
from cobrowse.protocol.message_base import MalformedPayload as MalformedPayload
from cobrowse.protocol.team_messages import MAX_VIEWERS as MAX_VIEWERS
from cobrowse.protocol.team_messages import Invite as Invite
from cobrowse.protocol.team_messages import InviteCode as InviteCode
from cobrowse.protocol.team_messages import Leave as Leave
from cobrowse.protocol.team_messages import Viewers as Viewers
from cobrowse.trust.credential import STATUSES
from cobrowse.wire.fields import from_json
from cobrowse.wire.frozen import frozen

PLAIN = 0x00
ZLIB = 0x01
#: Payloads longer than this are zlib'd when that is smaller: a scrolling screen's diff of a
#: few new rows (~400 bytes) packs to ~80% (bench/cost.py: bytes to the agent ÷ bytes written).
COMPRESS_OVER = 128
MAX_PAYLOAD = 4 * 1024 * 1024
MAX_TEXT = 4096

CONSENT_LEVELS = ("view", "suggest", "control")
SUGGEST_ANSWERS = ("pasted", "declined", "refused")
MAX_REASON = 500
IDENTITY_STATUSES = STATUSES


@frozen
class Hello(AppMessage):
    """First message after pairing: who is on the other end, and what they run. ``lang``: the
    customer's language (``ru``...), so the agent shows the SAS words the customer reads; on
    receipt anything but a known code becomes ``""`` (docs/i18n.md)."""

    t: ClassVar[str] = "hello"
    role: str
    client: str
    name: str = ""
    lang: str = ""
    #: The newest screen frame format this side applies (cobrowse.screen.diff.FRAME_FORMAT;
    #: 1 when absent: clients before scroll ops).
    screen: int = 1


@frozen
class Chat(AppMessage):
    """``name``: set by the customer's client when it passes on another agent's chat (a team,
    docs/team.md); empty for the peer's own words."""

    t: ClassVar[str] = "chat"
    text: str
    name: str = ""


@frozen
class Screen(AppMessage):
    """A screen frame (snapshot or diff) as ``cobrowse.screen`` encodes it. ``ack``: the echo
    ack (mosh's ``echo_ack``): the screen shows the effect of the agent's first ``ack`` keys
    messages and no later one had reached the program (None: not said; older customers never
    say it). The agent believes it only within the keys it sent (cobrowse/screen/predict.py)."""

    t: ClassVar[str] = "screen"
    frame: dict[str, Any]
    ack: int | None = None

    def to_json(self) -> dict[str, Any]:
        """The frame as it is (JSON-safe already): ``asdict`` would deep-copy it, a tenth of
        the customer's CPU at 10 KB/s of output."""
        if self.ack is None:
            return {"t": self.t, "frame": self.frame}
        return {"t": self.t, "frame": self.frame, "ack": self.ack}


@frozen
class Resync(AppMessage):
    """The agent asks for a full snapshot (after a reconnect, or if its mirror is unsure)."""

    t: ClassVar[str] = "resync"


@frozen
class Sharing(AppMessage):
    """Whether the customer is sharing the screen now (False: paused)."""

    t: ClassVar[str] = "sharing"
    active: bool


@frozen
class RequestControl(AppMessage):
    t: ClassVar[str] = "request_control"
    level: str


@frozen
class Consent(AppMessage):
    """The customer's current consent level, sent on every change."""

    t: ClassVar[str] = "consent"
    level: str


@frozen
class Keys(AppMessage):
    """Bytes for the customer's pty, applied only under ``control`` consent. ``want_ack``: the
    agent's predictions wait for a screen frame's echo ack (``Screen.ack``) of this key, so a
    customer that sends acks sends one even with nothing new on screen (docs/protocol.md §4);
    sent only when true, ignored by older customers."""

    t: ClassVar[str] = "keys"
    data: str
    want_ack: bool = False

    def to_json(self) -> dict[str, Any]:
        if self.want_ack:
            return {"t": self.t, "data": self.data, "want_ack": True}
        return {"t": self.t, "data": self.data}


@frozen
class End(AppMessage):
    """The sender ends the session; ``reason`` is stable, ``message`` is for people."""

    t: ClassVar[str] = "end"
    reason: str
    message: str = ""
    feedback: bool = False  # the agent waits (bounded) for the customer's Feedback before closing


@frozen
class PushPlaybook(AppMessage):
    """The agent pushes a playbook (``cobrowse.playbook.playbook_to_dict``); the customer runs it."""

    t: ClassVar[str] = "playbook"
    playbook: dict[str, Any]


@frozen
class StepRequest(AppMessage):
    """The agent asks to change the step state: ``action`` mark (with ``status``), back or goto."""

    t: ClassVar[str] = "step"
    action: str
    index: int = -1
    status: str = ""


@frozen
class Steps(AppMessage):
    """The whole step state (``StepMachine.to_dict``), sent by the customer after every change."""

    t: ClassVar[str] = "steps"
    state: dict[str, Any]


@frozen
class Suggest(AppMessage):
    """A command the agent offers; the customer pastes it (never runs it), edits it or declines."""

    t: ClassVar[str] = "suggest"
    id: int
    command: str


@frozen
class SuggestAnswer(AppMessage):
    """``refused``: the customer's cobrowse would not paste it (not one printable line, or a
    full-screen program on screen); ``reason`` says why. Older agents know only
    ``pasted``/``declined`` and report ``refused`` as a malformed message."""

    t: ClassVar[str] = "suggest_answer"
    id: int
    answer: str
    reason: str = ""


@frozen
class Pointer(AppMessage):
    """The agent highlights part of the customer's screen: rows ``first..last`` (inclusive),
    or every match of ``pattern``; both empty clears it."""

    t: ClassVar[str] = "pointer"
    first: int = -1
    last: int = -1
    pattern: str = ""


@frozen
class Ping(AppMessage):
    """Measures the end-to-end round trip (through whatever path the frames take)."""

    t: ClassVar[str] = "ping"
    id: int


@frozen
class Pong(AppMessage):
    t: ClassVar[str] = "pong"
    id: int


# -- voice and the direct path (WebRTC) --------------------------------------------------

RTC_CONNECTIONS = ("data", "call")
RTC_KINDS = ("offer", "answer")
CALL_ACTIONS = ("invite", "accept", "decline", "hangup", "mute", "unmute")
MAX_SDP = 32 * 1024


@frozen
class Rtc(AppMessage):
    """WebRTC signalling (an SDP offer or answer, candidates included), sealed: the relay
    cannot swap the DTLS fingerprints in it, so the media and data paths are end to end."""

    t: ClassVar[str] = "rtc"
    pc: str
    kind: str
    sdp: str
    gen: int = 0


@frozen
class Call(AppMessage):
    """Call control between the two people: ring, answer, hang up, (un)mute."""

    t: ClassVar[str] = "call"
    action: str
    reason: str = ""


# -- redaction (issue 8) --


@frozen
class Redact(AppMessage):
    """Extra redaction patterns (regexes) from the agent's organisation; the customer masks
    their matches too (on text already redacted, so they can only hide more)."""

    t: ClassVar[str] = "redact"
    patterns: list[str]


MAX_REDACT_PATTERNS = 100
MAX_REDACT_PATTERN = 500


# recordings, receipts and the end of a session (issue 8)

FEEDBACK_SOLVED = ("yes", "no", "")
RECORDING_STATES = ("granted", "denied", "stopped")


@frozen
class Feedback(AppMessage):
    """The customer's answer to ``End(feedback=True)``: solved ``yes``/``no`` and a 1-5
    ``rating``; an empty ``solved`` and rating 0 mean skipped."""

    t: ClassVar[str] = "feedback"
    solved: str = ""
    rating: int = 0


@frozen
class RecordRequest(AppMessage):
    """The agent asks to record the session (``on``), or stops recording (``on`` false)."""

    t: ClassVar[str] = "record"
    on: bool


@frozen
class Recording(AppMessage):
    """The customer's recording consent, sent on every change: granted, denied or stopped.
    The agent's client records only between a ``granted`` and the next other state."""

    t: ClassVar[str] = "recording"
    state: str


# -- verified agent identity (issue 8) --


@frozen
class AgentProof(AppMessage):
    """The agent's organisation credential and its signature over this session's binding
    value (``cobrowse.trust``); sent right after pairing, before ``hello``."""

    t: ClassVar[str] = "agent_proof"
    credential: dict[str, Any]
    proof: str


@frozen
class IdentitySeen(AppMessage):
    """How the customer's client judged the agent (``cobrowse.trust.STATUSES``), so the
    agent knows what the customer was shown."""

    t: ClassVar[str] = "identity_seen"
    status: str
    agent: str = ""
    org: str = ""
    detail: str = ""


@frozen
class Unknown(AppMessage):
    t: ClassVar[str] = "unknown"
    type: str


MESSAGES: dict[str, type[AppMessage]] = {
    m.t: m
    for m in (Hello, Chat, Screen, Resync, Sharing, RequestControl, Consent, Keys, End, Ping, Pong,
              PushPlaybook, StepRequest, Steps, Suggest, SuggestAnswer, Pointer,
              Rtc, Call,
              Redact,
              Feedback, RecordRequest, Recording,
              AgentProof, IdentitySeen,
              Invite, InviteCode, Leave, Viewers)
}


def encode(message: AppMessage) -> bytes:
    body = json.dumps(message.to_json(), separators=(",", ":"), ensure_ascii=False).encode()
    if len(body) > COMPRESS_OVER:
        packed = zlib.compress(body, 6)
        if len(packed) < len(body):
            return bytes([ZLIB]) + packed
    return bytes([PLAIN]) + body


@frozen
class DecodeLimits:
    """How large a received payload's JSON may be: ``max_inflated`` bytes in all, ``per_type``
    bytes for the listed types (``default`` for the others), and past ``ratio_from`` bytes at
    most ``max_ratio`` times its compressed size."""

    max_inflated: int = MAX_PAYLOAD
    max_ratio: float = math.inf
    ratio_from: int = 64 * 1024
    default: int = MAX_PAYLOAD
    per_type: Mapping[str, int] = field(default_factory=dict)

    def inflate_cap(self, compressed: int) -> int:
        if self.max_ratio == math.inf:
            return self.max_inflated
        return min(self.max_inflated, max(self.ratio_from, int(compressed * self.max_ratio)))


#: The customer's side and the agent's may differ in version; these bound the agent's
#: messages, not the customer's screen frames (``FROM_CUSTOMER`` keeps the general cap).
FROM_AGENT = DecodeLimits(
    max_inflated=2 * 1024 * 1024, max_ratio=32.0, ratio_from=64 * 1024, default=64 * 1024,
    per_type={"playbook": 2 * 1024 * 1024, "keys": 256 * 1024, "redact": 256 * 1024, "rtc": 128 * 1024},
)
FROM_CUSTOMER = DecodeLimits()
#: What a side receives, by its own role.
RECEIVING = {"customer": FROM_AGENT, "agent": FROM_CUSTOMER}


def decode(payload: bytes, limits: DecodeLimits = FROM_CUSTOMER) -> AppMessage:
    if not payload:
        raise MalformedPayload("empty payload")
    encoding, body = payload[0], payload[1:]
    if encoding == ZLIB:
        inflater = zlib.decompressobj()
        cap = limits.inflate_cap(len(body))
        try:
            body = inflater.decompress(body, cap)
        except zlib.error as exc:
            raise MalformedPayload(f"bad compressed payload: {exc}") from None
        if inflater.unconsumed_tail or not inflater.eof:
            raise MalformedPayload(f"payload too large once decompressed (more than {cap} bytes from "
                                   f"{len(payload) - 1} compressed), or cut short")
    elif encoding != PLAIN:
        raise MalformedPayload(f"unknown payload encoding {encoding}")
    try:
        obj = json.loads(body)
    except RecursionError:
        raise MalformedPayload("payload JSON nested too deeply") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedPayload(f"payload is not JSON: {exc}") from None
    if not isinstance(obj, dict) or not isinstance(obj.get("t"), str):
        raise MalformedPayload("payload is not an object with a type")
    allowed = limits.per_type.get(obj["t"], limits.default)
    if len(body) > allowed:
        raise MalformedPayload(f"{obj['t'][:64]!r} message of {len(body)} bytes: at most {allowed} accepted")
    cls = MESSAGES.get(obj["t"])
    if cls is None:
        return Unknown(clean(obj["t"], Field.KIND))
    message = from_json(cls, obj, cls.t, MalformedPayload)
    _check(message)
    return untrusted_text(message)


#: The peer's free-text fields, by message type: each becomes ``SafeText`` for its field.
#: Not here, on purpose: what is matched or executed rather than read (Keys.data, Redact
#: and Pointer patterns, Suggest.command, Rtc.sdp), which their own validators check.
TEXT_FIELDS: dict[type[AppMessage], dict[str, Field]] = {
    Hello: {"name": Field.NAME, "client": Field.CLIENT},
    Chat: {"text": Field.CHAT, "name": Field.NAME},
    InviteCode: {"code": Field.KIND, "error": Field.MESSAGE},
    End: {"reason": Field.KIND, "message": Field.MESSAGE},
    Call: {"reason": Field.REASON},
    IdentitySeen: {"agent": Field.NAME, "org": Field.NAME, "detail": Field.DETAIL},
}


def untrusted_text(message: AppMessage) -> AppMessage:
    """The one door for peer text (``cobrowse.protocol.untrusted``): every string a person
    will read, escaped and capped, so no front end ever holds a raw peer string."""
    if isinstance(message, Steps):
        return replace(message, state=clean_steps_state(message.state))
    if isinstance(message, PushPlaybook):
        return replace(message, playbook=clean_playbook(message.playbook))
    if isinstance(message, Viewers):
        return team_messages.clean_viewers(message, lambda name: clean(name, Field.NAME))
    if isinstance(message, Hello) and message.lang:
        known = parse_language(message.lang)
        message = replace(message, lang=known.value if known else "")
    text_fields = TEXT_FIELDS.get(type(message))
    if not text_fields:
        return message
    return replace(message, **{name: clean(getattr(message, name), kind) for name, kind in text_fields.items()})


def _check(message: AppMessage) -> None:
    if isinstance(message, Viewers) and not team_messages.viewers_ok(message):
        raise MalformedPayload(f"viewers: at most {MAX_VIEWERS} objects with id, name, control and you")
    if isinstance(message, InviteCode) and not team_messages.invite_code_ok(message, MAX_REASON):
        raise MalformedPayload("invite_code: code or error too long, or expires_s out of range")
    if isinstance(message, Chat) and len(message.text) > MAX_TEXT:
        raise MalformedPayload("chat text too long")
    if isinstance(message, (RequestControl, Consent)) and message.level not in CONSENT_LEVELS:
        raise MalformedPayload(f"unknown consent level {message.level!r}")
    if isinstance(message, Hello) and message.role not in ("agent", "customer"):
        raise MalformedPayload("hello: unknown role")
    if isinstance(message, StepRequest) and message.action not in ("mark", "back", "goto"):
        raise MalformedPayload(f"step: unknown action {message.action!r}")
    if isinstance(message, Suggest) and (not message.command or len(message.command) > MAX_TEXT):
        raise MalformedPayload("suggest: the command must be 1-4096 characters")
    if isinstance(message, Pointer) and (len(message.pattern) > 500 or not -1 <= message.first <= message.last <= 1000):
        raise MalformedPayload("pointer: rows must be 0 <= first <= last <= 1000, pattern at most 500 characters")
    if isinstance(message, Rtc) and (message.pc not in RTC_CONNECTIONS or message.kind not in RTC_KINDS
                                     or not message.sdp or len(message.sdp) > MAX_SDP):
        raise MalformedPayload("rtc: pc must be data/call, kind offer/answer, sdp 1-32768 characters")
    if isinstance(message, Call) and (message.action not in CALL_ACTIONS or len(message.reason) > 200):
        raise MalformedPayload(f"call: unknown action {message.action!r}")
    if isinstance(message, Redact) and (
            len(message.patterns) > MAX_REDACT_PATTERNS
            or not all(isinstance(p, str) and 0 < len(p) <= MAX_REDACT_PATTERN for p in message.patterns)):
        raise MalformedPayload(f"redact: at most {MAX_REDACT_PATTERNS} patterns, strings of 1-{MAX_REDACT_PATTERN} characters")
    if isinstance(message, Feedback) and (message.solved not in FEEDBACK_SOLVED or not 0 <= message.rating <= 5):
        raise MalformedPayload("feedback: solved must be yes, no or empty and rating 0-5")
    if isinstance(message, Recording) and message.state not in RECORDING_STATES:
        raise MalformedPayload(f"recording: unknown state {message.state!r}")
    if isinstance(message, AgentProof) and len(message.proof) > 200:
        raise MalformedPayload("agent_proof: the proof is too long")
    if isinstance(message, IdentitySeen) and (message.status not in IDENTITY_STATUSES
                                               or max(len(message.agent), len(message.org)) > 64 or len(message.detail) > 500):
        raise MalformedPayload(f"identity_seen: unknown status {message.status!r} or fields too long")
    if isinstance(message, SuggestAnswer) and (message.answer not in SUGGEST_ANSWERS or len(message.reason) > MAX_REASON):
        raise MalformedPayload(f"suggest_answer: unknown answer {message.answer!r} or reason too long")

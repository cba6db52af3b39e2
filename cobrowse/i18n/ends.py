"""What the customer is told when a session ends or cannot start, in their language.

Keyed by the stable reasons and codes the runtime, the relay link and the envelope already
use (``cobrowse.io.outcome.END_MESSAGES``, ``cobrowse.wire.envelope.ERROR_CODES`` /
``CLOSE_REASONS``): the English here is the same text (a test holds them equal), so a front
end shows ``end_text(reason, tr)`` where it showed ``END_MESSAGES[reason]``. The peer's own
words (``End.message``) are never translated: they are a peer's ``SafeText``.
Pure: these are tables and functions of ``tr``.
"""

from __future__ import annotations

import functools
import re

from cobrowse.errors import (
    WRONG_CODE_MESSAGE,
    WRONG_CODE_RETRY_MESSAGE,
    CobrowseError,
    InvalidCode,
    RelayRejected,
    RelayUnavailable,
    SecurityError,
    SessionEnded,
    WrongCode,
)
from cobrowse.i18n.text import N_, Translated, Translator, current, fill

#: Why a session ended (runtime reasons and the relay's close reasons), as the customer reads it.
END_REASONS: dict[str, str] = {
    "agent_ended": N_("the agent ended the session"),
    "customer_ended": N_("you ended the session"),
    "command_exited": N_("the customer's shared program exited"),
    "ended": N_("the other side ended the session"),
    "peer_timeout": N_("the other side's connection dropped and they did not come back in time: the session is over"),
    "expired": N_("nobody joined before the session code expired: start a new session"),
    "scared": N_("the session was stopped because a security check failed"),
    "claim_timeout": N_("the code was not confirmed in time: check the digits and try again"),
    "renewed": N_("the other side started over with a new code: ask for the new code"),
    "peer_unresponsive": N_("the other side stopped acknowledging what was sent to it: the session was ended"),
    "killed": N_("the relay's administrator ended the session"),
    "shutdown": N_("the relay is shutting down: start a new session"),
    "idle": N_("the session was idle longer than the relay allows"),
    "wrong_code": N_("wrong code: check the digits with your agent and try again"),
    "connection_lost": N_("lost the connection to the relay and could not get it back: "
                          "check your network and start a new session"),
    "relay_misbehaved": N_("the other side saw the relay misbehave and ended the session: start a new session, "
                           "through another relay if it happens again"),
}

#: The relay's refusals a customer can meet (``ERROR_CODES``; agent-only ones stay English).
RELAY_ERRORS: dict[str, str] = {
    "unknown_nameplate": N_("no session with that code: check the digits, or ask for a new code"),
    "expired": N_("that session code has expired: ask for a new code"),
    "taken": N_("someone already joined that session: ask for a new code"),
    "rate_limited": N_("the relay is limiting this address (too many attempts or sessions): wait and try again"),
    "full": N_("the relay is busy (at capacity): try again later"),
    "bad_version": N_("this cobrowse version is not supported by the relay: upgrade cobrowse"),
    "bad_resume": N_("the relay no longer has this session (it ended while this side was away, or the relay lost it): "
                     "start a new session"),
    "busy": N_("someone else is entering a code for this session right now: try again in a few seconds"),
    "too_many_attempts": N_("too many wrong codes were tried for this session: ask for a new code"),
    "handshake_timeout": N_("the relay closed a connection that did not start or join a session in time"),
    "slow_consumer": N_("this connection did not keep up with the data sent to it; it was closed (reconnect to go on)"),
}


#: The refusals above when the relay said how long to wait (``RelayRejected.retry_after``).
RELAY_WAITS: dict[str, str] = {
    "rate_limited": N_("the relay is limiting this address (too many attempts or sessions): try again in {seconds} s"),
    "full": N_("the relay is busy (at capacity): try again in {seconds} s"),
}


#: What a side reads when the other side's cobrowse ended the session ``scared``
#: (``CLOSE_REASONS["scared"]``, through the relay): any of its causes, none named as certain.
PEER_SCARED = N_("the other side's cobrowse stopped the session: a security check failed (a wrong code, or the relay "
                 "or the network altering or replaying what was sent)")

#: The clients' own words for a relay's ``closed`` (``CLOSE_REASONS``, never the relay's text)
#: where they differ from the runtime's for the same reason; tests/i18n/test_close_words.py
#: holds them equal to ``CLOSE_REASONS``. Without them a customer read ``shutdown`` and
#: ``claim_timeout`` in English, whatever their language.
CLOSE_WORDS: dict[str, str] = {
    "shutdown": N_("the relay was stopped and ended the session: start a new session"),
    "claim_timeout": N_("the code was not confirmed in time: check the digits with your agent and try again"),
    "scared": PEER_SCARED,
}


#: Ends the customer caused, as the runtime and the relay word them (for the agent): the
#: customer reads them as their own (``END_REASONS``), in English as in every language.
OWN_ENDS: dict[str, str] = {"customer_ended": "the customer ended the session"}


def end_text(reason: str, tr: Translator | None = None) -> str | None:
    """The customer's sentence for an end ``reason``; ``None`` for a reason we do not know
    (show the English the runtime has, or the reason itself)."""
    tr = tr or current()
    text = END_REASONS.get(reason)
    return tr(text) if text is not None else None


#: What the customer's runtime says when the agent did not come back (``io.link.peer_timeout_message``).
AGENT_TIMED_OUT = N_("the agent's connection dropped and they did not come back in time "
                     "(their network or their app; yours is fine): the session is over")


#: What the customer's runtime says when the relay's admin ended the session (``io.outcome.KILLED_MESSAGES``).
KILLED_FOR_CUSTOMER = N_("the relay's administrator ended the session (not your agent, and nothing on your side): "
                         "to go on, call your agent back and ask for a new code")


#: The relay did what no working relay does (io/link.py, reason ``relay_misbehaved``; io/runtime.py,
#: past the replay limit: ``scared``). The runtime's English is one of these filled in
#: (``relay_english``), so a front end finds the sentence again (``relay_text``) and the
#: customer reads whose fault it was, and what to do, in their language.
RELAY_UNREADABLE = N_("the relay misbehaved: it sent more than {count} messages cobrowse cannot read within "
                      "{seconds} s (a hostile or broken relay; nothing it sent was applied, and your side and the "
                      "other side are fine): the session is over; start a new one through another relay")
RELAY_PEER_CHANGES = N_("the relay misbehaved: it sent more than {count} changes of the other side's connection "
                        "within {seconds} s (a hostile or broken relay; nothing it sent was applied, and your side "
                        "and the other side are fine): the session is over; start a new one through another relay")
RELAY_REPLAYED = N_("the relay misbehaved: it replayed or misordered more than {count} sealed frames ({kind}) within "
                    "{seconds} s; none was applied, and the other side is fine: the session is over; start a new "
                    "one through another relay")
RELAY_TEXTS = (RELAY_UNREADABLE, RELAY_PEER_CHANGES, RELAY_REPLAYED)
#: What this side says of a sealed frame it did not apply (protocol/session.py's ``Integrity``
#: details; io/runtime.py's line once more of a kind keep coming): a relay replaying or
#: reordering frames makes these (tests/i18n/test_relay_misbehaved.py holds the English equal).
FRAME_WARNINGS = (
    N_("frame #{seq} arrived again (a replay or a late retransmission); ignored"),
    N_("frame #{seq} arrived before #{expected}; not applied, asked for a resend"),
    N_("acknowledgement #{seq} arrived again; ignored"),
    N_("a sealed frame arrived before pairing; ignored"),
    N_("more frames like that ({kind}) keep arriving: ignored, and not each shown for the next {seconds} s"),
)
#: The ``warning`` kinds these are said under, and how the customer reads one as ``{kind}``
#: (the runtime's English keeps the bare kind: logs and headless events name it).
FRAME_KIND_WORDS = {
    "duplicate": N_("duplicate"),
    "gap": N_("out of order"),
    "replayed_ack": N_("repeated acknowledgement"),
    "early": N_("before pairing"),
}
FRAME_WARNING_KINDS = frozenset(FRAME_KIND_WORDS)
#: What a value of these sentences can be: a count, seconds or a frame's number, or a frame kind (a fixed word).
_RELAY_VALUE = r"[0-9]{1,20}|[a-z_]{1,20}"


def relay_english(template: str, *, count: int, seconds: float, kind: str = "") -> str:
    """The runtime's English for one of ``RELAY_TEXTS`` (logs, the agent, headless events)."""
    if template not in RELAY_TEXTS:
        raise ValueError("not a relay misbehaviour sentence")
    return fill(template, {"count": count, "seconds": f"{seconds:.0f}", "kind": kind})


def _pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"\\\{([a-z_]+)\\\}", re.escape(template))
    return re.compile("".join(f"(?P<{part}>{_RELAY_VALUE})" if i % 2 else part for i, part in enumerate(parts)))


@functools.cache
def _patterns(frames: bool) -> tuple[tuple[str, re.Pattern[str]], ...]:
    """Compiled on the first misbehaving relay, not at import (~2 ms of the join's start-up)."""
    return tuple((template, _pattern(template)) for template in (FRAME_WARNINGS if frames else RELAY_TEXTS))


def _found_again(message: str, patterns: tuple[tuple[str, re.Pattern[str]], ...], tr: Translator) -> Translated | None:
    for template, pattern in patterns:
        match = pattern.fullmatch(message)
        if match is None:
            continue
        values: dict[str, str] = match.groupdict()
        if "kind" in values:
            word = FRAME_KIND_WORDS.get(values["kind"])
            if word is None:
                return None  # a kind no runtime says: shown as it came
            values["kind"] = tr(word)
        return tr(template, **values)
    return None


def relay_text(message: str, tr: Translator | None = None) -> Translated | None:
    """Our sentence for ``message`` when it is the runtime's English for a misbehaving relay
    (``relay_english``); None for anything else (it is shown as it came)."""
    return _found_again(message, _patterns(False), tr or current())


def frame_warning_text(kind: str, message: str, tr: Translator | None = None) -> Translated | None:
    """Our sentence for a ``warning`` of ``kind`` whose ``message`` is one of ``FRAME_WARNINGS``
    as the runtime says it; None for anything else."""
    if kind not in FRAME_WARNING_KINDS:
        return None
    return _found_again(message, _patterns(True), tr or current())


def ended_text(reason: str, message: str, tr: Translator | None = None) -> str:
    """An ``ended`` event's line: our sentence for ``reason`` when ``message`` is the
    runtime's stock English for it; anything else (the agent's own words, a guide's summary)
    is shown as it came, never looked up as a msgid."""
    tr = tr or current()
    if reason == "peer_timeout" and message == AGENT_TIMED_OUT:
        return tr(AGENT_TIMED_OUT)
    if reason == "killed" and message == KILLED_FOR_CUSTOMER:
        return tr(KILLED_FOR_CUSTOMER)
    if reason in ("relay_misbehaved", "scared") and (relayed := relay_text(message, tr)) is not None:
        return relayed
    if reason in CLOSE_WORDS and message == CLOSE_WORDS[reason]:
        return tr(CLOSE_WORDS[reason])  # our literal, never the message itself
    if not message or message == END_REASONS.get(reason) or message == OWN_ENDS.get(reason):
        return end_text(reason, tr) or message
    return message


def wrong_code_text(role: str = "customer", tr: Translator | None = None) -> str:
    """What the side that typed a rejected code is told (the customer: check with the agent)."""
    tr = tr or current()
    if role == "customer":
        return tr(N_("wrong code: check the digits with your agent and try again "
                     "(if the right code keeps failing, someone may be intercepting: ask for a new code)"))
    return WRONG_CODE_RETRY_MESSAGE.replace("your agent", "the customer")


def error_text(error: CobrowseError, tr: Translator | None = None) -> str:
    """The one line a customer reads for ``error``: translated by kind, with the technical
    detail (an address, the proxy, the OS's words) kept after it in English, isolated."""
    tr = tr or current()
    detail = str(error)
    if isinstance(error, WrongCode):
        return tr(WRONG_CODE_MESSAGE) if detail == WRONG_CODE_MESSAGE else wrong_code_text("customer", tr)
    if isinstance(error, RelayRejected) and error.code in RELAY_ERRORS:
        if error.retry_after is not None and error.code in RELAY_WAITS:
            return tr(RELAY_WAITS[error.code], seconds=str(error.retry_after))
        return tr(RELAY_ERRORS[error.code])
    if isinstance(error, (RelayRejected, SecurityError)) and (relayed := relay_text(detail, tr)) is not None:
        return relayed
    if isinstance(error, SessionEnded) and error.reason in END_REASONS:
        return tr(END_REASONS[error.reason])
    if tr.language == "en":
        return detail
    if isinstance(error, RelayUnavailable):
        return tr("cannot reach the cobrowse relay: check your network, or ask your agent ({detail})", detail=detail)
    if isinstance(error, InvalidCode):
        return tr("that is not a valid session code: a code is digits like {example}; "
                  "ask your agent to read it again ({detail})", example="42-7193-0518", detail=detail)
    return tr("cobrowse stopped: {detail}", detail=detail)

"""A joining side's first claim, retried through the relay's refusals that pass.

``busy``: someone else is entering a code for this session (a squatter is let go within
the relay's claim timeout); ``unavailable``: a relay node could not look the session up in
its shared store (Redis) just now. Neither says the code is wrong, so the claimant waits
and tries again, bounded, telling its user each time; any other refusal is final.
"""

from __future__ import annotations

import asyncio
import os
import random
from typing import Awaitable, Callable, Sequence

from cobrowse.crypto.handshake import Handshake, Prepared
from cobrowse.errors import RelayRejected, RelayUnavailable
from cobrowse.io.link import RelayLink
from cobrowse.policy.events import Event
from cobrowse.policy.session_events import SessionWarning, WarningKind
from cobrowse.protocol.session import Session
from cobrowse.wire.backoff import reconnect_delay
from cobrowse.wire.code import Code
from cobrowse.wire.proxy import ProxyChoice

#: How long a claimant keeps retrying refusals that pass.
BUSY_RETRY_FOR = 30.0
BUSY_RETRY_EVERY = 2.0
#: What the joining side is told while it waits, and once it gives up on ``unavailable``.
JOIN_RETRY = {
    "busy": "someone else is entering a code for this session right now; trying again",
    "unavailable": "the relay could not look the session up just now (its shared store did not answer); "
                   "trying again in {delay:.1f} s (attempt {attempt})",
}
JOIN_UNAVAILABLE = ("the relay could not look the session up for {span:.0f} s (its shared store does not answer): "
                    "try again in a minute; if it keeps happening, tell the relay's operator")

#: The side that typed the code, when the relay restarted before the other side confirmed it
#: (a claim on probation is not kept across a restart; the other side waits for a claim again).
CLAIM_LOST = "the relay restarted while your code was being checked, and claiming it again failed"
RECLAIMING = ("the relay restarted before the other side confirmed your code: entering it again "
              "(compare the words shown next, not earlier ones)")
#: Claims again after such a restart, per session (each may cost the creator a guess).
RECLAIMS = 2


def retry_delay(code: str, attempt: int, rng: Callable[[], float]) -> float:
    """The wait before claim attempt ``attempt + 1`` (1-based ``attempt``): ``busy`` on a fixed
    beat, ``unavailable`` with the reconnect back-off from its 0.8 s step (0.4 to 10 s)."""
    return BUSY_RETRY_EVERY if code == "busy" else reconnect_delay(attempt + 2, rng)


async def claim_retrying(link: RelayLink, nameplate: str, emit: Callable[[Event], None],
                         retry_for: float = BUSY_RETRY_FOR, then: Sequence[bytes] = (),
                         first: Awaitable[None] | None = None) -> None:
    """``link.claim(nameplate, then)``, retried on ``busy``/``unavailable`` for up to
    ``retry_for`` s (``then``: frames sent right behind each claim, see ``Session.begin``;
    ``first``: the first attempt, already under way: an early claim's)."""
    loop = asyncio.get_running_loop()
    give_up_at = loop.time() + retry_for
    attempt = 0
    while True:
        try:
            if first is not None:
                attempt_now, first = first, None
                await attempt_now
            else:
                await link.claim(nameplate, then)
            return
        except RelayRejected as exc:
            if exc.code not in JOIN_RETRY:
                raise
            attempt += 1
            delay = retry_delay(exc.code, attempt, random.random)
            if loop.time() + delay > give_up_at:
                if exc.code == "unavailable":
                    raise RelayRejected("unavailable", JOIN_UNAVAILABLE.format(span=retry_for)) from None
                raise
            emit(SessionWarning(WarningKind(exc.code), retry_in_s=round(delay, 1), attempt=attempt,
                                message=JOIN_RETRY[exc.code].format(delay=delay, attempt=attempt)))
            await asyncio.sleep(delay)


_prepared: Prepared | None = None


def prepare() -> None:
    """Do the password-independent half of this process's next claim's SPAKE2 message now
    (``cobrowse join`` while the code is typed: cobrowse.cli.code_prompt); fresh randomness."""
    global _prepared
    _prepared = Prepared(os.urandom)


def _claim_session(role: str, code: Code) -> Session:
    """A fresh handshake for a claim: the prepared half if there is one (used once)."""
    global _prepared
    prepared, _prepared = _prepared, None
    if prepared is None:
        return Session(role, code, os.urandom)
    return Session(role, code, os.urandom,
                   handshake=lambda: Handshake(role, code, os.urandom, prepared=prepared))


class EarlyClaim:
    """A claim sent as soon as ``cobrowse join CODE`` had its settings (cobrowse.cli.early_claim),
    before the ~30 ms of imports the session's runtime needs (the screen, the pty, the policy,
    the plain front end): the relay and the agent answer while those load. The same claim and
    SPAKE2 message the runtime's ``join`` would send, on the link the runtime then uses
    (:func:`early_link`): only when it went out moved."""

    def __init__(self, link: RelayLink, code: Code) -> None:
        self.link = link
        self.code = code
        self.session = _claim_session(link.role, code)
        self.frames = self.session.begin()
        self.task: asyncio.Future[None] = asyncio.ensure_future(link.claim(code.nameplate, self.frames))
        self.adopted = False


_early: EarlyClaim | None = None


def claim_early(link: RelayLink, code: Code) -> EarlyClaim:
    """Send the claim of ``code`` on ``link`` now (a task); the runtime built for the same relay
    and proxy takes it over (:func:`early_link`, ``Claimant.join``), else :func:`drop_early`."""
    global _early
    _early = EarlyClaim(link, code)
    return _early


def early_link(url: str, proxy: ProxyChoice | None, reconnect_for: float) -> RelayLink | None:
    """The early claim's link when a session is built for the same relay, proxy and reconnect
    span (the customer's ``CustomerSession``); None otherwise (it makes its own)."""
    early = _early
    if early is None or early.adopted or proxy is None:
        return None
    link = early.link
    if link.url != url or link.proxy != proxy or link.reconnect_for != reconnect_for:
        return None
    return link


def _take_early(code: Code, link: RelayLink) -> EarlyClaim | None:
    """The early claim of ``code`` if it went out on ``link`` (once)."""
    early = _early
    if early is None or early.adopted or early.link is not link or early.code != code:
        return None
    early.adopted = True
    return early


async def drop_early() -> None:
    """End of the command: an early claim nobody took over (the command failed before its
    join) gives its claim up, as a join that stops at once does; bounded by ``link.close``."""
    global _early
    early, _early = _early, None
    if early is None or early.adopted:
        return
    if not early.task.done():
        early.task.cancel()
    try:
        await early.task
    except (Exception, asyncio.CancelledError):  # whatever the claim met, nobody reports it now
        pass
    await early.link.close("ended")


class Claimant:
    """The side that types the code: its claim, and its claim made again when the relay lost
    it before the creator confirmed it (a relay restart keeps only confirmed claims). A
    mixin of ``SessionRuntime`` (``cobrowse.io.runtime``), which provides what is declared."""

    role: str
    link: RelayLink
    session: Session | None
    code: Code | None
    emit: Callable[[Event], None]
    join_retry_for: float
    _reclaims: int
    _link_task: asyncio.Task[None]

    async def join(self, code: Code) -> None:
        """Claim the session; refusals that pass (``busy``, ``unavailable``) are retried for
        up to ``join_retry_for`` s, each wait reported."""
        early = _take_early(code, self.link)
        if early is not None:  # sent before this process imported the session's modules
            session = early.session
            await claim_retrying(self.link, code.nameplate, self.emit, self.join_retry_for, early.frames, early.task)
        else:
            session = _claim_session(self.role, code)
            await claim_retrying(self.link, code.nameplate, self.emit, self.join_retry_for, session.begin())
        self.code = code
        self.session = session

    async def _claim_again(self) -> RelayRejected | RelayUnavailable | None:
        """Claim our code again with a fresh handshake (the relay lost our unconfirmed claim);
        the refusal if that failed."""
        assert self.code is not None
        self._reclaims += 1
        self.emit(SessionWarning(WarningKind.RECLAIM, message=RECLAIMING))
        session = Session(self.role, self.code, os.urandom)
        try:
            await claim_retrying(self.link, self.code.nameplate, self.emit, self.join_retry_for, session.begin())
        except (RelayRejected, RelayUnavailable) as exc:
            return exc
        self.session = session
        self._link_task = asyncio.create_task(self.link.run(), name="link")
        return None

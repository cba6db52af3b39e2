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
from typing import Callable, Sequence

from cobrowse.crypto.handshake import Handshake, Prepared
from cobrowse.errors import RelayRejected, RelayUnavailable
from cobrowse.io.link import RelayLink
from cobrowse.policy.events import Event
from cobrowse.policy.session_events import SessionWarning, WarningKind
from cobrowse.protocol.session import Session
from cobrowse.wire.backoff import reconnect_delay
from cobrowse.wire.code import Code

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
                         retry_for: float = BUSY_RETRY_FOR, then: Sequence[bytes] = ()) -> None:
    """``link.claim(nameplate, then)``, retried on ``busy``/``unavailable`` for up to
    ``retry_for`` s (``then``: frames sent right behind each claim, see ``Session.begin``)."""
    loop = asyncio.get_running_loop()
    give_up_at = loop.time() + retry_for
    attempt = 0
    while True:
        try:
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

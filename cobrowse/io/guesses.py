"""Wrong codes cost the guesser, never this side: the creator's part of a session runtime.

When the side that created the session sees a claimant fail key confirmation (or leave after
making its guess), it tells the relay to let that claimant go and starts a fresh attempt on
the same code; after ``max_attempts`` guesses it opens a fresh code on its own. The side that
typed the wrong code ends with "wrong code: check the digits". A mixin of ``SessionRuntime``
(``cobrowse.io.runtime``), which provides the link, the session and ``emit``/``finish``.
"""

from __future__ import annotations

import os
import secrets
from typing import TYPE_CHECKING, Callable

from cobrowse.errors import RelayRejected, RelayUnavailable
from cobrowse.io.link import ClaimReleased, RelayLink
from cobrowse.policy.events import Event
from cobrowse.policy.session_events import CodeShown, ErrorKind, SessionError, SessionWarning, WarningKind
from cobrowse.protocol.session import Session
from cobrowse.wire.code import Code, new_secret


class CodeGuesses:
    role: str
    link: RelayLink
    session: Session | None
    code: Code | None
    created: bool
    failed_attempts: int
    max_attempts: int
    emit: Callable[[Event], None]

    if TYPE_CHECKING:  # provided by SessionRuntime, the class this mixes into
        @property
        def paired(self) -> bool: ...

        def finish(self, reason: str, message: str, exit_code: int) -> None: ...

        def code_event(self, *, renewed: bool = False) -> CodeShown: ...

    async def _attempt_failed(self) -> bool:
        """Key confirmation failed before pairing. The creator lets the claimant go and keeps
        waiting (True); the side that typed the code ends with "wrong code" (False)."""
        if not self.created:
            from cobrowse.io.runtime import EXIT_SECURITY, wrong_code_message

            message = wrong_code_message(self.role)
            self.emit(SessionError(message, ErrorKind.WRONG_CODE))
            await self.link.close("wrong_code")
            self.finish("wrong_code", message, EXIT_SECURITY)
            return False
        self._count_guess("someone tried a wrong code")
        if self.failed_attempts >= self.max_attempts:
            return await self._renew()
        await self.link.release()  # the relay answers "released"; then a fresh attempt starts
        return True

    def _count_guess(self, what: str) -> None:
        self.failed_attempts += 1
        n, limit = self.failed_attempts, self.max_attempts
        tail = "; a new code follows" if n >= limit else "; the session is still open"
        self.emit(SessionWarning(WarningKind.WRONG_CODE, attempt=n, limit=limit, message=f"{what} (attempt {n} of {limit}){tail}"))

    async def _renew(self) -> bool:
        """Too many guesses at this code: open a fresh one (new nameplate, new secret) and end
        the old session. False if the relay refused (the session is then over)."""
        from cobrowse.io.runtime import exit_code_for

        try:
            nameplate = await self.link.reopen()
        except (RelayRejected, RelayUnavailable) as exc:
            self.emit(SessionError(str(exc)))
            self.finish("renew_failed", f"could not open a new code: {exc}", exit_code_for(exc))
            return False
        self.code = Code(nameplate, new_secret(secrets.randbelow))
        self.session = Session(self.role, self.code, os.urandom)
        self.failed_attempts = 0
        self.emit(self.code_event(renewed=True))
        return True

    async def _released(self, item: ClaimReleased) -> None:
        """The relay let our claimant go before confirmation: start a fresh attempt."""
        session = self.session
        if session is None or not self.created:
            return
        from cobrowse.io.runtime import EXIT_FAILED

        if self.paired:  # the relay gave up on a pairing we had confirmed: it cannot go on
            self.finish("claim_timeout", "the relay let the other side go before it saw the pairing confirmed",
                        EXIT_FAILED)
            return
        if not session.retryable and session.peer_tried:
            self._count_guess("someone entered a code and left before finishing")
        elif item.reason == "timeout" and not session.retryable:
            self.emit(SessionWarning(WarningKind.CLAIM, message="someone held the session code without entering it; "
                                                                "the relay let them go"))
        if max(self.failed_attempts, item.failures) >= self.max_attempts:
            await self._renew()
            return
        session.reset()

"""The customer app's session, opened before the app is imported.

``cobrowse join CODE`` on a terminal runs the Textual app, whose import (~185 ms) and start-up
(~80 ms) used to come before the relay was touched: the agent waited for Textual. Now the
command opens the session first (the pre-connected socket's upgrade, the claim with the
customer's SPAKE2 message, the shared program on its pty) and imports the app while the
agent answers; the app (tui/customer_run.py) takes the open session over and shows what
happened meanwhile, in order. The session is the one every front end uses
(:class:`CustomerSession`): the same pairing, key confirmation, consent and redaction; only
the moment it starts moved. Whatever opening raised (the relay down, an unknown or expired
code) is raised again where the app used to open the session itself, so the app reports it
exactly as before.
"""

from __future__ import annotations

import asyncio
import collections
from typing import Callable

from cobrowse.io.customer_session import CustomerOptions, CustomerSession
from cobrowse.io.pty import PtyProcess
from cobrowse.io.outcome import EXIT_OK, Outcome
from cobrowse.policy.events import Event
from cobrowse.policy.session_events import PeerHello, SessionEnded, SessionError
from cobrowse.wire.code import Code

#: Events kept until the app shows them (it takes a few hundred ms to start); a peer that
#: sends more in that time loses the oldest (a question it asked is then denied by timeout).
MAX_HELD = 2048

#: The shell pane's size in a terminal of ``cols`` × ``rows`` (tui/customer.tcss: the banner and
#: the status line, one row each, around a borderless pane; below NARROW columns the status
#: line is hidden). A wrong guess only costs a resize once the app has laid the pane out.
NARROW = 80
#: How long :meth:`EarlyJoin.paired` waits at most.
PAIRING_WAIT = 0.3
#: How long :meth:`EarlyJoin.opened` waits at most for the relay's answer to the claim.
CLAIM_WAIT = 3.0


def pane_size(cols: int, rows: int) -> tuple[int, int]:
    """The pty size the app's shell pane will have in a ``cols`` × ``rows`` terminal."""
    return max(2, cols), max(2, rows - (1 if cols < NARROW else 2))


class HeldEvents:
    """The session's ``emit`` until the app is up: events kept in order, then passed on."""

    def __init__(self) -> None:
        self._held: collections.deque[Event] = collections.deque(maxlen=MAX_HELD)
        self._to: Callable[[Event], None] | None = None
        #: Set once the agent's hello came (the session paired, and its own hello and first screen
        #: went out before it: one task handles both in order), or the session ended or failed.
        self.settled = asyncio.Event()

    def __call__(self, event: Event) -> None:
        if isinstance(event, (PeerHello, SessionEnded, SessionError)):
            self.settled.set()
        if self._to is None:
            self._held.append(event)
        else:
            self._to(event)

    def release(self, to: Callable[[Event], None]) -> None:
        """Show what came so far through ``to``, and everything after it directly."""
        self._to = to
        while self._held:
            to(self._held.popleft())


class EarlyJoin:
    """A customer session opening (``code``: join; None: create) and its program starting,
    before the front end exists. :meth:`take` hands both over; :meth:`close` ends them if
    the front end never started."""

    def __init__(self, options: CustomerOptions, code: Code | None, argv: list[str], cols: int, rows: int,
                 env: dict[str, str] | None = None) -> None:
        self.events = HeldEvents()
        self.size = (cols, rows)
        self.customer = CustomerSession(options, self.events, cols, rows)
        self._opening: asyncio.Task[tuple[Code | None, PtyProcess]] = asyncio.ensure_future(
            self._open(code, argv, cols, rows, env))
        self._taken = False
        #: Why the customer's terminal went away while the session opened (``end``), if it did.
        self.gone: str | None = None
        self._ending: asyncio.Task[Outcome | None] | None = None

    async def _open(self, code: Code | None, argv: list[str], cols: int, rows: int,
                    env: dict[str, str] | None) -> tuple[Code | None, PtyProcess]:
        customer = self.customer
        try:
            opened = await customer.open(code)
        except BaseException:
            await customer.abandon()
            raise
        process = await customer.spawn(argv, cols, rows, env=env)  # a failure abandons the session
        # until the app draws it, the output still goes to the agent (and the pane's emulator)
        process.set_output_handler(customer.runtime.program_output)
        return opened, process

    async def paired(self, timeout: float) -> None:
        """Until the joined session paired and sent its first screen, failed, or ``timeout`` s
        passed. The app's start-up holds the event loop for tens of milliseconds: started after
        this, it no longer sits between the agent's key exchange and its first screen (when the
        code was typed at cobrowse's prompt, the app's import is long done by then)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        settled = asyncio.ensure_future(self.events.settled.wait())
        opening = self._opening
        try:
            await asyncio.wait((settled, opening), timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
            if opening.done() and not opening.cancelled() and opening.exception() is None:
                await asyncio.wait((settled,), timeout=max(0.0, deadline - loop.time()))  # now the pairing
        finally:
            settled.cancel()

    async def opened(self, timeout: float) -> BaseException | None:
        """Until the claim was answered and the program started, or ``timeout`` s passed: what
        opening raised, if it failed (a code typed at the prompt is asked again when the relay
        knows no session for it, before any app starts: cobrowse.cli.code_prompt)."""
        opening = self._opening
        await asyncio.wait((opening,), timeout=timeout)
        if not opening.done() or opening.cancelled():
            return None
        return opening.exception()

    async def take(self) -> tuple[Code | None, PtyProcess]:
        """The session's code and its program, once open; raises what opening raised."""
        self._taken = True
        return await self._opening

    def end(self, message: str) -> None:
        """The customer's terminal went away (SIGHUP, SIGTERM) before the app could watch it:
        end the session properly now (the agent is told), once."""
        if self.gone is None:
            self.gone = message
            self._ending = asyncio.ensure_future(self._close(message))

    async def ended(self) -> Outcome:
        """After :meth:`end`: how the session ended."""
        assert self._ending is not None
        self._taken = True
        return await self._ending or Outcome("customer_ended", self.gone or "", EXIT_OK)

    async def close(self, message: str = "") -> Outcome | None:
        """After the front end: end the session and the program if they still run (the app
        never started, or it closed before it ran them), bounded; a no-op after a normal end."""
        if self._ending is not None:
            return await self._ending
        return await self._close(message)

    async def _close(self, message: str) -> Outcome | None:
        opening = self._opening
        if not opening.done():
            opening.cancel()
        await asyncio.gather(opening, return_exceptions=True)
        if opening.cancelled() or opening.exception() is not None:
            return None
        return await self.customer.close(message)

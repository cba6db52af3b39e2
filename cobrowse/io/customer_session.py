"""One customer session, wired once: plain mode (`join`, `share`, `guide --plain`) and the app
(`join`, `share`, `guide`) open, run and close it here instead of three times over.

The front end keeps what is its own (how the program's output reaches the customer's
terminal, how keys come in, what is drawn); this module owns the order of things: the relay
link and the runtime with the customer's settings and receipt, joining or creating, the
shared program, guide mode's time alone (until Ctrl-] ! asks for help), the race between the
program exiting and the session ending, and a bounded, tidy close.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Awaitable, Callable, Sequence

from cobrowse.errors import CobrowseError
from cobrowse.i18n.notices import guide_over
from cobrowse.i18n.text import current
from cobrowse.io.customer import CustomerRuntime
from cobrowse.io.customer_team import CustomerTeam
from cobrowse.io.joining import early_link
from cobrowse.io.keeping import customer_trail
from cobrowse.io.link import RelayLink
from cobrowse.io.pty import PtyProcess
from cobrowse.io.runtime import EXIT_OK, Emit, Outcome
from cobrowse.playbook import Playbook
from cobrowse.policy.customer_events import EndGuide, GetHelp
from cobrowse.trust import OrgTrust
from cobrowse.trust.tripwire import COOLDOWN
from cobrowse.voice.settings import RtcSettings
from cobrowse.wire.code import Code
from cobrowse.wire.proxy import ProxyChoice
from cobrowse.wire.frozen import frozen, mutable

logger = logging.getLogger(__name__)

#: How long closing waits for the session to end properly (the peer told, the link closed).
CLOSE_GRACE = 3.0


@frozen
class CustomerOptions:
    """The customer's settings, as every front end reads them (flags > env > file)."""

    relay: str
    reconnect_for: float = 60.0
    proxy: ProxyChoice | None = None
    consent_timeout: float = 30.0
    name: str = ""
    rtc: RtcSettings | None = None
    redact_patterns: Sequence[str] = ()
    trusted: Sequence[OrgTrust] = ()
    control_cooldown: float = COOLDOWN
    #: The front end shows what changed while sharing was paused before it resumes
    #: (``ResumeReview``); plain mode does, the app once it has the dialog.
    review_resume: bool = False


@mutable
class GuideHooks:
    """What a front end shows while guide mode creates a session (all optional)."""

    creating: Callable[[], None] = lambda: None
    created: Callable[[Code], None] = lambda code: None
    failed: Callable[[CobrowseError], None] = lambda exc: None
    code_again: Callable[[Code], None] = lambda code: None


#: Event-loop turns a joined session may take to send its key exchange before the program is
#: forked (the link task and the consumer start, the relay's "peer present" is applied).
EARLY_TURNS = 6


class CustomerSession:
    def __init__(self, options: CustomerOptions, emit: Emit, cols: int, rows: int, *,
                 guide: Playbook | None = None, hooks: GuideHooks | None = None) -> None:
        self.options = options
        self.guide = guide
        self.hooks = hooks or GuideHooks()
        self.link = early_link(options.relay, options.proxy, options.reconnect_for) or RelayLink(  # `join CODE`'s claim may be out already
            options.relay, "customer", None, reconnect_for=options.reconnect_for, proxy=options.proxy)
        self.runtime = CustomerRuntime(self.link, customer_trail(emit), cols=cols, rows=rows,
                                       consent_timeout=options.consent_timeout, name=options.name, ask_feedback=True,
                                       rtc=options.rtc, redact_patterns=options.redact_patterns,
                                       trusted=options.trusted, control_cooldown=options.control_cooldown,
                                       guide=guide is not None)
        self.runtime.on_guide = self._guide_effect
        self.runtime.policy.review_resume = options.review_resume
        self.runtime.lang = current().language.value  # the agent shows the SAS words the customer reads
        #: Other agents invited into this session (docs/team.md), each on its own pairing.
        self.team = CustomerTeam(self.runtime, self.runtime.emit, relay=options.relay,
                                 reconnect_for=options.reconnect_for, proxy=options.proxy,
                                 consent_timeout=options.consent_timeout, rtc=options.rtc,
                                 redact_patterns=options.redact_patterns, trusted=options.trusted,
                                 control_cooldown=options.control_cooldown)
        self.process: PtyProcess | None = None
        self._help = asyncio.Event()
        self._stop = asyncio.Event()
        self._session: asyncio.Task[Outcome] | None = None

    @property
    def alone(self) -> bool:
        """Guide mode before the customer asked for help: no session, no relay."""
        return self.guide is not None and self.runtime.session is None

    async def open(self, code: Code | None) -> Code | None:
        """Join with ``code``, or create a session (its code); guide mode waits for Ctrl-] !."""
        if self.guide is not None:
            return None
        if code is not None:
            await self.runtime.join(code)
            return code
        return await self.runtime.create()

    async def spawn(self, argv: list[str], cols: int, rows: int, env: dict[str, str] | None = None) -> PtyProcess:
        """Start the shared program; a failure closes the relay session it would have joined.
        A joined session starts running first; its SPAKE2 message already went out with its
        claim (``Session.begin``), so the agent's side of the exchange overlaps the fork (8-20
        ms, the event loop blocked)."""
        session = self.runtime.session
        if self.guide is None and session is not None and self._session is None:
            self._session = asyncio.ensure_future(self.runtime.run())
            for _ in range(EARLY_TURNS):
                if session.state != "know_code":
                    break
                await asyncio.sleep(0)
        try:
            process = await PtyProcess.spawn(argv, cols, rows, env=env)
        except BaseException:
            await self.abandon()
            raise
        self.process = process
        self.runtime.write_program = process.write
        if self.guide is not None:
            self.runtime.start_playbook(self.guide)
        return process

    async def abandon(self) -> None:
        """Opening failed: let the relay session go (nothing ran yet)."""
        session, self._session = self._session, None
        if session is not None:
            session.cancel()
            await asyncio.gather(session, return_exceptions=True)
        if self.guide is None:
            await self.link.close("ended")

    def _guide_effect(self, effect: GetHelp | EndGuide) -> None:
        if isinstance(effect, EndGuide):
            self._stop.set()
        else:
            self.ask_for_help()

    def ask_for_help(self) -> None:
        """Guide mode's Ctrl-] !: create a session (once), or show its code again."""
        if self.guide is None:
            return
        if self.runtime.session is None:
            self._help.set()
        elif self.runtime.code is not None:
            self.hooks.code_again(self.runtime.code)

    async def run(self, program: Awaitable[int], *, ended: Awaitable[str] | None = None) -> Outcome:
        """Until the session ends, the program exits, or ``ended`` (the front end is going: its
        result says why) completes; then end what still runs, bounded (the team's other
        pairings too)."""
        try:
            return await self._run(program, ended)
        finally:
            outcome = self.runtime.outcome
            await self.team.close(*((outcome.reason, outcome.message) if outcome is not None else ()))

    async def _run(self, program: Awaitable[int], ended: Awaitable[str] | None) -> Outcome:
        watch = asyncio.ensure_future(program)
        gone = asyncio.ensure_future(ended) if ended is not None else None
        try:
            if self.guide is not None:
                outcome = await self._alone(watch, gone)
                if outcome is not None:
                    return outcome
            session = self._session = self._session or asyncio.ensure_future(self.runtime.run())
            waits: set[asyncio.Future[Any]] = {session, watch}
            if gone is not None:
                waits.add(gone)
            done, _ = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            if session in done:
                return session.result()
            if watch in done:
                status = watch.result() if not watch.cancelled() and watch.exception() is None else -1
                await self.runtime.program_exited(status)
                return await session
            assert gone is not None
            return await self.close(gone.result())
        finally:
            if gone is not None:
                gone.cancel()

    async def _alone(self, watch: asyncio.Future[int], gone: asyncio.Future[str] | None) -> Outcome | None:
        """Guide mode before any session: the program exits or the customer ends (an Outcome),
        or Ctrl-] ! asks for help (the session is created: None)."""
        while True:
            self._help.clear()
            helped = asyncio.ensure_future(self._help.wait())
            stop = asyncio.ensure_future(self._stop.wait())
            waits: set[asyncio.Future[Any]] = {watch, helped, stop}
            if gone is not None:
                waits.add(gone)
            try:
                await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            finally:
                helped.cancel()
                stop.cancel()
            steps = self.runtime.steps.summary() if self.runtime.steps is not None else None
            if watch.done():
                status = watch.result() if not watch.cancelled() and watch.exception() is None else -1
                return Outcome("command_exited", guide_over(True, status, steps), EXIT_OK)
            if self._stop.is_set() or (gone is not None and gone.done()):
                return Outcome("customer_ended", guide_over(False, 0, steps), EXIT_OK)
            self.hooks.creating()
            try:
                code = await self.runtime.create()
            except CobrowseError as exc:
                self.hooks.failed(exc)
                continue
            self.hooks.created(code)
            return None

    async def close(self, message: str = "") -> Outcome:
        """End the session if it still runs (bounded), and stop the shared program."""
        runtime, session = self.runtime, self._session
        if session is not None and not session.done():
            try:
                async with asyncio.timeout(CLOSE_GRACE):
                    await runtime.end("customer_ended", message)
                    await session
            except BaseException:
                session.cancel()
                await asyncio.gather(session, return_exceptions=True)
        runtime.write_program = lambda data: None
        process, self.process = self.process, None
        if process is not None:
            try:
                await process.terminate()
            except Exception:
                logger.debug("terminating the shared program failed", exc_info=True)
        return runtime.outcome or Outcome("customer_ended", message or "the session was closed", EXIT_OK)

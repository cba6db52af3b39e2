"""The customer app's session: one worker owns the relay link, the runtime and the pty
(:class:`CustomerSession`), the program's output is drawn in the shell pane at a bounded
rate, and a terminal that goes away (SIGHUP, SIGTERM, a hang-up) always ends the session."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import os
import signal
import threading
from typing import Any, Callable

from textual import on, work

from cobrowse.errors import CobrowseError
from cobrowse.io.customer_session import CustomerOptions, CustomerSession, GuideHooks
from cobrowse.io.early_join import EarlyJoin
from cobrowse.cli.commands import ENDING_GRACE, SIGNAL_MESSAGES
from cobrowse.io.pty import PtyProcess, command_argv, terminal_hung_up
from cobrowse.voice.settings import RtcSettings
from cobrowse.io.runtime import EXIT_FAILED, EXIT_OK, Outcome, exit_code_for
from cobrowse.wire.code import Code, parse_code
from cobrowse.wire.proxy import ProxyChoice
from cobrowse.i18n.ends import ended_text, error_text
from cobrowse.i18n.text import current
from cobrowse.policy.customer_events import ScreenCleared
from cobrowse.policy.events import Event, kind_of
from rich.text import Text

from tui.safe import PlainStatic, plain
from tui.customer_screens import SessionOverScreen, prefixed

from tui.customer_queue import CustomerQueue
from tui.customer_view import HELP_KEY, Phase
from tui.widgets.shell_pane import ShellPane
from cobrowse.screen.emulator import Emulator
from cobrowse.screen.state import ScreenState
from cobrowse.screen.sync import KEY_HOLD, STEADY_FPS

logger = logging.getLogger(__name__)

#: The customer's own pane is redrawn at most this often (the agent gets ScreenSender's rate,
#: whatever this is); output after a pause is drawn at once (the next loop iteration), so
#: typing feels local, while a program writing every 10 ms no longer costs 100 frames a second.
PANE_FPS = 30.0
#: While output streams on steadily (the agent's frames have gone to their steady rate:
#: ``ScreenSender.steady``) the pane draws at that rate too: Textual's redraw is most of the
#: app's CPU under a steady log (bench/cost.py --app). A key the customer types brings
#: ``PANE_FPS`` back for ``KEY_HOLD`` s, so their echo is not drawn late.
PANE_STEADY_FPS = STEADY_FPS
SMALL_OUTPUT = 4096
#: A frame feeds everything queued first, so it is exact, when little came since the last
#: exact frame (SMALL_OUTPUT) or the output paused for QUIET_FOR s. Else output streams or
#: floods: the program's own terminal comes first, so the frame draws the emulator as the
#: runtime's own pacing left it (cobrowse/io/output_feed.py: the view follows a flood within its
#: share of the CPU and catches up once the output pauses) instead of parsing every byte on
#: the event loop that also reads the pty, and another frame follows within CATCH_UP s (or the
#: pane's interval, if longer: a catch-up every 50 ms drew a steady 100 KB/s at 20 frames/s, not
#: PANE_STEADY_FPS): once the output pauses the pane is exact again.
QUIET_FOR = 0.02
CATCH_UP = 0.05
#: After the program exited, how long to wait for whatever it left behind to close the pty.
EXIT_IDLE = 0.5
#: A pattern pointer's rows are looked for again at most this often while the screen changes.
POINTER_INTERVAL = 0.25


def pane_interval(steady: bool, since_key: float) -> float:
    """Seconds between two of the pane's frames while output streams: the steady rate once
    the output is steady and the customer has not typed for ``KEY_HOLD`` s, else ``PANE_FPS``."""
    if steady and since_key >= KEY_HOLD:
        return 1.0 / PANE_STEADY_FPS
    return 1.0 / PANE_FPS


def pane_state(emulator: Emulator) -> ScreenState:
    """The customer's screen for the pane, its rows from one pass over the emulator's view
    (``Emulator.rows``: the new rows of a scroll cut from one dump, ~3 us a row instead of
    ~14 from their cells): exactly ``emulator.state()``, built for every frame the pane draws."""
    cols, rows = emulator.size
    got = emulator.rows(range(rows))
    return ScreenState((cols, rows), emulator.cursor(), tuple(got[i] for i in range(rows)), emulator.modes())


class CustomerRun(CustomerQueue):
    """The session worker and the program's screen; the attributes are set by CustomerApp."""

    relay_url: str
    code_text: str | None
    command: str | None
    consent_timeout: float
    customer_name: str
    reconnect_for: float
    env: dict[str, str] | None
    rtc: RtcSettings | None
    proxy: ProxyChoice | None
    redact_patterns: tuple[str, ...]
    trusted: tuple[Any, ...]
    control_cooldown: float
    customer: CustomerSession | None
    early: EarlyJoin | None
    process: PtyProcess | None
    outcome: Outcome | None
    terminal_gone: str | None
    _pane_size: tuple[int, int] | None
    _pane_sized: asyncio.Event
    _frame_handle: asyncio.TimerHandle | None
    _pointer_handle: asyncio.TimerHandle | None
    _last_frame: float
    _unfed: int  # output bytes since the last exact frame
    _last_output: float
    typed_at: float  # CustomerApp: the customer's last key to their program
    _toasts_at: tuple[Any, bool] | None = None  # the screen whose toast rack was placed, and where

    def _watch_terminal(self) -> None:
        """SIGHUP, SIGTERM or a hung-up terminal end the session and close the app: always."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGHUP, signal.SIGTERM):
            loop.add_signal_handler(sig, self._on_terminal_gone, SIGNAL_MESSAGES[sig.name])
        if os.isatty(0):
            self.set_interval(1.0, self._check_hangup)
        resume = signal.getsignal(signal.SIGCONT)
        if callable(resume):  # Textual's driver restarts its output on SIGCONT (after Ctrl-Z)

            def on_continue(signum: int, frame: Any) -> None:
                # A hang-up sends SIGCONT too, at any point of the main thread: restarting the
                # output then deadlocked the app (a new writer while the old one's lock was held).
                if not any(terminal_hung_up(fd) for fd in (0, 1)):
                    resume(signum, frame)

            signal.signal(signal.SIGCONT, on_continue)

    def _check_hangup(self) -> None:
        if terminal_hung_up(0):
            self._on_terminal_gone("the customer's terminal hung up")

    def _on_terminal_gone(self, message: str) -> None:
        if self.terminal_gone is not None:  # a second signal: stop now
            self.exit(return_code=EXIT_FAILED)
            return
        self.terminal_gone = message
        if any(terminal_hung_up(fd) for fd in (0, 1, 2)):
            # Textual's writer thread dies on the first EIO and its full queue then blocks the
            # app for ever: point the standard fds at /dev/null so the shutdown completes.
            null = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(null, fd)
            os.close(null)
        last_resort = threading.Timer(2 * ENDING_GRACE, self._hard_exit)
        last_resort.daemon = True
        last_resort.start()
        runtime = self.runtime
        if runtime is None or self.process is None or runtime.outcome is not None or self.phase == Phase.GUIDE:
            self.exit(return_code=EXIT_FAILED if runtime is None or runtime.outcome is None else runtime.outcome.exit_code)
            return
        asyncio.ensure_future(runtime.end("customer_ended", message))
        self.set_timer(ENDING_GRACE, lambda: self.exit(return_code=EXIT_FAILED))

    def _hard_exit(self) -> None:
        """The app did not close in time after its terminal went away: kill the shared
        program and leave (from a timer thread: the event loop may be the one stuck)."""
        process = self.process
        if process is not None:
            with contextlib.suppress(Exception):
                process.send_signal(signal.SIGKILL)
        os._exit(EXIT_FAILED)

    # -- the session worker ----------------------------------------------------------------

    @work(exclusive=True, exit_on_error=False, group="session")
    async def _run_session(self) -> None:
        try:
            outcome = await self._session()
        except CobrowseError as exc:
            outcome = Outcome("error", error_text(exc), exit_code_for(exc))
        except Exception as exc:  # never a traceback in the customer's face
            logger.exception("customer session failed")
            what = str(exc) or type(exc).__name__
            tr = current()
            outcome = Outcome("error", tr("unexpected error: {error}", error=what), EXIT_FAILED)
        self.outcome = outcome
        if self.terminal_gone is not None:  # nobody is left to read a failure
            self.exit(return_code=outcome.exit_code)
            return
        self.phase = Phase.ENDED
        self._refresh_banner()
        self._show_status()
        if self.left_queue is not None:
            self.exit(return_code=EXIT_OK, message=plain(prefixed(self.left_queue)))
        elif outcome.exit_code == EXIT_OK:
            tr = current()
            ended = tr("session ended: {message}", message=ended_text(outcome.reason, outcome.message, tr))
            said = [plain(prefixed(line)) for line in (ended, self.receipt_line) if line]  # the log is gone with the app
            self.exit(return_code=EXIT_OK, message=Text("\n").join(said))
        else:
            tr = current()
            title = tr("cobrowse could not start the session") if self.sas is None else tr("The session ended")
            message = ended_text(outcome.reason, outcome.message, tr)
            self.clear_notifications()  # a flood's warnings must not cover why it ended
            self.push_screen(SessionOverScreen(title, message, outcome.exit_code, self.receipt_line))

    async def _session(self) -> Outcome:
        guide = self.guide
        code = parse_code(self.code_text) if self.code_text is not None and guide is None else None  # InvalidCode: exit 2
        argv = command_argv(self.command)  # ConfigError before any network
        if self.early is not None and guide is None and self.help_request is None:
            return await self._early_session(self.early)
        cols, rows = initial = await self._initial_size()
        options = CustomerOptions(self.relay_url, reconnect_for=self.reconnect_for, proxy=self.proxy,
                                  consent_timeout=self.consent_timeout, name=self.customer_name, rtc=self.rtc,
                                  redact_patterns=self.redact_patterns, trusted=self.trusted,
                                  control_cooldown=self.control_cooldown, review_resume=True)
        hooks = GuideHooks(creating=self._guide_creating, created=self._guide_created, failed=self._guide_failed,
                           code_again=self._guide_code_again)
        customer = self.customer = CustomerSession(options, self._emit, cols, rows, guide=guide, hooks=hooks)
        runtime = self.runtime = customer.runtime
        shell = self.query_one("#shell", ShellPane)
        try:
            self.phase = Phase.GUIDE if guide is not None else Phase.CONNECTING  # guide: no session until asked
            if self.help_request is not None and guide is None:  # cobrowse help: the queue, no code
                if not await self._wait_in_queue(customer):
                    return Outcome("customer_ended", self.left_queue or "", EXIT_OK)
            else:
                self.code = await customer.open(code)
            if self.code is not None and self.help_request is None:
                self.phase = Phase.CHECKING if code is not None else Phase.WAITING
                if code is None:
                    self._show_code(self.code)
                tr = current()
                self.query_one("#session-code", PlainStatic).update(tr("session {code}", code=str(self.code)))
            self._refresh_banner()
        except BaseException:
            await customer.abandon()
            raise
        cols, rows = self._pane_size or (cols, rows)
        process = self.process = await customer.spawn(argv, cols, rows, env=self.env)
        if (cols, rows) != initial:  # the pane changed while connecting
            runtime.resize(cols, rows)
        shell.set_placeholder(None)
        self._render_frame()
        process.set_output_handler(self._on_program_output)
        return await self._run_program(customer, process)

    async def _early_session(self, early: EarlyJoin) -> Outcome:
        """The session `cobrowse join`/`share` opened before the app was imported: shown as
        the app would have opened it (its events so far replayed in order), then run."""
        customer = self.customer = early.customer
        if early.gone is not None:  # a signal before the app watched the terminal: it ended the session
            self.terminal_gone = early.gone
            return await early.ended()
        runtime = self.runtime = customer.runtime
        shell = self.query_one("#shell", ShellPane)
        self.phase = Phase.CONNECTING
        # The session's tasks began before the app existed, outside its context (Textual's
        # active app): what they call here runs in this worker's context.
        here = contextvars.copy_context()
        emit: Callable[[Event], None] = lambda event: here.copy().run(self._emit, event)  # noqa: E731
        on_output: Callable[[bytes], None] = lambda data: here.copy().run(self._on_program_output, data)  # noqa: E731
        try:
            self.code, process = await early.take()  # what opening raised: reported as before
        except BaseException:
            early.events.release(emit)
            raise
        self.process = process
        joined = self.code_text is not None
        if self.code is not None:
            self.phase = Phase.CHECKING if joined else Phase.WAITING
            if not joined:
                self._show_code(self.code)
            tr = current()
            self.query_one("#session-code", PlainStatic).update(tr("session {code}", code=str(self.code)))
        self._refresh_banner()
        early.events.release(emit)
        cols, rows = await self._initial_size()
        if (cols, rows) != early.size:  # the pane is not the size guessed from the terminal's
            process.resize(cols, rows)
            runtime.resize(cols, rows)
        shell.set_placeholder(None)
        self._render_frame()
        process.set_output_handler(on_output)
        return await self._run_program(customer, process)

    async def _run_program(self, customer: CustomerSession, process: PtyProcess) -> Outcome:
        program = asyncio.create_task(self._watch_program(process), name="customer-program")
        try:
            return await customer.run(program)
        finally:
            process.set_output_handler(None)
            program.cancel()
            await customer.close()
            self.process = None
            if self._frame_handle is not None:
                self._frame_handle.cancel()
                self._frame_handle = None

    # guide mode: what the customer sees while Ctrl-] ! creates a session

    def _guide_creating(self) -> None:
        self.phase = Phase.CONNECTING
        self._refresh_banner()

    def _guide_code_again(self, code: Code) -> None:
        tr = current()
        self.notify(tr("the session code is {code}: give it to your agent", code=str(code)), title=tr("help is on the way"))

    def _guide_failed(self, exc: CobrowseError) -> None:
        tr = current()
        self.phase = Phase.GUIDE
        self._refresh_banner()
        error = error_text(exc, tr)
        self._note(tr("could not create a session: {error}", error=error), "red")
        self.notify(tr("{error}\nCtrl-] {key} tries again.", error=error, key=HELP_KEY), title=tr("no session"),
                    severity="error", timeout=15)

    def _guide_created(self, code: Code) -> None:
        tr = current()
        self.code = code
        self.phase = Phase.WAITING
        self._show_code(code)
        self.query_one("#session-code", PlainStatic).update(tr("session {code}", code=str(code)))
        self._note(tr("session created: give the code {code} to your agent", code=str(code)), "bold")
        self._show_status()
        self.query_one("#side").remove_class("alone")
        self._refresh_banner()

    async def _initial_size(self) -> tuple[int, int]:
        try:
            async with asyncio.timeout(2):
                await self._pane_sized.wait()
        except TimeoutError:
            pass
        return self._pane_size or (80, 24)

    async def _watch_program(self, process: PtyProcess) -> int:
        status = await process.wait()
        try:  # let what it left behind on the terminal finish writing
            async with asyncio.timeout(EXIT_IDLE):
                await process.wait_eof()
        except TimeoutError:
            pass
        self._render_frame()
        return status

    # -- the program's screen ----------------------------------------------------------

    def _on_program_output(self, data: bytes) -> None:
        runtime = self.runtime
        if runtime is None:
            return
        runtime.program_output(data)  # what the agent sees (queued, fed by the runtime)
        self._unfed += len(data)
        if self._loop is None:
            return
        now = self._last_output = self._loop.time()
        when = max(now, self._last_frame + pane_interval(runtime.screen.steady, now - self.typed_at))
        handle = self._frame_handle
        if handle is not None:
            if handle.when() <= when:
                return
            handle.cancel()  # a catch-up frame later than the rate allows: sooner
        self._frame_handle = self._loop.call_at(when, self._render_frame, False)

    def _on_event(self, event: Event) -> None:
        super()._on_event(event)
        if kind_of(event) == ScreenCleared.KIND:  # cleared before sharing resumed: show it at once
            self._render_frame()

    def _render_frame(self, exact: bool = True) -> None:
        """Show the customer's own screen: feed what is queued (unless output streams and
        ``exact`` is False: a timed frame), draw the emulator's state."""
        if self._frame_handle is not None:
            self._frame_handle.cancel()
            self._frame_handle = None
        runtime = self.runtime
        if runtime is None or self._loop is None:
            return
        now = self._last_frame = self._loop.time()
        if exact or self._unfed <= SMALL_OUTPUT or now - self._last_output >= QUIET_FOR:
            runtime.feed_pending()
            self._unfed = 0
        else:  # streaming: what the runtime parsed so far, and a look again soon (not sooner than the rate)
            later = max(CATCH_UP, pane_interval(runtime.screen.steady, now - self.typed_at))
            self._frame_handle = self._loop.call_at(now + later, self._render_frame, False)
        state = pane_state(runtime.screen.emulator)
        try:
            self.query_one("#shell", ShellPane).set_state(state)
        except Exception:
            logger.debug("pane not available", exc_info=True)
        self._place_toasts(state.cursor.row >= state.size[1] // 2)
        pointer = runtime.pointer
        if pointer is not None and pointer.pattern and self._pointer_handle is None:
            when = max(self._last_frame, self._pointer_at + POINTER_INTERVAL)
            self._pointer_handle = self._loop.call_at(when, self._update_pointer)

    def _place_toasts(self, low: bool) -> None:
        """Notifications stay off the cursor's half: ``toasts-top`` on the screen's toast rack
        while the cursor is low. On the app, the class restyled every widget of the app at each
        crossing (15-30 ms: a full-screen program's cursor crosses often)."""
        screen = self.screen
        if self._toasts_at == (screen, low):
            return
        self._toasts_at = (screen, low)
        for rack in screen.query("ToastRack"):
            rack.set_class(low, "toasts-top")

    def _update_pointer(self) -> None:
        """Look for a pattern pointer's rows again (the screen changed)."""
        self._pointer_handle = None
        runtime = self.runtime
        if runtime is None or runtime.pointer is None or self._loop is None:
            return
        self._pointer_at = self._loop.time()
        event = runtime.pointer_event()
        try:
            self.query_one("#shell", ShellPane).set_highlight(event.get("rows"))
        except Exception:
            logger.debug("pane not available", exc_info=True)

    @on(ShellPane.Resized)
    def _pane_resized(self, message: ShellPane.Resized) -> None:
        cols, rows = max(2, message.cols), max(2, message.rows)
        if self._pane_size == (cols, rows):
            return
        self._pane_size = (cols, rows)
        self._pane_sized.set()
        process, runtime = self.process, self.runtime
        if process is not None and runtime is not None:
            process.resize(cols, rows)
            runtime.resize(cols, rows)
            self._render_frame()

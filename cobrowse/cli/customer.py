"""`cobrowse join` and `cobrowse share`: the customer's side, in plain mode.

Plain mode: the shared program's output passes straight through, cobrowse's own lines are
prefixed ``[cobrowse]`` and go above the line being typed (``cobrowse.plain.notice_lane``;
to stderr when stdin or stdout is not a terminal), and the prefix key Ctrl-] reaches
cobrowse (see ``cobrowse.plain.prefix``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import re
import sys
from typing import Any, Callable, Iterator

from cobrowse.cli.commands import end_on_signals, said_to, say, trusted_orgs
from cobrowse.cli.config import ClientSettings
from cobrowse.errors import CobrowseError, ConfigError
from cobrowse.i18n.ends import ended_text, error_text
from cobrowse.i18n.notices import (RESUME_KEYS, agent_name, customer_line, message_of, repeated_attempt, step_changes,
                                   resume_review_title, voice_line)
from cobrowse.i18n.text import Translator, current
from cobrowse.io.customer_session import CustomerOptions, CustomerSession, GuideHooks
from cobrowse.io.pty import LocalTerminal, Passthrough, command_argv
from cobrowse.io.output_feed import PLAIN_DEFER_BELOW
from cobrowse.io.runtime import EXIT_FAILED, Outcome, exit_code_for
from cobrowse.plain.keymap import GET_HELP, Front, guide_hint
from cobrowse.plain.inputs import LocalInputs
from cobrowse.plain.notice_lane import NoticeLane
from cobrowse.playbook import Playbook
from cobrowse.policy.risky_command import RISK_TEXT, command_risk
from cobrowse.policy.customer_events import NoticeKind
from cobrowse.policy.events import Event, as_json
from cobrowse.protocol.untrusted import visible
from cobrowse.wire.code import Code, parse_code

#: When a piped stdin ends, the program gets an EOF character (as under ``script``); if it is
#: still running this long after, the session ends: nobody can type into it any more.
STDIN_EOF_GRACE = 3.0
#: How long plain mode's notices wait for the terminal to say where its cursor is.
CURSOR_REPORT_WAIT = 1.0
#: How long a line waits for the program to finish an escape sequence it left unfinished.
OVERDUE = 0.5

#: Events whose lines may wait while a full-screen program runs (shown when it exits); the
#: rest (a consent question, an answer to the customer's own keys) is shown over it at once.
MAY_WAIT = frozenset({"chat", "connection", "peer", "path", "voice", "steps", "hello", "paired"})


def parse_size(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"\s*(\d{1,4})\s*[xX]\s*(\d{1,4})\s*", text)
    if not match or not (2 <= int(match[1]) <= 1000 and 2 <= int(match[2]) <= 1000):
        raise ConfigError(f"--size {text!r}: expected COLSxROWS like 120x40 (2..1000 each)")
    return int(match[1]), int(match[2])


class PlainNotices:
    """Renders customer-side events as `[cobrowse] ...` lines on stderr, in the customer's
    language (the sentences: ``cobrowse.i18n.notices``)."""

    def __init__(self, tr: Translator | None = None) -> None:
        self.tr = tr or current()
        self.agent: str = self.tr("the agent")
        self.urgent = True  # whether the lines being said cannot wait (MAY_WAIT)
        #: Where the chat line being typed is shown (plain mode's lane; without one: nowhere, the
        #: line's result is said as ever).
        self.draft: Callable[[str | None], None] | None = None
        #: Where bytes for the terminal itself go (the resume review's clear): with a lane, through
        #: it, so that its copy of the screen clears too (else its next line lands rows lower).
        self.write: Callable[[bytes], None] = _stdout
        #: The line that said why the session ended, and ``output_mark()`` then (the program's
        #: bytes read so far): said again if the program's output buried it.
        self.end_line: str | None = None
        self.output_mark: Callable[[], int] = lambda: 0
        self.end_mark = 0

    def __call__(self, typed: Event) -> None:
        event = as_json(typed)  # plain mode prints from the headless shape
        kind = event.get("event")
        self.urgent = kind not in MAY_WAIT
        if kind == "notice" and event.get("kind") == NoticeKind.CHAT_DRAFT:
            if self.draft is not None:
                self.draft(str(event["message"]) if event.get("state") == "typing" else None)
            return
        if kind == "hello":
            self.agent = agent_name(event, self.tr)
        if kind == "voice":
            say(voice_line(event, self.tr, self.agent))
        elif kind == "resume_review":  # the customer's own screen, shown back to them (printable text only)
            say(resume_review_title(len(event["lines"]), self.tr, self.agent))
            for line in event["lines"]:
                say("  | " + "".join(c for c in str(line) if c.isprintable()))
            say(self.tr(RESUME_KEYS))
        elif kind == "screen_cleared":
            self.write(str(event["clear"]).encode())
        elif kind == "code" and event.get("renewed"):  # `share`: too many wrong codes were tried
            print(f"cobrowse code: {event['code']}", file=sys.stderr, flush=True)
            say(message_of(event))
        elif repeated_attempt(event):
            return
        elif (line := customer_line(event, self.tr, self.agent)) is not None:
            say(line)
            if kind == "ended":
                self.end_line, self.end_mark = line, self.output_mark()
        elif "message" in event:
            say(message_of(event))


def _stdout(data: bytes) -> None:
    sys.stdout.write(data.decode(errors="replace"))
    sys.stdout.flush()


class GuideNotices:
    """Plain guide mode: the customer-side notices, plus the steps as they change."""

    def __init__(self, tr: Translator | None = None) -> None:
        self.tr = tr or current()
        self.notices = PlainNotices(self.tr)
        self.statuses: list[str] = []
        self.current: Any = None
        self.finished = False

    def __call__(self, typed: Event) -> None:
        tr = self.tr
        event = as_json(typed)  # plain mode prints from the headless shape
        if event.get("event") != "steps":
            self.notices(typed)
            return
        self.notices.urgent = False
        if "steps" not in event:
            if event.get("error"):
                say(tr("guide: {error}", error=event["error"]))
            return
        steps = event["steps"]
        total = len(steps)
        if not self.statuses:
            say(tr.plural("guide: {title} ({n} step)", "guide: {title} ({n} steps)", total, title=event.get("title", "")))
            for i, step in enumerate(steps):
                say(f"  {i + 1}. {step.get('title', '')}")
        for _, _, line in step_changes(self.statuses, steps, tr):
            say(line)
        self.statuses = [str(step.get("status")) for step in steps]
        current, finished = event.get("current"), bool(event.get("finished"))
        if finished and not self.finished:
            done = self.statuses.count("done")
            say(tr("all steps finished: {done} of {total} done. Ctrl-] e ends the guide (or exit the shell).",
                   done=done, total=total))
        elif not finished and isinstance(current, int) and (current != self.current or self.finished) and 0 <= current < total:
            step = steps[current]
            say(tr("step {index}/{total}: {title}", index=current + 1, total=total, title=str(step.get("title", ""))))
            for line in str(step.get("body", "")).splitlines():
                say(f"  {line}")
            if step.get("command"):
                say(f"  $ {step['command']}")
                risk = command_risk(str(step["command"]))
                if risk is not None:
                    say(f"  {tr(RISK_TEXT[risk])}")
            say(guide_hint(Front.PLAIN, tr))
        self.current, self.finished = current, finished


def customer_options(args: argparse.Namespace, settings: ClientSettings) -> CustomerOptions:
    """The customer's settings for ``CustomerSession`` (a bad trust file fails before any network)."""
    return CustomerOptions(settings.relay, reconnect_for=settings.reconnect_for, proxy=settings.proxy_for(settings.relay),
                           consent_timeout=args.consent_timeout, name=settings.name, rtc=settings.rtc,
                           redact_patterns=settings.redact_patterns, trusted=trusted_orgs(settings), review_resume=True)


async def run_customer(args: argparse.Namespace, settings: ClientSettings, guide: Playbook | None = None) -> int:
    """Plain mode: `join`, `share`, and `guide --plain` (with ``guide``)."""
    options = customer_options(args, settings)
    forced = parse_size(args.size) if args.size else None
    terminal = LocalTerminal(raw=sys.stdin.isatty() and sys.stdout.isatty())
    cols, rows = forced or terminal.size()
    tr = current()
    hooks = GuideHooks(creating=lambda: say(tr("creating a session for an agent...")),
                       created=_show_guide_code,
                       failed=lambda exc: say(tr("could not create a session: {error}. Ctrl-] {key} tries again.",
                                                 error=_error(exc, tr), key=GET_HELP)),
                       code_again=lambda code: say(tr("the session code is {code}: give it to your agent", code=str(code))))
    notices = GuideNotices()
    customer = CustomerSession(options, notices, cols, rows, guide=guide, hooks=hooks)
    runtime = customer.runtime
    runtime.emit = _quiet_when_gone(runtime.emit)
    runtime.output.burst_below = PLAIN_DEFER_BELOW  # a flood's first reads too: screens during it
    # from the start: SIGTERM while pairing or starting the program ends the session as well
    # (pairing can complete before the program is forked: the agent may already be told)
    gone = end_on_signals(runtime, "customer_ended")
    try:
        if guide is None and args.command_name == "help":  # the help queue: cobrowse/cli/help.py
            from cobrowse.cli.help import wait_in_queue

            if not await wait_in_queue(customer, args):
                return 0
        elif guide is None and args.command_name == "share":
            code = await customer.open(None)
            print(f"cobrowse code: {code}", file=sys.stderr, flush=True)
            say(tr("read this code to your agent: {code}. Waiting for them to join...",
                   code=code.spoken() if code else ""))
        elif guide is None:
            await customer.open(parse_code(args.code))
            say(tr("joined; checking the code with the agent..."))
        process = await customer.spawn(command_argv(args.command), cols, rows)
    except asyncio.CancelledError:
        if not gone.is_set():
            raise
        task = asyncio.current_task()
        if task is not None:
            task.uncancel()  # a second signal, or the first one's grace ran out: stop here
        await customer.abandon()
        return 0
    except (CobrowseError, OSError) as exc:
        await customer.abandon()
        if gone.is_set():  # the customer stopped it (a signal): not a failure to report
            return 0
        if isinstance(exc, CobrowseError) and getattr(args, "retype", False):  # typed at the prompt
            from cobrowse.cli.code_prompt import Retype, retypable

            if retypable(args, exc):  # no session: the prompt asks again
                raise Retype(exc) from None
        print(f"cobrowse: {visible(_error(exc, tr))}", file=sys.stderr)
        return exit_code_for(exc) if isinstance(exc, CobrowseError) else EXIT_FAILED
    notices.notices.output_mark = lambda: process.bytes_read - terminal.buffered  # what reached the terminal
    inputs = LocalInputs(runtime)  # decided in stdin's read callback, carried out in order

    loop = asyncio.get_running_loop()

    def input_ended(tty: bool) -> None:
        if tty:  # EOF or EIO from a terminal: it hung up
            gone.trigger("the customer's terminal hung up")
        else:  # a pipe ran out: the program got an EOF character and may still finish on its own
            loop.call_later(STDIN_EOF_GRACE, gone.trigger, "the customer's input ended (stdin closed)")

    async def terminal_gone() -> str:
        await gone.event.wait()
        return gone.message

    outcome: Outcome | None = None
    with terminal, _lane(terminal, notices.notices) as lane:
        if guide is not None:
            say(tr("guide: {keys}", keys=guide_hint(Front.PLAIN, tr)))
        else:
            say(runtime.policy.help)
        shared = Passthrough(process, terminal, observer=lane.observe(runtime.program_output), first=runtime.echo_first,
                             resize_observer=lane.observe_resize(runtime.resize),
                             input_handler=lane.observe_keys(inputs.take), input_eof_observer=input_ended)
        program = asyncio.create_task(shared.run())
        keys = asyncio.create_task(inputs.run())
        try:
            outcome = await customer.run(program, ended=terminal_gone())
            if guide is not None and runtime.session is None:
                say(tr("guide ended: {message}", message=ended_text(outcome.reason, outcome.message, tr)))
        except asyncio.CancelledError:
            if not gone.is_set():
                raise
            task = asyncio.current_task()
            if task is not None:
                task.uncancel()  # cancelled by end_on_signals: stop, but tidily (below)
        finally:
            keys.cancel()
            if not program.done():
                await customer.close(gone.message if gone.is_set() else "")
                try:
                    async with asyncio.timeout(3):
                        await program
                except (TimeoutError, Exception):
                    program.cancel()
            else:
                await customer.close()
    told = notices.notices  # (the terminal's queued output is written by now: its with block ended)
    if told.end_line is not None and process.bytes_read > told.end_mark:  # a flood's rest buried it
        say(told.end_line)
    return outcome.exit_code if outcome is not None else EXIT_FAILED


class _Lane:
    """Plain mode's notices placed by a ``NoticeLane`` on the customer's terminal (raw tty, stderr on it too)."""

    def __init__(self, terminal: LocalTerminal, notices: PlainNotices) -> None:
        self.terminal, self.notices = terminal, notices
        cols, rows = terminal.size()
        # stderr sent elsewhere (``2>file``): the lines go there, as the person asked
        self.lane = NoticeLane(cols, rows) if terminal.raw and sys.stderr.isatty() else None
        self.timer: asyncio.TimerHandle | None = None
        self.to_program: Callable[[bytes], None] | None = None  # observe_keys' sink
        if self.lane is not None:
            terminal.write(self.lane.start())
            self.timer = asyncio.get_running_loop().call_later(CURSOR_REPORT_WAIT, self._give_up)

    def _give_up(self) -> None:
        if self.lane is not None and (data := self.lane.give_up()):
            self.terminal.write(data)
        self._release_keys()

    def _release_keys(self) -> None:
        if self.lane is not None and self.to_program is not None and (held := self.lane.release_keys()):
            self.to_program(held)

    def draft(self, text: str | None) -> None:
        if self.lane is not None:
            self.terminal.write(self.lane.draft(None if text is None else f"[cobrowse] {visible(text)}"))

    def write(self, data: bytes) -> None:
        """Bytes of our own for the terminal, seen by the lane as the program's output is."""
        self.terminal.write(data)
        if self.lane is not None and (extra := self.lane.output(data)):
            self.terminal.write(extra)

    def say(self, lines: list[str]) -> None:
        if self.lane is not None:
            self.terminal.write(self.lane.notice(lines, urgent=self.notices.urgent))
            if self.lane.waiting:  # for the program's next output, but not for ever
                asyncio.get_running_loop().call_later(OVERDUE, self._overdue)

    def _overdue(self) -> None:
        if self.lane is not None and (data := self.lane.overdue()):
            try:
                self.terminal.write(data)
            except (RuntimeError, OSError):
                pass  # the terminal was given back meanwhile

    def observe(self, then: Callable[[bytes], None]) -> Callable[[bytes], None]:
        """``then`` behind the lane, called at every pty read: ``then`` itself without a lane."""
        lane = self.lane
        if lane is None:
            return then
        write = self.terminal.write

        def output(data: bytes) -> None:
            asking = lane.asking
            if extra := lane.output(data):
                write(extra)
            if asking:
                self._release_keys()  # the lane may have given up on the report
            then(data)
        return output

    def observe_resize(self, then: Callable[[int, int], None]) -> Callable[[int, int], None]:
        def resized(cols: int, rows: int) -> None:
            if self.lane is not None:
                self.lane.resize(cols, rows)
            then(cols, rows)
        return resized

    def observe_keys(self, then: Callable[[bytes], None]) -> Callable[[bytes], None]:
        self.to_program = then

        def keys(data: bytes) -> None:
            if self.lane is not None:
                restore, data = self.lane.keys(data)
                if restore:
                    self.terminal.write(restore)
            if data:
                then(data)
        return keys


@contextlib.contextmanager
def _lane(terminal: LocalTerminal, notices: PlainNotices) -> Iterator[_Lane]:
    lane = _Lane(terminal, notices)
    try:
        if lane.lane is None:
            yield lane
            return
        notices.draft, notices.write = lane.draft, lane.write
        with said_to(lane.say):
            yield lane
    finally:
        notices.draft, notices.write = None, _stdout
        if lane.timer is not None:
            lane.timer.cancel()
        last = _fresh_line(terminal, lane.lane)
        if notices.end_line is not None and notices.end_line in last:
            notices.end_line = None  # held until now: it is the last line already


def _fresh_line(terminal: LocalTerminal, lane: NoticeLane | None) -> str:
    """End plain mode at the start of a line (``$ rc=0`` was the outer shell's output after the
    inner program's last prompt): only if the cursor is elsewhere when the lane knows where it
    is, else always on a terminal (script(1) ends so); the lane's lines never placed follow
    (returned: what was written)."""
    if not terminal.raw:
        return ""
    data = b"\r\n" if lane is None else lane.finish()
    try:
        terminal.write(data)
    except (RuntimeError, OSError):
        pass  # the terminal hung up
    return data.decode(errors="replace")


def _show_guide_code(code: Code) -> None:
    print(f"cobrowse code: {code}", file=sys.stderr, flush=True)
    say(current()("read this code to your agent: {code}. They will see the steps so far.", code=code.spoken()))


def _error(exc: BaseException, tr: Translator) -> str:
    """A failure in the customer's words (the technical detail stays English, in brackets)."""
    return error_text(exc, tr) if isinstance(exc, CobrowseError) else str(exc)


def _quiet_when_gone(emit: Callable[[Any], None]) -> Callable[[Any], None]:
    """Plain mode's notices go to stderr; once the terminal hung up, writing there fails
    (EIO), and that must not stop the session from ending properly."""

    def quiet(event: Any) -> None:
        try:
            emit(event)
        except OSError:
            pass

    return quiet

"""``cobrowse join`` with no code: ask for it on the terminal, and get ready while it is typed.

A process started with the code in hand spends ~80 ms on the interpreter and its libraries
before any cobrowse code runs, and ~80 more on cobrowse's own imports, the settings and the
relay's connection, all before the claim can go out. Asked for the code instead (as
``wormhole receive`` does), cobrowse shows the prompt within a few tens of milliseconds and
does all of that behind it: every module the join needs is imported in a thread (Textual too
for the app), and the relay's connection is made and upgraded to a websocket
(cobrowse.io.ahead keeps it open, fresh, until the claim). Pressing Enter then costs only
what needs the code: the claim, SPAKE2 and the first screen. Nothing is sent to the relay
before Enter and nothing is started on the customer's machine: the shared program starts
after the claim, as with ``cobrowse join CODE``.

A relay that cannot be reached is said at once, while the prompt is up (exit 3, as with the
code on the command line). A code that cannot be one is refused at Enter with the usual
message and the line comes back with what was typed, to fix. So does a code the relay knows
no session for (a mistyped nameplate: nothing was claimed, nothing burnt), up to
:data:`MAX_TRIES` codes; the last one's refusal ends as with the code on the command line
(exit 4). A code that reached a session but failed the key exchange is burnt: that ends as
always (exit 5). Ctrl-C leaves as everywhere in
cobrowse (exit 130), Ctrl-D on an empty line leaves (exit 0, nothing shared), as do SIGTERM
and SIGHUP; the terminal's modes are restored whichever way.
"""

from __future__ import annotations

import argparse
import asyncio
import codecs
import contextlib
import os
import signal
import sys
import threading
import time
from types import TracebackType
from typing import TYPE_CHECKING, Any

from cobrowse.cli.code_entry import CodeEntry, Outcome, ascii_digits
from cobrowse.i18n.text import N_, Translator, current

if TYPE_CHECKING:
    from cobrowse.errors import CobrowseError

PROMPT = N_("Enter the code your agent read to you (like {example}): ")
NO_CODE = N_("no code given: put the code your agent read to you after the command, like {command} "
             "(cobrowse asks for it only when it runs in a terminal)")
EXAMPLE = "42-7193-0518"
LEFT = N_("no code entered: nothing was shared")

EXIT_LEFT = 0
EXIT_USAGE = 2

#: The relay's refusals of a claim that mean no session has that code: asked again.
RETYPE = frozenset({"unknown_nameplate", "expired"})
#: Codes sent to the relay from one prompt; the last one's refusal is final.
MAX_TRIES = 5


class Retype(Exception):
    """The relay knows no session for the code typed at the prompt: raised by the join (in
    place of reporting it) while tries are left, so the prompt asks again."""

    def __init__(self, refused: CobrowseError) -> None:
        super().__init__(str(refused))
        self.refused = refused


def retypable(args: argparse.Namespace, exc: BaseException) -> bool:
    """``exc``, ending a join whose code was typed at the prompt, is asked again."""
    from cobrowse.errors import RelayRejected

    return bool(getattr(args, "retype", False)) and isinstance(exc, RelayRejected) and exc.code in RETYPE

#: What connecting to the relay needs (imported first), then what the join imports beyond
#: what ``main`` already has: plain mode, and the app (imported while the relay answers).
CONNECT_MODULES = ("cobrowse.cli.commands", "cobrowse.io.link")
PLAIN_MODULES = ("cobrowse.cli.commands", "cobrowse.cli.customer", "cobrowse.cli.org", "cobrowse.io.link")
APP_MODULES = ("cobrowse.cli.commands", "cobrowse.cli.org", "cobrowse.io.early_join", "cobrowse.io.link",
               "tui.customer_app")
#: What Textual imports only once the app runs (its driver, input parser, layouts): ahead too,
#: where this Textual has them (another version's names are skipped, not an error).
APP_RUN_MODULES = ("concurrent.futures.thread", "textual.drivers.linux_driver", "textual._xterm_parser",
                   "textual.layouts.factory", "textual.layouts.horizontal", "textual.layouts.stream",
                   "textual.scrollbar", "textual.drivers.headless_driver", "textual.pilot")


def asks(args: argparse.Namespace) -> bool:
    """``cobrowse join`` without its code."""
    return args.command_name == "join" and getattr(args, "code", None) is None


def no_terminal_error(tr: Translator | None = None) -> str:
    return str((tr or current())(NO_CODE, command=f"`cobrowse join {EXAMPLE}`"))


class PromptTerminal:
    """The terminal while the code is typed: no canonical mode and no echo (cobrowse echoes
    what the line editor keeps), signals still on (Ctrl-C); the input read on the event loop.
    Restored on leaving, whichever way (a line is ended if it was left mid-way)."""

    def __init__(self, fd_in: int, fd_out: int) -> None:
        self.fd_in, self.fd_out = fd_in, fd_out
        self.chunks: asyncio.Queue[str | None] = asyncio.Queue()
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._saved: list[Any] | None = None
        self._flags: int | None = None
        self.mid_line = False

    def __enter__(self) -> PromptTerminal:
        import fcntl
        import termios

        self._saved = termios.tcgetattr(self.fd_in)
        mode = termios.tcgetattr(self.fd_in)
        mode[3] &= ~(termios.ICANON | termios.ECHO)
        mode[6][termios.VMIN], mode[6][termios.VTIME] = 1, 0
        termios.tcsetattr(self.fd_in, termios.TCSANOW, mode)
        # Non-blocking while we read it: Ctrl-C flushes the terminal's input, so a read after
        # a readiness the flush emptied would block for good (asyncio's SIGINT handler does
        # not interrupt it: the process hung at the prompt, found under load).
        self._flags = fcntl.fcntl(self.fd_in, fcntl.F_GETFL)
        fcntl.fcntl(self.fd_in, fcntl.F_SETFL, self._flags | os.O_NONBLOCK)
        asyncio.get_running_loop().add_reader(self.fd_in, self._readable)
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        import fcntl
        import termios

        asyncio.get_running_loop().remove_reader(self.fd_in)
        if self.mid_line:
            self.write("\r\n")
        if self._flags is not None:
            with contextlib.suppress(OSError):
                fcntl.fcntl(self.fd_in, fcntl.F_SETFL, self._flags)
        if self._saved is not None:
            with contextlib.suppress(OSError, termios.error):
                termios.tcsetattr(self.fd_in, termios.TCSADRAIN, self._saved)

    def _readable(self) -> None:
        try:
            data = os.read(self.fd_in, 4096)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:  # the terminal hung up
            asyncio.get_running_loop().remove_reader(self.fd_in)
            self.chunks.put_nowait(None)
            return
        self.chunks.put_nowait(self._decoder.decode(data))

    def write(self, text: str) -> None:
        if not text:
            return
        self.mid_line = not text.endswith("\n")
        with contextlib.suppress(OSError):
            os.write(self.fd_out, text.encode("utf-8", "replace"))


async def read_code(terminal: PromptTerminal, tr: Translator, typed: str = "", notice: str = "") -> Any:
    """The code typed (a cobrowse.wire.code.Code) and the line as typed, or None: Ctrl-D, the
    terminal gone. ``notice`` (why the last code failed) comes first, ``typed`` on the line."""
    from cobrowse.errors import InvalidCode
    from cobrowse.i18n.ends import error_text
    from cobrowse.protocol.untrusted import visible
    from cobrowse.wire.code import parse_code

    prompt = str(tr(PROMPT, example=EXAMPLE))
    entry = CodeEntry(typed)
    terminal.write((f"cobrowse: {visible(notice)}\r\n" if notice else "") + prompt + entry.again())
    while True:
        data = await terminal.chunks.get()
        if data is None:
            return None
        step = entry.feed(data)
        terminal.write(step.echo)
        if step.outcome is Outcome.LEAVE:
            terminal.write("\r\n")
            return None
        if step.outcome is not Outcome.ENTER:
            continue
        terminal.write("\r\n")
        typed = ascii_digits(entry.text).strip()
        if not typed:
            terminal.write(prompt)
            continue
        try:
            return parse_code(typed), entry.text
        except InvalidCode as exc:
            terminal.write(f"cobrowse: {visible(error_text(exc, tr))}\r\n{prompt}{entry.again()}")


def _output_fd() -> int:
    for stream in (sys.stderr, sys.stdout):
        with contextlib.suppress(AttributeError, OSError, ValueError):
            if stream.isatty():
                return stream.fileno()
    return sys.stdin.fileno()


async def join_asked(args: argparse.Namespace) -> int:
    """Ask for the code while getting ready, then join as ``cobrowse join CODE`` does; asked
    again while the relay knows no session for the code typed (:data:`MAX_TRIES` codes)."""
    tr = current()
    app = not args.plain and sys.stdout.isatty()
    typed, notice = "", ""
    for tries_left in reversed(range(MAX_TRIES)):
        warming = asyncio.ensure_future(_warm(args, app))
        answer, gone = await _ask(warming, tr, typed, notice)
        if answer is None or gone:
            failed = _failure(warming, tr)
            await _leave(warming)
            if failed is not None:
                return failed
            if not gone:
                print(f"cobrowse: {tr(LEFT)}", file=sys.stderr)
            return EXIT_LEFT
        code, typed = answer
        args.code, args.code_asked, args.retype = str(code), True, tries_left > 0
        try:
            await warming
        except Exception:
            failed = _failure(warming, tr)
            if failed is None:
                raise
            return failed
        from cobrowse.cli import commands

        try:
            return await commands.run(args)
        except Retype as exc:
            from cobrowse.i18n.ends import error_text

            notice = error_text(exc.refused, tr)
            if getattr(exc.refused, "code", None) == "expired":
                typed = ""  # a code that was right once: a new one is needed, not an edit of this one
    raise AssertionError("the last try reports its refusal")  # args.retype was False


async def _ask(warming: asyncio.Future[None], tr: Translator, typed: str, notice: str) -> tuple[Any, bool]:
    """The prompt while getting ready: (the code and the line typed, or None; whether a signal
    came). Returns early when getting ready failed."""
    loop = asyncio.get_running_loop()
    gone: asyncio.Future[str] = loop.create_future()

    def went(name: str) -> None:
        if not gone.done():
            gone.set_result(name)

    for sig in (signal.SIGTERM, signal.SIGHUP):
        loop.add_signal_handler(sig, went, sig.name)
    try:
        with PromptTerminal(sys.stdin.fileno(), _output_fd()) as terminal:
            asking = asyncio.ensure_future(read_code(terminal, tr, typed, notice))
            try:
                while not asking.done() and not gone.done():
                    waits: set[asyncio.Future[Any]] = {asking, gone}
                    if not warming.done():
                        waits.add(warming)
                    await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
                    if warming.done() and not warming.cancelled() and warming.exception() is not None:
                        break
            finally:
                asking.cancel()
                await asyncio.gather(asking, return_exceptions=True)
    finally:
        for sig in (signal.SIGTERM, signal.SIGHUP):
            loop.remove_signal_handler(sig)
    answer = asking.result() if asking.done() and not asking.cancelled() else None
    return answer, gone.done()


def _failure(warming: asyncio.Future[None], tr: Translator) -> int | None:
    """Getting ready failed (the relay down, a bad setting): say so; the exit status."""
    if not warming.done() or warming.cancelled() or warming.exception() is None:
        return None
    from cobrowse.errors import CobrowseError, ConfigError
    from cobrowse.i18n.ends import error_text
    from cobrowse.io.outcome import EXIT_FAILED, exit_code_for
    from cobrowse.protocol.untrusted import visible

    exc = warming.exception()
    if not isinstance(exc, CobrowseError):
        print(f"cobrowse: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(f"cobrowse: {visible(error_text(exc, tr))}", file=sys.stderr)
    return EXIT_USAGE if isinstance(exc, ConfigError) else exit_code_for(exc)


async def _leave(warming: asyncio.Future[None]) -> None:
    warming.cancel()
    await asyncio.gather(warming, return_exceptions=True)
    from cobrowse.io import ahead

    await ahead.forget()


async def _warm(args: argparse.Namespace, app: bool) -> None:
    """Everything the join does that does not need the code: the imports, the settings, the
    relay's connection (kept until the claim)."""
    await imported(CONNECT_MODULES)
    from cobrowse.cli.commands import settings_of
    from cobrowse.io import ahead
    from cobrowse.io.link import RelayLink

    settings = settings_of(args)
    relay = settings.relay
    link = RelayLink(relay, "customer", proxy=settings.proxy_for(relay))
    rest = asyncio.ensure_future(imported(APP_MODULES if app else PLAIN_MODULES, APP_RUN_MODULES if app else ()))
    try:
        await ahead.keep(relay, link.connection)  # the relay down is said now, not after Textual's import
    except BaseException:
        rest.cancel()
        raise
    await rest
    from cobrowse.io import joining

    joining.prepare()  # SPAKE2's half that needs no password (cobrowse.crypto.handshake.Prepared)


async def imported(names: tuple[str, ...], optional: tuple[str, ...] = ()) -> None:
    """Import ``names`` in a daemon thread (the prompt keeps echoing meanwhile; a person who
    leaves does not wait for Textual's import to end)."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()

    def settle(error: BaseException | None) -> None:
        if not done.done():
            done.set_exception(error) if error is not None else done.set_result(None)

    def run() -> None:
        import importlib

        error: BaseException | None = None
        try:
            for name in names:
                importlib.import_module(name)
            for name in optional:
                with contextlib.suppress(ImportError):
                    importlib.import_module(name)
        except BaseException as exc:  # noqa: BLE001 - handed to the loop, raised there
            error = exc
        with contextlib.suppress(RuntimeError):  # the loop is gone: the person left
            loop.call_soon_threadsafe(settle, error)

    thread = threading.Thread(target=run, name="join-imports", daemon=True)
    _IMPORTING.append(thread)
    thread.start()
    await done


#: The import threads started; :func:`finish_imports` waits for them before Python finalizes.
_IMPORTING: list[threading.Thread] = []
#: How long a person who left waits, at most, for an import under way to end.
IMPORTS_WAIT = 5.0


def finish_imports(status: int, timeout: float = IMPORTS_WAIT) -> int:
    """``status``, once no import thread runs: Python finalizing while a daemon thread is
    inside an extension's import (cryptography's Rust, say) stops that thread mid-frame and
    the process aborts ("FATAL: exception not rethrown", found leaving the prompt with
    Ctrl-C under load). Past ``timeout`` it exits at once, without finalizing."""
    deadline = time.monotonic() + timeout
    for thread in _IMPORTING:
        thread.join(max(0.0, deadline - time.monotonic()))
    if any(thread.is_alive() for thread in _IMPORTING):
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):
                stream.flush()
        os._exit(status)
    return status

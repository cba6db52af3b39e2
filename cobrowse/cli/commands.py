"""What each subcommand does, wired from the runtimes; errors become one line and an exit code."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import socket
import sys
from typing import Any, AsyncIterator, Callable, Iterator
from urllib.parse import urlparse

from cobrowse.cli.config import ClientSettings, settings_of
from cobrowse.errors import CobrowseError, ConfigError
from cobrowse.io.runtime import EXIT_USAGE, exit_code_for
from cobrowse.plain.keymap import rewrite
from cobrowse.protocol.untrusted import visible


def say(text: str) -> None:
    """Cobrowse's lines on stderr, each prefixed ``[cobrowse]`` (plain mode's convention).

    The customer's real terminal prints this: any control character left in ``text`` (it
    often quotes the agent) is shown escaped, and every line gets the prefix, so nothing
    the other side sends can move the cursor, set a title, write the clipboard, erase a
    warning or start a line that looks like ours."""
    text = rewrite(text if isinstance(text, str) else str(text))  # the configured keys ([keys], plain.keymap)
    lines = visible(text, multiline=True).split("\n")  # a Translated stays one
    if _sink is not None:  # plain mode on a terminal: above the line being typed (cobrowse.plain.notice_lane)
        _sink([f"[cobrowse] {line}" for line in lines])
        return
    end = "\r\n" if _raw_tty() else "\n"
    sys.stderr.write("".join(f"[cobrowse] {line}{end}" for line in lines))
    sys.stderr.flush()


_sink: Callable[[list[str]], None] | None = None


@contextlib.contextmanager
def said_to(sink: Callable[[list[str]], None]) -> Iterator[None]:
    """While plain mode shares the terminal, ``say`` hands its lines to ``sink``."""
    global _sink
    before, _sink = _sink, sink
    try:
        yield
    finally:
        _sink = before


def _raw_tty() -> bool:
    try:
        import termios

        if not sys.stdin.isatty():
            return False
        return not termios.tcgetattr(sys.stdin.fileno())[3] & termios.ICANON
    except (ImportError, OSError, ValueError):
        return False


def fail(error: BaseException) -> int:
    print(f"cobrowse: {error}", file=sys.stderr)
    return EXIT_USAGE if isinstance(error, ConfigError) else exit_code_for(error)


async def run(args: argparse.Namespace) -> int:
    try:
        settings = settings_of(args)
        if args.command_name == "agent":
            from cobrowse.cli.helpdesk import start_webhook

            start_webhook(args, settings)  # the help-desk webhook, and what a previous run left to post
            if getattr(args, "queue", False) and settings.credential is None:
                from cobrowse.cli.help import NEEDS_CREDENTIAL

                raise ConfigError(NEEDS_CREDENTIAL)
            agent_identity(settings)  # a bad credential file fails before any network, an embedded relay's too
            if not args.headless and interactive():
                return await run_agent_console(args, settings)
            if getattr(args, "queue", False):
                from cobrowse.cli.help import run_queue_agent as run
            else:
                from cobrowse.cli.agent import run_agent as run
            async with embedded_relay(settings, announce=say) as relay_url:
                return await run(args, settings, relay_url)
        if args.command_name == "guide":
            from cobrowse.cli.guide import run_guide

            return await run_guide(args, settings)
        if not args.plain and interactive():
            return await run_customer_app(args, settings)
        from cobrowse.cli.customer import run_customer

        return await run_customer(args, settings)
    except CobrowseError as exc:
        return fail(exc)
    except asyncio.CancelledError:
        if not _signalled:
            raise
        from cobrowse.io.runtime import EXIT_FAILED

        return EXIT_FAILED  # end_on_signals stopped a front end that did not stop by itself


def _listening(url: str) -> bool | None:
    """Whether a cobrowse relay answers at ``url``: True; False for another program on its
    port (no relay's /healthz there); None when nothing listens."""
    parsed = urlparse(url)
    host, port = parsed.hostname or "127.0.0.1", parsed.port or 80
    try:
        sock = socket.create_connection((host, port), timeout=0.5)
    except OSError:
        return None
    answer = b""
    with sock:
        try:
            sock.sendall(f"GET /healthz HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n".encode())
            while len(answer) < 4096 and (chunk := sock.recv(4096)):
                answer += chunk
        except OSError:
            pass
    return answer.startswith(b"HTTP/1.1 ") and b'"status": "' in answer and b'"sessions": ' in answer


@contextlib.asynccontextmanager
async def embedded_relay(settings: ClientSettings, announce: Any) -> AsyncIterator[str]:
    """With no relay configured and none running locally, run one in this process."""
    found = None if settings.relay_explicit else _listening(settings.relay)
    if settings.relay_explicit or found is not None:
        if found is False:  # sessions would fail with "did not receive a valid HTTP response"
            announce(f"no relay configured, and another program (not a cobrowse relay) listens on "
                     f"{settings.relay}: stop it, or run `cobrowse relay --port P` and pass --relay")
        yield settings.relay
        return
    from relay.config import RelayConfig
    from relay.server import serve_relay
    from relay.store import default_session_store

    parsed = urlparse(settings.relay)
    config = RelayConfig(host=parsed.hostname or "127.0.0.1", port=parsed.port or 8765)
    # its sessions outlive it like a standalone relay's (relay-sessions-*.sqlite3 in the data dir)
    server = await serve_relay(dataclasses.replace(config, session_store=default_session_store(config)))
    url = f"ws://127.0.0.1:{server.port}"
    announce(f"no relay configured: started an embedded relay on {url} (customers on this machine join with the default; others need --relay)")
    try:
        yield url
    finally:
        server.close()
        with contextlib.suppress(Exception):
            async with asyncio.timeout(2):
                await server.wait_closed()


def agent_identity(settings: ClientSettings) -> Any:
    """The agent's credential (an AgentIdentity) if one is configured; a bad file is a ConfigError."""
    if settings.credential is None:
        return None
    from cobrowse.cli.org import load_identity

    return load_identity(settings.credential)


def trusted_orgs(settings: ClientSettings) -> list[Any]:
    """The organisations a customer trusts (OrgTrust); a bad file is a ConfigError."""
    from cobrowse.cli.org import load_trusted

    return load_trusted(settings.trusted_orgs)


#: After a signal, how long the session may take to end properly before cobrowse stops anyway.
ENDING_GRACE = 5.0
SIGNAL_MESSAGES = {"SIGHUP": "the customer's terminal was closed", "SIGTERM": "cobrowse was stopped (SIGTERM)"}
_signalled: list[str] = []  # the signals end_on_signals handled (a cancelled run is then an exit, not a crash)


class TerminalGone:
    """Why the customer's terminal went away (a signal, a hang-up, its input ending): set once."""

    def __init__(self) -> None:
        self.event = asyncio.Event()
        self.message = ""

    def trigger(self, message: str) -> None:
        if not self.event.is_set():
            self.message = message
            self.event.set()

    def is_set(self) -> bool:
        return self.event.is_set()


def end_on_signals(runtime: Any, reason: str, *, grace: float = ENDING_GRACE) -> TerminalGone:
    """SIGTERM or SIGHUP (the terminal closed) end the session properly: the peer is told
    at once instead of waiting out the grace period, and the terminal is restored.

    Always, not just usually: if the session has not ended ``grace`` s after the signal (a
    stuck link), or a second signal comes, the task that called this is cancelled; its
    ``finally`` blocks still stop the shared program and restore the terminal. The returned
    ``TerminalGone`` lets the caller wait for the same moment (and trigger it itself when
    stdin hangs up)."""
    import signal

    loop = asyncio.get_running_loop()
    main = asyncio.current_task()
    gone = TerminalGone()
    ending: list[asyncio.Task[None]] = []

    def stop_now() -> None:
        if main is not None and not main.done():
            main.cancel()

    def stop_if_stuck() -> None:
        if runtime.outcome is None:
            stop_now()

    def on_signal(sig: signal.Signals) -> None:
        _signalled.append(sig.name)
        if ending:
            stop_now()
            return
        gone.trigger(SIGNAL_MESSAGES.get(sig.name, sig.name))
        ending.append(loop.create_task(runtime.end(reason, gone.message)))
        loop.call_later(grace, stop_if_stuck)
        loop.call_later(3 * grace, stop_now)  # ended, yet still running (a front end waiting on the user)

    for sig in (signal.SIGTERM, signal.SIGHUP):
        loop.add_signal_handler(sig, on_signal, sig)
    return gone


def interactive() -> bool:
    """A full-screen app only on a real terminal (HEADLESS.md: plain when piped)."""
    return sys.stdin.isatty() and sys.stdout.isatty()


async def run_agent_console(args: argparse.Namespace, settings: ClientSettings) -> int:
    """The Textual agent console; an embedded relay when none is configured or running."""
    from cobrowse.cli.playbooks import catalogue
    from tui.agent_keys import ConsoleKeyError, configure

    try:  # before the console is imported: its bindings are made then
        configure(settings.keys.console, settings.config_file)
    except ConsoleKeyError as exc:
        raise ConfigError(f"{exc} (see docs/config.md)") from None
    from tui.agent_app import AgentApp

    notes: list[str] = []
    async with embedded_relay(settings, announce=notes.append) as relay_url:
        app = AgentApp(relay_url, settings.token, settings.name, args.join, identity=agent_identity(settings),
                       relay_note=notes[0] if notes else None, reconnect_for=settings.reconnect_for,
                       proxy=settings.proxy_for(relay_url),
                       playbook_dir=catalogue(settings), rtc=settings.rtc,
                       redact_patterns=settings.redact_patterns, queue=bool(getattr(args, "queue", False)))
        app.predict = settings.predict  # read by tui/agent_session.py when it makes the runtime
        await app.run_async()
    return app.return_code or 0


#: Why the agent's session ended when the customer pressed Ctrl-C before the app took over.
LEFT_EARLY = "the customer left (Ctrl-C) before the session started"


async def run_customer_app(args: argparse.Namespace, settings: ClientSettings) -> int:
    """The Textual customer app; ``share`` when no code was given. Joining or sharing, the
    session opens before the app is imported (cobrowse/io/early_join.py): Textual's import
    runs in a thread while the relay and the agent answer."""
    code = getattr(args, "code", None)
    if code is not None:
        from cobrowse.wire.code import parse_code

        parse_code(code)  # a typo fails here, with the usual message and exit status
    request = None
    if args.command_name == "help":  # the queue, no code (a bad trust file fails here)
        from cobrowse.cli.help import help_request

        request = help_request(args)
    trusted = trusted_orgs(settings)
    proxy = settings.proxy_for(settings.relay)
    early = None if request is not None else start_early(args, settings, code, trusted, proxy)
    left = False
    try:
        if early is not None:
            import signal

            loop = asyncio.get_running_loop()
            for sig in (signal.SIGTERM, signal.SIGHUP):  # until the app watches the terminal itself
                loop.add_signal_handler(sig, early.end, SIGNAL_MESSAGES[sig.name])
            CustomerApp = await _import_app()
            if getattr(args, "code_asked", False):  # typed at the prompt: the app's start-up (tens of ms
                # holding the loop) after the agent's first screen, not in the middle of the key exchange
                from cobrowse.cli.code_prompt import Retype, retypable
                from cobrowse.io.early_join import CLAIM_WAIT, PAIRING_WAIT

                refused = await early.opened(CLAIM_WAIT)
                if isinstance(refused, CobrowseError) and retypable(args, refused):
                    raise Retype(refused)  # no session with that code: the prompt asks again, no app
                await early.paired(PAIRING_WAIT)
            if early.gone is not None:  # no app for a terminal that went away
                return (await early.ended()).exit_code
        else:
            from tui.customer_app import CustomerApp
        app = CustomerApp(settings.relay, code, args.command, args.consent_timeout,
                          name=settings.name, reconnect_for=settings.reconnect_for, rtc=settings.rtc,
                          redact_patterns=settings.redact_patterns, trusted=trusted,
                          proxy=proxy, help_request=request, early=early)
        await app.run_async()
    except (asyncio.CancelledError, KeyboardInterrupt):
        left = True  # Ctrl-C between the code and the app: the agent reads the customer left, not a fault
        raise
    finally:
        if early is not None:
            await early.close(LEFT_EARLY if left else "the app did not start")
            for sig in (signal.SIGTERM, signal.SIGHUP):
                loop.remove_signal_handler(sig)
    return app.return_code or 0


def start_early(args: argparse.Namespace, settings: ClientSettings, code: str | None, trusted: list[Any],
                proxy: Any) -> Any:
    """The app's session, opening now (an EarlyJoin); None where the app must open it itself
    (the command line does not parse: the app shows that as before)."""
    import os

    from cobrowse.io.customer_session import CustomerOptions
    from cobrowse.io.early_join import EarlyJoin, pane_size
    from cobrowse.io.pty import command_argv
    from cobrowse.wire.code import parse_code

    try:
        argv = command_argv(args.command)
    except CobrowseError:
        return None
    try:
        cols, rows = pane_size(*os.get_terminal_size(sys.stdout.fileno()))
    except OSError:
        cols, rows = 80, 24
    options = CustomerOptions(settings.relay, reconnect_for=settings.reconnect_for, proxy=proxy,
                              consent_timeout=args.consent_timeout, name=settings.name, rtc=settings.rtc,
                              redact_patterns=settings.redact_patterns, trusted=trusted, review_resume=True)
    return EarlyJoin(options, parse_code(code) if code is not None else None, argv, cols, rows)


#: While Textual imports in a thread, the event loop (the session opening) gets the
#: interpreter back this often instead of every 5 ms.
SWITCH_INTERVAL = 0.0005


async def _import_app() -> Any:
    """tui.customer_app's CustomerApp, imported in a thread while the loop runs the session."""
    import importlib

    if "tui.customer_app" in sys.modules:  # imported while the code was typed (cli/code_prompt.py)
        return sys.modules["tui.customer_app"].CustomerApp
    before = sys.getswitchinterval()
    sys.setswitchinterval(SWITCH_INTERVAL)
    try:
        module = await asyncio.to_thread(importlib.import_module, "tui.customer_app")
    finally:
        sys.setswitchinterval(before)
    return module.CustomerApp

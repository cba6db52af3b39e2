"""`cobrowse relay | agent | join | share | guide`: argument parsing and wiring, nothing more."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any, Coroutine, NoReturn, Sequence

from cobrowse import __version__
from cobrowse.cli.help_format import HelpFormatter

#: No-break spaces keep "·" with the word before it and each number with its words, however it wraps.
EPILOG = """exit status: 0\u00a0normal end\u00a0· 1\u00a0session failed (also: the relay stopped without keeping it, or ended it as idle)\u00a0·
2\u00a0usage or configuration error\u00a0· 3\u00a0relay unreachable\u00a0· 4\u00a0code refused (unknown, expired, taken) or the relay misbehaved\u00a0·
5\u00a0security check failed (incl. a relay replaying frames)

environment: COBROWSE_RELAY (relay URL), COBROWSE_TOKEN (agent token), COBROWSE_NAME,
COBROWSE_CONFIG (config file; default ~/.config/cobrowse/config.toml), COBROWSE_CREDENTIAL
(agent credential file), COBROWSE_TRUSTED_ORGS (customers: trust files, separated by :),
COBROWSE_MIC, COBROWSE_SPEAKER, COBROWSE_DIRECT, COBROWSE_ICE_HOSTS (calls; docs/voice.md),
COBROWSE_WEBHOOK_URL, COBROWSE_WEBHOOK_SECRET (agents: session summaries; docs/helpdesk.md),
COBROWSE_LANG (the customer's language: en, ru, zh, fa; docs/i18n.md)"""

#: The relay reads its own variables, not the clients' (docs/relay.md, "Configuration").
RELAY_EPILOG = """exit status: 0\u00a0normal stop (a signal) or done\u00a0· 1\u00a0the relay refused an admin request (bad admin token, no such session)\u00a0·
2\u00a0bad settings or usage, or the relay cannot start (port in use, unreadable certificate, Redis down, store in use)\u00a0·
3\u00a0relay unreachable (sessions, kill)

environment: every setting as COBROWSE_RELAY_<NAME> (COBROWSE_RELAY_PORT, COBROWSE_RELAY_AGENT_TOKENS,
COBROWSE_RELAY_TURN_SECRET, ...; flags > environment > the config file), COBROWSE_RELAY_CONFIG (the
TOML file with a [relay] table), COBROWSE_DATA_DIR (live sessions; not the token store),
COBROWSE_ADMIN_TOKEN and COBROWSE_RELAY_ADMIN_URL (sessions, kill); docs/relay.md"""


#: org talks to no relay: it only ends well or with a one-line error (cobrowse/cli/org.py).
ORG_EPILOG = """exit status: 0\u00a0done\u00a0· 2\u00a0usage or configuration error (no organisation key, a key that
exists without --force, an unreadable or damaged file, a playbook that cannot be signed)

environment: COBROWSE_ORG_DIR (where the organisation key lives), COBROWSE_CONFIG (its default:
an org folder next to that config file); docs/trust.md"""

def _client_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--relay", metavar="URL", help="relay URL (default: $COBROWSE_RELAY, the config file, then ws://127.0.0.1:8765)")
    proxy = parser.add_mutually_exclusive_group()
    proxy.add_argument("--proxy", metavar="URL", help="reach the relay through this proxy (http://, https://, socks5://); default: HTTPS_PROXY / HTTP_PROXY / ALL_PROXY / NO_PROXY as curl reads them")
    proxy.add_argument("--no-proxy", action="store_true", help="reach the relay directly, whatever the proxy variables say")
    voice = parser.add_argument_group("calls and the direct path")
    voice.add_argument("--mic", metavar="DEVICE", help="microphone for calls: default, a PulseAudio source name (`pactl list short sources`), tone:HZ or none")
    voice.add_argument("--speaker", metavar="DEVICE", help="speaker for calls: default, a PulseAudio sink name (`pactl list short sinks`), wav:PATH or none")
    voice.add_argument("--no-direct", dest="direct", action="store_false", default=None, help="keep every frame on the relay (no direct WebRTC path)")
    parser.add_argument("--redact", action="append", metavar="REGEX", help="also mask what matches REGEX (repeatable; adds to $COBROWSE_REDACT and the config file's redact_patterns). Customers mask it on their screen; an agent asks the customer's cobrowse to mask it too")


def _customer_options(parser: argparse.ArgumentParser) -> None:
    _client_options(parser)
    parser.add_argument("--command", metavar="CMD", help="the program to share (default: your $SHELL)")
    parser.add_argument("--plain", action="store_true", help="no full-screen UI: output passes straight through, cobrowse's own lines, prefixed [cobrowse], go above the line being typed (to stderr when stdin or stdout is not a terminal; plain mode is automatic then)")
    parser.add_argument("--size", metavar="COLSxROWS", help="terminal size for the shared program when stdin/stdout is not a terminal (default 80x24)")
    parser.add_argument("--consent-timeout", type=float, default=30.0, metavar="S", help="deny an unanswered consent prompt after S seconds (default 30)")
    parser.add_argument("--org", action="append", metavar="FILE", help="trust agents of the organisation whose trust file (from `cobrowse org publish`) this is; repeatable, added to trusted_orgs in the config and $COBROWSE_TRUSTED_ORGS")
    # i18n (docs/i18n.md): installed by main() for the customer's commands
    parser.add_argument("--lang", metavar="CODE", help="the language cobrowse speaks to you: en, ru, zh (Simplified Chinese), fa (default: $COBROWSE_LANG, then LC_ALL, LC_MESSAGES, LANG; unknown: English)")


#: Commands whose start-up is on a person's critical path (join → the agent's first screen):
#: their parser leaves out the other commands' (relay, playbooks, records, org: ~100 ms of imports).
#: ``agent`` gets a lean parser too (its own command only; same arguments, errors and help).
LEAN = ("join", "share")


class CommandParser(argparse.ArgumentParser):
    """An unknown flag is named by the (sub)command it was given to, with that command's usage.

    argparse leaves a subcommand's unknown flags to the top-level parser (``cobrowse join
    --bogus`` showed ``usage: cobrowse [-h] ...``), and an optional subcommand takes an unknown
    flag's value for its name (``cobrowse relay --prot 1``: "invalid choice: '1'")."""

    _words: list[str] = []

    def parse_known_args(self, args: Sequence[str] | None = None,  # type: ignore[override]
                         namespace: argparse.Namespace | None = None) -> tuple[argparse.Namespace, list[str]]:
        self._words = list(sys.argv[1:] if args is None else args)
        parsed, extras = super().parse_known_args(self._words, namespace)
        if extras:
            self.error(f"unrecognized arguments: {' '.join(extras)}")
        return parsed, extras

    def error(self, message: str) -> NoReturn:
        unknown = self._unknown_flags()
        if unknown and not message.startswith("unrecognized arguments"):
            message = f"unrecognized arguments: {' '.join(unknown)}"
        super().error(message)

    def _unknown_flags(self) -> list[str]:
        """The flags this parser does not know, before its subcommand's name (theirs are theirs)."""
        names = {choice for action in self._actions if isinstance(action, argparse._SubParsersAction)
                 for choice in action.choices}
        unknown: list[str] = []
        for word in self._words:
            if word == "--" or word in names:
                break
            flag = word.split("=", 1)[0]
            if flag.startswith("-") and len(flag) > 1 and not flag[1:2].isdigit() and not any(
                    known == flag or (flag.startswith("--") and known.startswith(flag))
                    for known in self._option_string_actions):
                unknown.append(flag)
        return unknown


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The whole parser; with ``command`` in :data:`LEAN`, one with only the customer's
    commands, with ``agent`` only the agent's (same arguments, same errors and help for them)."""
    parser: argparse.ArgumentParser = CommandParser(
        prog="cobrowse",
        description="Terminal co-browsing and remote assistance, end-to-end encrypted, paired by a short code.",
        epilog=EPILOG,
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"cobrowse {__version__}")
    sub = parser.add_subparsers(dest="command_name", metavar="COMMAND")
    if command in LEAN or command == "--version":  # argparse answers --version before any command
        for name, help_text, what in _CUSTOMER_COMMANDS:
            _customer_command(sub, name, help_text, what)
        return parser
    if command == "agent":  # its start-up is on the agent's path to a code: no relay, records or org parsers
        from cobrowse.cli import playbooks_args, records_args

        lean_agent = _agent_command(sub)
        records_args.add_agent_views(lean_agent)
        playbooks_args.add_folder_option(lean_agent)
        return parser

    from relay import cli_args as relay_args

    relay = sub.add_parser("relay", help="run the relay (admins)", description="Run the relay that pairs agents and customers. It forwards sealed frames and never sees their content. GET /healthz answers on the same port.", epilog=RELAY_EPILOG, formatter_class=HelpFormatter)
    relay_args.add_arguments(relay)

    agent = _agent_command(sub)

    for name, help_text, what in _CUSTOMER_COMMANDS:
        _customer_command(sub, name, help_text, what)

    ask = sub.add_parser("help", help="ask an organisation for help without a code: wait in its queue (customers)", description="Wait in the help queue of the organisation whose trust file you give (--org), see your place, and share a terminal with the first of its agents who picks you. Only an agent that organisation vouches for can; anyone else is refused. Ctrl-C leaves the queue.", epilog=EPILOG, formatter_class=HelpFormatter)
    ask.add_argument("--topic", metavar="TEXT", default="", help="what you need help with, in a few words (agents see it in the queue; so does the relay's operator)")
    _customer_options(ask)

    guide = sub.add_parser("guide", help="run a playbook alone, and get help from an agent when stuck (customers)", description="Run a playbook's steps in your own shell, with no agent: each step shows its explanation and command, and turns done when its expected output appears. Nothing is shared until you ask for help with Ctrl-] ! : that creates a session and shows the code to give to an agent, who then sees the steps so far.", epilog=EPILOG, formatter_class=HelpFormatter)
    guide.add_argument("playbook", metavar="PLAYBOOK", help="the playbook file (Markdown, see docs/playbooks.md), or the name of one in the library (`cobrowse playbooks list`)")
    _customer_options(guide)
    devices = sub.add_parser("devices", help="list the microphones and speakers calls can use", description="List the sound devices calls can use, by the id --mic / --speaker (or COBROWSE_MIC / COBROWSE_SPEAKER, or mic / speaker in the config file) take. Monitors of speakers are listed as microphones too.", epilog=EPILOG, formatter_class=HelpFormatter)
    devices.add_argument("--json", action="store_true", help="one JSON object on stdout")
    devices.add_argument("--check", action="store_true", help="check the call devices: play a short tone on the speaker, then show the microphone's level for a few seconds (say something)")
    devices.add_argument("--seconds", type=float, default=3.0, metavar="S", help="how long --check listens (default 3)")
    devices.add_argument("--mic", metavar="DEVICE", help="the microphone --check listens to (default: $COBROWSE_MIC, the config file, then default)")
    devices.add_argument("--speaker", metavar="DEVICE", help="the speaker --check plays on (default: $COBROWSE_SPEAKER, the config file, then default)")

    from cobrowse.cli import records_args

    records_args.add_arguments(sub, agent)

    from cobrowse.cli import playbooks_args

    playbooks_args.add_arguments(sub, EPILOG)
    playbooks_args.add_folder_option(agent)
    playbooks_args.add_folder_option(guide)

    completion = sub.add_parser("completion", help="print shell completion for bash, zsh or fish",
                                description='Print a completion script: eval "$(cobrowse completion bash)" in ~/.bashrc, '
                                            'the same with zsh in ~/.zshrc, or cobrowse completion fish > '
                                            '~/.config/fish/completions/cobrowse.fish.')
    completion.add_argument("shell", choices=("bash", "zsh", "fish"))

    from cobrowse.cli import org_args

    org = sub.add_parser("org", help="an organisation's signing key and agent credentials (admins)", description="Create the organisation's signing key, issue and revoke agent credentials, and publish the trust file customers use to see your agents as verified.", epilog=ORG_EPILOG, formatter_class=HelpFormatter)
    org_args.add_arguments(org)
    return parser


def _agent_command(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> argparse.ArgumentParser:
    agent = sub.add_parser("agent", help="start or join a session as the agent", description="Create a session and read its code to the customer, or --join a code the customer gave you. With no relay configured, an embedded relay starts on 127.0.0.1:8765 (on another port: `cobrowse relay --port P`, then --relay ws://127.0.0.1:P here and for the customer).", epilog=EPILOG, formatter_class=HelpFormatter)
    _client_options(agent)
    agent.add_argument("--join", metavar="CODE", help="attach to a session the customer created with `cobrowse share`")
    agent.add_argument("--headless", action="store_true", help="JSON lines: events on stdout, commands on stdin (see docs/headless.md)")
    agent.add_argument("--styles", action="store_true", help="headless: screen events also carry each row's style runs")
    agent.add_argument("--token", help="agent token, when the relay requires one (default: $COBROWSE_TOKEN)")
    agent.add_argument("--name", help="your name as the customer sees it")
    agent.add_argument("--no-feedback", action="store_true", help="end sessions without asking the customer whether the problem was solved")
    agent.add_argument("--no-predict", dest="predict", action="store_false", default=None, help="control mode: no predictive local echo (keys show only once the customer's screen echoes them; default: the config file's predict, then on)")
    helpdesk = agent.add_argument_group("help desk (docs/helpdesk.md)")
    helpdesk.add_argument("--webhook", metavar="URL", help="POST each session's summary here, signed with $COBROWSE_WEBHOOK_SECRET (default: $COBROWSE_WEBHOOK_URL, then webhook_url in the config)")
    helpdesk.add_argument("--ticket", metavar="ID", help="link the session to this help-desk ticket (also the ticket command)")
    agent.add_argument("--queue", action="store_true", help="serve your organisation's help queue (needs --credential): customers who ran `cobrowse help` wait there; pick one (docs/helpdesk.md)")
    agent.add_argument("--credential", metavar="FILE", help="your organisation credential (from `cobrowse org issue-agent`), proved to the customer so they see you verified (default: $COBROWSE_CREDENTIAL, then credential in the config)")
    return agent


_CUSTOMER_COMMANDS = (
    ("join", "join the agent's session with the code they read to you (customers)",
     "Join a support session with the code the agent gave you, and share a terminal with them. Nothing is shared until both sides confirm the code. "
     "Without the code (in a terminal), cobrowse asks for it and gets ready while you type it; Ctrl-C or Ctrl-D leaves."),
    ("share", "create a session yourself and give the code to an agent (customers)",
     "Create a session and share a terminal; prints `cobrowse code: CODE` on stderr for you to give to the agent."),
)


def _customer_command(sub: "argparse._SubParsersAction[argparse.ArgumentParser]", name: str, help_text: str, what: str) -> None:
    parser = sub.add_parser(name, help=help_text, description=what, epilog=EPILOG, formatter_class=HelpFormatter)
    if name == "join":
        parser.add_argument("code", metavar="CODE", nargs="?",
                            help="the session code, like 42-7193-0518; without it cobrowse asks for it (in a terminal) "
                                 "and connects to the relay while you type")
    _customer_options(parser)


#: How long a customer command (``join``, ``share``) runs before the cyclic garbage collector
#: comes back (see :func:`main`): its imports, the claim, SPAKE2 and the first screen are over
#: by then (~0.2 s on loopback, ~0.8 s at 150 ms RTT, or the code is being typed at the prompt).
GC_BACK_AFTER = 1.5


def main(argv: Sequence[str] | None = None) -> int:
    """The command line's entry point (pip's console script, ``python -m cobrowse``).

    A customer command starts with the cyclic garbage collector off: its ~350 modules' imports
    allocate enough container objects for ~80 collections (~8-14 ms measured with gc.callbacks,
    all finding next to nothing: modules, classes and functions live as long as the process).
    It comes back :data:`GC_BACK_AFTER` s into the command, or when the command returns,
    after ``gc.freeze()`` (what was made at start-up is not scanned again). Only for the real
    command line (``argv`` None): a caller's process keeps its collector as it is."""
    import gc

    lean = argv is None and len(sys.argv) > 1 and sys.argv[1] in LEAN and gc.isenabled()
    if lean:
        gc.disable()
    try:
        return _main(argv, lean)
    except BrokenPipeError:
        if not _stdout_is_a_pipe():
            raise
        # the reader went away (``cobrowse playbooks list --json | head``): quiet, as Unix tools
        # are; the interpreter's last flush then writes to /dev/null instead of failing again
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return STDOUT_CLOSED
    finally:
        if lean:
            _gc_back()


#: The exit status of a command whose output's reader left: a shell's for SIGPIPE (128 + 13).
STDOUT_CLOSED = 141


def _stdout_is_a_pipe() -> bool:
    import stat

    try:
        mode = os.fstat(sys.stdout.fileno()).st_mode
    except (OSError, ValueError):
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)


def _gc_back() -> None:
    import gc

    if not gc.isenabled():
        gc.freeze()
        gc.enable()


async def _gc_back_later(command: Coroutine[Any, Any, int]) -> int:
    """``command``, with the collector back after :data:`GC_BACK_AFTER` s (or at its end)."""
    import asyncio

    timer = asyncio.get_running_loop().call_later(GC_BACK_AFTER, _gc_back)
    try:
        return await command
    finally:
        timer.cancel()
        _gc_back()


def _asks_help(words: Sequence[str]) -> bool:
    """``-h`` or ``--help`` (or an abbreviation argparse takes for it) among the command's words:
    the help needs no relay, so no early connection (and its thread's imports, ~20 ms)."""
    return any(w == "-h" or (len(w) >= 3 and "--help".startswith(w)) for w in words)


def _main(argv: Sequence[str] | None, lean: bool) -> int:
    from cobrowse.cli import lean_imports

    lean_imports.install()  # websockets and spake2 without what they build at import and we never use
    words = sys.argv[1:] if argv is None else list(argv)
    if argv is None and words and words[0] in LEAN and not _asks_help(words[1:]):  # the relay's TCP connect overlaps the imports
        from cobrowse.io import preconnect
        preconnect.start(words[1:], os.environ)
    parser = build_parser(words[0] if words else None)
    args = parser.parse_args(argv)
    for name in ("code", "join"):  # other scripts' digits (a Persian keyboard's ۴۲, full-width ４２), as the prompt reads them
        typed = getattr(args, name, None)
        if isinstance(typed, str) and not typed.isascii():
            from cobrowse.cli.code_entry import ascii_digits

            setattr(args, name, ascii_digits(typed))
    if args.command_name is None:
        parser.print_help()
        return 2
    if args.command_name in ("join", "share", "guide", "help"):  # the customer's language (docs/i18n.md)
        from cobrowse.i18n.catalogues import install_customer_language

        # plain mode hands its sentences to the guard whole: Persian comes with its isolates (the app: see
        # i18n.catalogues.without_isolates)
        notice = install_customer_language(getattr(args, "lang", None), os.environ)
        if notice:
            print(f"cobrowse: {notice}", file=sys.stderr)
    if args.command_name == "join" and args.code is None:  # ask for it, getting ready meanwhile
        from cobrowse.cli import code_prompt

        if not sys.stdin.isatty():
            print(f"cobrowse: {code_prompt.no_terminal_error()}", file=sys.stderr)
            return code_prompt.EXIT_USAGE
        import asyncio

        try:
            status = asyncio.run(_gc_back_later(code_prompt.join_asked(args)) if lean else code_prompt.join_asked(args))
        except KeyboardInterrupt:
            print("cobrowse: interrupted", file=sys.stderr)
            status = 130
        return code_prompt.finish_imports(status)
    if args.command_name == "org":
        from cobrowse.cli import org as org_cli

        return org_cli.run(args)
    if args.command_name == "relay":
        from relay import cli as relay_cli

        return relay_cli.run(args)
    if args.command_name == "completion":
        from cobrowse.cli.completion import SHELLS

        print(SHELLS[args.shell](parser), end="")
        return 0
    if args.command_name == "playbooks":
        from cobrowse.cli import playbooks as playbooks_cli

        return playbooks_cli.run(args)
    if args.command_name == "devices":
        from cobrowse.cli import devices as devices_cli

        return devices_cli.run(args)
    if lean and args.command_name == "join":  # the claim out before the session's imports (cli/early_claim.py)
        from cobrowse.cli import early_claim

        if early_claim.applies(args):
            import asyncio

            try:
                status = asyncio.run(_gc_back_later(early_claim.run(args)))
            except KeyboardInterrupt:
                print("cobrowse: interrupted", file=sys.stderr)
                status = 130
            return status
    from cobrowse.cli import commands, records_args

    if records_args.wants(args):
        from cobrowse.cli import records

        return records.run(args)
    import asyncio  # not at the top: main() starts the relay's connect before anything heavy loads

    try:
        return asyncio.run(_gc_back_later(commands.run(args)) if lean else commands.run(args))
    except KeyboardInterrupt:
        print("cobrowse: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

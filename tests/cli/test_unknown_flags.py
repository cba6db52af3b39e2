"""An unknown flag is named by the command it was given to, under that command's usage (a
person who mistyped ``--port`` must be told which word was wrong, not that ``1`` is no action)."""

from __future__ import annotations

import contextlib
import io

import pytest

from cobrowse.cli.main import build_parser


def error_of(argv: list[str]) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), pytest.raises(SystemExit) as stop:
        build_parser(argv[0]).parse_args(argv)
    return int(stop.value.code or 0), err.getvalue()


@pytest.mark.parametrize(("argv", "usage", "said"), [
    (["relay", "--prot", "1"], "usage: cobrowse relay ", "cobrowse relay: error: unrecognized arguments: --prot"),
    (["relay", "--prot=1"], "usage: cobrowse relay ", "unrecognized arguments: --prot"),
    (["join", "--bogus"], "usage: cobrowse join ", "cobrowse join: error: unrecognized arguments: --bogus"),
    (["share", "--bogus", "x"], "usage: cobrowse share ", "cobrowse share: error: unrecognized arguments: --bogus x"),
    (["agent", "--bogus"], "usage: cobrowse agent ", "cobrowse agent: error: unrecognized arguments: --bogus"),
    (["relay", "token", "create", "--name", "a", "--nme", "b"], "usage: cobrowse relay token create ",
     "unrecognized arguments: --nme b"),
])
def test_unknown_flag_is_named_under_its_commands_usage(argv: list[str], usage: str, said: str) -> None:
    status, err = error_of(argv)
    assert status == 2
    assert err.startswith(usage), err
    assert said in err
    assert "invalid choice" not in err


def test_a_wrong_action_or_command_is_still_named() -> None:
    status, err = error_of(["relay", "--port", "1", "kil"])
    assert status == 2 and "invalid choice: 'kil'" in err and err.startswith("usage: cobrowse relay ")
    status, err = error_of(["agnt"])
    assert status == 2 and "invalid choice: 'agnt'" in err


def test_known_flags_and_abbreviations_still_parse() -> None:
    args = build_parser("relay").parse_args(["relay", "--port", "1", "--host=127.0.0.1", "sessions", "--json"])
    assert (args.port, args.host, args.relay_action, args.json) == ("1", "127.0.0.1", "sessions", True)
    args = build_parser("join").parse_args(["join", "--rel", "ws://127.0.0.1:1", "12-3456-7890"])
    assert args.relay == "ws://127.0.0.1:1"

"""The lean parsers (`join`, `share`, `agent`: only their own command, for start-up time) take
the same arguments and print the same help and errors as the whole parser."""

from __future__ import annotations

import argparse
import contextlib
import io

import pytest

from cobrowse.cli.main import LEAN, build_parser

ARGVS = {
    "join": [["join", "12-3456-7890"], ["join", "12-3456-7890", "--relay", "ws://127.0.0.1:1", "--plain", "--lang", "ru"],
             ["join"], ["join", "1", "--size", "80x24", "--nope"]],
    "share": [["share", "--command", "bash"], ["share", "--org", "a.json", "--org", "b.json", "--no-direct"]],
    "agent": [["agent", "--headless", "--relay", "ws://127.0.0.1:1"], ["agent", "--join", "12-3456-7890", "--name", "A"],
              ["agent", "history", "--json"], ["agent", "stats", "--days", "7"], ["agent", "--playbooks", "x", "--queue"],
              ["agent", "--bogus"], ["agent", "history", "--limit", "x"]],
}


def subparser(parser: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser:
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))  # noqa: SLF001
    return sub.choices[name]  # type: ignore[no-any-return]


def outcome(parser: argparse.ArgumentParser, argv: list[str]) -> tuple[str, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            result = repr(sorted(vars(parser.parse_args(argv)).items()))
        except SystemExit as exc:
            result = f"exit {exc.code}"
    return result, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("command", [*LEAN, "agent"])
def test_lean_parser_matches_the_whole_one(command: str) -> None:
    lean, whole = build_parser(command), build_parser()
    assert subparser(lean, command).format_help() == subparser(whole, command).format_help()
    for argv in ARGVS[command] + [[command, "--help"]]:
        assert outcome(lean, argv) == outcome(whole, argv), argv

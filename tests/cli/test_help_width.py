"""Every ``--help`` fits the terminal it is printed in: the raw formatter printed each
command's description as one 160-300 column line and the shared epilog at up to 91 columns,
so an 80-column terminal broke them mid-word (found reading `cobrowse join --help` in tmux)."""

from __future__ import annotations

import argparse

import pytest

from cobrowse.cli.main import build_parser

COMMANDS = [(), ("relay",), ("agent",), ("join",), ("share",), ("help",), ("guide",), ("devices",),
            ("recordings",), ("receipts",), ("playbooks",), ("completion",), ("org",)]


def help_of(words: tuple[str, ...]) -> str:
    parser: argparse.ArgumentParser = build_parser()
    for word in words:
        parser = next(a for a in parser._subparsers._group_actions if isinstance(a, argparse._SubParsersAction)  # type: ignore[union-attr]
                      ).choices[word]
    return parser.format_help()


@pytest.mark.parametrize("columns", [80, 120])
@pytest.mark.parametrize("words", COMMANDS, ids=lambda w: " ".join(w) or "cobrowse")
def test_help_fits_the_terminal(words: tuple[str, ...], columns: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", str(columns))
    text = help_of(words)
    wide = [line for line in text.splitlines() if len(line) > columns]
    assert not wide, wide


def test_the_epilog_keeps_its_two_paragraphs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    text = help_of(("join",))
    assert "\n\nexit status: 0" in text
    assert "\n\nenvironment: COBROWSE_RELAY (relay URL)" in text
    assert "replaying frames)\n\nenvironment:" in text
    assert not any(line.startswith("·") for line in text.splitlines())


def test_the_relay_names_its_own_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """`cobrowse relay --help` listed the clients' variables (COBROWSE_TOKEN, COBROWSE_MIC...)
    and none of the relay's."""
    monkeypatch.setenv("COLUMNS", "80")
    text = help_of(("relay",))
    assert "COBROWSE_RELAY_PORT" in text and "COBROWSE_RELAY_CONFIG" in text and "COBROWSE_DATA_DIR" in text
    assert "COBROWSE_MIC" not in text and "COBROWSE_TOKEN" not in text
    assert "exit status: 0" in text

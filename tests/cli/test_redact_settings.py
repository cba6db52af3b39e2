"""redact_patterns: config file, $COBROWSE_REDACT and --redact add up; a bad one is a usage error."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from cobrowse.cli.config import resolve
from cobrowse.cli.main import build_parser
from cobrowse.errors import ConfigError


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "config.toml"
    monkeypatch.setenv("COBROWSE_CONFIG", str(path))
    monkeypatch.delenv("COBROWSE_REDACT", raising=False)
    path.write_text("")
    return path


def test_patterns_from_every_source_add_up(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config.write_text("redact_patterns = ['ACME-[0-9]{6}', 'shared']\n")
    monkeypatch.setenv("COBROWSE_REDACT", "ENV-[a-z]+\n\nshared\n")
    args = build_parser().parse_args(["join", "1-2345-6789", "--redact", "FLAG-1", "--redact", "FLAG-2"])
    settings = resolve(None, redact_flags=args.redact)
    assert settings.redact_patterns == ("ACME-[0-9]{6}", "shared", "ENV-[a-z]+", "FLAG-1", "FLAG-2")
    assert resolve(None).redact_patterns == ("ACME-[0-9]{6}", "shared", "ENV-[a-z]+")


@pytest.mark.parametrize("file, env, flags, message", [
    ("redact_patterns = ['(unclosed']\n", "", [], "from the config file's redact_patterns: not a valid regex"),
    ("redact_patterns = 'ACME'\n", "", [], "'redact_patterns' has the wrong type"),
    ("", "[z-a]", [], "from COBROWSE_REDACT: not a valid regex"),
    ("", "", ["ok", "x" * 501], "from --redact: longer than 500"),
])
def test_a_bad_pattern_names_its_source(config: Path, monkeypatch: pytest.MonkeyPatch, file: str, env: str,
                                        flags: list[str], message: str) -> None:
    config.write_text(file)
    monkeypatch.setenv("COBROWSE_REDACT", env)
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace("'", ".")):
        resolve(None, redact_flags=flags)


def test_the_cli_refuses_a_bad_pattern_with_status_2() -> None:
    run = subprocess.run([sys.executable, "-m", "cobrowse", "join", "1-2345-6789", "--plain", "--redact", "(",
                          "--relay", "ws://127.0.0.1:9"], capture_output=True, text=True, timeout=30,
                         env={"COBROWSE_CONFIG": "/dev/null", "PATH": "/usr/bin:/bin",
                              "PYTHONPATH": str(Path(__file__).parents[2])})
    assert run.returncode == 2
    assert run.stderr.startswith("cobrowse: redaction pattern '(' from --redact: not a valid regex")

"""Shell completion, generated from the parser, run in a real bash."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def script(shell: str) -> str:
    out = subprocess.run([sys.executable, "-m", "cobrowse", "completion", shell], capture_output=True, text=True,
                         timeout=60, cwd=ROOT, env={**os.environ, "COBROWSE_CONFIG": os.devnull})
    assert out.returncode == 0, out.stderr
    return out.stdout


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
@pytest.mark.parametrize("words,expected", [
    (["cobrowse", "pl"], {"playbooks"}),
    (["cobrowse", "playbooks", "s"], {"search", "suggest"}),
    (["cobrowse", "relay", "token", "c"], {"create"}),
    (["cobrowse", "join", "--pl"], {"--plain"}),
    (["cobrowse", "agent", "--hea"], {"--headless"}),
    (["cobrowse", "completion", "f"], {"fish"}),
])
def test_bash_completes_commands_actions_and_flags(tmp_path: Path, words: list[str], expected: set[str]) -> None:
    (tmp_path / "c.bash").write_text(script("bash"))
    line = " ".join(words)
    program = (f"source {tmp_path / 'c.bash'}; COMP_WORDS=({line}); COMP_CWORD={len(words) - 1}; _cobrowse; "
               'printf "%s\\n" "${COMPREPLY[@]}"')
    out = subprocess.run(["bash", "--norc", "--noprofile", "-c", program], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert set(out.stdout.split()) == expected


def test_zsh_and_fish_scripts_name_the_same_commands() -> None:
    zsh, fish = script("zsh"), script("fish")
    assert "bashcompinit" in zsh and "complete -o default -F _cobrowse cobrowse" in zsh
    for command in ("relay", "agent", "join", "share", "guide", "playbooks", "completion"):
        assert f"-n __fish_use_subcommand -a {command}" in fish
    assert "-l headless" in fish

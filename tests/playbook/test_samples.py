"""The shipped sample playbooks and the documented example parse, and run as intended."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cobrowse.playbook import Library, LineTap, StepMachine, load_playbook, parse_playbook
from cobrowse.i18n.playbooks import is_translation
from cobrowse.playbook.catalogue import SAMPLES as SAMPLES_DIR

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ["collect-diagnostics.md", "rotate-api-key.md", "fix-git-push.md"]


@pytest.mark.parametrize("name", SAMPLES)
def test_samples_parse(name: str) -> None:
    pb = load_playbook(SAMPLES_DIR / name)
    assert len(pb.steps) >= 4
    assert any(step.expect for step in pb.steps)
    assert all(step.body or step.command for step in pb.steps)


def test_the_library_lists_the_samples_without_errors() -> None:
    entries = Library(SAMPLES_DIR).entries()
    assert all(e.valid for e in entries), [e.error for e in entries]
    entries = [e for e in entries if not is_translation(e.path)]  # NAME.LANG.md: tests/i18n/test_playbooks.py
    assert set(SAMPLES) <= {e.path.name for e in entries} and len(entries) >= 15
    assert all(e.steps >= 2 for e in entries)
    assert [e.title for e in Library(SAMPLES_DIR).search("api key")] == ["Rotate an API key with the acme CLI"]


def test_the_documented_example_parses() -> None:
    doc = (ROOT / "docs" / "playbooks.md").read_text(encoding="utf-8")
    example = re.search(r"````markdown\n(.*?)\n````", doc, re.S)
    assert example is not None
    pb = parse_playbook(example.group(1), "docs/playbooks.md")
    assert [s.title for s in pb.steps] == ["Check the CLI version", "Check the clock", "Send the report"]
    assert pb.steps[0].command == "acme --version" and pb.steps[1].command == "date -u"
    assert pb.steps[2].command is None
    assert "Maintainers" not in pb.description


def test_fix_git_push_auto_advances_on_real_looking_output() -> None:
    machine = StepMachine(load_playbook(SAMPLES_DIR / "fix-git-push.md"))
    tap = LineTap()
    session = [
        b"\x1b[01;32muser@host\x1b[00m:~/app$ git status -sb\r\n",
        b"## \x1b[32mmain\x1b[m...\x1b[31morigin/main\x1b[m [ahead 1, behind 2]\r\n",
        b"$ git remote -v\r\norigin\tgit@git.example.com:team/app.git (fetch)\r\n",
        b"origin\tgit@git.example.com:team/app.git (push)\r\n",
        b"$ git ls-remote --heads origin\r\n",
        b"git@git.example.com: Permission denied (publickey).\r\n",
        b"fatal: Could not read from remote repository.\r\n",
    ]
    for chunk in session:
        machine.observe(tap.feed(chunk), 1.0)
    assert [s.status for s in machine.states] == ["done", "done", "failed", "pending", "pending"]
    assert machine.current == 2
    machine.observe(tap.feed(b"$ ssh-add\r\n$ git ls-remote --heads origin\r\n" + b"a" * 40 + b"\trefs/heads/main\r\n"), 2.0)
    assert machine.current == 3
    machine.observe(tap.feed(b"$ git pull --rebase\r\nSuccessfully rebased and updated refs/heads/main.\r\n"), 3.0)
    machine.observe(tap.feed(b"$ git push\r\nWriting objects: 100% (3/3)\r\nTo git.example.com:team/app.git\r\n"), 4.0)
    assert machine.current == 4
    machine.observe(tap.feed(b"   1a2b3c4..5d6e7f8  main -> main\r\n$ "), 5.0)
    assert machine.finished
    assert machine.summary()["done"] == 5


def test_collect_diagnostics_patterns_ignore_the_typed_command() -> None:
    pb = load_playbook(SAMPLES_DIR / "collect-diagnostics.md")
    machine = StepMachine(pb)
    tap = LineTap()
    machine.observe(tap.feed(b"$ uname -srm\r\nLinux 6.1.0-18-amd64 x86_64\r\n"), 1.0)
    machine.observe(tap.feed(b"$ date '+%Y-%m-%d %H:%M:%S %Z (UTC%z)'\r\n2024-05-01 10:00:00 CEST (UTC+0200)\r\n"), 2.0)
    assert machine.current == 2
    machine.observe(tap.feed(b'$ echo "shell=$SHELL term=$TERM lang=${LANG:-unset}"\r\n'), 3.0)
    assert machine.current == 2  # the typed command does not complete the step
    machine.observe(tap.feed(b"shell=/bin/bash term=xterm-256color lang=en_US.UTF-8\r\n"), 4.0)
    machine.observe(tap.feed(b"no proxy variables set\r\n"), 5.0)
    machine.observe(tap.feed(b"$ acme doctor\r\n2 checks failed\r\n"), 6.0)
    assert machine.current == 4 and machine.states[4].status == "failed"
    machine.observe(tap.feed(b"All 7 checks passed\r\n"), 7.0)
    assert machine.current == 5 and machine.active_step.expect is None

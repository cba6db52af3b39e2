"""qa9/fix8: `cobrowse org --help` printed the clients' exit statuses (session failed, relay
unreachable, code refused, security check) and their variables; org only ever exits 0, or 2
with one line on stderr (cobrowse/cli/org.py). A real process, as an admin runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _help(tmp_path: Path) -> str:
    env = {**os.environ, "COLUMNS": "100", "COBROWSE_ORG_DIR": str(tmp_path / "org")}
    out = subprocess.run([sys.executable, "-m", "cobrowse", "org", "--help"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return " ".join(out.stdout.replace("\u00a0", " ").split())


def test_org_help_gives_the_statuses_org_uses(tmp_path: Path) -> None:
    text = _help(tmp_path)
    assert "exit status: 0 done" in text
    assert "2 usage or configuration error" in text
    for client_only in ("session failed", "relay unreachable", "code refused", "security check failed"):
        assert client_only not in text, client_only


def test_org_help_names_its_own_environment(tmp_path: Path) -> None:
    text = _help(tmp_path)
    assert "COBROWSE_ORG_DIR" in text
    assert "COBROWSE_TOKEN" not in text and "COBROWSE_MIC" not in text


def test_an_org_error_is_the_status_its_help_gives(tmp_path: Path) -> None:
    env = {**os.environ, "COBROWSE_ORG_DIR": str(tmp_path / "none")}
    out = subprocess.run([sys.executable, "-m", "cobrowse", "org", "list"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and len(out.stderr.strip().splitlines()) == 1, out.stderr

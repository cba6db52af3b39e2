"""Damaged organisation files, as an admin, an agent and a customer meet them: the line
names the file, says it is damaged and what to do (a bare JSON error said neither).
Real `cobrowse` processes; nothing connects anywhere (the checks come first)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def cobrowse(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COBROWSE_CONFIG": os.devnull, "COBROWSE_ORG_DIR": str(tmp / "org"),
           "COBROWSE_DATA_DIR": str(tmp / "data"), "COBROWSE_RELAY": "ws://127.0.0.1:9"}
    return subprocess.run([sys.executable, "-m", "cobrowse", *args], capture_output=True, text=True, timeout=30,
                          env=env, cwd=ROOT, stdin=subprocess.DEVNULL)


def test_a_damaged_org_key_credential_or_trust_file_says_what_to_do(tmp_path: Path) -> None:
    (tmp_path / "org").mkdir()
    (tmp_path / "org" / "org-key.json").write_text("{bad")
    broken = tmp_path / "broken.json"
    broken.write_bytes(b"\xff{")
    cases = [
        (("org", "list"), "the organisation key", "restore it from your backup"),
        (("agent", "--headless", "--credential", str(broken)), "the agent credential file",
         "ask your organisation's admin for a new one"),
        (("help", "--plain", "--org", str(broken)), "the organisation trust file", "get the organisation's trust file again"),
    ]
    for args, what, fix in cases:
        done = cobrowse(tmp_path, *args)
        assert done.returncode == 2, (args, done.stderr)
        assert f"{what} " in done.stderr and "is damaged" in done.stderr and fix in done.stderr, done.stderr

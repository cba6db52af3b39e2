"""`cobrowse receipts verify` as a customer runs it: a path that is not a receipt is named
with what to do; an intact chain whose end is missing says so. Real processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from cobrowse.audit.receipt import ReceiptChain

ROOT = Path(__file__).resolve().parents[2]


def verify(tmp: Path, target: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COBROWSE_DATA_DIR": str(tmp / "data"), "XDG_CONFIG_HOME": str(tmp / "cfg")}
    return subprocess.run([sys.executable, "-m", "cobrowse", "receipts", "verify", target], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=30)


def test_a_missing_file_or_a_folder_says_what_to_do(tmp_path: Path) -> None:
    for target, what in ((str(tmp_path / "nope.jsonl"), "does not exist"), (str(tmp_path), "is a folder")):
        done = verify(tmp_path, target)
        assert done.returncode == 2 and what in done.stderr and "cobrowse receipts list" in done.stderr
        assert "Errno" not in done.stderr


def test_an_intact_receipt_without_its_end_is_ok_with_a_note(tmp_path: Path) -> None:
    chain = ReceiptChain()
    lines = [chain.append({"event": "paired"}), chain.append({"event": "feedback"}), chain.append({"event": "ended"})]
    whole, cut = tmp_path / "whole.jsonl", tmp_path / "cut.jsonl"
    whole.write_bytes(b"".join(lines))
    cut.write_bytes(b"".join(lines[:2]))
    done = verify(tmp_path, str(whole))
    assert done.returncode == 0 and done.stdout.startswith("OK: 3 entries") and "note" not in done.stdout
    done = verify(tmp_path, str(cut))
    assert done.returncode == 0 and done.stdout.startswith("OK: 2 entries")
    assert "the last entry is 'feedback', not the session's end" in done.stdout


def test_a_damaged_history_says_what_to_do(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "history.sqlite3").write_text("garbage\n")
    env = {**os.environ, "COBROWSE_DATA_DIR": str(tmp_path / "data"), "XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    for view in ("history", "stats"):
        done = subprocess.run([sys.executable, "-m", "cobrowse", "agent", view], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=30)
        assert done.returncode == 2 and "history.sqlite3" in done.stderr and "move it aside" in done.stderr

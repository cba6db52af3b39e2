"""A receipt someone hands you is a file anyone could have written (rev2): `cobrowse receipts
verify` prints what it read from it (the last entry's event, the bad sequence number) escaped
and short, never an escape sequence for your terminal, never megabytes. Real processes."""

from __future__ import annotations

import json
from pathlib import Path

from cobrowse.audit.receipt import ReceiptChain, verify as verify_bytes
from tests.audit.test_receipts_cli import verify


def test_an_escape_sequence_in_the_last_event_is_shown_escaped(tmp_path: Path) -> None:
    chain = ReceiptChain()
    path = tmp_path / "r.jsonl"
    path.write_bytes(chain.append({"event": "paired"}) + chain.append({"event": "\x1b]0;pwned\x07\x1b[2J" + "x" * 10_000}))
    assert "\x1b" not in verify_bytes(path.read_bytes()).last_event
    done = verify(tmp_path, str(path))
    assert done.returncode == 0 and "\x1b" not in done.stdout and "\x07" not in done.stdout
    assert "\\x1b]0;pwned" in done.stdout and len(done.stdout) < 2000


def test_a_hostile_sequence_number_is_named_short_and_escaped(tmp_path: Path) -> None:
    chain = ReceiptChain()
    first = chain.append({"event": "paired"})
    bad = json.dumps({"seq": ["\x1b[2J" * 50_000], "prev": chain.head}).encode() + b"\n"
    path = tmp_path / "r.jsonl"
    path.write_bytes(first + bad)
    done = verify(tmp_path, str(path))
    assert done.returncode == 1 and "TAMPERED" in done.stdout and "line 2: sequence number" in done.stdout
    assert "\x1b" not in done.stdout and len(done.stdout) < 2000

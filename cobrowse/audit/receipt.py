"""Hash-chained receipts: a log of who was granted what and when, that shows tampering.

A receipt is JSON lines. Every entry holds ``seq`` (0, 1, 2, ...), ``prev`` (the SHA-256,
in hex, of the previous line's exact bytes; 64 zeros for the first) and its own fields
(``time``, ``event``, ...). Changing, removing, inserting or reordering any line breaks
the chain at the next line, and ``verify`` names it. The last line has no successor, so
the writer reports the chain's ``head`` (the SHA-256 of the last line) when the session
ends: a customer who notes it can show that the end was not cut or edited either.
Pure: bytes in, findings out.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from cobrowse.protocol.untrusted import visible
from cobrowse.wire.frozen import frozen

GENESIS = "0" * 64


def line_hash(line: bytes) -> str:
    return hashlib.sha256(line).hexdigest()


def encode_entry(seq: int, prev: str, fields: dict[str, Any]) -> bytes:
    """One receipt line (with its newline): ``seq`` and ``prev`` first, then ``fields``."""
    entry = {"seq": seq, "prev": prev, **{k: v for k, v in fields.items() if k not in ("seq", "prev")}}
    return json.dumps(entry, ensure_ascii=False, separators=(",", ":"), sort_keys=False).encode() + b"\n"


class ReceiptChain:
    """Builds the next line of a chain; resumes from the lines already written."""

    def __init__(self, existing: bytes = b"") -> None:
        self.seq = 0
        self.head = GENESIS
        for line in existing.splitlines(keepends=True):
            self.seq += 1
            self.head = line_hash(line)

    def append(self, fields: dict[str, Any]) -> bytes:
        line = encode_entry(self.seq, self.head, fields)
        self.seq += 1
        self.head = line_hash(line)
        return line


@frozen
class Verdict:
    ok: bool
    entries: int
    head: str
    problem: str = ""
    last_event: str = ""  # the last entry's ``event``: "ended" once the session's end was written


def verify(data: bytes) -> Verdict:
    """Check a whole receipt; ``problem`` names the first line that breaks the chain."""
    prev = GENESIS
    count = 0
    last = ""
    for number, line in enumerate(data.splitlines(keepends=True), start=1):
        if not line.endswith(b"\n"):
            return Verdict(False, count, prev, f"line {number}: cut short (no newline at the end)")
        try:
            entry = json.loads(line)
        except ValueError:
            return Verdict(False, count, prev, f"line {number}: not JSON (edited or damaged)")
        if not isinstance(entry, dict):
            return Verdict(False, count, prev, f"line {number}: not a receipt entry")
        if entry.get("seq") != number - 1:
            seq = visible(repr(entry.get("seq")), 40)  # the file's own text: escaped, short
            return Verdict(False, count, prev, f"line {number}: sequence number {seq}, expected {number - 1} (a line was removed, added or moved)")
        if entry.get("prev") != prev:
            what = "the previous line was changed" if number > 1 else "the first line does not start a chain"
            return Verdict(False, count, prev, f"line {number}: hash of the previous line does not match ({what})")
        prev = line_hash(line)
        count += 1
        event = entry.get("event")
        last = event if isinstance(event, str) else ""
    if count == 0:
        return Verdict(False, 0, prev, "the receipt is empty")
    return Verdict(True, count, prev, last_event=visible(last, 40))  # whoever wrote the file: escaped

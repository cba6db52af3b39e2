"""Receipt chains: a clean chain verifies; any edit, removal or reordering is named."""

from __future__ import annotations

import json

from cobrowse.audit.receipt import GENESIS, ReceiptChain, line_hash, verify


def build(n: int = 4) -> list[bytes]:
    chain = ReceiptChain()
    return [chain.append({"time": f"2026-12-01T21:0{i}:00Z", "event": "consent", "level": "control" if i % 2 else "view"})
            for i in range(n)]


def test_a_clean_chain_verifies_and_reports_its_head() -> None:
    lines = build()
    verdict = verify(b"".join(lines))
    assert verdict.ok and verdict.entries == 4 and verdict.head == line_hash(lines[-1])
    assert json.loads(lines[0])["prev"] == GENESIS
    assert json.loads(lines[2])["prev"] == line_hash(lines[1])


def test_resuming_a_chain_continues_it() -> None:
    lines = build(2)
    chain = ReceiptChain(b"".join(lines))
    more = chain.append({"event": "ended"})
    assert verify(b"".join(lines) + more).ok and json.loads(more)["seq"] == 2


def test_an_edited_line_is_detected_at_the_next_line() -> None:
    lines = build()
    lines[1] = lines[1].replace(b'"control"', b'"view"')
    verdict = verify(b"".join(lines))
    assert not verdict.ok and verdict.problem.startswith("line 3") and verdict.entries == 2


def test_removed_inserted_and_reordered_lines_are_detected() -> None:
    lines = build()
    assert "line 2" in verify(b"".join([lines[0], lines[2], lines[3]])).problem
    assert "line 1" in verify(b"".join([lines[1], lines[0], lines[2]])).problem
    assert not verify(b"".join([lines[0], lines[0], lines[1]])).ok


def test_damaged_and_empty_receipts_are_refused_with_a_reason() -> None:
    lines = build()
    assert "not JSON" in verify(lines[0] + b"{garbage\n").problem
    assert "cut short" in verify(lines[0] + lines[1][:-1]).problem
    assert verify(b"").problem == "the receipt is empty"


def test_the_verdict_names_the_last_event_so_a_cut_end_can_be_told() -> None:
    lines = build(2)
    ended = ReceiptChain(b"".join(lines)).append({"event": "ended"})
    assert verify(b"".join(lines) + ended).last_event == "ended"
    assert verify(b"".join(lines)).last_event == "consent"  # intact, but the end is not there

"""A recording's side file keeps a bounded number of notes in memory (rev2): chat is the
other side's to send, so a customer flooding chat while the agent records grew the agent's
memory for as long as the session lasted. Past ``MAX_NOTES`` notes are counted, not kept."""

from __future__ import annotations

import json
from pathlib import Path

from cobrowse.io.recorder import MAX_NOTES, Recorder
from cobrowse.policy.agent_events import ChatMessage, Side


def test_a_chat_flood_is_counted_past_the_bound_and_the_end_is_still_noted(tmp_path: Path) -> None:
    recorder = Recorder(tmp_path, 0.0, {"customer": "Bob"}, wall=1_764_979_200.0)
    flood = MAX_NOTES + 5_000
    for i in range(flood):
        recorder.note_event(ChatMessage(Side.CUSTOMER, "x" * 2000), i / 1000)
    assert len(recorder.events) == MAX_NOTES
    recorder.close(60.0, "agent_ended")
    side = json.loads(recorder.side_path.read_text(encoding="utf-8"))
    assert side["events_dropped"] == flood - MAX_NOTES
    assert side["events"][-1]["kind"] == "stopped" and len(side["events"]) == MAX_NOTES + 1

"""Per-playbook resolution rates and tickets in `cobrowse agent stats` (pure)."""

from __future__ import annotations

from cobrowse.audit.stats import SessionRecord, compute, format_history, format_stats

DAY = 1_764_979_200.0


def test_each_playbook_gets_its_resolution_rate() -> None:
    git = "Fix a failing git push"
    dns = "Fix name resolution (DNS)"
    records = [
        SessionRecord(DAY, 60, playbook=git, steps=(("a", "done"), ("b", "done")), resolved=True, ticket="ZD-1"),
        SessionRecord(DAY + 1, 60, playbook=git, steps=(("a", "done"), ("b", "failed")), resolved=False),
        SessionRecord(DAY + 2, 60, playbook=git, steps=(("a", "skipped"), ("b", "done")), resolved=None),
        SessionRecord(DAY + 3, 60, playbook=dns, steps=(("a", "done"),), resolved=True, ticket="ZD-2"),
        SessionRecord(DAY + 4, 60),  # no playbook: not in the table
    ]
    stats = compute(records)
    table = [p.to_json() for p in stats.playbooks]
    assert table == [
        {"playbook": git, "sessions": 3, "answered": 2, "solved": 1, "resolution_rate": 0.5, "completed": 2},
        {"playbook": dns, "sessions": 1, "answered": 1, "solved": 1, "resolution_rate": 1.0, "completed": 1},
    ]
    assert stats.tickets == 2 and stats.to_json()["tickets"] == 2
    text = "\n".join(format_stats(stats))
    assert "linked to a help-desk ticket: 2 of 5" in text
    assert "1/2    50% solved    2 run to the end  Fix a failing git push" in text
    assert "[ticket ZD-1]" in "\n".join(format_history(records))
    assert records[0].to_json()["ticket"] == "ZD-1" and records[4].to_json()["ticket"] is None

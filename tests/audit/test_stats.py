"""History statistics: per day, median, resolution rate, step troubles (pure)."""

from __future__ import annotations

from cobrowse.audit.stats import SessionRecord, compute, format_history, format_stats

DAY1 = 1764547200.0  # 2025-12-01 00:00 UTC
DAY2 = DAY1 + 86400


def records() -> list[SessionRecord]:
    wifi = "Fix the Wi-Fi"
    return [
        SessionRecord(DAY1 + 60, 120, "Ann", "agent_ended", wifi, (("Check", "done"), ("Restart", "failed")), True, 5),
        SessionRecord(DAY1 + 3600, 600, "Bob", "agent_ended", wifi, (("Check", "done"), ("Restart", "pending")), False, 2),
        SessionRecord(DAY2 + 10, 300, "Cy", "customer_ended", wifi, (("Check", "failed"), ("Restart", "failed")), None, None),
        SessionRecord(DAY2 + 20, 30, "", "peer_timeout"),
    ]


def test_per_day_median_resolution_and_rating() -> None:
    stats = compute(records())
    assert stats.sessions == 4
    assert stats.per_day == (("2025-12-01", 2), ("2025-12-02", 2))
    assert stats.median_duration_s == 210.0
    assert stats.answered == 2 and stats.resolution_rate == 0.5
    assert stats.mean_rating == 3.5 and stats.ratings == 2


def test_steps_that_fail_or_are_left_not_done_come_first() -> None:
    troubles = compute(records()).troubles
    assert [(t.step, t.failed, t.not_done, t.seen) for t in troubles] == [("Restart", 2, 1, 3), ("Check", 1, 0, 3)]


def test_no_records_give_empty_figures_and_a_plain_message() -> None:
    stats = compute([])
    assert stats.sessions == 0 and stats.median_duration_s is None and stats.resolution_rate is None
    assert format_stats(stats) == ["no sessions recorded yet"]
    assert format_history([]) == ["no sessions recorded yet"]


def test_human_views_show_the_figures() -> None:
    text = "\n".join(format_stats(compute(records())))
    assert "resolved: 50% of 2 answered" in text and "3.5/5" in text and "Restart" in text
    table = format_history(records())
    assert "Ann" in table[1] and "1/2" in table[1] and "yes" in table[1] and "*****" in table[1]
    assert records()[0].to_json()["started"] == "2025-12-01T00:01:00+00:00"

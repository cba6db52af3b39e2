"""Queue wait times in the agent's statistics: median and p90 per organisation (pure)."""

from __future__ import annotations

from cobrowse.audit.stats import SessionRecord, compute, format_history, format_stats, percentile, queue_wait


def test_percentile_is_a_wait_that_happened() -> None:
    waits = [float(w) for w in range(1, 11)]
    assert percentile(waits, 0.9) == 9.0 and percentile(waits, 0.5) == 5.0
    assert percentile([42.0], 0.9) == 42.0
    assert percentile([3.0, 1.0, 2.0], 0.9) == 3.0


def test_median_and_p90_wait_per_organisation() -> None:
    acme = [SessionRecord(1000.0 + i, 60.0, queue_org="Acme", queue_wait_s=w) for i, w in
            enumerate((10.0, 20.0, 30.0, 40.0, 300.0))]
    other = [SessionRecord(2000.0, 60.0, queue_org="Globex", queue_wait_s=5.0)]
    by_code = [SessionRecord(3000.0, 60.0)]  # no queue: not counted
    stats = compute(acme + other + by_code)
    shape = stats.to_json()["queue_waits"]
    assert shape == [{"org": "Acme", "sessions": 5, "median_s": 30.0, "p90_s": 300.0},
                     {"org": "Globex", "sessions": 1, "median_s": 5.0, "p90_s": 5.0}]
    lines = format_stats(stats)
    assert "help queue: sessions, wait until picked (median, p90):" in lines
    assert any("median    30s" in line and "p90  5m00s" in line and line.endswith("Acme") for line in lines)
    assert compute(by_code).to_json()["queue_waits"] == []
    assert not any("help queue" in line for line in format_stats(compute(by_code)))


def test_a_record_says_where_it_came_from() -> None:
    shape = SessionRecord(1000.0, 5.0, queue_org="Acme", queue_wait_s=12.5).to_json()
    assert shape["queue_org"] == "Acme" and shape["queue_wait_s"] == 12.5
    assert SessionRecord(1000.0, 5.0).to_json()["queue_wait_s"] is None
    row = format_history([SessionRecord(1000.0, 5.0, queue_org="Acme", queue_wait_s=100.0)])[1]
    assert row.endswith("[queue 1m40s]")
    assert "[queue" not in format_history([SessionRecord(1000.0, 5.0)])[1]


def test_only_a_sane_wait_is_kept() -> None:
    assert queue_wait(12.345) == 12.3 and queue_wait(7) == 7.0
    for bad in (None, -1, True, "12", 86400 * 8, float("nan")):
        assert queue_wait(bad) is None

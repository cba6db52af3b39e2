"""The help queue's metrics keep their ``org`` label bounded: only organisations the config
names get a series; anything a customer or a forwarded pick says is ``other``."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from relay.metrics import Live, RelayMetrics
from relay.outcome import Event

ACME = "0123456789abcdef"


def series(metrics: RelayMetrics, name: str) -> dict[str, float]:
    return {s.labels["org"]: s.value for family in text_string_to_metric_families(metrics.render().decode())
            for s in family.samples if s.name == name}


def test_unnamed_organisations_are_one_label_however_many() -> None:
    live = Live(queue_waiting={ACME: 3, **{f"{i:016x}": 1 for i in range(50)}})
    metrics = RelayMetrics(lambda: live, "test", {ACME: "acme"})
    assert series(metrics, "cobrowse_relay_queue_waiting") == {"acme": 3, "other": 50}
    for org, waited in ((ACME, 12.5), ("ffffffffffffffff", 2.0), ("not even hex \u202e", 1.0)):
        metrics.observe(Event("picked", None, {"org": org, "entry": "e", "waited_s": waited}))
    metrics.observe(Event("picked", None, {"org": ACME, "entry": "e"}))  # no wait said: not counted
    assert series(metrics, "cobrowse_relay_queue_wait_seconds_count") == {"acme": 1, "other": 2}
    assert series(metrics, "cobrowse_relay_queue_wait_seconds_sum") == {"acme": 12.5, "other": 3.0}


def test_without_named_organisations_everything_is_other() -> None:
    metrics = RelayMetrics(lambda: Live(queue_waiting={ACME: 2}), "test")
    assert series(metrics, "cobrowse_relay_queue_waiting") == {"other": 2}
    assert series(metrics, "cobrowse_relay_queue_wait_seconds_count") == {"other": 0}

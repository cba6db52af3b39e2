"""Prometheus metrics for ``GET /metrics``: one registry per relay, nothing on the hot path.

Counting every forwarded frame through a prometheus ``Counter`` would take a lock per
frame; instead the forward path bumps plain integers in each session's
:class:`~relay.rooms.Traffic`, and a custom collector reads them (and the live gauges:
sessions by state, connections, buffered bytes) only when Prometheus scrapes. Rare things
(sessions created and ended, refusals by error code, rate-limit hits) use ordinary
counters, and control-message handling time goes to a histogram. The help queue: customers
waiting on this node (a gauge read at scrape time) and how long each waited until picked (a
histogram), by organisation.

Label values are bounded: error codes and control types come from fixed tables, and a
close reason the relay does not know is counted as ``other`` (clients choose reasons), and
an organisation is a label only when the relay's config names it (``queue_orgs``; customers
choose the org they queue for): any other is counted as ``other``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterator, Mapping

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

from cobrowse.wire.envelope import CLIENT_MESSAGES, CLOSE_REASONS, ERROR_CODES
from relay.rooms import Event

# ``*_created`` timestamp series double a scrape for nothing Prometheus needs (process-wide).
disable_created_metrics()

CONTENT_TYPE = CONTENT_TYPE_LATEST
PREFIX = "cobrowse_relay"
# control messages take microseconds; a claim that takes milliseconds means a busy loop
CONTROL_BUCKETS = (1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 0.01, 0.025, 0.1, 0.5)
_KNOWN_REASONS = frozenset(CLOSE_REASONS) | {"ended", "expired", "peer_timeout"}
#: Seconds a customer waits in the help queue until an agent picks them (a person's wait).
QUEUE_WAIT_BUCKETS = (1.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1200.0, 1800.0, 3600.0)
OTHER_ORG = "other"


@dataclass
class Live:
    """What the collector reads at scrape time (the server fills it in)."""

    sessions_by_state: dict[str, int] = field(default_factory=dict)
    connections: int = 0
    frames: int = 0
    bytes: int = 0
    buffered_bytes: int = 0
    agent_tokens: int = 0
    draining: bool = False
    queue_waiting: dict[str, int] = field(default_factory=dict)  # by organisation key id, this node's own


class _LiveCollector(Collector):
    def __init__(self, source: Callable[[], Live], org_labels: Mapping[str, str]) -> None:
        self._source = source
        self._org_labels = org_labels

    def collect(self) -> Iterator[Metric]:
        live = self._source()
        sessions = GaugeMetricFamily(f"{PREFIX}_sessions", "Live sessions by state", labels=["state"])
        for state, n in sorted(live.sessions_by_state.items()):
            sessions.add_metric([state], n)
        yield sessions
        yield GaugeMetricFamily(f"{PREFIX}_connections", "Open websocket connections", value=live.connections)
        yield CounterMetricFamily(
            f"{PREFIX}_frames_forwarded", "Binary frames forwarded between the two sides", value=live.frames
        )
        yield CounterMetricFamily(
            f"{PREFIX}_bytes_forwarded", "Bytes of binary frames forwarded between the two sides", value=live.bytes
        )
        yield GaugeMetricFamily(
            f"{PREFIX}_send_buffer_bytes",
            "Bytes waiting in the relay's socket send buffers (bounded by send_buffer_bytes per receiver)",
            value=live.buffered_bytes,
        )
        yield GaugeMetricFamily(f"{PREFIX}_agent_tokens", "Agent tokens accepted (store and config)", value=live.agent_tokens)
        yield GaugeMetricFamily(f"{PREFIX}_draining", "1 while the relay shuts down", value=int(live.draining))
        waiting = dict.fromkeys([*self._org_labels.values(), OTHER_ORG], 0)
        for org, n in live.queue_waiting.items():
            waiting[self._org_labels.get(org, OTHER_ORG)] += n
        queue = GaugeMetricFamily(
            f"{PREFIX}_queue_waiting",
            "Help-queue customers waiting on this node (not yet picked), by organisation", labels=["org"],
        )
        for label, n in waiting.items():
            queue.add_metric([label], n)
        yield queue


class RelayMetrics:
    def __init__(self, live: Callable[[], Live], version: str, org_labels: Mapping[str, str] | None = None) -> None:
        """``org_labels``: organisation key id -> its ``org`` label (the relay's ``queue_orgs``)."""
        r = self.registry = CollectorRegistry()
        self._org_labels = dict(org_labels or {})
        self.queue_wait = Histogram(
            f"{PREFIX}_queue_wait_seconds",
            "How long a help-queue customer on this node waited until an agent picked them, by organisation",
            ["org"], buckets=QUEUE_WAIT_BUCKETS, registry=r,
        )
        for label in [*self._org_labels.values(), OTHER_ORG]:
            self.queue_wait.labels(label)
        self.created = Counter(f"{PREFIX}_sessions_created", "Sessions created (open)", ["role"], registry=r)
        self.paired = Counter(f"{PREFIX}_sessions_paired", "Sessions paired: the creator confirmed the code", registry=r)
        self.resumed = Counter(f"{PREFIX}_resumes", "Sides that came back with resume", registry=r)
        self.ended = Counter(f"{PREFIX}_sessions_ended", "Sessions ended, by reason", ["reason"], registry=r)
        self.killed = Counter(f"{PREFIX}_sessions_killed", "Sessions an admin ended", registry=r)
        self.reported = Counter(
            f"{PREFIX}_sessions_reported", "Sessions a customer reported as suspicious (a scam?), by who reported",
            ["by"], registry=r,
        )
        self.reported.labels("customer")
        self.refusals = Counter(
            f"{PREFIX}_refusals",
            "Requests refused with an error, by code (pairing and claim failures, limits, timeouts)",
            ["code"], registry=r,
        )
        self.rate_limited = Counter(
            f"{PREFIX}_rate_limit_hits",
            "Rate-limit hits: claims refused for an address (claims), reads paused by the byte rate (bytes)",
            ["limit"], registry=r,
        )
        self.control_seconds = Histogram(
            f"{PREFIX}_control_seconds",
            "Time to handle a control message (open, claim, resume, close, ping) and send its answers",
            ["type"], buckets=CONTROL_BUCKETS, registry=r,
        )
        info = Gauge(f"{PREFIX}_info", "The relay's version", ["version"], registry=r)
        info.labels(version).set(1)
        for t in CLIENT_MESSAGES:  # every series exists from the start (rate() needs a zero)
            self.control_seconds.labels(t)
        for code in ("unknown_nameplate", "expired", "taken", "rate_limited", "unauthorized"):
            self.refusals.labels(code)
        for limit in ("claims", "bytes"):
            self.rate_limited.labels(limit)
        for role in ("agent", "customer"):
            self.created.labels(role)
        for reason in sorted(_KNOWN_REASONS & {"ended", "expired", "peer_timeout", "idle", "killed", "shutdown"}):
            self.ended.labels(reason)
        r.register(_LiveCollector(live, self._org_labels))
        ProcessCollector(namespace=PREFIX, registry=r)
        self._bytes_hits = self.rate_limited.labels("bytes")

    def observe(self, event: Event) -> None:
        kind, data = event.kind, event.data
        if kind == "created":
            self.created.labels(str(data.get("role"))).inc()
        elif kind == "confirmed":  # not "paired": a claim with a wrong code is released again
            self.paired.inc()
        elif kind == "resumed":
            self.resumed.inc()
        elif kind == "ended":
            reason = str(data.get("reason"))
            self.ended.labels(reason if reason in _KNOWN_REASONS else "other").inc()
        elif kind == "killed":
            self.killed.inc()
        elif kind == "picked":
            waited = data.get("waited_s")
            if isinstance(waited, (int, float)):
                label = self._org_labels.get(str(data.get("org")), OTHER_ORG)
                self.queue_wait.labels(label).observe(max(0.0, float(waited)))
        elif kind == "reported":
            self.reported.labels("agent" if data.get("by") == "agent" else "customer").inc()
        elif kind == "refused":
            code = str(data.get("code"))
            self.refusals.labels(code if code in ERROR_CODES else "other").inc()
            if code == "rate_limited":
                self.rate_limited.labels("claims").inc()

    def byte_limit_hit(self) -> None:
        self._bytes_hits.inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)

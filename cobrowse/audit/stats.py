"""Agent history: one record per session, and the statistics an agent or a lead reads.

Pure: records in (from the SQLite adapter, ``cobrowse.io.history``), figures out. Days are
UTC calendar days of the session's start.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

NOT_DONE = ("pending", "active")


@dataclass(frozen=True)
class SessionRecord:
    """What the agent's history keeps of one session."""

    started: float  # Unix time when the session paired
    duration_s: float
    customer: str = ""
    end_reason: str = ""
    playbook: str = ""
    steps: tuple[tuple[str, str], ...] = ()  # (title, status at the end)
    resolved: bool | None = None  # None: the customer skipped or was not asked
    rating: int | None = None  # 1..5, None: skipped
    recording: str = ""  # the recording's id, if the session was recorded
    id: int = 0
    ticket: str = ""  # the help-desk ticket the session was linked to (docs/helpdesk.md)
    queue_org: str = ""  # the organisation whose help queue the customer came from ("": a code)
    queue_wait_s: float | None = None  # their time in that queue until picked

    @property
    def steps_done(self) -> int:
        return sum(1 for _, status in self.steps if status == "done")

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "customer": self.customer,
                "started": datetime.fromtimestamp(self.started, timezone.utc).isoformat(timespec="seconds"),
                "duration_s": round(self.duration_s, 1), "end_reason": self.end_reason,
                "playbook": self.playbook or None, "steps_done": self.steps_done, "steps_total": len(self.steps),
                "steps": [{"title": t, "status": s} for t, s in self.steps],
                "resolved": self.resolved, "rating": self.rating, "recording": self.recording or None,
                "ticket": self.ticket or None, "queue_org": self.queue_org or None, "queue_wait_s": self.queue_wait_s}


@dataclass(frozen=True)
class StepTrouble:
    playbook: str
    step: str
    failed: int
    not_done: int
    seen: int


@dataclass(frozen=True)
class PlaybookOutcome:
    """How sessions that ran one playbook ended: the knowledge base's own figures."""

    playbook: str
    sessions: int
    answered: int  # whose customer said whether it was solved
    solved: int
    completed: int  # every step done or skipped

    @property
    def resolution_rate(self) -> float | None:
        return round(self.solved / self.answered, 3) if self.answered else None

    def to_json(self) -> dict[str, Any]:
        return {"playbook": self.playbook, "sessions": self.sessions, "answered": self.answered, "solved": self.solved,
                "resolution_rate": self.resolution_rate, "completed": self.completed}


@dataclass(frozen=True)
class QueueWaits:
    """How long customers of one organisation's help queue waited until an agent picked them."""

    org: str
    sessions: int
    median_s: float
    p90_s: float

    def to_json(self) -> dict[str, Any]:
        return {"org": self.org, "sessions": self.sessions, "median_s": self.median_s, "p90_s": self.p90_s}


def queue_wait(value: object) -> float | None:
    """A ``picked`` event's ``waited_s`` (the relay's word) if it is a sane number of seconds."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value <= 86400 * 7:
        return round(float(value), 1)
    return None


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile (p90 of 10 waits is the 9th shortest): a wait that
    really happened, never an interpolation between two."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * fraction // 1))
    return ordered[int(rank) - 1]


def queue_waits(records: list[SessionRecord]) -> tuple[QueueWaits, ...]:
    """Per organisation, the median and p90 wait of the sessions that came from its queue;
    most sessions first."""
    by: dict[str, list[float]] = {}
    for record in records:
        if record.queue_org and record.queue_wait_s is not None:
            by.setdefault(record.queue_org, []).append(record.queue_wait_s)
    out = [QueueWaits(org, len(waits), round(statistics.median(waits), 1), round(percentile(waits, 0.9), 1))
           for org, waits in by.items()]
    return tuple(sorted(out, key=lambda w: (-w.sessions, w.org)))


@dataclass(frozen=True)
class Stats:
    sessions: int
    per_day: tuple[tuple[str, int], ...]
    median_duration_s: float | None
    answered: int  # sessions whose customer said whether it was solved
    resolution_rate: float | None  # solved / answered
    mean_rating: float | None
    ratings: int
    troubles: tuple[StepTrouble, ...] = field(default=())
    playbooks: tuple[PlaybookOutcome, ...] = field(default=())
    tickets: int = 0  # sessions linked to a help-desk ticket
    queue_waits: tuple[QueueWaits, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        return {"sessions": self.sessions, "per_day": dict(self.per_day),
                "median_duration_s": self.median_duration_s, "answered": self.answered,
                "resolution_rate": self.resolution_rate, "mean_rating": self.mean_rating, "ratings": self.ratings,
                "step_troubles": [{"playbook": t.playbook, "step": t.step, "failed": t.failed,
                                   "not_done": t.not_done, "seen": t.seen} for t in self.troubles],
                "playbooks": [p.to_json() for p in self.playbooks], "tickets": self.tickets,
                "queue_waits": [w.to_json() for w in self.queue_waits]}


def day_of(started: float) -> str:
    return datetime.fromtimestamp(started, timezone.utc).date().isoformat()


def compute(records: list[SessionRecord], top: int = 10) -> Stats:
    """Sessions per day, median duration, resolution rate, mean rating, and the playbook
    steps that most often failed or were left not done (at most ``top``)."""
    per_day = Counter(day_of(r.started) for r in records)
    durations = [r.duration_s for r in records]
    answered = [r.resolved for r in records if r.resolved is not None]
    ratings = [r.rating for r in records if r.rating is not None]
    failed: Counter[tuple[str, str]] = Counter()
    not_done: Counter[tuple[str, str]] = Counter()
    seen: Counter[tuple[str, str]] = Counter()
    for record in records:
        for title, status in record.steps:
            key = (record.playbook, title)
            seen[key] += 1
            if status == "failed":
                failed[key] += 1
            elif status in NOT_DONE:
                not_done[key] += 1
    troubled = sorted((k for k in seen if failed[k] or not_done[k]),
                      key=lambda k: (-(failed[k] + not_done[k]), -failed[k], k))
    return Stats(
        sessions=len(records),
        per_day=tuple(sorted(per_day.items())),
        median_duration_s=round(statistics.median(durations), 1) if durations else None,
        answered=len(answered),
        resolution_rate=round(sum(answered) / len(answered), 3) if answered else None,
        mean_rating=round(statistics.fmean(ratings), 2) if ratings else None,
        ratings=len(ratings),
        troubles=tuple(StepTrouble(p, s, failed[(p, s)], not_done[(p, s)], seen[(p, s)]) for p, s in troubled[:top]),
        playbooks=playbook_outcomes(records),
        tickets=sum(1 for r in records if r.ticket),
        queue_waits=queue_waits(records),
    )


def playbook_outcomes(records: list[SessionRecord]) -> tuple[PlaybookOutcome, ...]:
    """Per playbook: sessions, how many the customer called solved of those who answered,
    how many ran to the end; most used first. Sessions without a playbook are left out."""
    by: dict[str, list[SessionRecord]] = {}
    for record in records:
        if record.playbook:
            by.setdefault(record.playbook, []).append(record)
    out = [PlaybookOutcome(name, len(rs), sum(1 for r in rs if r.resolved is not None),
                           sum(1 for r in rs if r.resolved), sum(1 for r in rs if r.steps and all(s in ("done", "skipped") for _, s in r.steps)))
           for name, rs in by.items()]
    return tuple(sorted(out, key=lambda p: (-p.sessions, p.playbook)))


def format_duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def format_history(records: list[SessionRecord]) -> list[str]:
    """The human table of ``cobrowse agent history`` (newest first, as given)."""
    if not records:
        return ["no sessions recorded yet"]
    lines = [f"{'started (UTC)':<17} {'duration':>8}  {'customer':<16} {'playbook':<22} {'steps':>5}  "
             f"{'solved':<6} {'rating':<6} end"]
    for r in records:
        started = datetime.fromtimestamp(r.started, timezone.utc).strftime("%Y-%m-%d %H:%M")
        steps = f"{r.steps_done}/{len(r.steps)}" if r.steps else "-"
        solved = {True: "yes", False: "no", None: "-"}[r.resolved]
        rating = "*" * r.rating if r.rating else "-"
        lines.append(f"{started:<17} {format_duration(r.duration_s):>8}  {(r.customer or '-')[:16]:<16} "
                     f"{(r.playbook or '-')[:22]:<22} {steps:>5}  {solved:<6} {rating:<6} {r.end_reason}"
                     + (f"  [rec {r.recording}]" if r.recording else "") + (f"  [ticket {r.ticket}]" if r.ticket else "")
                     + (f"  [queue {format_duration(r.queue_wait_s)}]" if r.queue_wait_s is not None else ""))
    return lines


def format_stats(stats: Stats) -> list[str]:
    """The human view of ``cobrowse agent stats``."""
    if not stats.sessions:
        return ["no sessions recorded yet"]
    rate = f"{stats.resolution_rate:.0%} of {stats.answered} answered" if stats.resolution_rate is not None else "no answers yet"
    rating = f"{stats.mean_rating:.1f}/5 over {stats.ratings}" if stats.mean_rating is not None else "no ratings yet"
    median = format_duration(stats.median_duration_s) if stats.median_duration_s is not None else "-"
    lines = [f"sessions: {stats.sessions}   median duration: {median}   resolved: {rate}   rating: {rating}",
             "sessions per day:"]
    lines += [f"  {day}  {count:>4}  {'#' * min(count, 50)}" for day, count in stats.per_day]
    if stats.tickets:
        lines.append(f"linked to a help-desk ticket: {stats.tickets} of {stats.sessions}")
    if stats.queue_waits:
        lines.append("help queue: sessions, wait until picked (median, p90):")
        lines += [f"  {w.sessions:>4}  median {format_duration(w.median_s):>6}  p90 {format_duration(w.p90_s):>6}  {w.org}"
                  for w in stats.queue_waits]
    if stats.playbooks:
        lines.append("playbooks: sessions, solved of answered, run to the end:")
        for p in stats.playbooks:
            rate = f"{p.resolution_rate:.0%}" if p.resolution_rate is not None else "-"
            lines.append(f"  {p.sessions:>4}  {p.solved:>3}/{p.answered:<3} {rate:>4} solved  {p.completed:>3} run to the end  {p.playbook}")
    if stats.troubles:
        lines.append("playbook steps most often failed or left not done:")
        lines += [f"  {t.failed:>3} failed  {t.not_done:>3} not done  of {t.seen:<4} {t.playbook} / {t.step}"
                  for t in stats.troubles]
    return lines

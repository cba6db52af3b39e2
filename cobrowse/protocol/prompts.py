"""The customer's questions, one at a time, so that a key press answers the question on screen.

Scammers get a "yes" through confusion and fatigue: a second request arriving while the
customer reaches for the key meant for the first, or the same request again and again. So:

- one prompt is shown at a time; others wait behind it, in the order they came; each has an
  ``id`` and a ``kind`` and its text names exactly what ``y`` would give;
- a prompt only accepts answers ``ARMING`` s after it appeared, so a key meant for the prompt
  before it cannot answer it; an answer names the prompt it was meant for where the front end
  knows it (a button shows one prompt's id), and a stale id answers nothing;
- a request of a kind already shown or waiting is coalesced (no new prompt);
- ``MAX_DENIALS`` refusals of one kind in a row (the customer's or a timeout's) stop that kind
  from being asked for ``QUIET`` s: the agent's requests are refused without asking;
- a prompt nobody answers is denied at its deadline, never accepted;
- where several queues ask at once (a team: each agent's pairing has its own, and the team's
  questions about colleagues one more), an answer goes to the queue showing the prompt it
  names, or, naming none, to the newest prompt shown (``answering``): the one read last.

Pure: ``now`` is passed in; events out. The deadline of a waiting prompt starts when it is shown.
The texts are English msgids (``cobrowse.i18n``): front ends show ``tr(ASKS[kind])``, and
``Prompt.question(tr)`` is the whole line in the customer's language.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import field
from enum import StrEnum
from typing import TypeVar

from cobrowse.i18n.text import N_, Translator, current
from cobrowse.wire.frozen import frozen, mutable

Owner = TypeVar("Owner")

ARMING = 1.0
TIMEOUT = 30.0
MAX_DENIALS = 3
QUIET = 300.0


class PromptKind(StrEnum):
    SUGGEST = "suggest"
    CONTROL = "control"
    RECORDING = "recording"
    VIEWER = "viewer"  # a colleague asks to see the screen (the team's questions, docs/team.md)


#: What the agent asks for, and what ``y`` gives, in the prompt's own words.
ASKS = {
    PromptKind.SUGGEST: N_("to SUGGEST commands (you still decide on each one)"),
    PromptKind.CONTROL: N_("to CONTROL your terminal (they could type and run commands)"),
    PromptKind.RECORDING: N_("to RECORD this session (what they see, the chat and the steps, kept on their machine)"),
    PromptKind.VIEWER: N_("to SEE your screen"),
}
GIVES = {
    PromptKind.SUGGEST: N_("lets the agent SUGGEST commands"),
    PromptKind.CONTROL: N_("gives the agent CONTROL of your terminal"),
    PromptKind.RECORDING: N_("lets the agent RECORD this session (Ctrl-] x stops a recording at any time)"),
    PromptKind.VIEWER: N_("lets them see your screen"),
}
#: The answer notices: "you allowed: CONTROL of your terminal".
SHORT = {
    PromptKind.SUGGEST: N_("suggestions"),
    PromptKind.CONTROL: N_("CONTROL of your terminal"),
    PromptKind.RECORDING: N_("recording of this session"),
    PromptKind.VIEWER: N_("seeing your screen"),
}


@frozen
class Prompt:
    id: int
    kind: PromptKind
    shown_at: float
    armed_at: float
    deadline: float

    def question(self, tr: Translator | None = None, yes: str = "Ctrl-] y", no: str = "Ctrl-] n") -> str:
        """The line the customer reads: what the agent asks and what each key does."""
        tr = tr or current()
        return tr("the agent asks {what}: {yes} {gives}; {no} refuses (refused automatically in {seconds} s)",
                  what=tr(ASKS[self.kind]), yes=yes, gives=tr(GIVES[self.kind]), no=no,
                  seconds=round(self.deadline - self.shown_at))


@frozen
class Shown:
    prompt: Prompt


@frozen
class Queued:
    """A request waits behind the prompt on screen (``behind``)."""

    kind: PromptKind
    behind: Prompt


@frozen
class Coalesced:
    """A repeat of a request already shown or waiting: nothing new to show."""

    kind: PromptKind


@frozen
class AutoRefused:
    """Refused without asking: the customer refused this kind ``MAX_DENIALS`` times in a row."""

    kind: PromptKind
    until: float


@frozen
class Answered:
    """``by``: ``customer``, ``timeout`` (nobody answered: denied) or ``withdrawn`` (the
    request went away: the agent stopped asking, or the customer decided on their own)."""

    prompt: Prompt
    allow: bool
    by: str


@frozen
class TooSoon:
    """The prompt appeared less than ``ARMING`` s ago: the key was meant for something else."""

    prompt: Prompt
    wait: float


@frozen
class Stale:
    """The answer named a prompt that is no longer on screen (``shown``: the one that is)."""

    prompt_id: int
    shown: Prompt | None


@frozen
class NothingAsked:
    pass


PromptEvent = Shown | Queued | Coalesced | AutoRefused | Answered | TooSoon | Stale | NothingAsked


@mutable
class PromptQueue:
    timeout: float = TIMEOUT
    arming: float = ARMING
    max_denials: int = MAX_DENIALS
    quiet: float = QUIET
    shown: Prompt | None = None
    waiting: list[PromptKind] = field(default_factory=list)
    _last_id: int = 0
    _denials: dict[PromptKind, int] = field(default_factory=dict)
    _quiet_until: dict[PromptKind, float] = field(default_factory=dict)

    def pending(self, kind: PromptKind) -> bool:
        return (self.shown is not None and self.shown.kind == kind) or kind in self.waiting

    def request(self, kind: PromptKind, now: float) -> list[PromptEvent]:
        """The agent asks for ``kind``."""
        if self.pending(kind):
            return [Coalesced(kind)]
        until = self._quiet_until.get(kind, 0.0)
        if now < until:
            return [AutoRefused(kind, until)]
        if self.shown is not None:
            self.waiting.append(kind)
            return [Queued(kind, self.shown)]
        return [self._show(kind, now)]

    def check(self, prompt_id: int | None, now: float) -> Prompt | TooSoon | Stale | NothingAsked:
        """Whether an answer now (to ``prompt_id``, or to whatever is shown) would count."""
        shown = self.shown
        if prompt_id is not None and (shown is None or shown.id != prompt_id):
            return Stale(prompt_id, shown)
        if shown is None:
            return NothingAsked()
        if now < shown.armed_at:
            return TooSoon(shown, shown.armed_at - now)
        if now >= shown.deadline:
            return Stale(shown.id, None)
        return shown

    def answer(self, prompt_id: int | None, allow: bool, now: float) -> list[PromptEvent]:
        """The customer answers; a denied, early or stale answer never grants anything."""
        verdict = self.check(prompt_id, now)
        if not isinstance(verdict, Prompt):
            if isinstance(verdict, Stale) and verdict.shown is None:
                return [*self.expire(now), verdict]
            return [verdict]
        return self._close(verdict, allow, "customer", now)

    def expire(self, now: float) -> list[PromptEvent]:
        """Deny the prompt on screen once its deadline passed."""
        shown = self.shown
        if shown is None or now < shown.deadline:
            return []
        return self._close(shown, False, "timeout", now)

    def withdraw(self, kind: PromptKind, now: float) -> list[PromptEvent]:
        """Forget a request of ``kind`` (shown or waiting): it no longer needs an answer."""
        if kind in self.waiting:
            self.waiting.remove(kind)
        shown = self.shown
        if shown is None or shown.kind != kind:
            return []
        return self._close(shown, False, "withdrawn", now)

    def next_deadline(self) -> float | None:
        return None if self.shown is None else self.shown.deadline

    def quiet_until(self, kind: PromptKind) -> float:
        return self._quiet_until.get(kind, 0.0)

    def _show(self, kind: PromptKind, now: float) -> Shown:
        self._last_id += 1
        self.shown = Prompt(self._last_id, kind, now, now + self.arming, now + self.timeout)
        return Shown(self.shown)

    def _close(self, prompt: Prompt, allow: bool, by: str, now: float) -> list[PromptEvent]:
        self.shown = None
        kind = prompt.kind
        if by != "withdrawn":
            if allow:
                self._denials.pop(kind, None)
            else:
                count = self._denials.get(kind, 0) + 1
                if count >= self.max_denials:
                    self._denials.pop(kind, None)
                    self._quiet_until[kind] = now + self.quiet
                else:
                    self._denials[kind] = count
        events: list[PromptEvent] = [Answered(prompt, allow, by)]
        if self.waiting:
            events.append(self._show(self.waiting.pop(0), now))
        return events


def answering(queues: Mapping[Owner, PromptQueue], prompt_id: int | None) -> Owner | None:
    """Which queue an answer is for: the one showing ``prompt_id``, or, when the answer names
    no prompt (a key), the one whose prompt was shown last. None: nobody asks that."""
    shown = {owner: queue.shown for owner, queue in queues.items() if queue.shown is not None}
    if prompt_id is not None:
        return next((owner for owner, prompt in shown.items() if prompt.id == prompt_id), None)
    return max(shown, key=lambda owner: shown[owner].shown_at, default=None)


def newest_shown_at(queues: Mapping[Owner, PromptQueue]) -> float | None:
    """When the newest prompt on screen appeared (None: nothing is asked)."""
    return max((queue.shown.shown_at for queue in queues.values() if queue.shown is not None), default=None)

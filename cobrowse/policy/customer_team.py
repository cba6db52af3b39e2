"""A team in one session, on the customer's machine: who may see the screen, as a pure machine.

Each agent pairs with the customer's client on its own (its own code, its own SPAKE2 keys:
agent A never learns agent B's keys and the relay reads nothing). This policy keeps the
roster those pairings make up and decides, with ``now`` passed in:

- an admitted agent's ``invite`` opens a new pairing (``OpenInvite``): the code goes back to
  that agent sealed; at most ``MAX_OPEN_INVITES`` wait at once, ``MAX_VIEWERS`` in all;
- an invited agent that paired and said who it is is ASKED about (one question at a time,
  armed after ``ARMING`` s, denied at its deadline): nothing of the screen goes to it before
  ``Admit``; a refusal or a timeout dismisses it with a reason it is told;
- control belongs to one agent at a time: control granted to one revokes the others';
- ``leave`` removes an agent; when the last agent is gone the session ends (``TeamOver``);
- the customer always sees who can see their screen (``ViewersShown`` on each change), and
  every admitted agent gets the list (``m.Viewers``).

Viewer ids: 1 is the agent the customer paired with first; invited agents count up from 2.
The questions' ids start at ``PROMPT_BASE`` so an answer never reaches another queue's prompt.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar

from cobrowse.policy.customer_events import ConsentPrompt, Level, Notice
from cobrowse.policy.events import Event
from cobrowse.protocol import messages as m
from cobrowse.protocol.prompts import ARMING, TIMEOUT

#: Invitations open (a code out, nobody paired yet) at once.
MAX_OPEN_INVITES = 2
#: Colleagues of one agent the customer may refuse (or not answer about) before that agent's
#: invitations stop for the rest of the session: no stream of questions to wear them down.
MAX_REFUSED = 3
#: Agents on the roster at once (the first one included).
MAX_VIEWERS = m.MAX_VIEWERS
#: The first id of the team's questions (``PromptQueue`` ids of a viewer ``v`` start at ``v * PROMPT_STRIDE``).
PROMPT_BASE = 1_000_000
PROMPT_STRIDE = 10_000
FIRST = 1


class ViewerState(StrEnum):
    INVITED = "invited"  # a code is out; nobody paired with it yet
    ASKING = "asking"  # paired and said who it is: the customer is asked
    ADMITTED = "admitted"  # sees the screen
    GONE = "gone"


@dataclass
class Viewer:
    id: int
    name: str = ""
    state: ViewerState = ViewerState.INVITED
    invited_by: int = 0
    identity: str = ""
    control: bool = False


@dataclass(frozen=True)
class ViewersShown(Event):
    """Who can see the customer's screen now (and who is waiting to be allowed)."""

    KIND: ClassVar[str] = "viewers"
    viewers: tuple[dict[str, object], ...]
    message: str


@dataclass(frozen=True)
class ToViewer:
    """Send ``message`` to viewer ``viewer`` (sealed on its own pairing)."""

    viewer: int
    message: m.AppMessage


@dataclass(frozen=True)
class OpenInvite:
    """Open a new pairing (a new code on the relay) as viewer ``viewer``, asked for by ``by``."""

    viewer: int
    by: int


@dataclass(frozen=True)
class Admit:
    """Viewer ``viewer`` may see the screen now (the screen, the steps go to it)."""

    viewer: int


@dataclass(frozen=True)
class Dismiss:
    """End viewer ``viewer``'s pairing; it is told ``message`` (``reason``: its end reason)."""

    viewer: int
    reason: str
    message: str


@dataclass(frozen=True)
class Revoke:
    """Take control (and suggestions) back from viewer ``viewer``: another agent got control."""

    viewer: int


@dataclass(frozen=True)
class TeamOver:
    """The last agent left: the session ends as an ordinary agent end."""

    message: str


TeamEffect = ToViewer | OpenInvite | Admit | Dismiss | Revoke | TeamOver | Event


@dataclass
class _Question:
    id: int
    viewer: int
    shown_at: float
    armed_at: float
    deadline: float


class TeamPolicy:
    def __init__(self, *, timeout: float = TIMEOUT, arming: float = ARMING) -> None:
        self.timeout = timeout
        self.arming = arming
        self.viewers: dict[int, Viewer] = {FIRST: Viewer(FIRST, state=ViewerState.ADMITTED)}
        self._next_id = FIRST + 1
        self._asking: list[int] = []
        self.question: _Question | None = None
        self._last_prompt = PROMPT_BASE
        self._refused: dict[int, int] = {}  # inviter -> colleagues refused

    # who is here

    def admitted(self) -> list[int]:
        return [v.id for v in self.viewers.values() if v.state is ViewerState.ADMITTED]

    def present(self) -> list[Viewer]:
        return [v for v in self.viewers.values() if v.state is not ViewerState.GONE]

    def is_admitted(self, viewer: int) -> bool:
        found = self.viewers.get(viewer)
        return found is not None and found.state is ViewerState.ADMITTED

    def label(self, viewer: int) -> str:
        found = self.viewers.get(viewer)
        name = found.name if found is not None and found.name else "an agent"
        return f"{name} (agent {viewer})"

    def named(self, viewer: int, name: str) -> list[TeamEffect]:
        """The agent's hello named it (the first agent's name, shown in the roster)."""
        found = self.viewers.get(viewer)
        if found is None:
            return []
        found.name = name
        return self._roster() if found.state is ViewerState.ADMITTED and len(self.viewers) > 1 else []

    # invitations

    def invite(self, by: int) -> list[TeamEffect]:
        """Agent ``by`` asks for a code for a colleague."""
        if not self.is_admitted(by):
            return []  # an agent the customer has not admitted asks nothing
        if self._refused.get(by, 0) >= MAX_REFUSED:
            return [ToViewer(by, m.InviteCode(error=f"the customer refused {MAX_REFUSED} of your colleagues: "
                                                    f"no more invitations in this session"))]
        invited = sum(1 for v in self.viewers.values() if v.state is ViewerState.INVITED)
        if invited >= MAX_OPEN_INVITES:
            return [ToViewer(by, m.InviteCode(error=f"{invited} invitations are already waiting for a colleague"))]
        if len(self.present()) >= MAX_VIEWERS:
            return [ToViewer(by, m.InviteCode(error=f"the session already has {MAX_VIEWERS} agents"))]
        viewer = self._next_id
        self._next_id += 1
        self.viewers[viewer] = Viewer(viewer, invited_by=by)
        return [OpenInvite(viewer, by)]

    def invite_opened(self, viewer: int, code: str) -> list[TeamEffect]:
        found = self.viewers.get(viewer)
        if found is None or found.state is not ViewerState.INVITED:
            return []
        return [ToViewer(found.invited_by, m.InviteCode(code=code)),
                Notice(f"{self.label(found.invited_by)} invited a colleague: they see nothing of your screen "
                       f"unless you allow it when they join")]

    def invite_failed(self, viewer: int, error: str) -> list[TeamEffect]:
        found = self.viewers.pop(viewer, None)
        if found is None:
            return []
        return [ToViewer(found.invited_by, m.InviteCode(error=error[:m.MAX_REASON]))]

    # a colleague joins: the customer is asked

    def joined(self, viewer: int, name: str, identity: str, now: float) -> list[TeamEffect]:
        """Viewer ``viewer`` paired and its identity is known (``identity``: the customer's line for it)."""
        found = self.viewers.get(viewer)
        if found is None or found.state is not ViewerState.INVITED:
            return []
        found.name, found.identity, found.state = name, identity, ViewerState.ASKING
        self._asking.append(viewer)
        return self._show_next(now) + self._roster()

    def _show_next(self, now: float) -> list[TeamEffect]:
        if self.question is not None or not self._asking:
            return []
        viewer = self._asking.pop(0)
        self._last_prompt += 1
        self.question = _Question(self._last_prompt, viewer, now, now + self.arming, now + self.timeout)
        found = self.viewers[viewer]
        inviter = self.label(found.invited_by)
        text = (f"{self.label(viewer)}, invited by {inviter}, asks to SEE your screen ({found.identity}): "
                f"Ctrl-] y lets them see it; Ctrl-] n refuses (refused automatically in {round(self.timeout)} s)")
        return [ConsentPrompt(self.question.id, "viewer", str(Level.VIEW), self.timeout, False, text)]

    def owns(self, prompt_id: int | None) -> bool:
        """Whether an answer naming ``prompt_id`` is for the team's own question."""
        return prompt_id is not None and prompt_id > PROMPT_BASE

    def answered_by(self, shown: dict[int, tuple[int, float]], prompt_id: int | None) -> int | None:
        """Whose question an answer is for: ``shown`` maps each pairing (viewer) to the id and
        time of the question it shows (``0``: the team's own). An answer naming an id goes to
        the pairing showing it; one naming none to the newest shown, as a key answers the
        question the customer read last. None: nobody asks that."""
        if self.question is not None:
            shown = {**shown, 0: (self.question.id, self.question.shown_at)}
        if prompt_id is not None:
            return next((owner for owner, (pid, _) in shown.items() if pid == prompt_id), None)
        return max(shown, key=lambda owner: shown[owner][1], default=None)

    def answer(self, allow: bool, prompt_id: int | None, now: float) -> list[TeamEffect]:
        """Ctrl-] y / n, or a button naming ``prompt_id``: admit or refuse the viewer asked about."""
        question = self.question
        if question is None or (prompt_id is not None and prompt_id != question.id):
            return [Notice("that answer was for a question no longer on screen: nothing was answered")]
        if now < question.armed_at:
            return [Notice("ignored that answer: the question on screen is new (it asks who may see your "
                           "screen); read it, then answer")]
        if now >= question.deadline:
            return self.tick(now)
        return self._decided(question, allow, "you allowed" if allow else "you refused", now)

    def _decided(self, question: _Question, allow: bool, said: str, now: float) -> list[TeamEffect]:
        self.question = None
        viewer = self.viewers[question.viewer]
        out: list[TeamEffect] = []
        if viewer.state is ViewerState.ASKING:
            if allow:
                viewer.state = ViewerState.ADMITTED
                out += [Admit(viewer.id), Notice(f"{said}: {self.label(viewer.id)} can now see your screen "
                                                 f"(view only until you grant more)")]
            else:
                viewer.state = ViewerState.GONE
                self._refused[viewer.invited_by] = self._refused.get(viewer.invited_by, 0) + 1
                reason = ("the customer did not allow you to see their screen" if said == "you refused"
                          else "the customer did not answer whether you may see their screen")
                out += [Dismiss(viewer.id, "viewer_refused", reason),
                        Notice(f"{said}: {self.label(viewer.id)} sees nothing and was disconnected")]
            out += self._roster()
        return out + self._show_next(now)

    def tick(self, now: float) -> list[TeamEffect]:
        question = self.question
        if question is None or now < question.deadline:
            return []
        return self._decided(question, False, "no answer: refused", now)

    def next_deadline(self) -> float | None:
        return None if self.question is None else self.question.deadline

    # control: one agent at a time

    def consent_changed(self, viewer: int, level: Level) -> list[TeamEffect]:
        """Viewer ``viewer``'s level changed (the customer answered it, or granted on their own)."""
        found = self.viewers.get(viewer)
        if found is None or found.state is not ViewerState.ADMITTED:
            return []  # an agent that left holds nothing (its pairing's desk may still change)
        was = found.control
        found.control = level is Level.CONTROL
        out: list[TeamEffect] = []
        if found.control:
            for other in self.viewers.values():
                if other.id != viewer and other.control:
                    other.control = False
                    out.append(Revoke(other.id))
        if was != found.control:
            out += self._roster()
        return out

    def revoke_all(self) -> list[TeamEffect]:
        """Ctrl-] r: control goes back from whoever holds it (the first agent's is its own runtime's)."""
        return [Revoke(v.id) for v in self.viewers.values() if v.id != FIRST and v.state is ViewerState.ADMITTED]

    # leaving

    def left(self, viewer: int, now: float) -> list[TeamEffect]:
        """Viewer ``viewer`` left (``leave``, its end, its link gone). The last agent's leaving
        ends the session."""
        found = self.viewers.get(viewer)
        if found is None or found.state is ViewerState.GONE:
            return []
        was = found.state
        found.state, found.control = ViewerState.GONE, False
        out: list[TeamEffect] = []
        if viewer in self._asking:
            self._asking.remove(viewer)
        if self.question is not None and self.question.viewer == viewer:
            self.question = None
            out += self._show_next(now)
        if was is ViewerState.INVITED:
            return out + [Notice(f"the invitation by {self.label(found.invited_by)} was not used: it no longer works")]
        out.append(Notice(f"{self.label(viewer)} left the session"))
        if not self.admitted():
            for other in self.present():  # nobody left to see it: a waiting colleague goes too
                other.state = ViewerState.GONE
                if other.id != viewer:
                    out.append(Dismiss(other.id, "agent_ended", "the agents who invited you left the session"))
            self.question = None
            self._asking.clear()
            return out + [TeamOver(f"{self.label(viewer)} left, the last agent: the session is over")]
        return out + self._roster()

    def remove(self, viewer: int, now: float) -> list[TeamEffect]:
        """The customer drops viewer ``viewer`` (0: the latest to join; never the last one: that is
        ending the session)."""
        if viewer == 0:
            joined = [v.id for v in self.viewers.values() if v.state in (ViewerState.ADMITTED, ViewerState.ASKING)]
            viewer = joined[-1] if joined else 0
        found = self.viewers.get(viewer)
        if found is None or found.state is ViewerState.GONE:
            return [Notice(f"no agent {viewer} to remove")]
        if found.state is ViewerState.ADMITTED and len(self.admitted()) <= 1:
            return [Notice("that is the only agent left: Ctrl-] e ends the session")]
        return [Dismiss(viewer, "viewer_removed", "the customer removed you from the session"),
                *self.left(viewer, now)]

    # the roster, told to everyone

    def _roster(self) -> list[TeamEffect]:
        shown = [v for v in self.viewers.values() if v.state in (ViewerState.ADMITTED, ViewerState.ASKING)]
        rows: tuple[dict[str, object], ...] = tuple(
            {"id": v.id, "name": v.name, "state": str(v.state), "control": v.control} for v in shown)
        seeing = [f"{self.label(v.id)}{' with CONTROL' if v.control else ''}" for v in shown
                  if v.state is ViewerState.ADMITTED]
        waiting = [self.label(v.id) for v in shown if v.state is ViewerState.ASKING]
        text = "can see your screen: " + (", ".join(seeing) or "nobody")
        if waiting:
            text += "; waiting for your answer: " + ", ".join(waiting)
        out: list[TeamEffect] = [ViewersShown(rows, text)]
        for target in self.admitted():
            listed = [{"id": v.id, "name": v.name, "control": v.control, "you": v.id == target}
                      for v in self.viewers.values() if v.state is ViewerState.ADMITTED]
            out.append(ToViewer(target, m.Viewers(listed)))
        return out

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
  every admitted agent gets the list (``m.Viewers``);
- the customer removes an agent (``drop_viewer``, Ctrl-] l): the one they pick among those
  admitted, the first agent included (Ctrl-] l shows the next, y removes, n keeps all), never
  the only one left.

What the customer reads is in their language (``tr``); what an agent is told stays English
(the agent's console is English). Agents' names are values, never part of a msgid.

Viewer ids: 1 is the agent the customer paired with first; invited agents count up from 2.
The questions about colleagues are a ``PromptQueue`` like every pairing's (armed after
``ARMING`` s, denied at the deadline, one at a time); their ids start at ``PROMPT_BASE`` so an
answer naming one never reaches another queue's prompt (``prompts.answering`` routes keys).
A colleague's refusal never quiets the queue: ``MAX_REFUSED`` per inviter stops invitations.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, ClassVar

from cobrowse.i18n.text import Translated, Translator, current
from cobrowse.i18n.text import joined as in_a_row
from cobrowse.policy.customer_events import ConsentPrompt, Level, Notice, NoticeKind
from cobrowse.policy.events import Event
from cobrowse.protocol import messages as m
from cobrowse.protocol.team_messages import MAX_INVITE_EXPIRY_S, VoidReason
from cobrowse.protocol.prompts import ARMING, TIMEOUT, Answered, Prompt, PromptEvent, PromptKind, PromptQueue, Shown, TooSoon
from cobrowse.wire.frozen import frozen, mutable

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
#: How long the customer has to pick which agent to remove (Ctrl-] l, then y or n).
PICK_WAIT = 15.0


class ViewerState(StrEnum):
    INVITED = "invited"  # a code is out; nobody paired with it yet
    ASKING = "asking"  # paired and said who it is: the customer is asked
    ADMITTED = "admitted"  # sees the screen
    GONE = "gone"


@mutable
class Viewer:
    id: int
    name: str = ""
    state: ViewerState = ViewerState.INVITED
    invited_by: int = 0
    identity: str = ""
    control: bool = False
    verified: bool = False  # its organisation credential verified (docs/trust.md)
    code: str = ""  # its invitation's code, while it is one (told back when it is voided)
    tell_void: bool = False  # its inviter reads voided codes (``invite`` with ``voids``: newer agents)


@frozen
class ViewersShown(Event):
    """Who can see the customer's screen now (and who is waiting to be allowed)."""

    KIND: ClassVar[str] = "viewers"
    viewers: tuple[dict[str, object], ...]
    message: str


@frozen
class ToViewer:
    """Send ``message`` to viewer ``viewer`` (sealed on its own pairing)."""

    viewer: int
    message: m.AppMessage


@frozen
class OpenInvite:
    """Open a new pairing (a new code on the relay) as viewer ``viewer``, asked for by ``by``."""

    viewer: int
    by: int


@frozen
class Admit:
    """Viewer ``viewer`` may see the screen now (the screen, the steps go to it)."""

    viewer: int


@frozen
class Dismiss:
    """End viewer ``viewer``'s pairing; it is told ``message`` (``reason``: its end reason)."""

    viewer: int
    reason: str
    message: str


@frozen
class Revoke:
    """Take control (and suggestions) back from viewer ``viewer``: another agent got control."""

    viewer: int


@frozen
class TeamOver:
    """The last agent left: the session ends as an ordinary agent end."""

    message: str


TeamEffect = ToViewer | OpenInvite | Admit | Dismiss | Revoke | TeamOver | Event


def void_for(reason: str) -> VoidReason:
    """Why an invitation's pairing ended before anyone used it (its end ``reason``), as its
    inviter is told: a wrong guess (the peer's key confirmation may fail first: ``scared``)."""
    if reason in ("wrong_code", "scared"):
        return VoidReason.WRONG_CODE
    if reason in ("expired", "claim_timeout"):
        return VoidReason.EXPIRED
    return VoidReason.CLOSED


@mutable
class _Pick:
    """The customer is choosing which agent to remove: ``candidates`` newest first."""

    candidates: tuple[int, ...]
    index: int
    deadline: float
    shown_at: float


class TeamPolicy:
    def __init__(self, *, timeout: float = TIMEOUT, arming: float = ARMING, tr: Translator | None = None) -> None:
        self.tr = tr or current()
        self.timeout = timeout
        self.arming = arming
        self.viewers: dict[int, Viewer] = {FIRST: Viewer(FIRST, state=ViewerState.ADMITTED)}
        self._next_id = FIRST + 1
        self._asking: list[int] = []  # colleagues waiting for their question, in the order they came
        #: The team's questions: one shown at a time; ``_about`` is the colleague it asks about.
        self.prompts = PromptQueue(timeout=timeout, arming=arming, quiet=0.0, _last_id=PROMPT_BASE)
        self._about = 0
        self._refused: dict[int, int] = {}  # inviter -> colleagues refused
        self._order: list[int] = [FIRST]  # admitted, in the order they joined
        self.pick: _Pick | None = None

    # who is here

    def admitted(self) -> list[int]:
        return [v.id for v in self.viewers.values() if v.state is ViewerState.ADMITTED]

    def present(self) -> list[Viewer]:
        return [v for v in self.viewers.values() if v.state is not ViewerState.GONE]

    def is_admitted(self, viewer: int) -> bool:
        found = self.viewers.get(viewer)
        return found is not None and found.state is ViewerState.ADMITTED

    def label(self, viewer: int) -> Translated:
        """``Bob (agent 2)``: the name is the agent's claim, a value (isolated in Persian)."""
        tr = self.tr
        found = self.viewers.get(viewer)
        name: str = found.name if found is not None and found.name else tr("an agent")
        return tr("{name} (agent {number})", name=name, number=viewer)

    def named(self, viewer: int, name: str) -> list[TeamEffect]:
        """The agent's hello named it (the first agent's name, shown in the roster)."""
        found = self.viewers.get(viewer)
        if found is None:
            return []
        found.name = name
        return self._roster() if found.state is ViewerState.ADMITTED and len(self.viewers) > 1 else []

    # invitations

    def invite(self, by: int, *, voids: bool = False) -> list[TeamEffect]:
        """Agent ``by`` asks for a code for a colleague (``voids``: it is told if the code is
        voided before its time is up; an older agent is not)."""
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
        self.viewers[viewer] = Viewer(viewer, invited_by=by, tell_void=voids)
        return [OpenInvite(viewer, by)]

    def invite_opened(self, viewer: int, code: str, expires_s: float | None = None) -> list[TeamEffect]:
        """The relay opened the colleague's pairing: its code (and how long the relay keeps it
        unclaimed, ``expires_s``) to the agent who asked."""
        found = self.viewers.get(viewer)
        if found is None or found.state is not ViewerState.INVITED:
            return []
        expiry = min(max(int(expires_s or 0), 0), MAX_INVITE_EXPIRY_S)
        found.code = code
        return [ToViewer(found.invited_by, m.InviteCode(code=code, expires_s=expiry, viewer=viewer)),
                Notice(self.tr("{agent} invited a colleague: they see nothing of your screen unless you allow it "
                               "when they join", agent=self.label(found.invited_by)))]

    def invite_failed(self, viewer: int, error: str) -> list[TeamEffect]:
        found = self.viewers.pop(viewer, None)
        if found is None:
            return []
        return [ToViewer(found.invited_by, m.InviteCode(error=error[:m.MAX_REASON]))]

    # a colleague joins: the customer is asked

    def identified(self, viewer: int, verified: bool) -> list[TeamEffect]:
        """The first agent's identity verdict (the roster shows who is verified)."""
        found = self.viewers.get(viewer)
        if found is None or found.verified == verified:
            return []
        found.verified = verified
        return self._roster() if found.state is ViewerState.ADMITTED and len(self.viewers) > 1 else []

    def joined(self, viewer: int, name: str, identity: str, now: float, *, verified: bool = False) -> list[TeamEffect]:
        """Viewer ``viewer`` paired and its identity is known (``identity``: the customer's line for it)."""
        found = self.viewers.get(viewer)
        if found is None or found.state is not ViewerState.INVITED:
            return []
        found.name, found.identity, found.state, found.verified = name, identity, ViewerState.ASKING, verified
        self._asking.append(viewer)
        return self._show_next(now) + self._roster()

    @property
    def question(self) -> Prompt | None:
        """The team's question on screen (about colleague ``_about``), if any."""
        return self.prompts.shown

    def _show_next(self, now: float) -> list[TeamEffect]:
        if self.prompts.shown is not None or not self._asking:
            return []
        viewer = self._asking.pop(0)
        [shown] = self.prompts.request(PromptKind.VIEWER, now)
        assert isinstance(shown, Shown)  # never quiet (quiet=0), nothing else pending
        self._about = viewer
        found = self.viewers[viewer]
        text = self.tr("{agent}, invited by {inviter}, asks to SEE your screen ({identity}): Ctrl-] y lets them "
                       "see it; Ctrl-] n refuses (refused automatically in {seconds} s)",
                       agent=self.label(viewer), inviter=self.label(found.invited_by), identity=found.identity,
                       seconds=round(self.timeout))
        return [ConsentPrompt(shown.prompt.id, "viewer", str(Level.VIEW), self.timeout, False, text,
                              agent=viewer, agent_name=found.name or None)]

    def answer(self, allow: bool, prompt_id: int | None, now: float) -> list[TeamEffect]:
        """Ctrl-] y / n, or a button naming ``prompt_id``: admit or refuse the viewer asked about."""
        return self._answered(self.prompts.answer(prompt_id, allow, now), now)

    def tick(self, now: float) -> list[TeamEffect]:
        return self._answered(self.prompts.expire(now), now)

    def _answered(self, events: list[PromptEvent], now: float) -> list[TeamEffect]:
        closed = next((e for e in events if isinstance(e, Answered)), None)
        if closed is not None:
            return self._decided(closed.allow, closed.by == "customer", now)
        if any(isinstance(e, TooSoon) for e in events):
            return [Notice(self.tr("ignored that answer: the question on screen is new (it asks who may see your "
                                   "screen); read it, then answer"))]
        if events:  # stale, or nothing asked
            return [Notice(self.tr("that answer was for a question no longer on screen: nothing was answered"))]
        return []

    def _decided(self, allow: bool, answered: bool, now: float) -> list[TeamEffect]:
        viewer = self.viewers[self._about]
        out: list[TeamEffect] = []
        if viewer.state is ViewerState.ASKING:
            agent = self.label(viewer.id)
            if allow:
                viewer.state = ViewerState.ADMITTED
                self._order.append(viewer.id)
                out += [Admit(viewer.id), Notice(self.tr("you allowed: {agent} can now see your screen (view only "
                                                         "until you grant more)", agent=agent))]
            else:
                viewer.state = ViewerState.GONE
                self._refused[viewer.invited_by] = self._refused.get(viewer.invited_by, 0) + 1
                reason = ("the customer did not allow you to see their screen" if answered
                          else "the customer did not answer whether you may see their screen")
                said = (self.tr("you refused: {agent} sees nothing and was disconnected", agent=agent) if answered
                        else self.tr("no answer: refused: {agent} sees nothing and was disconnected", agent=agent))
                out += [Dismiss(viewer.id, "viewer_refused", reason), Notice(said)]
            out += self._roster()
        return out + self._show_next(now)

    def next_deadline(self) -> float | None:
        return self.prompts.next_deadline()

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

    def left(self, viewer: int, now: float, *, removed: bool = False,
             void: VoidReason = VoidReason.CLOSED) -> list[TeamEffect]:
        """Viewer ``viewer`` left (``leave``, its end, its link gone; ``removed``: the customer
        removed it, which they were just told). The last agent's leaving ends the session. An
        invitation nobody used is void (``void``: why): its inviter is told, if it reads that."""
        found = self.viewers.get(viewer)
        if found is None or found.state is ViewerState.GONE:
            return []
        was = found.state
        found.state, found.control = ViewerState.GONE, False
        out: list[TeamEffect] = []
        if viewer in self._asking:
            self._asking.remove(viewer)
        if self.prompts.shown is not None and self._about == viewer:
            self.prompts.withdraw(PromptKind.VIEWER, now)  # nobody to ask about any more
            out += self._show_next(now)
        if viewer in self._order:
            self._order.remove(viewer)
        if self.pick is not None and viewer in self.pick.candidates:
            self.pick = None  # the choice shown changed under the customer: they start again
        if was is ViewerState.INVITED:
            if found.tell_void and found.code and self.is_admitted(found.invited_by):
                out.append(ToViewer(found.invited_by, m.InviteCode(code=found.code, viewer=viewer, void=str(void))))
            return out + [Notice(self.tr("the invitation by {agent} was not used: it no longer works",
                                         agent=self.label(found.invited_by)))]
        if not removed:
            out.append(Notice(self.tr("{agent} left the session", agent=self.label(viewer))))
        if not self.admitted():
            for other in self.present():  # nobody left to see it: a waiting colleague goes too
                other.state = ViewerState.GONE
                if other.id != viewer:
                    out.append(Dismiss(other.id, "agent_ended", "the agents who invited you left the session"))
            self.prompts.withdraw(PromptKind.VIEWER, now)
            self._asking.clear()
            return out + [TeamOver(self.tr("{agent} left, the last agent: the session is over",
                                           agent=self.label(viewer)))]
        return out + self._roster()

    def removable(self) -> list[int]:
        """Who the customer may remove now, newest first (the first agent last: its pairing is
        detached as its ``leave`` does, the session goes on with the others), never the only one left."""
        if len(self.admitted()) <= 1:
            return []
        return [v for v in reversed(self._order) if self.is_admitted(v)]

    def remove(self, viewer: int, now: float) -> list[TeamEffect]:
        """The customer drops viewer ``viewer`` (0: Ctrl-] l: the latest to join when there is one
        to choose; with several, the customer picks: each Ctrl-] l shows the next, y removes it)."""
        if viewer == 0:
            return self._choose(now)
        found = self.viewers.get(viewer)
        if found is None or found.state is ViewerState.GONE:
            return [Notice(self.tr("no agent {number} to remove", number=viewer))]
        if found.state is ViewerState.ADMITTED and len(self.admitted()) <= 1:
            return [Notice(self.tr("that is the only agent left: Ctrl-] e ends the session"))]
        self.pick = None
        return [Dismiss(viewer, "viewer_removed", "the customer removed you from the session"),
                Notice(self.tr("you removed {agent}: they no longer see your screen", agent=self.label(viewer))),
                *self.left(viewer, now, removed=True)]

    def _choose(self, now: float) -> list[TeamEffect]:
        candidates = self.removable()
        if not candidates:
            return [Notice(self.tr("that is the only agent left: Ctrl-] e ends the session"))]
        if len(candidates) == 1:
            return self.remove(candidates[0], now)
        pick = self.pick
        if pick is not None and now < pick.deadline and pick.candidates == tuple(candidates):
            index = (pick.index + 1) % len(candidates)
        else:
            index = 0
        self.pick = _Pick(tuple(candidates), index, now + PICK_WAIT, now)
        return [Notice(kind=NoticeKind.REMOVE_WHICH, message=self.tr.plural(
            "remove which agent? Ctrl-] y removes {agent}; Ctrl-] l shows the next one ({n} agent you can remove); "
            "Ctrl-] n keeps everyone",
            "remove which agent? Ctrl-] y removes {agent}; Ctrl-] l shows the next one ({n} agents you can remove); "
            "Ctrl-] n keeps everyone", len(candidates), agent=self.label(candidates[index])))]

    def picking(self, now: float, newest_question: float | None = None) -> bool:
        """Whether Ctrl-] y / n now answer the customer's choice of an agent to remove: not once
        a question came up after it (``newest_question``: when the newest was shown), which a
        key then answers; the choice is dropped."""
        pick = self.pick
        if pick is not None and newest_question is not None and newest_question >= pick.shown_at:
            self.pick = None
        return self.pick is not None and now < self.pick.deadline

    def pick_answer(self, allow: bool, now: float) -> list[TeamEffect]:
        pick = self.pick
        self.pick = None
        if pick is None or now >= pick.deadline:
            return [Notice(self.tr("nothing to answer"))]
        if not allow:
            return [Notice(self.tr("nobody was removed"))]
        return self.remove(pick.candidates[pick.index], now)

    # the roster, told to everyone

    def viewers_line(self) -> Translated:
        """Who sees the customer's screen now, by name, with the count once there are several
        (``2 agents see your screen: Alice (agent 1), Bob (agent 2) with CONTROL``), and who
        waits for the customer's answer."""
        tr = self.tr
        shown = [v for v in self.viewers.values() if v.state in (ViewerState.ADMITTED, ViewerState.ASKING)]
        seeing = [tr("{agent} with CONTROL", agent=self.label(v.id)) if v.control else self.label(v.id)
                  for v in shown if v.state is ViewerState.ADMITTED]
        waiting = [self.label(v.id) for v in shown if v.state is ViewerState.ASKING]
        agents = in_a_row(", ", seeing) if seeing else tr("nobody")
        if len(seeing) > 1 and waiting:
            return tr.plural("{n} agent sees your screen: {agents}; waiting for your answer: {waiting}",
                             "{n} agents see your screen: {agents}; waiting for your answer: {waiting}",
                             len(seeing), agents=agents, waiting=in_a_row(", ", waiting))
        if len(seeing) > 1:
            return tr.plural("{n} agent sees your screen: {agents}", "{n} agents see your screen: {agents}",
                             len(seeing), agents=agents)
        if waiting:
            return tr("can see your screen: {agents}; waiting for your answer: {waiting}", agents=agents,
                      waiting=in_a_row(", ", waiting))
        return tr("can see your screen: {agents}", agents=agents)

    def who(self, paired: bool) -> list[TeamEffect]:
        """Ctrl-] ? (the help): who sees the screen now, asked for, whether or not it changed."""
        if not paired:
            return [Notice(self.tr("nobody sees your screen: no agent has joined yet"))]
        return [Notice(self.viewers_line())]

    def _roster(self) -> list[TeamEffect]:
        shown = [v for v in self.viewers.values() if v.state in (ViewerState.ADMITTED, ViewerState.ASKING)]
        rows: tuple[dict[str, object], ...] = tuple(
            {"id": v.id, "name": v.name, "state": str(v.state), "control": v.control, "verified": v.verified}
            for v in shown)
        out: list[TeamEffect] = [ViewersShown(rows, self.viewers_line())]
        waiting: list[dict[str, Any]] = [{"id": v.id, "name": v.name, "verified": v.verified}
                                         for v in shown if v.state is ViewerState.ASKING]
        for target in self.admitted():
            listed: list[dict[str, Any]] = [
                {"id": v.id, "name": v.name, "control": v.control, "you": v.id == target, "verified": v.verified}
                for v in self.viewers.values() if v.state is ViewerState.ADMITTED]
            out.append(ToViewer(target, m.Viewers(listed, waiting)))
        return out

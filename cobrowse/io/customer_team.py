"""A team in one session, as glue on the customer's machine (docs/team.md).

Each invited agent gets its own pairing: a new relay session with its own code, its own
SPAKE2 handshake and keys (``GuestRuntime``, a ``CustomerRuntime`` on its own link). It
shares the first pairing's emulator (the screen is parsed once) but keeps its own frame
state, redactor, consent desk (the identity verdict, the level, the questions are per
agent) and sends nothing of the screen before ``TeamPolicy`` admits it. What the team
decides (``cobrowse.policy.customer_team``, pure) is carried out here: opening invitations,
asking the customer, passing chat and steps between the pairings, one controller, leaving.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from typing import Any

from cobrowse.errors import CobrowseError
from cobrowse.i18n.text import current
from cobrowse.io.customer import CustomerRuntime
from cobrowse.io.link import RelayLink
from cobrowse.io.team_calls import GuestCalls, TeamCalls
from cobrowse.io.runtime import Emit, Outcome
from cobrowse.policy.customer_events import (ChatReceived, ConsentChanged, ConsentPrompt, ControlConfirm, ControlKeys,
                                             IdentityShown, IdentityWarning, Notice, PointerShown, RecordingChanged,
                                             RecordingPrompt,
                                             SharingChanged, SuggestionShown, TeamAnswer, TeamAsk, TeamRequest,
                                             with_agent)
from cobrowse.policy.customer_team import (FIRST, PROMPT_STRIDE, Admit, Dismiss, OpenInvite, Revoke, TeamEffect,
                                           TeamOver, TeamPolicy, ToViewer, void_for)
from cobrowse.policy.events import Event, kind_of
from cobrowse.playbook import PlaybookError, playbook_from_dict
from cobrowse.policy.session_events import PeerHello, VoiceChanged
from cobrowse.protocol import messages as m
from cobrowse.protocol.prompts import PromptQueue, answering, newest_shown_at

logger = logging.getLogger(__name__)

#: How long a leaving or dismissed agent's pairing may take to close.
CLOSE_WAIT = 3.0
TEAM_TICK = 0.25
#: What an invited agent's pairing reads before the customer allowed it (the rest is dropped).
BEFORE_ADMISSION = (m.AgentProof, m.Leave, m.Resync)


class GuestRuntime(CustomerRuntime):
    """An invited agent's pairing: the first pairing's screen, sent only once admitted."""

    def __init__(self, *args: Any, host: CustomerRuntime, viewer: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.host = host
        self.viewer = viewer
        self.screen.emulator = host.screen.emulator  # parsed once; this pairing keeps its own frames
        self.screen.resync()
        self.write_program = lambda data: host.write_program(data)  # keys, once this agent has control
        self.policy.sharing = False  # nothing of the screen before the customer allows it
        self.policy.review_resume = False
        self.policy.in_team = True
        self.policy.desk.number_prompts_from(viewer * PROMPT_STRIDE)
        self.max_attempts = 1  # one guess at an invitation's code: then it is void
        self.rtc = GuestCalls(self, self.rtc.settings, allowed=lambda: self.admitted)
        self.admitted = False

    def feed_pending(self) -> None:
        self.host.feed_pending()

    async def on_message(self, message: m.AppMessage) -> None:
        """Before the customer allowed it, an invited agent asks nothing and says nothing: it
        may only prove who it is (that goes into the question) or go away."""
        if not (self.admitted or isinstance(message, BEFORE_ADMISSION)):
            return
        if isinstance(message, m.PushPlaybook):
            await self._guide(message)
        elif isinstance(message, m.StepRequest):
            await self._step(message)
        else:  # its suggestions (the customer decides on each) and its pointer are its own, named
            await super().on_message(message)

    async def _guide(self, message: m.PushPlaybook) -> None:
        """An admitted agent starts a guide: it runs with the first pairing's policy (one guide in
        the session, its steps to every agent); the customer reads who started it."""
        host, now = self.host, self.now
        if not self.policy.limits.admit(message.t, now):
            return
        try:
            playbook = playbook_from_dict(message.playbook)
        except PlaybookError as exc:
            await self.send(m.Steps({"error": f"the customer's cobrowse refused the playbook: {exc}"[:m.MAX_REASON]}))
            return
        self.emit(Notice(current()("the agent started a guide: {title}", title=playbook.title)))
        await host._apply([*host.policy.start_playbook(playbook, by_agent=True), *host.policy.take_steps()])

    async def _step(self, message: m.StepRequest) -> None:
        """An admitted agent moves the guide's steps (they live with the first pairing's policy:
        every agent sees the change); a refusal goes back to this agent only."""
        host, now = self.host, self.now
        if not self.policy.limits.admit(message.t, now):
            return
        try:
            effects = host.policy.change_step(message.action, message.index, message.status, "agent", now)
        except ValueError as exc:
            await self.send(m.Steps({"error": str(exc)[:m.MAX_REASON]}))
            return
        await host._apply([*effects, *host.policy.take_steps()])

    def shows_addresses(self) -> bool:
        """No network address of this machine to an agent the customer has not allowed (a direct
        path, if any, goes through TURN)."""
        return self.admitted and super().shows_addresses()

    async def _renew(self) -> bool:
        """A wrong guess at the invitation's code: the invitation is void (never a new code)."""
        await self.link.close("wrong_code")
        self.finish("wrong_code", "someone entered a wrong invitation code: the invitation no longer works", 0)
        return False

    def set_sharing(self, sharing: bool) -> list[Any]:
        """Follow the customer's pause, once admitted (a fresh screen when it resumes)."""
        want = sharing and self.admitted
        if want == self.policy.sharing:
            return []
        return self.policy._set_sharing(want)


class CustomerTeam:
    """The customer's team: the first pairing (``host``) and the invited agents' pairings."""

    def __init__(self, host: CustomerRuntime, emit: Emit, *, relay: str, reconnect_for: float = 60.0,
                 proxy: Any = None, **guest_options: Any) -> None:
        self.host = host
        self.emit = emit  # the customer's front end
        self.relay = relay
        self.reconnect_for = reconnect_for
        self.proxy = proxy
        self.guest_options = guest_options
        self.policy = TeamPolicy(timeout=host.policy.desk.prompts.timeout, arming=host.policy.desk.prompts.arming)
        self.guests: dict[int, GuestRuntime] = {}
        self._tasks: dict[int, asyncio.Task[Outcome]] = {}
        self._ticker: asyncio.Task[None] | None = None
        self._named = False
        #: When each pairing's agent's suggestion was shown (Ctrl-] a / d answer the newest).
        self._suggested: dict[int, float] = {}
        #: The agent that pointed last: its highlight is the one shown and looked for again as
        #: the screen changes (``pointer_event``), whoever it is.
        self.pointing = FIRST
        host.on_team = self.request
        host.on_sent = self._sent
        host.policy.in_team = True
        self._host_emit = host.emit
        host.emit = self._from_host
        self.calls = TeamCalls(lambda: (self.host, *self.guests.values()), self._agent_named, self._callable)
        self.calls.watch(host)
        host.voice_command = self.voice_command  # type: ignore[method-assign]  # the call key: whichever agent's call
        host.call_seat = self.call_seat
        host.anyone_records = self.anyone_records

    @property
    def now(self) -> float:
        return self.host.now

    def runtime(self, viewer: int) -> CustomerRuntime | None:
        return self.host if viewer == FIRST else self.guests.get(viewer)

    def viewer_of(self, runtime: CustomerRuntime) -> int:
        return runtime.viewer if isinstance(runtime, GuestRuntime) else FIRST

    # what the pairings say

    def _from_host(self, event: Event) -> None:
        if isinstance(event, PeerHello) and (self._named or self.host.detached):
            return  # said once: a later hello would announce "visible to <any name>" (or one that left)
        if self.host.detached and isinstance(event, (IdentityShown, IdentityWarning, VoiceChanged)):
            return  # its agent left: nothing it causes reaches the customer
        if isinstance(event, VoiceChanged) and len(self.policy.present()) > 1:
            event = replace(event, agent=str(self.policy.label(FIRST)))  # several agents: name the one on the call
        self._host_emit(with_agent(event, FIRST, self._name(FIRST)))
        if isinstance(event, ChatReceived) and self.policy.admitted() != [FIRST]:
            self._pass_chat(FIRST, str(event.text))
        elif isinstance(event, ConsentChanged):
            self._soon(self.policy.consent_changed(FIRST, event.level))
        elif isinstance(event, IdentityShown):
            self._soon(self.policy.identified(FIRST, bool(event.verified)))
        elif isinstance(event, SharingChanged):
            for guest in self.guests.values():
                self._soon_effects(guest, guest.set_sharing(event.active))
        elif isinstance(event, SuggestionShown):
            self._suggested[FIRST] = self.now
        elif isinstance(event, PointerShown) and not event.cleared:
            self.pointing = FIRST
        elif isinstance(event, PeerHello) and not self._named:
            self._named = True
            self._soon(self.policy.named(FIRST, event.name or ""))

    def _from_guest(self, guest: GuestRuntime, event: Event) -> None:
        """A guest pairing's events: the customer sees what concerns them, named."""
        viewer = guest.viewer
        who = self.policy.label(viewer)
        tr = current()
        if isinstance(event, IdentityShown):
            self._soon(self.policy.joined(viewer, guest.peer.name if guest.peer else str(event.agent),
                                          event.message, self.now, verified=bool(event.verified)))
        elif isinstance(event, ChatReceived):
            if self.policy.is_admitted(viewer):  # a notice: front ends name the first agent on chat lines
                self.emit(Notice(tr("{agent}: {message}", agent=who, message=event.text)))
                self._pass_chat(viewer, str(event.text))
        elif isinstance(event, (SuggestionShown, PointerShown)):
            if self.policy.is_admitted(viewer):  # its own, named: Ctrl-] a / d answer the newest suggestion shown
                if isinstance(event, SuggestionShown):
                    self._suggested[viewer] = self.now
                elif not event.cleared:
                    self.pointing = viewer
                self.emit(with_agent(replace(event, message=tr("{agent}: {message}", agent=who, message=event.message)),
                                     viewer, self._name(viewer)))
        elif isinstance(event, (ConsentPrompt, RecordingPrompt, RecordingChanged, ControlConfirm)):
            # its recording's answer too: it was dropped, so the customer never read that Bob records
            self.emit(with_agent(replace(event, message=tr("{agent}: {message}", agent=who, message=event.message)),
                                 viewer, self._name(viewer)))
        elif isinstance(event, ConsentChanged):  # the viewers line that follows names who holds what
            self.emit(with_agent(event, viewer, self._name(viewer)))
            self._soon(self.policy.consent_changed(viewer, event.level))
        elif isinstance(event, ControlKeys):  # the customer's receipt counts every agent's keys, named
            self.emit(with_agent(event, viewer, self._name(viewer)))
        elif isinstance(event, (Notice, IdentityWarning)):
            if self.policy.is_admitted(viewer):  # before that, nothing it causes reaches the customer
                self.emit(replace(event, message=tr("{agent}: {message}", agent=who, message=event.message)))
        elif isinstance(event, VoiceChanged):  # its call, rung and answered as the first agent's, named
            self.emit(replace(event, agent=str(who)))
        elif kind_of(event) == "error":
            self.emit(Notice(tr("{agent}: {message}", agent=who, message=as_text(event))))
        # paired, hello, code, ended, peer, connection...: the team tells what matters

    def _name(self, viewer: int) -> str:
        """The agent's name as its hello said (cleaned at the protocol's door), for the receipt."""
        found = self.policy.viewers.get(viewer)
        return found.name if found is not None else ""

    def _sent(self, runtime: CustomerRuntime, message: m.AppMessage) -> None:
        """The host sent chat or steps to its agent: the other admitted agents get them too."""
        if runtime is not self.host:
            return
        for viewer in self.policy.admitted():
            guest = self.guests.get(viewer)
            if guest is not None and guest.paired:
                self._spawn(guest.send(message))

    def _pass_chat(self, author: int, text: str) -> None:
        name = self.policy.viewers[author].name or f"agent {author}"
        for viewer in self.policy.admitted():
            runtime = self.runtime(viewer)
            if viewer != author and runtime is not None and runtime.paired and not runtime.detached:
                self._spawn(runtime.send(m.Chat(text, name=name)))

    # what the agents and the customer ask

    async def request(self, runtime: CustomerRuntime, effect: TeamRequest | TeamAnswer) -> None:
        viewer = self.viewer_of(runtime)
        now = self.now
        if isinstance(effect, TeamAnswer):
            await self._answer(effect, now)
            return
        if effect.what is TeamAsk.INVITE:
            await self.carry_out(self.policy.invite(viewer, voids=effect.voids))
        elif effect.what is TeamAsk.LEAVE:
            await self.carry_out(self.policy.left(viewer, now), leaving=viewer)
        elif effect.what is TeamAsk.REVOKE_ALL:
            await self.carry_out(self.policy.revoke_all())
        elif effect.what is TeamAsk.DROP:
            await self.carry_out(self.policy.remove(effect.viewer, now))
        elif effect.what in (TeamAsk.PASTE, TeamAsk.DECLINE):
            await self._suggestion(effect.what is TeamAsk.PASTE)
        elif effect.what is TeamAsk.STOP_RECORDING:
            await self._stop_recording()
        elif effect.what is TeamAsk.WHO:
            paired = self.host.paired or any(guest.admitted for guest in self.guests.values())
            await self.carry_out(self.policy.who(paired))

    async def _answer(self, effect: TeamAnswer, now: float) -> None:
        """Ctrl-] y / n (or a button naming a prompt): the question it is for, whichever pairing
        asks (each pairing's queue and the team's own: ``prompts.answering``)."""
        queues: dict[int, PromptQueue] = {0: self.policy.prompts}  # 0: the team's questions about colleagues
        for viewer, runtime in ((FIRST, self.host), *self.guests.items()):
            if not runtime.detached:
                queues[viewer] = runtime.policy.desk.prompts
        if effect.prompt_id is None and self.policy.picking(now, newest_shown_at(queues)):  # after Ctrl-] l
            await self.carry_out(self.policy.pick_answer(effect.allow, now))
            return
        owner = answering(queues, effect.prompt_id)
        if owner == 0:
            await self.carry_out(self.policy.answer(effect.allow, effect.prompt_id, now))
            return
        target = self.runtime(owner if owner is not None else FIRST) or self.host
        await target._apply(list(target.policy.desk.answer(effect.allow, effect.prompt_id, now)))

    async def _suggestion(self, paste: bool) -> None:
        """Ctrl-] a / d: the newest suggestion shown, whichever agent made it (none: the first
        pairing's answer, which pastes a guide step's command or says there is nothing)."""
        waiting = {viewer: at for viewer, at in self._suggested.items()
                   if (runtime := self.runtime(viewer)) is not None and runtime.policy.suggestion is not None
                   and not runtime.detached and runtime.outcome is None}
        owner = max(waiting, key=waiting.__getitem__, default=FIRST)
        target = self.runtime(owner) or self.host
        await target._apply(target.policy.answer_suggestion(paste, target.view))

    # carrying out the team's decisions

    async def carry_out(self, effects: list[TeamEffect], *, leaving: int = 0) -> None:
        for effect in effects:
            if isinstance(effect, Event):
                self.emit(effect)
            elif isinstance(effect, ToViewer):
                runtime = self.runtime(effect.viewer)
                if runtime is not None and runtime.paired and not runtime.detached:
                    await runtime.send(effect.message)
            elif isinstance(effect, OpenInvite):
                self._spawn(self._open(effect))
            elif isinstance(effect, Admit):
                await self._admit(effect.viewer)
            elif isinstance(effect, Dismiss):
                await self._dismiss(effect)
            elif isinstance(effect, Revoke):
                runtime = self.runtime(effect.viewer)
                if runtime is not None:
                    await runtime._apply(list(runtime.policy.desk.revoke(self.now)))
            elif isinstance(effect, TeamOver):
                await self._over(effect.message, leaving)
        if leaving:
            await self._let_go(leaving)

    async def _open(self, effect: OpenInvite) -> None:
        link = RelayLink(self.relay, "customer", None, reconnect_for=self.reconnect_for, proxy=self.proxy)
        host = self.host
        guest = GuestRuntime(link, lambda event: None, host=host, viewer=effect.viewer,
                             cols=host.screen.emulator.size[0], rows=host.screen.emulator.size[1],
                             name=host.name, ask_feedback=False, **self.guest_options)
        guest.emit = lambda event: self._from_guest(guest, event)
        guest.lang = host.lang
        try:
            code = await guest.create()
        except CobrowseError as exc:
            await self.carry_out(self.policy.invite_failed(effect.viewer, f"the relay did not open a code: {exc}"))
            return
        self.guests[effect.viewer] = guest
        self.calls.watch(guest)
        host.followers.append(guest)
        task = asyncio.ensure_future(guest.run())
        self._tasks[effect.viewer] = task
        task.add_done_callback(lambda _: self._spawn(self._gone(effect.viewer)))
        self._start_ticker()
        await self.carry_out(self.policy.invite_opened(effect.viewer, str(code), link.ttl))

    async def _admit(self, viewer: int) -> None:
        guest = self.guests.get(viewer)
        if guest is None:
            return
        guest.admitted = True
        await guest._apply(guest.set_sharing(self.host.policy.sharing))
        steps = self.host.policy.steps
        if steps is not None and self.host.policy.sharing:
            await guest.send(m.Steps(steps.to_dict()))

    async def _dismiss(self, effect: Dismiss) -> None:
        runtime = self.runtime(effect.viewer)
        if runtime is None or runtime.outcome is not None:
            return
        self._unpoint(effect.viewer, runtime)
        await self.calls.hang_up(runtime, "the customer removed the agent" if effect.reason == "viewer_removed"
                            else "the agent's pairing ended")
        if runtime is self.host:
            await self._drop_host(effect)
            return
        try:
            async with asyncio.timeout(CLOSE_WAIT):
                await runtime.end(effect.reason, effect.message)
        except TimeoutError:
            runtime.finish(effect.reason, effect.message, 0)

    async def _drop_host(self, effect: Dismiss) -> None:
        """The customer removed the first agent while others stay: it is told why (its client
        ends with ``effect.reason``), then its pairing is detached as its ``leave`` detaches it:
        nothing more goes to it, nothing it sends counts, its link's end does not end the session."""
        host = self.host
        if host.detached:
            return
        if host.paired:
            await host.send(m.End(effect.reason, effect.message))
        await self._let_go(FIRST)

    @property
    def pointer(self) -> m.Pointer | None:
        """The pointer shown now: the last agent to point's (None: it cleared it, or it left)."""
        runtime = self.runtime(self.pointing)
        return None if runtime is None or runtime.detached else runtime.policy.pointer

    def pointer_event(self) -> dict[str, Any] | None:
        """What the highlight covers now, looked for again on the screen as it is (the app, on
        every frame, as the first agent's always was): the pointing agent's own rules."""
        runtime = self.runtime(self.pointing)
        return runtime.pointer_event() if self.pointer is not None and runtime is not None else None

    def _unpoint(self, viewer: int, runtime: CustomerRuntime) -> None:
        """An agent that is gone points at nothing: its highlight goes (the app would keep it)."""
        if runtime.policy.pointer is None:
            return
        runtime.policy.pointer = None
        tr = current()
        self.emit(PointerShown(tr("{agent}: {message}", agent=self.policy.label(viewer),
                                  message=tr("the agent cleared the highlight")), cleared=True))

    async def _let_go(self, viewer: int) -> None:
        """A viewer left: nothing more goes to it, nothing it sends counts; its agent closes its
        own link once it heard us (a guest's is closed for it after ``CLOSE_WAIT`` otherwise)."""
        runtime = self.runtime(viewer)
        if runtime is None or runtime.outcome is not None:
            return
        self._unpoint(viewer, runtime)
        await self.calls.hang_up(runtime, "the agent left the session")
        if runtime is self.host:
            if not runtime.team_over:
                runtime.detached = True
                runtime.policy.desk.revoke(self.now)  # quietly: the customer was told who left
            return
        assert isinstance(runtime, GuestRuntime)
        runtime.admitted = False
        await runtime._apply(runtime.set_sharing(False))
        self._spawn(self._close_later(runtime))

    async def _close_later(self, guest: GuestRuntime) -> None:
        await asyncio.sleep(CLOSE_WAIT)
        if guest.outcome is None:
            await guest.link.close("agent_ended")
            guest.finish("agent_ended", "the agent left", 0)

    async def _over(self, message: str, leaving: int) -> None:
        """The last agent left: the session ends for the customer as an ordinary agent end."""
        host = self.host
        host.team_over = True
        if leaving == FIRST and not host.detached:
            await host.on_end(m.End("agent_ended", message))
            return
        if not host.detached:
            await host.end("agent_ended", message)
            return
        host.finish("agent_ended", message, 0)

    async def _gone(self, viewer: int) -> None:
        """A guest's pairing ended (it left, was refused, its code expired or was guessed)."""
        guest = self.guests.pop(viewer, None)
        self._tasks.pop(viewer, None)
        if guest is None:
            return
        self.host.followers = [g for g in self.host.followers if g is not guest]
        if self.host.outcome is None:
            ended = guest.outcome.reason if guest.outcome is not None else ""
            await self.carry_out(self.policy.left(viewer, self.now, void=void_for(ended)))

    # calls: one microphone, one call at a time, with any admitted agent

    def _agent_named(self, runtime: CustomerRuntime) -> str:
        """``Bob (agent 2)``, as another agent is told (English: the agent's console is)."""
        viewer = self.viewer_of(runtime)
        found = self.policy.viewers.get(viewer)
        return f"{found.name if found is not None and found.name else 'an agent'} (agent {viewer})"

    def _callable(self) -> list[CustomerRuntime]:
        """Whom the customer's call key calls, in order: the first agent, then the others by
        admission (the first has no other right over calls)."""
        guests = [self.guests[v] for v in self.policy.admitted() if v in self.guests]
        return [self.host, *guests]

    def call_seat(self) -> CustomerRuntime:
        """The pairing the customer's call keys and the app's call bar are for (``TeamCalls.seat``)."""
        return self.calls.seat() or self.host

    async def voice_command(self, name: str) -> None:
        """Ctrl-] t / o / u and the app's call buttons: the call going on, whichever agent's."""
        await CustomerRuntime.voice_command(self.call_seat(), name)

    def anyone_records(self) -> bool:
        """Whether any agent still here records (the customer's banner says so)."""
        return any(not runtime.detached and runtime.policy.desk.recording.recording
                   for runtime in (self.host, *self.guests.values()))

    async def _stop_recording(self) -> None:
        """Ctrl-] x stops every agent's recording (it stopped only the first agent's: an invited
        agent kept recording); with none going, the first pairing says there is nothing to stop."""
        going = [runtime for runtime in (self.host, *self.guests.values())
                 if not runtime.detached and runtime.policy.desk.recording.recording]
        for runtime in going or [self.host]:
            await runtime._apply(list(runtime.policy.desk.stop_recording(self.now)))

    # upkeep

    def _start_ticker(self) -> None:
        if self._ticker is None:
            self._ticker = asyncio.ensure_future(self._tick())

    async def _tick(self) -> None:
        while self.host.outcome is None:
            await self.carry_out(self.policy.tick(self.now))
            await asyncio.sleep(TEAM_TICK)

    def _soon(self, effects: list[TeamEffect]) -> None:
        if effects:
            self._spawn(self.carry_out(effects))

    def _soon_effects(self, runtime: CustomerRuntime, effects: list[Any]) -> None:
        if effects:
            self._spawn(runtime._apply(effects))

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        task.add_done_callback(_log_failure)

    async def close(self, reason: str = "customer_ended", message: str = "") -> None:
        """The customer's session is over: every other pairing ends too (bounded)."""
        if self._ticker is not None:
            self._ticker.cancel()
        for guest in list(self.guests.values()):
            if guest.outcome is None:
                try:
                    async with asyncio.timeout(CLOSE_WAIT):
                        await guest.end(reason, message)
                except TimeoutError:
                    guest.finish(reason, message, 0)
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def as_text(event: Event) -> str:
    return str(event.to_json().get("message", "") if isinstance(event, Event) else event.get("message", ""))


def _log_failure(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.warning("a team task failed", exc_info=task.exception())

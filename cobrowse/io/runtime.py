"""The session runtime: drives a Session machine over a RelayLink. Thin glue, no policy.

Role-specific runtimes (agent, customer) subclass it and handle application messages.
Everything a user should learn is reported through ``emit`` as a typed event
(``cobrowse.policy.session_events``; the roles add theirs): the headless agent prints each
as its JSON line (``as_json``) and the Textual apps match on the classes.

A failed code costs the guesser, never this side: when the side that created the session
sees a claimant fail key confirmation (or leave after making its guess), it tells the relay
to let that claimant go, starts a fresh attempt on the same code and says so (a
``warning`` of kind ``wrong_code``); after ``max_attempts`` guesses on one code it opens a
fresh code on its own (a new ``code`` event with ``"renewed": true``), so an attacker gets
at most ``max_attempts`` guesses per code: odds of ``max_attempts`` / 10^8. The side that
typed the wrong code ends with a clear "wrong code: check the digits" (exit status 5).
"""

from __future__ import annotations

import asyncio
import dataclasses
import math
import os
import secrets
from collections.abc import Coroutine
from typing import Any, Callable

from cobrowse import __version__
from cobrowse.crypto.sas import peer_sas
from cobrowse.errors import WRONG_CODE_MESSAGE, SecurityError
from cobrowse.i18n.ends import RELAY_REPLAYED, relay_english
from cobrowse.io.guesses import CodeGuesses
from cobrowse.io.joining import BUSY_RETRY_FOR, CLAIM_LOST, RECLAIMS, Claimant
from cobrowse.io.link import RELAY_MISBEHAVED, ClaimReleased, Frame, LinkEnded, PeerChanged, Reconnecting, RelayLink, Resumed
from cobrowse.io.link import DIRECT_GOES_ON, peer_left_message, peer_timeout_message, reconnecting_message, resumed_message
# How a session ends lives in outcome.py; its names stay importable from here, where callers look.
from cobrowse.io.outcome import END_MESSAGES, EXIT_FAILED, FAILED_ENDS, EXIT_OK, EXIT_SECURITY, Outcome, exit_code_for, killed_message, wrong_code_message
from cobrowse.io.outcome import EXIT_REJECTED as EXIT_REJECTED, EXIT_UNREACHABLE as EXIT_UNREACHABLE, EXIT_USAGE as EXIT_USAGE
from cobrowse.io.rtc import RtcManager, RtcSettings
from cobrowse.policy.events import Event
from cobrowse.policy.session_events import CodeShown, ErrorKind, PeerBack, PeerHello, PeerLeft, PeerState
from cobrowse.policy.session_events import Reconnecting as ReconnectingEvent, Resumed as ResumedEvent
from cobrowse.policy.session_events import SessionEnded, SessionError, SessionPaired, SessionWarning
from cobrowse.protocol import messages as m
from cobrowse.protocol.session import Integrity, Paired, Received, Session, SessionEvent
from cobrowse.screen.diff import FRAME_FORMAT
from cobrowse.wire.code import Code, new_secret

#: What front ends take: typed events (cobrowse.policy.events.Event subclasses), JSON only at the edge.
Emit = Callable[[Event], None]
#: What is left of a frame's handling once it must wait (``message_now``, ``_take_now``).
Later = Coroutine[Any, Any, None]
#: Messages the runtime answers itself (``_process_events``): never handled from the read callback.
_RUNTIME_MESSAGES = (m.Hello, m.Ping, m.Pong, m.Rtc, m.Call, m.End)
#: Sends that do not keep the ticker at its TICK pace (``stir``): the runtimes' own pings, and
#: screen frames, whose pace is the frame rate's (their retransmission is a deadline:
#: ``Session.retransmit_at``); a pass per TICK for a second after each frame cost ~20 passes.
_QUIET_SENDS = (m.Ping, m.Pong, m.Screen)
TICK = 0.05
#: The ticker's longest sleep once nothing happened for QUIET_AFTER s: an idle session (the
#: customer reading, both talking) wakes its processes ~20 times a second at TICK for nothing.
#: Everything due sooner is a deadline (frames, retransmissions, pings, calls, the policy's timers).
IDLE_TICK = 1.0
QUIET_AFTER = 1.0
WARNING_WINDOW = 10.0
WARNINGS_PER_WINDOW = 3
#: After a resume (this side's link or the peer's came back) the sender resends what it never
#: saw acknowledged, frames that may have arrived just before the drop: copies expected for
#: this long are counted (the hostile bound holds) but not shown as a replay.
RESENT_QUIET = 10.0
#: Sealed frames of one kind the relay replays or misorders within WARNING_WINDOW s past which
#: it is plainly hostile and the session ends (an honest path repeats at most a few windows
#: of unacknowledged frames: MAX_UNACKED_FRAMES is 256). Not "malformed": the peer sealed those.
HOSTILE_INTEGRITY = 1024
RELAY_INTEGRITY_KINDS = frozenset({"duplicate", "gap", "replayed_ack", "early"})
PING_EVERY = 2.0
#: Guesses one code takes before its creator opens a fresh code (odds: MAX_ATTEMPTS / 10^8).
MAX_ATTEMPTS = 3
#: How long the side that ends a session waits for the other side to acknowledge what it sent
#: last (the End, the feedback, the last screen) before closing: on the direct path those
#: frames are still in the data channel's buffers when the relay would tell the peer "gone".
SETTLE = 3.0

class SessionRuntime(CodeGuesses, Claimant):
    role = "agent"
    lang = ""  # the language this side reads, sent in its hello (the customer's: docs/i18n.md)

    def __init__(self, link: RelayLink, emit: Emit, *, name: str = "", rtc: RtcSettings | None = None) -> None:
        self.link = link
        self.emit = emit
        self.name = name
        self.session: Session | None = None
        self.code: Code | None = None
        self.peer: m.Hello | None = None
        self._hello_taken = False  # this pairing's hello came (a second one is ignored)
        self.outcome: Outcome | None = None
        self._done = asyncio.Event()
        self._ending = False
        #: Set when the link ends while this side is ending (a bounded wait stops at once).
        self.link_gone = asyncio.Event()
        self.rtt_ms: float | None = None
        #: Whether the relay has the other side attached (as this side last heard): while the
        #: direct path is up, the peer stays reachable without it (see ``direct_lost``).
        self.relay_peer = False
        self._pings: dict[int, float] = {}
        self._next_ping_at = 0.0
        self._ping_id = 0
        #: Seconds between sealed pings (a bench may take them more often).
        self.ping_every = PING_EVERY
        self._warnings: dict[str, tuple[float, int, int]] = {}  # kind -> (window start, count, quietened)
        self._resent_until = -math.inf  # see RESENT_QUIET
        #: The ticker's sleep (see ``_ticker``): what ``wake`` resolves, when it ends by itself.
        self._waiter: asyncio.Future[None] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._sleep_until = -math.inf
        #: Until when the ticker keeps its TICK pace (``stir``): a message came or went.
        self._busy_until = -math.inf
        #: The ticker's passes (tests and benches: an idle session should cost few).
        self.passes = 0
        self._received = asyncio.Event()  # a frame came (an acknowledgement, perhaps): see settle()
        self._loop = asyncio.get_running_loop()
        self.rtc = RtcManager(self, rtc if rtc is not None else RtcSettings.from_env())
        #: Whether this side created the session (only the creator keeps it open through failed codes).
        self.created = False
        #: Guesses made at the current code (failed confirmations, claimants gone after guessing).
        self.failed_attempts = 0
        self.max_attempts = MAX_ATTEMPTS
        #: How long ``join`` keeps retrying refusals that pass (``busy``, ``unavailable``).
        self.join_retry_for = BUSY_RETRY_FOR
        self._reclaims = 0
        #: What the person on the other side types (front ends may add ``--relay``).
        self.customer_command: Callable[[Code], str] = lambda code: f"cobrowse join {code}"
        #: The consume task is handling an item (``_take_now`` then leaves frames to it).
        self._consuming = False
        #: The rest of a frame ``_take_now`` began, when it had to wait; what comes after waits for it.
        self._inflight: asyncio.Task[bool] | None = None
        self._consume_stopped = False
        #: Frames handled from the read callback (``_take_now``), for tests and benches.
        self.frames_taken = 0

    @property
    def now(self) -> float:
        return self._loop.time()

    @property
    def paired(self) -> bool:
        return self.session is not None and self.session.state == "paired"

    async def create(self) -> Code:
        nameplate = await self.link.open()
        self.created = True
        self.code = Code(nameplate, new_secret(secrets.randbelow))
        self.session = Session(self.role, self.code, os.urandom)
        return self.code

    def code_event(self, *, renewed: bool = False) -> CodeShown:
        """The ``code`` event for the current code (again, ``renewed``, after a fresh code)."""
        code = self.code
        assert code is not None
        shown = CodeShown(str(code), code.spoken(), self.customer_command(code), self.link.url)
        if not renewed:
            return shown
        return dataclasses.replace(shown, renewed=True, message=(
            f"too many wrong codes were tried: the old code no longer works; "
            f"the new code is {code} (read it as: {code.spoken()})"))

    async def run(self) -> Outcome:
        """Run until the session ends; return how it ended."""
        self._link_task = asyncio.create_task(self.link.run(), name="link")
        if type(self)._handle is SessionRuntime._handle:  # (a subclass that watches every item gets them all)
            self.link.items.take = self._take_now
        tasks = [
            self._link_task,
            asyncio.create_task(self._consume(), name="consume"),
            asyncio.create_task(self._ticker(), name="ticker"),
            *[asyncio.create_task(c, name="extra") for c in self.background()],
        ]
        try:
            await self._done.wait()
        finally:
            self.link.items.take = None
            inflight = [self._inflight] if self._inflight is not None else []
            for task in {*tasks, self._link_task, *inflight}:  # the link's task is a new one after a claim again
                task.cancel()
            await asyncio.gather(*tasks, self._link_task, *inflight, return_exceptions=True)
            await self.rtc.close()
            await self.shutdown()
        assert self.outcome is not None
        return self.outcome

    # hooks for the roles

    def end_summary(self) -> dict[str, Any]:
        """Extra keys for the ``ended`` event: what this session achieved."""
        return {}

    def shows_addresses(self) -> bool:
        """Whether a direct path or a call may offer the peer this machine's addresses."""
        return True

    def background(self) -> list[Any]:
        return []

    async def shutdown(self) -> None:
        pass

    async def on_paired(self) -> None:
        pass

    def before_hello(self) -> list[m.AppMessage]:
        """Messages to send right after pairing, before ``hello`` (the agent's identity proof)."""
        return []

    async def on_hello(self, message: m.Hello) -> None:
        """The peer said who it is (after whatever it sent before its ``hello``)."""

    async def on_message(self, message: m.AppMessage) -> None:
        pass

    def message_now(self, message: m.AppMessage) -> Later | None:
        """``on_message`` from the link's read callback (``_take_now``): carry out what needs no
        await and return None, or return what is left to await (in a task, in order). A role that
        can handle none of it at once returns ``on_message``'s coroutine, not yet started."""
        return self.on_message(message)

    async def on_peer(self, present: bool) -> None:
        pass

    async def on_tick(self) -> float | None:
        """Periodic work; return when to be called next (loop time), or None."""
        return None

    def rtt_measured(self, seconds: float) -> None:
        """A sealed ping's round trip (every PING_EVERY s): the customer paces its frames by it."""

    def rtt_reset(self) -> None:
        """Frames changed path: what was derived from the old path's round trip goes."""

    def path_switched(self) -> None:
        """Frames take the other path now (relay, direct: rtc.py): the old path's round trip
        says nothing of the new one's. Pings in flight are forgotten (their pongs may come back
        either way) and one goes on the new path at once, not up to PING_EVERY s later."""
        self._pings.clear()
        self._next_ping_at = self.now
        self.rtt_reset()
        self.wake()

    # actions

    async def send(self, message: m.AppMessage) -> None:
        assert self.session is not None
        self.session.send(message, self.now)
        if not isinstance(message, _QUIET_SENDS):
            self.stir()
        await self.flush()

    async def end(self, reason: str, message: str = "") -> None:
        """End the session on purpose: tell the peer, close the relay session, stop."""
        if self.outcome is not None or self._ending:
            return
        text = message or END_MESSAGES.get(reason, reason)
        self._ending = True
        if self.paired:
            feedback = self.wants_feedback(reason)
            await self.send(m.End(reason, text, feedback=feedback))
            if feedback:
                await self.await_feedback()
            await self.settle()
        await self.link.close(reason)
        self.finish(reason, text, EXIT_OK)

    async def settle(self, timeout: float = SETTLE) -> None:
        """Before closing on purpose: wait (bounded) until the peer acknowledged everything sent,
        or its side of the session is gone. Closing the relay link at once would let the peer
        hear "gone" before the last frames (sent on the direct path) reached it."""
        session = self.session
        if session is None or not self.paired:
            return
        try:
            async with asyncio.timeout(timeout):
                while session.unacked_bytes and not self.link_gone.is_set() and session.peer_present:
                    self._received.clear()
                    self.rtc.retransmitted(session.tick(self.now))
                    await self.flush()
                    try:
                        async with asyncio.timeout(TICK):
                            await self._received.wait()
                    except TimeoutError:
                        pass
        except TimeoutError:
            pass

    def wants_feedback(self, reason: str) -> bool:
        """Whether this end asks the peer for feedback (the agent's role decides)."""
        return False

    async def await_feedback(self) -> None:
        """After an End that asked for feedback: wait (bounded) for it before closing."""

    async def on_end(self, message: m.End) -> None:
        """The peer ended the session; the customer's role may ask for feedback first."""
        await self.link.close(message.reason)
        self.finish(message.reason, message.message or END_MESSAGES.get(message.reason, message.reason), EXIT_OK)

    def finish(self, reason: str, message: str, exit_code: int) -> None:
        if self.outcome is not None:
            return
        self.outcome = Outcome(reason, message, exit_code)
        try:
            self.emit(SessionEnded(reason, message, self.end_summary() or None))
        finally:  # a front end that cannot show it (its terminal is gone) must not keep the session alive
            self._done.set()

    def direct_lost(self) -> None:
        """The direct path went while the relay does not have the peer (it restarts, or their
        link dropped): the peer is away until the relay says otherwise."""
        session = self.session
        if session is not None and not (self.relay_peer and self.link.connected.is_set()):
            session.peer_left()

    def wake(self) -> None:
        """Run the ticker's next pass at once (a wake during a pass is covered by that pass)."""
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def stir(self) -> None:
        """Something happened (a message came or went): periodic work keeps its TICK pace for
        QUIET_AFTER s, and a ticker asleep for longer passes within TICK."""
        self._busy_until = self.now + QUIET_AFTER
        self.wake_at(self.now + TICK)

    def wake_at(self, when: float) -> None:
        """Run the ticker's next pass by ``when`` (loop time): work that only becomes due
        then (the next frame the frame rate allows) costs no pass before it."""
        if when >= self._sleep_until or self._waiter is None:
            return  # it wakes by then anyway, or it is in a pass (which ends by computing its deadline)
        if when <= self.now:
            self.wake()
            return
        if self._timer is not None:
            self._timer.cancel()
        self._sleep_until = when
        self._timer = self._loop.call_at(when, self.wake)

    async def flush(self) -> None:
        if self.session is None:
            return
        for frame in self.session.data_to_send():
            if not self.rtc.route(frame):
                await self.link.send(frame)

    # internals

    async def _consume(self) -> None:
        try:
            while True:
                self._consuming = False
                item = await self.link.items.get()
                self._consuming = True
                if not isinstance(item, Frame):  # the relay's news (peer gone or back, reconnected...)
                    self.stir()
                inflight = self._inflight
                if inflight is not None:  # a frame taken at once before this one, not finished
                    await asyncio.wait([inflight])
                if self._consume_stopped or not await self._guarded(self._handle(item)):
                    return
        finally:
            self._consuming = True
            self._consume_stopped = True

    async def _guarded(self, handling: Later) -> bool:
        """Await a frame's handling; False when the session is over (nothing more is handled)."""
        try:
            await handling
        except SecurityError as exc:
            if self.session is not None and self.session.retryable:
                return await self._attempt_failed()
            self.emit(SessionError(str(exc), ErrorKind.SECURITY))
            await self.link.close("scared")
            self.finish("scared", str(exc), EXIT_SECURITY)
            return False
        return True

    def _take_now(self, item: Frame) -> bool:
        """A frame from the link's read callback, handled there when nothing is before it: the
        consume task's wake (~20-25 µs a frame, a key's path crosses it on both sides) goes. Only
        while paired and not ending; the receive, the acknowledgements and the messages a role
        handles at once (``message_now``: the agent's key on the customer's side, the customer's
        screen on the agent's) run here; from the first thing that must wait (a socket not ready,
        a message that sends, the runtime's own messages) the rest goes on in a task, and items
        that come meanwhile queue behind it. False: the link queues it as before."""
        session = self.session
        if (self._consuming or self._inflight is not None or self._consume_stopped or session is None
                or not self.paired or self._ending or self.outcome is not None):
            return False
        self._consuming = True  # nothing else is taken while this one runs
        self.frames_taken += 1
        try:
            self._received.set()
            session.receive_data(item.data, self.now)
            later = self._rest_now(session)
        except Exception as exc:  # as the consume task would have met it (SecurityError, or a bug)
            later = _raise(exc)
        finally:
            self._consuming = False
        if later is not None:
            self._inflight = task = self._loop.create_task(self._guarded(later), name="consume-rest")
            task.add_done_callback(self._inflight_done)
        return True

    def _inflight_done(self, task: asyncio.Task[bool]) -> None:
        if self._inflight is task:
            self._inflight = None
        if task.cancelled() or task.exception() is not None or not task.result():
            self._consume_stopped = True  # as when the consume task's own handling ends it

    def _rest_now(self, session: Session) -> Later | None:
        """``flush`` and ``_process_events`` without awaiting, up to the first thing that must wait."""
        if not self.send_ready(session):
            return self._flush_then()
        events = session.events_received()
        for i, event in enumerate(events):
            if not isinstance(event, Received) or isinstance(event.message, _RUNTIME_MESSAGES):
                return self._process_events(events[i:])
            self.stir()
            later = self.message_now(event.message)
            if later is not None:
                return self._then(later, events[i + 1:])
        return None

    async def _flush_then(self) -> None:
        await self.flush()
        await self._process_events()

    def send_ready(self, session: Session) -> bool:
        """``flush`` from a callback, without awaiting: the session's frames written while the
        socket takes them at once; from the first it would not (busy, or filled by those
        before), they go back to the session, first, for the next ``flush``. Whether all went."""
        frames = session.data_to_send()
        for i, frame in enumerate(frames):
            if self.rtc.route(frame):
                continue
            if not self.link.ready_now():
                session.not_sent(frames[i:])
                self.wake()
                return False
            self.link.send_now(frame)
        return True

    async def _then(self, later: Later, events: list[SessionEvent]) -> None:
        await later
        if events:
            await self._process_events(events)

    async def _handle(self, item: object) -> None:
        session = self.session
        assert session is not None
        if isinstance(item, ClaimReleased):
            await self._released(item)
            return
        if isinstance(item, Frame):
            self._received.set()
            session.receive_data(item.data, self.now)
            await self.flush()
            await self._process_events()
        elif isinstance(item, PeerChanged):
            if item.state == "left":
                self.relay_peer = False
                direct = self.rtc.path == "direct"
                message = peer_left_message(self.role, item.grace) + (DIRECT_GOES_ON if direct else "")
                self.emit(PeerLeft(PeerState.LEFT, message, direct, item.grace))
                if not direct:  # on the direct path the peer is still here: the session goes on
                    session.peer_left()
                    await self.on_peer(False)
            else:
                self.relay_peer = True
                if item.state == "back":
                    self._resent_until = self.now + RESENT_QUIET
                    self.emit(PeerBack())
                    if not self.created and session.state == "handshaking":
                        session.reset()  # the creator resumed mid-handshake: it starts afresh, so do we
                session.peer_joined(self.now)
                await self.flush()
                await self.on_peer(True)
        elif isinstance(item, Resumed):
            self._resent_until = self.now + RESENT_QUIET
            self.relay_peer = item.peer
            self.emit(ResumedEvent(peer=item.peer, message=resumed_message(self.role, item.peer)))
            if self.created and not self.paired and session.state != "know_code":
                # An unconfirmed claimant is let go as soon as it drops, never held in grace: it
                # left while we were away (we missed the relay's "released"). Start afresh; one
                # here now (it claimed again after a relay restart, or stayed) starts afresh too.
                if item.peer:
                    session.reset()
                else:
                    await self._released(ClaimReleased("left", 0))
            if item.peer:
                session.peer_joined(self.now)
                await self.flush()
                await self.on_peer(True)
        elif isinstance(item, Reconnecting):
            self.relay_peer = False
            direct = self.rtc.path == "direct"
            if not direct:  # the direct path holds the session while the relay is away
                session.peer_left()
            self.emit(ReconnectingEvent(
                attempt=item.attempt, retry_in_s=item.delay, cause=item.cause.value, give_up_in_s=round(item.give_up_in),
                direct=direct, message=reconnecting_message(item.cause, item.give_up_in) + (DIRECT_GOES_ON if direct else "")))
        elif isinstance(item, LinkEnded):
            if self._ending:
                self.link_gone.set()
                self._received.set()
                return
            if item.reason == RELAY_MISBEHAVED and item.error is not None:
                # Ours saw it: the other side is told why (if the relay still forwards a close),
                # instead of waiting out the grace period for a side that seems to have dropped.
                await self.link.close(RELAY_MISBEHAVED)
            code = EXIT_OK if item.error is None else exit_code_for(item.error)
            if item.reason == RELAY_MISBEHAVED:
                code = EXIT_REJECTED  # the relay did it, whichever side saw it (docs: exit 4)
            if item.reason == "scared":
                code = EXIT_SECURITY
            if item.reason in FAILED_ENDS:
                code = EXIT_FAILED
            message = item.message or END_MESSAGES.get(item.reason, item.reason)
            if item.reason == "peer_timeout":
                message = peer_timeout_message(self.role)
            if item.reason == "killed":
                message = killed_message(self.role)
            if item.reason == "scared" and not self.paired:
                # The peer's key confirmation failed before ours could (a man in the middle
                # answers each side at once): the same verdict, told the same way.
                message = WRONG_CODE_MESSAGE
                self.emit(SessionError(message, ErrorKind.SECURITY))
            if item.reason == "wrong_code" and not self.paired:
                code, message = EXIT_SECURITY, wrong_code_message(self.role)
                self.emit(SessionError(message, ErrorKind.WRONG_CODE))
            if item.reason in ("claim_timeout", "renewed"):
                code = EXIT_FAILED
            if item.reason == "bad_resume" and not self.created and self.peer is None and self._reclaims < RECLAIMS:
                # No hello from the creator yet, so maybe no confirmation either: the relay keeps
                # only confirmed claims across a restart. Claim the same code again.
                refused = await self._claim_again()
                if refused is None:
                    return
                message, code = f"{CLAIM_LOST}; {refused}", exit_code_for(refused)
            self.finish(item.reason, message, code)

    async def _process_events(self, events: list[SessionEvent] | None = None) -> None:
        assert self.session is not None
        for event in self.session.events_received() if events is None else events:
            if isinstance(event, Paired):
                if self.created:
                    await self.link.confirm()  # the claim stands: the relay stops its probation
                self.emit(SessionPaired(event.sas))
                self._hello_taken = False
                for message in self.before_hello():
                    await self.send(message)
                await self.send(m.Hello(self.role, f"cobrowse {__version__}", self.name, screen=FRAME_FORMAT,
                                        lang=self.lang))
                await self.on_paired()
                await self.rtc.on_paired()
            elif isinstance(event, Received):
                message = event.message
                if not isinstance(message, (m.Ping, m.Pong)):
                    self.stir()
                if isinstance(message, m.Hello):
                    if self._hello_taken:  # who the peer is was said once for this pairing
                        self._integrity_warning(Integrity("hello", "the other side said who it is again (a second "
                                                          "hello in one pairing); ignored"))
                        continue
                    self._hello_taken = True
                    self.peer = message
                    said = peer_sas(message.lang, self.session.sas)
                    self.emit(PeerHello(message.role, message.name, message.client, said.get("lang"), said.get("sas_words")))
                    await self.on_hello(message)
                elif isinstance(message, m.Ping):
                    await self.send(m.Pong(message.id))
                elif isinstance(message, m.Pong):
                    sent_at = self._pings.pop(message.id, None)
                    if sent_at is not None:
                        self.rtt_ms = (self.now - sent_at) * 1000
                        self.rtt_measured(self.now - sent_at)
                elif isinstance(message, (m.Rtc, m.Call)):
                    await self.rtc.on_message(message)
                elif isinstance(message, m.End):
                    await self.on_end(message)
                    return
                else:
                    await self.on_message(message)
            elif isinstance(event, Integrity):
                self._integrity_warning(event)

    def _integrity_warning(self, event: Integrity) -> None:
        """Tell the user about a frame that was not applied; repeats of one kind are counted,
        not each shown: a hostile peer sending thousands of malformed frames must not be
        able to fill the other side's terminal (WARNINGS_PER_WINDOW per WARNING_WINDOW s)."""
        started, count, quiet = self._warnings.get(event.kind, (self.now, 0, 0))
        if self.now - started >= WARNING_WINDOW:
            started, count, quiet = self.now, 0, 0
        resent = event.expected or (event.kind == "duplicate" and self.now < self._resent_until)
        self._warnings[event.kind] = (started, count + 1, quiet + resent)
        if count >= HOSTILE_INTEGRITY and event.kind in RELAY_INTEGRITY_KINDS:
            raise SecurityError(relay_english(RELAY_REPLAYED, count=HOSTILE_INTEGRITY, seconds=WARNING_WINDOW,
                                              kind=event.kind))
        if resent:
            return
        shown = count - quiet
        if shown < WARNINGS_PER_WINDOW:
            self.emit(SessionWarning(event.kind, message=event.detail))
        elif shown == WARNINGS_PER_WINDOW:
            self.emit(SessionWarning(event.kind, coalesced=True,
                                     message=f"more frames like that ({event.kind}) keep arriving: ignored, and not each "
                                  f"shown for the next {WARNING_WINDOW:.0f} s"))

    async def _maybe_ping(self) -> None:
        """Every PING_EVERY s, a sealed ping: the round trip the people actually get."""
        session = self.session
        if not self.paired or session is None or not session.peer_present or self.now < self._next_ping_at:
            return
        self._next_ping_at = self.now + self.ping_every
        # Never the id of the ping before (a path switch pings again at once): its pong would count for this one.
        self._ping_id = max(int(self.now * 1000), self._ping_id + 1)
        ping_id = self._ping_id & 0x7FFFFFFF
        self._pings = {k: v for k, v in self._pings.items() if self.now - v < 30}
        self._pings[ping_id] = self.now
        await self.send(m.Ping(ping_id))

    async def _ticker(self) -> None:
        while True:
            session = self.session
            assert session is not None
            self.passes += 1
            self.rtc.retransmitted(session.tick(self.now))
            await self.flush()
            if session.stalled is not None:  # the channel's bound (docs/protocol.md): end, say why
                await self.link.close("peer_unresponsive")
                self.finish("peer_unresponsive", f"{END_MESSAGES['peer_unresponsive']} ({session.stalled})", EXIT_FAILED)
                return
            await self._maybe_ping()
            await self.rtc.tick()
            wanted = await self.on_tick()
            floor = self.now + (TICK if self.now < self._busy_until or not self.paired else IDLE_TICK)
            if wanted is not None and wanted <= self.now + 2 * TICK:
                floor = wanted  # a pass comes by then anyway: none in between for the periodic work
            ping = self._next_ping_at if self.paired and session.peer_present else None
            deadlines = [d for d in (wanted, session.next_deadline(), session.retransmit_at(), floor, ping, self.rtc.next_deadline())
                         if d is not None]
            await self._sleep(min(deadlines))

    async def _sleep(self, until: float) -> None:
        """Until ``until`` (loop time) or a ``wake``: one future and one timer, not
        ``asyncio.timeout`` around an Event (its set-up cost more than the rest of an idle pass)."""
        if until <= self.now:
            await asyncio.sleep(0)  # let others run between passes due at once
            return
        waiter = self._waiter = self._loop.create_future()
        self._sleep_until = until
        self._timer = self._loop.call_at(until, self.wake)
        try:
            await waiter
        finally:
            self._waiter = None
            self._sleep_until = -math.inf
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None


async def _raise(exc: Exception) -> None:
    raise exc

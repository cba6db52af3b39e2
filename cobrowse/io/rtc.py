"""Voice calls and the direct path for one session: the WebRTC side of a SessionRuntime.

Two peer connections, each negotiated by one sealed offer and answer (``Rtc`` messages):

- ``data``: opened by the agent right after pairing; its data channel carries the same sealed
  frames the relay would (``PathPolicy`` decides which path; sequence numbers make a switch
  lossless). It is only ever a second road for ciphertext, so a relay that swapped it would
  gain nothing: the SDP travels sealed anyway, and the DTLS fingerprints in it are authentic.
- ``call``: set up once both people said yes (``CallMachine``); the microphone is opened only
  after the local person starts or accepts a call, which is how consent is enforced on the
  customer's machine.
"""

from __future__ import annotations

import asyncio
import dataclasses
import importlib.util
from typing import TYPE_CHECKING, Any, Callable, Coroutine

from cobrowse.errors import AudioUnavailable
from cobrowse.io.link import Frame
from cobrowse.protocol.inbound import Budget, RateLimits
from cobrowse.protocol.untrusted import visible
from cobrowse.policy.session_events import DataPath, PathChanged, SessionError, SessionWarning, VoiceChanged, WarningKind
from cobrowse.protocol import messages as m
from cobrowse.voice.call import CallError, CallMachine, VoiceEvent
from cobrowse.voice.gate import EchoGate, meter
from cobrowse.voice.path import PathPolicy
from cobrowse.voice.settings import RtcSettings

if TYPE_CHECKING:
    from aiortc import RTCDataChannel, RTCPeerConnection
    from aiortc.mediastreams import MediaStreamTrack

    from cobrowse.io.audio import Microphone, Speaker
    from cobrowse.io.runtime import SessionRuntime


#: What a person is told when calls or the direct path are used without the voice extra.
VOICE_EXTRA = ("calls and the direct path need cobrowse's voice extra: pip install 'cobrowse[voice]' "
               "(pipx: pipx install --force 'cobrowse[voice]')")


#: What the other side may send of calls and signalling (``rtc`` and ``call`` reach the
#: runtime before the customer's own rate limits): a person rings a few times, then about
#: once in ten seconds; accepting and muting are a person's pace (hanging up and declining
#: only end what a ring started); a direct path is offered
#: after pairing and again after 10, 30 and 120 s. Past these, messages are dropped before any
#: work (no ring, no device check, no peer connection); a ring dropped is declined, saying why.
PEER_BUDGETS: dict[str, Budget] = {
    "call_invite": Budget(0.1, 4.0),
    "call": Budget(2.0, 20.0),
    "rtc_offer": Budget(0.1, 4.0),
    "rtc": Budget(1.0, 10.0),
    "declined": Budget(0.2, 2.0),
}
#: Why a ring over budget is declined (the ringing side's words, English as the console's).
TOO_MANY_CALLS = "too many calls in a short time: the other side was not rung; try again in a minute"
#: WebRTC's complaints (often about the peer's SDP): a few per window, each cut short.
WARNINGS_PER_WINDOW = 3
WARNING_WINDOW = 60.0
MAX_WARNING = 240


#: Seconds after pairing before the agent starts the direct path: importing aiortc (~130 ms,
#: in a thread) holds the GIL against both loops just as the first screen and hello cross.
OFFER_AFTER = 0.25


def voice_installed() -> bool:
    """Whether the voice extra (aiortc, PyAV, soundcard, numpy) is installed: the base install
    leaves it out, and everything but calls and the direct path works without it."""
    return all(importlib.util.find_spec(name) is not None for name in ("aiortc", "av", "numpy", "soundcard"))


def _webrtc() -> Any:
    """aiortc and PyAV cost a third of a second to import: every cobrowse command would pay
    it at start-up, so they load when the first peer connection needs them."""
    try:
        from cobrowse.io import webrtc
    except ImportError as exc:
        raise AudioUnavailable(f"{VOICE_EXTRA} ({exc})") from None
    return webrtc


def _audio() -> Any:
    try:
        from cobrowse.io import audio
    except ImportError as exc:
        raise AudioUnavailable(f"{VOICE_EXTRA} ({exc})") from None
    return audio


class RtcManager:
    """The direct path and calls of one runtime; the runtime calls ``route``, ``on_message``,
    ``tick`` and ``close``, people call ``start_call`` and friends through the runtimes."""

    def __init__(self, runtime: SessionRuntime, settings: RtcSettings) -> None:
        self.rt = runtime
        if settings.direct and not voice_installed():
            settings = dataclasses.replace(settings, direct=False)  # frames stay on the relay
        self.settings = settings
        self.policy = PathPolicy(settings.direct)
        self.call = CallMachine(runtime.role)
        self._data_pc: RTCPeerConnection | None = None
        self._channel: RTCDataChannel | None = None
        self._call_pc: RTCPeerConnection | None = None
        self._mic: Microphone | None = None
        self._speaker: Speaker | None = None
        self._gate = EchoGate() if settings.echo_gate else None
        self._call_deadline: float | None = None
        self._keepalive_at = 0.0
        self._tasks: set[asyncio.Task[Any]] = set()
        self.direct_frames = 0
        self.route_via = ""
        self._closing = False
        self._data_gen = 0
        self._answered = False
        self._retry_at: float | None = None
        #: A team (docs/team.md): why the customer cannot be rung now ("" when they can): one
        #: microphone, one call at a time across every agent's pairing.
        self.busy: Callable[[], str] = lambda: ""
        #: Whether the other side's signalling counts at all (a team: not once its agent left or
        #: was removed, though its link stays: nothing it sends counts, rings included).
        self.heeds: Callable[[], bool] = lambda: True
        self.limits = RateLimits(dict(PEER_BUDGETS), default=PEER_BUDGETS["rtc"])
        self._warned: list[float] = []

    # the direct path

    @property
    def path(self) -> str:
        return self.policy.path

    def route(self, frame: bytes) -> bool:
        """Send ``frame`` on the direct path if that is where frames go; False: use the relay."""
        if self.policy.route(frame) != "direct" or self._channel is None:
            return False
        try:
            self._channel.send(frame)
        except Exception as exc:  # the channel died between the event and this send
            self._lost(f"the direct path failed ({exc.__class__.__name__})")
            return False
        self.direct_frames += 1
        return True

    def retransmitted(self, count: int) -> None:
        if self.policy.retransmitted(count):
            self._fall_back(True)

    async def on_paired(self) -> None:
        if self.rt.role == "agent" and self.settings.direct:
            self._spawn(self._offer_data())

    async def _offer_data(self) -> None:
        await asyncio.sleep(OFFER_AFTER)
        await asyncio.to_thread(_webrtc)  # the import, off the loop: the first screen goes first
        pc = self._data_pc = self._new_pc()
        channel = pc.createDataChannel("cobrowse-sealed", ordered=True)
        self._wire_channel(channel)
        self._watch(pc, "data")
        sdp = await _webrtc().make_offer(pc)
        if pc is self._data_pc:
            await self.rt.send(m.Rtc("data", "offer", sdp, self._data_gen))
            self._spawn(self._direct_deadline(pc))

    async def _direct_deadline(self, pc: RTCPeerConnection) -> None:
        await asyncio.sleep(self.settings.connect_timeout)
        if pc is self._data_pc and self.policy.path != "direct" and not self.policy.fell_back:
            self._lost(f"no direct path found within {self.settings.connect_timeout:g} s; using the relay")

    async def _answer_data(self, offer: str, gen: int) -> None:
        if not self.settings.direct or gen < self._data_gen or (gen == self._data_gen and self._answered):
            return
        if self._data_pc is not None or self.policy.fell_back:
            # The agent tries again: whatever we still hold of the old path goes.
            if self.policy.path == "direct":
                self._lost("the agent is setting up a new direct path")
            self._close_data()
            self.policy.retry()
        self._data_gen, self._answered = gen, True
        await asyncio.to_thread(_webrtc)
        if self._data_pc is not None or gen != self._data_gen:
            return
        pc = self._data_pc = self._new_pc()
        self._watch(pc, "data")
        pc.on("datachannel", self._wire_channel)
        await self.rt.send(m.Rtc("data", "answer", await _webrtc().make_answer(pc, offer), gen))

    def _wire_channel(self, channel: RTCDataChannel) -> None:
        self._channel = channel

        def on_message(data: bytes | str) -> None:
            if isinstance(data, bytes):
                self.rt.link.items.put_nowait(Frame(data))

        channel.on("message", on_message)
        channel.on("open", self._direct_open)
        channel.on("close", lambda: self._channel_closed(channel))
        if channel.readyState == "open":
            self._direct_open()

    def _channel_closed(self, channel: RTCDataChannel) -> None:
        if channel is self._channel:  # not an old attempt's channel closing late
            self._lost("the direct path closed; using the relay")

    def _direct_open(self) -> None:
        self.policy.direct_open()
        self._report(_webrtc().selected_route(self._data_pc) if self._data_pc is not None else "unknown")

    def _lost(self, reason: str) -> None:
        if not self._closing:
            self._fall_back(self.policy.direct_lost(reason))

    def _fall_back(self, was_direct: bool) -> None:
        """Frames are back on the relay: recover what was in flight on the direct path, say
        so, let the connection go, and (the agent) plan a later attempt."""
        session = self.rt.session
        if was_direct and session is not None:
            session.path_changed()
            self.rt.direct_lost()
            self._spawn(self.rt.flush())
        self._report()
        self._close_data()
        backoff = self.settings.retry_backoff
        if (self.rt.role == "agent" and self.settings.direct and self._retry_at is None
                and self.policy.attempts <= len(backoff)):
            self._retry_at = self.rt.now + backoff[self.policy.attempts - 1]

    def _close_data(self) -> None:
        pc, self._data_pc, self._channel = self._data_pc, None, None
        if pc is not None:
            self._spawn(pc.close())

    def _report(self, via: str = "") -> None:
        moved = False
        for change in self.policy.changes():
            moved = moved or change.moved
            event = PathChanged(DataPath(change.path), change.reason)
            if event.path is DataPath.DIRECT:
                self.route_via = via or "unknown"
                event = dataclasses.replace(event, via=self.route_via)
            self.rt.emit(event)
        if moved:
            self.rt.path_switched()

    # calls

    async def start_call(self) -> None:
        """The local person asks for a call (or answers a ringing one)."""
        await asyncio.to_thread(_audio)
        if self.call.state == "ringing":
            await self.accept_call()
            return
        self._open_audio()
        try:
            self.call.invite(self.rt.now)
        except CallError:
            self._close_audio()
            raise
        await self._pump()

    async def accept_call(self) -> None:
        if self.call.state != "ringing":
            raise CallError("no call is ringing")
        try:
            await asyncio.to_thread(_audio)
            self._open_audio()
        except AudioUnavailable as exc:
            self.call.decline()
            await self._pump(reason=str(exc))
            raise
        self.call.accept()
        await self._pump()

    async def decline_call(self) -> None:
        self.call.decline()
        await self._pump()

    async def hangup(self, reason: str = "hung up") -> None:
        self.call.hangup(reason)
        await self._pump()

    async def set_muted(self, muted: bool) -> None:
        self.call.set_muted(muted)
        if self._mic is not None:
            self._mic.muted = muted
        await self._pump()

    def levels(self) -> tuple[float, float]:
        """(our microphone, what we hear), 0..1 for the meters; zero when not in a call."""
        if not self.call.in_call:
            return 0.0, 0.0
        mine = meter(self._mic.level_db) if self._mic is not None and not self._mic.muted else 0.0
        theirs = meter(self._speaker.level_db) if self._speaker is not None else 0.0
        return mine, theirs

    def _open_audio(self) -> None:
        if self._mic is not None:
            return
        source = _audio().open_source(self.settings.mic)
        try:
            sink = _audio().open_sink(self.settings.speaker)
        except AudioUnavailable:
            source.close()
            raise
        self._mic = _audio().Microphone(source, self._gate)
        self._speaker = _audio().Speaker(sink, self._gate)

    def _close_audio(self) -> None:
        mic, speaker, self._mic, self._speaker = self._mic, self._speaker, None, None
        if mic is not None:
            mic.stop()
        if speaker is not None:
            speaker.close()

    async def _offer_call(self) -> None:
        pc = self._call_pc = self._new_pc()
        self._watch(pc, "call")
        assert self._mic is not None
        _webrtc().add_voice(pc, self._mic)
        pc.on("track", self._on_track)
        sdp = await _webrtc().make_offer(pc)
        if pc is self._call_pc:
            await self.rt.send(m.Rtc("call", "offer", sdp))

    async def _answer_call(self, offer: str) -> None:
        if self.call.state != "connecting" or self._call_pc is not None or self._mic is None:
            return  # no consent (yet): no media, whatever the peer sends
        pc = self._call_pc = self._new_pc()
        self._watch(pc, "call")
        pc.on("track", self._on_track)
        _webrtc().add_voice(pc, self._mic)
        await self.rt.send(m.Rtc("call", "answer", await _webrtc().make_answer(pc, offer)))

    def _on_track(self, track: MediaStreamTrack) -> None:
        if track.kind == "audio" and self._speaker is not None:
            if self._call_pc is not None and not _webrtc().set_audio_buffer(self._call_pc, self.settings.audio_buffer):
                self.rt.emit(SessionWarning(WarningKind.RTC, message="this aiortc does not let cobrowse shorten its "
                                                                     "audio buffer: calls have ~60 ms more delay"))
            self._speaker.play(track)

    async def _pump(self, reason: str = "") -> None:
        """Send the call machine's messages, report its changes, and set up or tear down media."""
        for message in self.call.messages_to_send():
            if reason and message.action == "decline":
                message = m.Call("decline", reason[:200])
            await self.rt.send(message)
        for event in self.call.events_received():
            self.rt.emit(voice_changed(event))
        if self.call.state == "connecting" and self._call_deadline is None:
            self._call_deadline = self.rt.now + self.settings.connect_timeout
            if self.call.offerer and self._call_pc is None:
                self._spawn(self._offer_call())
        if not self.call.in_call:
            self._call_deadline = None
        if self.call.state == "idle":
            self._end_media()

    def _end_media(self) -> None:
        pc, self._call_pc = self._call_pc, None
        if pc is not None:
            self._spawn(pc.close())
        self._close_audio()

    # from the runtime

    def admit(self, message: m.Rtc | m.Call) -> bool:
        """Whether the peer's message is within its budget (``PEER_BUDGETS``)."""
        if isinstance(message, m.Call):
            if message.action in ("hangup", "decline"):
                return True  # they only end a ring or a call, which took an invite
            kind = "call_invite" if message.action == "invite" else "call"
        else:
            kind = "rtc_offer" if message.kind == "offer" else "rtc"
        return self.limits.admit(kind, self.rt.now)

    async def on_message(self, message: m.Rtc | m.Call) -> None:
        if not self.heeds():
            return
        if not self.admit(message):
            if (isinstance(message, m.Call) and message.action == "invite" and self.call.state == "idle"
                    and self.limits.admit("declined", self.rt.now)):
                await self.rt.send(m.Call("decline", TOO_MANY_CALLS))
            return
        if isinstance(message, m.Call):
            if message.action == "invite" and self.call.state == "idle" and (busy := self.busy()):
                await self.rt.send(m.Call("decline", busy[:200]))  # never rung: the customer is on another call
                return
            self.call.receive(message, self.rt.now)
            if self.call.state == "ringing":
                try:
                    audio = await asyncio.to_thread(_audio)  # the import, off the loop
                    audio.check_devices(self.settings.mic, self.settings.speaker)
                except AudioUnavailable as exc:
                    self.rt.emit(SessionError(f"a call came in, but {exc}"))
                    self.call.decline()
                    await self._pump(reason="no audio device on the other side" if voice_installed()
                                     else "the other side's cobrowse has no voice extra installed")
                    return
            await self._pump()
            return
        if message.pc == "data":
            if message.kind == "offer" and self.rt.role == "customer":
                self._spawn(self._answer_data(message.sdp, message.gen))
            elif (message.kind == "answer" and self.rt.role == "agent" and self._data_pc is not None
                  and message.gen == self._data_gen):
                self._spawn(_webrtc().take_answer(self._data_pc, message.sdp))
        else:
            if message.kind == "offer" and not self.call.offerer:
                self._spawn(self._answer_call(message.sdp))
            elif message.kind == "answer" and self.call.offerer and self._call_pc is not None:
                self._spawn(_webrtc().take_answer(self._call_pc, message.sdp))

    def next_deadline(self) -> float | None:
        """When ``tick`` has work next (loop time), None for none: the runtime's ticker sleeps
        past TICK when idle, so what ``tick`` does at a time must be known here."""
        due = [d for d in (self._retry_at, self._call_deadline, self.call.next_deadline()) if d is not None]
        if self.policy.path == "direct":
            due.append(self._keepalive_at)
        if self.call.pending:
            due.append(self.rt.now)
        return min(due, default=None)

    async def tick(self) -> None:
        now = self.rt.now
        if self._retry_at is not None and now >= self._retry_at and self.rt.paired:
            session = self.rt.session
            if session is not None and session.peer_present and self.policy.retry():
                self._retry_at = None
                self._data_gen += 1
                self._spawn(self._offer_data())
        if self.policy.path == "direct" and now >= self._keepalive_at:
            self._keepalive_at = now + self.settings.keepalive
            await self.rt.link.keepalive()
        self.call.tick(now)
        if self._call_deadline is not None and now >= self._call_deadline and self.call.state == "connecting":
            self.call.failed("the audio connection could not be set up (no network path between the two sides)")
        if self.call.pending:
            await self._pump()

    async def close(self) -> None:
        self._closing = True
        self.call.peer_gone()
        for event in self.call.events_received():
            self.rt.emit(voice_changed(event))
        self._end_media()
        self._close_data()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=2)

    # internals

    def _new_pc(self) -> RTCPeerConnection:
        return _webrtc().peer_connection(self.rt.link.ice_servers, self.settings.ice_hosts,
                                         relay_only=self.keep_address_private)

    @property
    def keep_address_private(self) -> bool:
        return not self.rt.shows_addresses()

    def _watch(self, pc: RTCPeerConnection, which: str) -> None:
        def changed() -> None:
            state = pc.connectionState
            if which == "data":
                if state in ("failed", "closed") and pc is self._data_pc:
                    self._lost("the direct path failed (ICE); using the relay" if state == "failed"
                               else "the direct path closed; using the relay")
            elif pc is self._call_pc:
                if state == "connected":
                    self.call.connected()
                    self._spawn(self._pump())
                elif state == "failed":
                    self.call.failed("the audio connection failed" + (
                        " (the agent is not verified, so this side offered no network address; "
                        "a TURN server on the relay would carry the call)" if self.keep_address_private else ""))
                    self._spawn(self._pump())

        pc.on("connectionstatechange", changed)

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self._warn(f"WebRTC: {task.exception()}")

    def _warn(self, message: str) -> None:
        """A few warnings a window, each short: the text may quote the peer's SDP."""
        now = self.rt.now
        self._warned = [t for t in self._warned if now - t < WARNING_WINDOW]
        if len(self._warned) >= WARNINGS_PER_WINDOW:
            return
        self._warned.append(now)
        self.rt.emit(SessionWarning(WarningKind.RTC, message=visible(message, MAX_WARNING)))


def voice_changed(event: VoiceEvent) -> VoiceChanged:
    """The call machine's change as the runtime's typed ``voice`` event."""
    return VoiceChanged(event.state, event.muted, event.remote_muted, event.reason or None, event.detail or None)

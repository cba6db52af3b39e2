"""The Call machine: who rings whom, consent to answer, mute. Pure (sans-I/O).

A call is a conversation between two people, so it is asked for and answered like one: the
caller sends ``invite``; the other side rings until its person accepts or declines (the
customer's consent is a deliberate answer, never automatic). Either side may hang up or
(un)mute at any time. Media setup (the WebRTC offer/answer) starts once the call is accepted,
and the agent always makes the offer, so two crossing invitations cannot race.

States: ``idle`` → ``calling`` (we invited) or ``ringing`` (they invited) → ``connecting``
(accepted; media negotiating) → ``active`` (audio flows) → ``idle``.
"""

from __future__ import annotations


from cobrowse.protocol.messages import Call
from cobrowse.wire.frozen import frozen

RING_TIMEOUT = 45.0


class CallError(ValueError):
    """A call action that makes no sense now (e.g. accepting when nothing rings)."""


@frozen
class VoiceEvent:
    """A change the people should see: the headless ``voice`` event."""

    state: str
    reason: str = ""
    muted: bool = False
    remote_muted: bool = False
    #: Why the other side declined, in its words (peer text, through the one door): ``reason``
    #: stays ``declined``, as it always was; e.g. "the customer is on a call with Alice (agent 1)".
    detail: str = ""

    def to_event(self) -> dict[str, object]:
        event: dict[str, object] = {"event": "voice", "state": self.state,
                                    "muted": self.muted, "remote_muted": self.remote_muted}
        if self.reason:
            event["reason"] = self.reason
        if self.detail:
            event["detail"] = self.detail
        return event


class CallMachine:
    def __init__(self, role: str, *, ring_timeout: float = RING_TIMEOUT) -> None:
        self.role = role
        self.state = "idle"
        self.muted = False
        self.remote_muted = False
        self.ring_timeout = ring_timeout
        self._rang_at = 0.0
        self._outbox: list[Call] = []
        self._events: list[VoiceEvent] = []

    @property
    def offerer(self) -> bool:
        """Whether this side makes the WebRTC offer once the call is accepted."""
        return self.role == "agent"

    @property
    def in_call(self) -> bool:
        return self.state in ("connecting", "active")

    @property
    def pending(self) -> bool:
        """Messages or events wait to be taken."""
        return bool(self._outbox or self._events)

    # the local person

    def invite(self, now: float) -> None:
        if self.state == "ringing":
            self.accept()
            return
        if self.state != "idle":
            raise CallError(f"a call is already {self.state}: hang up first")
        self._rang_at = now
        self._send(Call("invite"))
        self._set("calling")

    def accept(self) -> None:
        if self.state != "ringing":
            raise CallError("no call is ringing")
        self._send(Call("accept"))
        self._set("connecting")

    def decline(self) -> None:
        if self.state != "ringing":
            raise CallError("no call is ringing")
        self._send(Call("decline"))
        self._set("idle", "declined")

    def hangup(self, reason: str = "hung up") -> None:
        if self.state == "idle":
            raise CallError("there is no call to hang up")
        self._send(Call("hangup", reason))
        self._set("idle", reason)

    def set_muted(self, muted: bool) -> None:
        if not self.in_call:
            raise CallError("mute works during a call")
        if muted != self.muted:
            self.muted = muted
            self._send(Call("mute" if muted else "unmute"))
            self._set(self.state)

    # the media layer

    def connected(self) -> None:
        if self.state == "connecting":
            self._set("active")

    def failed(self, reason: str) -> None:
        """Media could not be set up or broke: end the call on both sides, saying why."""
        if self.state != "idle":
            self._send(Call("hangup", reason))
            self._set("idle", reason)

    def peer_gone(self) -> None:
        """The session ended or the peer left for good: the call is over, nothing to send."""
        if self.state != "idle":
            self._set("idle", "the other side left")

    def next_deadline(self) -> float | None:
        """When ``tick`` gives up ringing (loop time), None when nothing rings."""
        return self._rang_at + self.ring_timeout if self.state in ("calling", "ringing") else None

    def tick(self, now: float) -> None:
        if self.state in ("calling", "ringing") and now - self._rang_at >= self.ring_timeout:
            if self.state == "calling":
                self._send(Call("hangup", "no answer"))
            self._set("idle", "no answer")

    # the peer

    def receive(self, message: Call, now: float) -> None:
        action = message.action
        if action == "invite":
            if self.state == "idle":
                self._rang_at = now
                self._set("ringing")
            elif self.state == "calling":
                self._set("connecting")  # both called at once: that is a yes from both
        elif action == "accept":
            if self.state == "calling":
                self._set("connecting")
        elif action in ("decline", "hangup"):
            if self.state != "idle":
                reason = "declined" if action == "decline" else (message.reason or "the other side hung up")
                self._set("idle", reason, message.reason if action == "decline" else "")
        elif action in ("mute", "unmute"):
            muted = action == "mute"
            if self.in_call and muted != self.remote_muted:
                self.remote_muted = muted
                self._set(self.state)

    # out

    def messages_to_send(self) -> list[Call]:
        out, self._outbox = self._outbox, []
        return out

    def events_received(self) -> list[VoiceEvent]:
        out, self._events = self._events, []
        return out

    def _send(self, message: Call) -> None:
        self._outbox.append(message)

    def _set(self, state: str, reason: str = "", detail: str = "") -> None:
        self.state = state
        if state == "idle":
            self.muted = self.remote_muted = False
        self._events.append(VoiceEvent("ended" if state == "idle" else state, reason, self.muted, self.remote_muted,
                                       detail))


def describe(event: dict[str, object], peer: str, role: str) -> str:
    """A ``voice`` event in words, for plain mode, the apps and logs."""
    state, reason = event.get("state"), event.get("reason")
    answer = "Ctrl-] t to answer, Ctrl-] o to decline" if role == "customer" else "call to answer, hangup to decline"
    if state == "calling":
        return f"calling {peer}…"
    if state == "ringing":
        return f"{peer} is calling you ({answer})"
    if state == "connecting":
        return "connecting the call…"
    if state == "active":
        parts = ["call connected"]
        if event.get("muted"):
            parts.append("your microphone is muted")
        if event.get("remote_muted"):
            parts.append(f"{peer} is muted")
        return "; ".join(parts)
    detail = event.get("detail")
    if reason and detail:
        return f"call ended ({reason}: {detail})"
    return f"call ended ({reason})" if reason else "call ended"

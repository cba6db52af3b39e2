"""The agent's side of a session: mirror the customer's screen, chat, ask for consent."""

from __future__ import annotations

import asyncio
import base64
import re
from pathlib import Path
from typing import Any, Callable

from cobrowse.io.recorder import Recorder
from cobrowse.errors import AudioUnavailable
from cobrowse.io.runtime import SessionRuntime
from cobrowse.playbook import PlaybookError, load_playbook, playbook_from_dict, playbook_to_dict
from cobrowse.protocol import messages as m
from cobrowse.protocol.messages import CONSENT_LEVELS
from cobrowse.protocol.suggestion import check_suggestion
from cobrowse.screen.redact import RedactPatternError, compile_patterns, redacted_spans
from cobrowse.screen.state import ScreenState
from cobrowse.screen.sync import ScreenMirror
from cobrowse.io.local_echo import LocalEcho
from cobrowse.voice.call import CallError
from cobrowse.trust import AgentIdentity
from cobrowse.trust.display import agent_identity_event


STEP_STATUSES = ("pending", "active", "done", "skipped", "failed")


class CommandError(ValueError):
    """A headless command that is invalid or not allowed now; nothing was changed."""


#: How long the agent waits, after ending, for the customer's answer to "was it solved?".
FEEDBACK_WAIT = 60.0


class AgentRuntime(SessionRuntime):
    role = "agent"

    def __init__(self, *args: Any, identity: AgentIdentity | None = None, redact_patterns: tuple[str, ...] = (),
                 recordings: Path | None = None,
                 ask_feedback: bool = False, feedback_timeout: float = FEEDBACK_WAIT, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: The organisation's redaction patterns, pushed to the customer after pairing.
        self.redact_patterns = tuple(redact_patterns)
        #: Where recordings go (None: recording is not available in this client).
        self.recordings = recordings
        #: Whether the ``end`` command asks the customer by default (its "feedback" key overrides).
        self.ask_feedback = ask_feedback
        #: ``--styles``: `screen` events carry each row's style runs (docs/headless.md).
        self.styles = False
        self._feedback_now = False
        self.feedback_timeout = feedback_timeout
        #: The customer's answer once the session ended: ``{"status", "solved", "rating"}``.
        self.feedback: dict[str, Any] | None = None
        self._feedback_came = asyncio.Event()
        self.recorder: Recorder | None = None
        self.recording_state = "off"  # off, requested, on
        #: Called with a summary of every command that ran (the agent's audit log).
        self.on_action: Callable[[dict[str, Any]], None] = lambda action: None
        self._emit_out = self.emit
        self.emit = self._emit_noting
        #: This agent's organisation credential and key (``cobrowse org issue-agent``), if any.
        self.identity = identity
        if identity is not None and not self.name:
            self.name = identity.credential.agent  # the name the organisation vouches for
        #: How the customer's client judged this agent (the last ``identity`` event), once known.
        self.seen_as: dict[str, Any] | None = None
        self.consent = "view"
        self.sharing = True
        self.mirror = ScreenMirror()
        self.steps_state: dict[str, Any] | None = None
        self._suggestions = 0
        self._suggested: dict[int, str] = {}
        self.screen_frames = 0
        #: Predictive local echo of control-mode keys (None: off, --no-predict / predict = false).
        self.local_echo: LocalEcho | None = LocalEcho(lambda: self.now, self._emit_screen)

    def before_hello(self) -> list[m.AppMessage]:
        """Prove the credential for this session: sign the session's binding value."""
        session = self.session
        if self.identity is None or session is None or session.binding is None:
            return []
        proof = base64.b64encode(self.identity.prove(session.binding)).decode()
        return [m.AgentProof(self.identity.credential.to_dict(), proof)]

    async def on_message(self, message: m.AppMessage) -> None:
        if isinstance(message, m.Chat):
            self.emit({"event": "chat", "from": "customer", "text": message.text})
        elif isinstance(message, m.IdentitySeen):
            self.seen_as = agent_identity_event(message.status, message.agent, message.org, message.detail)
            self.emit(self.seen_as)
        elif isinstance(message, m.Consent):
            self.consent = message.level
            self.emit({"event": "consent", "level": message.level})
        elif isinstance(message, m.Sharing):
            self.sharing = message.active
            self.emit({"event": "sharing", "active": message.active})
        elif isinstance(message, m.Steps):
            state = message.state
            if "error" in state:
                self.emit({"event": "error", "message": str(state["error"])[:500]})
            else:
                self.steps_state = state
                self.emit({"event": "steps", **state})
        elif isinstance(message, m.SuggestAnswer):
            command = self._suggested.pop(message.id, None)
            if command is not None:
                event = {"event": "suggestion", "id": message.id, "command": command, "answer": message.answer}
                if message.answer == "refused":
                    event["reason"] = message.reason
                    event["message"] = f"the customer's cobrowse refused suggestion {message.id}: {message.reason}"
                self.emit(event)
        elif isinstance(message, m.Screen):
            await self.on_screen(message.frame)
        elif isinstance(message, m.Feedback):
            if self._ending and self.feedback is None:
                answered = bool(message.solved or message.rating)
                self.feedback = {"status": "answered" if answered else "skipped",
                                 "solved": {"yes": True, "no": False}.get(message.solved),
                                 "rating": message.rating or None}
                self._feedback_came.set()
        elif isinstance(message, m.Recording):
            await self.on_recording(message.state)
        elif isinstance(message, m.Unknown):
            self.emit({"event": "warning", "kind": "unknown", "message": f"ignored a {message.type!r} message from a newer client"})

    def end_summary(self) -> dict[str, Any]:
        extra: dict[str, Any] = {}
        if self.feedback is not None:
            extra["feedback"] = self.feedback
        if self.recorder is not None:
            extra["recording"] = self.recorder.id
            self._stop_recorder("ended")
        state = self.steps_state
        if not state:
            return extra
        steps = state.get("steps", [])
        counts = {status: sum(1 for s in steps if s.get("status") == status) for status in STEP_STATUSES}
        return {**extra, "summary": {"playbook": state.get("title"), "steps": counts,
                                     "failed": [s.get("title") for s in steps if s.get("status") == "failed"]}}

    # the end of a session: ask the customer whether it was solved, wait a bounded time

    async def end(self, reason: str, message: str = "", *, feedback: bool = False) -> None:
        """End the session; with ``feedback`` (and a customer present) ask them first whether
        it was solved, waiting at most ``feedback_timeout`` s. Signals and quitting end at once."""
        self._feedback_now = feedback
        await super().end(reason, message)

    def wants_feedback(self, reason: str) -> bool:
        session = self.session
        return (reason == "agent_ended" and self._feedback_now and self.peer is not None
                and session is not None and session.peer_present)

    async def await_feedback(self) -> None:
        self.emit({"event": "feedback_wait", "timeout_s": self.feedback_timeout,
                   "message": f"asked the customer whether the problem was solved (waiting up to {self.feedback_timeout:.0f} s)"})
        waits = [asyncio.ensure_future(self._feedback_came.wait()), asyncio.ensure_future(self.link_gone.wait())]
        try:
            await asyncio.wait(waits, timeout=self.feedback_timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for wait in waits:
                wait.cancel()
        if self.feedback is None:
            self.feedback = {"status": "gone" if self.link_gone.is_set() else "timeout", "solved": None, "rating": None}

    def skip_feedback_wait(self) -> None:
        """Stop waiting for the customer's answer (the agent pressed end again)."""
        if self.feedback is None:
            self.feedback = {"status": "not_waited", "solved": None, "rating": None}
        self._feedback_came.set()

    # recording: only after the customer's "granted", stopped by either side

    async def on_recording(self, state: str) -> None:
        if state == "granted" and self.recording_state == "requested" and self.recordings is not None:
            self.recorder = Recorder(self.recordings, self.now, {
                "customer": self.peer.name if self.peer else "", "agent": self.name,
                "title": f"cobrowse session with {self.peer.name if self.peer and self.peer.name else 'a customer'}"})
            self.recording_state = "on"
            if self.mirror.state is not None:
                self.recorder.frame(self.mirror.state, self.now)
            self.emit({"event": "recording", "state": "on", "id": self.recorder.id,
                       "path": str(self.recorder.cast_path), "message": "recording: the customer agreed"})
        elif state in ("denied", "stopped"):
            was = self.recording_state
            self.recording_state = "off"
            self._stop_recorder(f"{state} by the customer")
            if was != "off" or state == "stopped":
                self.emit({"event": "recording", "state": state, "by": "customer",
                           "message": "the customer declined to be recorded" if state == "denied"
                           else "the customer stopped the recording"})

    async def shutdown(self) -> None:
        self._stop_recorder("ended")  # however the session stopped, the files are finished

    def _stop_recorder(self, reason: str) -> None:
        if self.recorder is not None and not self.recorder.closed:
            self.recorder.close(self.now, reason)

    def _emit_noting(self, event: dict[str, Any]) -> None:
        """Every event goes out; a recording also notes steps, chat and consent changes."""
        recorder = self.recorder
        if recorder is not None and not recorder.closed:
            kind = event.get("event")
            if kind in ("chat", "consent", "steps", "suggestion", "sharing", "recording", "feedback_wait"):
                recorder.note(str(kind), self.now, **{k: v for k, v in event.items() if k != "event"})
        self._emit_out(event)

    async def on_screen(self, frame: dict) -> None:
        try:
            state = self.mirror.apply_dict(frame)
        except ValueError as exc:
            self.emit({"event": "warning", "kind": "screen", "message": f"bad screen frame ({exc}); asked for a fresh one"})
            await self.send(m.Resync())
            return
        self.screen_frames += 1
        if self.recorder is not None and not self.recorder.closed:
            self.recorder.frame(state, self.now)
        if self.local_echo is not None:
            self.local_echo.screen(state)
        self._emit_screen()

    def _emit_screen(self) -> None:
        if self.mirror.state is not None and self.outcome is None:  # a late local-echo timer: no screen after "ended"
            predicted = self.local_echo.predicted() if self.local_echo is not None else None
            self.emit(screen_event(self.mirror.state, styles=self.styles, predicted=predicted))

    async def on_peer(self, present: bool) -> None:
        if present and self.paired:
            await self.send(m.Resync())

    async def on_paired(self) -> None:
        if self.redact_patterns:
            await self.send(m.Redact(list(self.redact_patterns)))

    async def command(self, cmd: dict[str, Any]) -> None:
        """Run one headless command; raise CommandError (and change nothing) if it cannot run."""
        name = cmd.get("cmd")
        if not isinstance(name, str):
            raise CommandError('a command needs a "cmd" string, e.g. {"cmd": "chat", "text": "hi"}')
        if name == "end":
            if self._ending:
                self.skip_feedback_wait()
                return
            feedback = cmd.get("feedback", self.ask_feedback)
            if not isinstance(feedback, bool):
                raise CommandError('end "feedback" must be true (ask the customer whether it was solved) or false')
            self.on_action({"cmd": "end", "feedback": feedback})
            await self.end("agent_ended", feedback=feedback)
            return
        if name not in ("chat", "request_control", "keys", "suggest", "playbook", "steps", "step", "point",
                        "call", "hangup", "mute", "redact", "record"):
            raise CommandError(f"unknown command {name!r}")
        if not self.paired:
            raise CommandError(f"{name!r} needs a paired session: wait for the \"paired\" event")
        await self._run(name, cmd)
        self.on_action(action_summary(name, cmd))
        if name == "chat" and self.recorder is not None and not self.recorder.closed:
            self.recorder.note("chat", self.now, **{"from": "agent", "text": cmd["text"]})

    async def _run(self, name: str, cmd: dict[str, Any]) -> None:
        if name in ("call", "hangup", "mute"):
            await self.voice_command(name, cmd)
        elif name == "chat":
            text = cmd.get("text")
            if not isinstance(text, str) or not text.strip():
                raise CommandError('chat needs a non-empty "text"')
            if len(text) > m.MAX_TEXT:
                raise CommandError(f"chat text is longer than {m.MAX_TEXT} characters")
            await self.send(m.Chat(text))
        elif name == "request_control":
            level = cmd.get("level", "control")
            if level not in CONSENT_LEVELS[1:]:
                raise CommandError('request_control needs "level": "suggest" or "control"')
            await self.send(m.RequestControl(level))
        elif name in ("playbook", "steps"):
            try:
                if name == "playbook":
                    path = cmd.get("path")
                    if not isinstance(path, str) or not path:
                        raise CommandError('playbook needs a "path" to a playbook file')
                    playbook = load_playbook(path)
                else:
                    playbook = playbook_from_dict({k: v for k, v in cmd.items() if k != "cmd"}, "inline steps")
            except PlaybookError as exc:
                raise CommandError(str(exc)) from None
            await self.send(m.PushPlaybook(playbook_to_dict(playbook)))
        elif name == "step":
            action = cmd.get("action", "mark")
            index = cmd.get("index", -1)
            status = cmd.get("status", "")
            if action not in ("mark", "back", "goto") or not isinstance(index, int) or isinstance(index, bool):
                raise CommandError('step needs "index" (a number) and "status", or "action": "back"')
            if action == "mark" and status not in STEP_STATUSES:
                raise CommandError(f'step "status" must be one of {", ".join(STEP_STATUSES)}')
            if self.steps_state is None:
                raise CommandError("no playbook is running: push one with playbook or steps first")
            await self.send(m.StepRequest(action, index, status))
        elif name == "point":
            rows, pattern = cmd.get("rows"), cmd.get("pattern", "")
            if rows is not None:
                if (not isinstance(rows, list) or len(rows) not in (1, 2)
                        or not all(isinstance(r, int) and not isinstance(r, bool) and 0 <= r <= 1000 for r in rows)):
                    raise CommandError('point "rows" must be [row] or [first, last] (0-based screen rows)')
                first, last = min(rows), max(rows)
                await self.send(m.Pointer(first, last))
            elif pattern:
                if not isinstance(pattern, str) or len(pattern) > 500:
                    raise CommandError('point "pattern" must be a regex of at most 500 characters')
                try:
                    re.compile(pattern)
                except re.error as exc:
                    raise CommandError(f"point pattern is not a valid regex: {exc}") from None
                await self.send(m.Pointer(pattern=pattern))
            else:
                await self.send(m.Pointer())
        elif name == "suggest":
            command = cmd.get("command")
            if not isinstance(command, str):
                raise CommandError('suggest needs a "command" string: one printable line')
            reason = check_suggestion(command)
            if reason is not None:
                raise CommandError(f"suggest needs one printable line; not sent: {reason}")
            self._suggestions += 1
            self._suggested[self._suggestions] = command
            await self.send(m.Suggest(self._suggestions, command))
        elif name == "redact":
            patterns = cmd.get("patterns")
            if not isinstance(patterns, list) or not patterns:
                raise CommandError('redact needs "patterns": a list of regexes for the customer to mask')
            try:
                compile_patterns(patterns, "the redact command")
            except RedactPatternError as exc:
                raise CommandError(str(exc)) from None
            self.redact_patterns = tuple(dict.fromkeys(self.redact_patterns + tuple(patterns)))
            await self.send(m.Redact(list(patterns)))
        elif name == "keys":
            data = cmd.get("data")
            if not isinstance(data, str) or not data:
                raise CommandError('keys needs a non-empty "data" string')
            if self.consent != "control":
                raise CommandError("the customer has not granted control: send request_control first")
            await self.send(m.Keys(data))
            if self.local_echo is not None:
                self.local_echo.keys(data)
        elif name == "record":
            await self._record(cmd.get("on", True))

    async def _record(self, on: object) -> None:
        if not isinstance(on, bool):
            raise CommandError('record needs "on": true (ask the customer) or false (stop)')
        if on:
            if self.recordings is None:
                raise CommandError("recording is not available in this client (no data directory)")
            if self.recording_state != "off":
                raise CommandError(f"already {'recording' if self.recording_state == 'on' else 'waiting for the customer to agree'}")
            self.recording_state = "requested"
            await self.send(m.RecordRequest(True))
            self.emit({"event": "recording", "state": "requested", "message": "asked the customer for consent to record"})
        else:
            if self.recording_state == "off":
                raise CommandError("not recording")
            self.recording_state = "off"
            self._stop_recorder("stopped by the agent")
            await self.send(m.RecordRequest(False))
            self.emit({"event": "recording", "state": "stopped", "by": "agent", "message": "recording stopped"})

    async def voice_command(self, name: str, cmd: dict[str, Any]) -> None:
        try:
            if name == "call":
                await self.rtc.start_call()
            elif name == "hangup":
                if self.rtc.call.state == "ringing":
                    await self.rtc.decline_call()
                else:
                    await self.rtc.hangup()
            else:
                muted = cmd.get("muted", True)
                if not isinstance(muted, bool):
                    raise CommandError('mute needs "muted": true or false')
                await self.rtc.set_muted(muted)
        except (CallError, AudioUnavailable) as exc:
            raise CommandError(str(exc)) from None


def action_summary(name: str, cmd: dict[str, Any]) -> dict[str, Any]:
    """What the agent's audit log keeps of a command: never the keys typed, only their count."""
    if name == "keys":
        return {"cmd": "keys", "bytes": len(str(cmd.get("data", "")).encode())}
    if name == "chat":
        return {"cmd": "chat"}
    keep = {k: v for k, v in cmd.items() if k in ("cmd", "level", "command", "path", "title", "index", "status", "on", "action")}
    return keep


def screen_event(state: ScreenState, *, styles: bool = False, predicted: dict[str, object] | None = None) -> dict[str, Any]:
    """The headless ``screen`` event (HEADLESS.md), plus the modes as extra keys; with
    ``styles``, each row's non-default style runs (``Row.style_runs``, docs/headless.md);
    ``predicted``: the local echo's cells and cursor, when some are shown (docs/headless.md)."""
    cols, rows = state.size
    event = {
        "event": "screen",
        "size": [cols, rows],
        "cursor": [state.cursor.col, state.cursor.row],
        "lines": state.lines(),
        "cursor_visible": state.cursor.visible,
        "alt_screen": state.modes.alt_screen,
        "app_cursor": state.modes.app_cursor,
        "bracketed_paste": state.modes.bracketed_paste,
        # Cells the customer's cobrowse masked: [row, first_col, end_col) (docs/privacy.md).
        "redacted": [[i, a, b] for i, row in enumerate(state.rows) for a, b in redacted_spans(row)],
    }
    if styles:
        event["styles"] = [row.style_runs() for row in state.rows]
    if predicted is not None:
        event["predicted"] = predicted
    return event

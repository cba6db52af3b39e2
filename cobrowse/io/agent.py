"""The agent's side of a session: mirror the customer's screen, chat, ask for consent."""

from __future__ import annotations

import base64
import re
from typing import Any

from cobrowse.io.runtime import SessionRuntime
from cobrowse.playbook import PlaybookError, load_playbook, playbook_from_dict, playbook_to_dict
from cobrowse.protocol import messages as m
from cobrowse.protocol.messages import CONSENT_LEVELS
from cobrowse.screen.state import ScreenState
from cobrowse.screen.sync import ScreenMirror
from cobrowse.trust import AgentIdentity
from cobrowse.trust.display import agent_identity_event

NOT_YET = {
    "call": "voice calls are not available in this version yet",
    "hangup": "voice calls are not available in this version yet",
}


STEP_STATUSES = ("pending", "active", "done", "skipped", "failed")


class CommandError(ValueError):
    """A headless command that is invalid or not allowed now; nothing was changed."""


class AgentRuntime(SessionRuntime):
    role = "agent"

    def __init__(self, *args: Any, identity: AgentIdentity | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
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
                self.emit({"event": "suggestion", "id": message.id, "command": command, "answer": message.answer})
        elif isinstance(message, m.Screen):
            await self.on_screen(message.frame)
        elif isinstance(message, m.Unknown):
            self.emit({"event": "warning", "kind": "unknown", "message": f"ignored a {message.type!r} message from a newer client"})

    def end_summary(self) -> dict[str, Any]:
        state = self.steps_state
        if not state:
            return {}
        steps = state.get("steps", [])
        counts = {status: sum(1 for s in steps if s.get("status") == status) for status in STEP_STATUSES}
        return {"summary": {"playbook": state.get("title"), "steps": counts,
                            "failed": [s.get("title") for s in steps if s.get("status") == "failed"]}}

    async def on_screen(self, frame: dict) -> None:
        try:
            state = self.mirror.apply_dict(frame)
        except ValueError as exc:
            self.emit({"event": "warning", "kind": "screen", "message": f"bad screen frame ({exc}); asked for a fresh one"})
            await self.send(m.Resync())
            return
        self.screen_frames += 1
        self.emit(screen_event(state))

    async def on_peer(self, present: bool) -> None:
        if present and self.paired:
            await self.send(m.Resync())

    async def command(self, cmd: dict[str, Any]) -> None:
        """Run one headless command; raise CommandError (and change nothing) if it cannot run."""
        name = cmd.get("cmd")
        if not isinstance(name, str):
            raise CommandError('a command needs a "cmd" string, e.g. {"cmd": "chat", "text": "hi"}')
        if name == "end":
            await self.end("agent_ended")
            return
        if name in NOT_YET:
            raise CommandError(NOT_YET[name])
        if name not in ("chat", "request_control", "keys", "suggest", "playbook", "steps", "step", "point"):
            raise CommandError(f"unknown command {name!r}")
        if not self.paired:
            raise CommandError(f"{name!r} needs a paired session: wait for the \"paired\" event")
        if name == "chat":
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
            if not isinstance(command, str) or not command.strip() or len(command) > m.MAX_TEXT:
                raise CommandError('suggest needs a "command" string (1-4096 characters)')
            self._suggestions += 1
            self._suggested[self._suggestions] = command
            await self.send(m.Suggest(self._suggestions, command))
        elif name == "keys":
            data = cmd.get("data")
            if not isinstance(data, str) or not data:
                raise CommandError('keys needs a non-empty "data" string')
            if self.consent != "control":
                raise CommandError("the customer has not granted control: send request_control first")
            await self.send(m.Keys(data))


def screen_event(state: ScreenState) -> dict[str, Any]:
    """The headless ``screen`` event (HEADLESS.md), plus the modes as extra keys."""
    cols, rows = state.size
    return {
        "event": "screen",
        "size": [cols, rows],
        "cursor": [state.cursor.col, state.cursor.row],
        "lines": state.lines(),
        "cursor_visible": state.cursor.visible,
        "alt_screen": state.modes.alt_screen,
        "app_cursor": state.modes.app_cursor,
        "bracketed_paste": state.modes.bracketed_paste,
    }

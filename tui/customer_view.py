"""The customer app's view of the session: the runtime's events rendered (banner, status
line, side panel, consent bar, steps, pointer, notifications). Presentation only; the
session itself runs in :mod:`tui.customer_run`, the keys and the layout in
:mod:`tui.customer_app`."""

from __future__ import annotations

import asyncio
import logging
from enum import StrEnum
from typing import Any

from rich.cells import cell_len
from rich.text import Text
from textual.app import App
from textual.css.query import NoMatches
from textual.widgets import Button, Digits, Markdown, RichLog

from cobrowse.io.customer import END_CONFIRM, CustomerRuntime
from cobrowse.playbook import Playbook
from cobrowse.policy.customer import TEAM_PROMPTS
from cobrowse.policy.customer_events import Level
from cobrowse.policy.events import Event, LegacyEvent, as_json
from cobrowse.protocol.prompts import ASKS, GIVES, PromptKind
from cobrowse.voice.call import describe as describe_voice
from cobrowse.wire.code import Code
from cobrowse.plain.keymap import GET_HELP, Front, guide_hint, keys_for, step_hint
from cobrowse.plain.keymap import hint as keymap_hint
from cobrowse.i18n.notices import customer_line
from tui.customer_screens import review_resume
from tui.safe import PlainStatic, plain
from tui.widgets.call_bar import CallBar

from tui.widgets.shell_pane import ShellPane

logger = logging.getLogger(__name__)


PREFIX = b"\x1d"


class Phase(StrEnum):
    """Where the customer's session is (the banner and the bars follow it)."""

    CONNECTING = "connecting"
    WAITING = "waiting"
    CHECKING = "checking"
    PAIRED = "paired"
    ENDED = "ended"
    GUIDE = "guide"  # guide mode, alone: no session yet

#: Below this many columns the app keeps one status line (the banner, in short) and no more.
NARROW = 80
#: Notifications on screen at once (the oldest goes first).
MAX_TOASTS = 2
#: The prefix key that asks an agent for help in guide mode (``cobrowse guide``).
HELP_KEY = GET_HELP

STEP_MARKS = {"pending": "·", "active": "▶", "done": "✓", "skipped": "↷", "failed": "✗"}
STEP_STYLES = {"pending": "", "active": "bold reverse", "done": "green", "skipped": "dim", "failed": "bold red"}
#: At most this many steps are listed (a window around the current one).
STEPS_SHOWN = 6
STEP_HINT = step_hint(Front.APP)

LEVEL_TEXT = {
    Level.VIEW: "VIEW ONLY: the agent can see, not type",
    Level.SUGGEST: "SUGGEST: the agent may propose commands",
    Level.CONTROL: "CONTROL: the agent can type in your terminal",
}
#: The key after Ctrl-] → a runtime command; the app itself reads c, b, v, ? and ! (keymap.py).
PREFIX_KEYS = {k.key: k.command for k in keys_for(Front.APP, guide=True) if k.key not in ("c", "b", "v", "?")}
SHELL_TAG = " your terminal · Ctrl-] ? for cobrowse "
#: The Allow button names what it gives (the bar's text says it in full).
BUTTON = {PromptKind.CONTROL: "control", PromptKind.SUGGEST: "suggestions", PromptKind.RECORDING: "recording"}
STATUS_HINT = keymap_hint(Front.APP)
GUIDE_HINT = guide_hint(Front.APP)
ARMED_HINT = keymap_hint(Front.APP, lead="prefix: press a key…", every=True).replace("Ctrl-] literal Ctrl-]", "Esc cancel")


UNVERIFIED_HINT = ("⚠ UNVERIFIED AGENT: never give control or passwords · Ctrl-] f report · e end · "
                   "b details · ? help")
#: The banner below NARROW columns (the only status line then): what matters first, short
#: enough for 40 columns with the unverified warning in front.
SHORT_LEVEL = {Level.CONTROL: "they can TYPE here", Level.SUGGEST: "they may suggest", Level.VIEW: "they see this"}
SHORT_KEYS = {Level.CONTROL: " · Ctrl-] r revokes", Level.SUGGEST: " · Ctrl-] r revokes", Level.VIEW: " · Ctrl-] e ends"}


def fit_hint(hint: str, width: int) -> str:
    """``hint``'s " · " items that fit in ``width`` columns, in order: the first (what matters)
    and the help kept always, the others while there is room."""
    if cell_len(hint) <= width:
        return hint
    first, *items = hint.split(" · ")
    keep = [item for item in items if item.endswith("? help") or item == "Esc cancel"]
    text = first
    for item in items:
        if item not in keep and cell_len(" · ".join([text, item, *keep])) <= width:
            text = f"{text} · {item}"
    return " · ".join([text, *keep])


class CustomerView(App[None]):
    """Renders the customer runtime's events; the attributes are set by CustomerApp."""

    runtime: CustomerRuntime | None
    identity: dict[str, Any] | None
    guide: Playbook | None
    steps: dict[str, Any] | None
    _steps_seen: tuple[Any, ...] | None
    _pointer_at: float
    _loop: asyncio.AbstractEventLoop | None
    code: Code | None
    sas: str | None
    agent_name: str
    phase: Phase
    peer_present: bool
    reconnecting: bool
    prefix_armed: bool
    log_lines: list[str]
    _last_notice: str | None
    _prompt_timer: Any
    _prompt_id: int | None
    _call_timer: Any

    @property
    def unverified(self) -> bool:
        """The agent said who they are and it could not be verified (issue 8): the red line."""
        return self.identity is not None and not self.identity.get("verified")

    def _show_status(self, width: int | None = None) -> None:
        """The bottom status line, fitted to the window: whole items only, "? help" always."""
        text = ARMED_HINT if self.prefix_armed else self._status_hint
        self.query_one("#status", PlainStatic).update(fit_hint(text, (width or self.size.width) - 2))

    @property
    def _status_hint(self) -> str:
        if self.unverified:
            return UNVERIFIED_HINT
        return GUIDE_HINT if self.guide is not None and (self.runtime is None or self.runtime.session is None) else STATUS_HINT

    # -- runtime events ------------------------------------------------------------------

    def _emit(self, event: Event | LegacyEvent) -> None:
        if not self.is_running or self._exit:
            return  # the app is closing under the session (its last events have no screen)
        event = as_json(event)  # typed or not: the same shape from here on
        try:
            self._on_event(event)
        except NoMatches:
            pass  # the main screen is being torn down
        except Exception:  # a display problem must never break the session
            logger.exception("showing event %r failed", event.get("event"))

    def _on_event(self, event: dict[str, Any]) -> None:
        kind = event.get("event")
        if kind == "code" and event.get("renewed") and self.runtime is not None and self.runtime.code is not None:
            self.code = self.runtime.code  # too many wrong codes were tried: a fresh one (issue 11)
            self._show_code(self.code)
            self.query_one("#session-code", PlainStatic).update(f"session {self.code}")
            self._note(str(event.get("message", "")), "bold")
        elif kind == "paired":
            self.sas = str(event["sas"])
            self.phase = Phase.PAIRED
            self.peer_present = True
            self.query_one("#sas", PlainStatic).update(self.sas)
            self.query_one("#waiting").remove_class("shown")
            self._note(f"connected. Compare these words with the agent: {self.sas}", "dim")
            if self.query_one("#side").has_class("collapsed"):
                self.notify(f"Compare these words with your agent: {self.sas}", title="connected", timeout=30)
        elif kind == "hello":
            self.agent_name = str(event.get("name") or "the agent")
            self._note(f"{self.agent_name} can now see your terminal (view only until you grant more)", "dim")
        elif kind == "identity":
            self._show_identity(event)
        elif kind == "control_confirm":
            message = str(event.get("message", ""))
            self._note(message, "bold red")
            self.notify(message, title="Not verified: confirm control", severity="error", timeout=15)
        elif kind == "reported":
            message = str(event.get("message", ""))
            self._note(message, "bold")
            self.notify(message, title="Session reported", timeout=15)
        elif kind == "chat":
            self._note(f"{self.agent_name}: {event.get('text', '')}", "bold")
            if self.query_one("#side").has_class("collapsed"):
                self.notify(str(event.get("text", "")), title=f"{self.agent_name} says")
        elif kind == "consent":
            self._dismiss("Not verified: confirm control")
            self._note(f"access: {LEVEL_TEXT.get(event['level'], event['level'])}", "dim")
        elif kind in ("consent_prompt", "recording_prompt"):
            self._show_prompt(event)
        elif kind == "viewers":  # who can see the screen (docs/team.md)
            self._note(str(event.get("message", "")), "bold")
        elif kind in ("recording", "receipt", "feedback_sent"):
            self._note(str(event.get("message", "")), "bold" if event.get("state") == "granted" else "dim")
        elif kind == "feedback_prompt":
            self._ask_feedback(str(event.get("message", "")))
        elif kind == "sharing":
            self._note("sharing resumed" if event.get("active") else "sharing paused: the agent sees nothing", "dim")
        elif kind == "peer":
            self.peer_present = event.get("state") != "left"
            self._note(f"{self.agent_name} is back" if self.peer_present else str(customer_line(event) or ""), "dim")
        elif kind == "connection":
            self.reconnecting = event.get("state") == "reconnecting"
            self.peer_present = self.peer_present if self.reconnecting else bool(event.get("peer", True))
            self._note(str(customer_line(event, agent=self.agent_name) or ""), "dim")  # who dropped (docs/relay.md)
        elif kind == "resume_review":
            review_resume(self, event)
        elif kind == "notice":
            message = str(event.get("message", ""))
            if event.get("kind") == "confirm_end":
                self.notify(message, title="End the session?", severity="warning", timeout=END_CONFIRM)
            elif message.startswith("you: "):
                self._note(message, "italic")
            elif message != self._last_notice:
                self._note(message, "dim")
            self._last_notice = message
        elif kind == "suggestion":
            message = str(event.get("message", ""))
            self._note(message, "bold")
            self.notify(message, title="Suggested command", timeout=30)
        elif kind == "voice":
            self._note(describe_voice(event, self.agent_name, "customer"), "bold" if event.get("state") == "ringing" else "dim")
            self._show_call()
        elif kind == "path":
            self._note("direct connection to the agent" if event.get("path") == "direct"
                      else f"via the relay: {event.get('reason', '')}", "dim")
        elif kind == "steps":
            self._show_steps(event)
        elif kind == "pointer":
            self._show_pointer(event)
        elif kind in ("warning", "error"):
            message = str(event.get("message", ""))
            self._note(f"{kind}: {message}", "red")
            self.notify(message, severity="error" if kind == "error" else "warning")
        elif kind == "ended":
            self.phase = Phase.ENDED
            self._note(f"session ended: {event.get('message', '')}", "dim")
        self._refresh_consent()
        self._refresh_banner()
        self._refresh_side()

    def _dismiss(self, title: str) -> None:
        """A notification whose question was answered goes at once (not at its timeout)."""
        for notification in list(self._notifications):
            if notification.title == title:
                self._unnotify(notification)

    def _show_identity(self, event: dict[str, Any]) -> None:
        """The agent's identity, on a line of its own under the banner for the whole session."""
        self.identity = event
        strip = self.query_one("#identity", PlainStatic)
        self.query_one("#status", PlainStatic).set_class(not event.get("verified"), "unverified")
        self._show_status()
        if event.get("verified"):
            self.agent_name = f"{event.get('agent')} ({event.get('org')})"
            strip.update(f"✓ Verified: {event.get('agent')} from {event.get('org')}")
            strip.set_classes("verified")
            self._note(str(event.get("message", "")), "bold green")
            self.notify(str(event.get("message", "")), title="Agent identity")
        else:
            strip.update(f"⚠ UNVERIFIED AGENT: {event.get('detail', '')}. Never give control or passwords to someone "
                         "who called you out of the blue · Ctrl-] f reports this session · Ctrl-] e ends it")
            strip.set_classes("unverified")
            self._note(str(event.get("message", "")), "bold red")
            self.notify(f"{event.get('detail', '')}. See the red line at the bottom; Ctrl-] b shows the details.",
                        title="UNVERIFIED AGENT",
                        severity="error", timeout=10)

    def _note(self, line: str, style: str = "") -> None:
        self.log_lines.append(line)
        self.query_one("#chat-log", RichLog).write(plain(line, style))

    # -- guide steps and the pointer ------------------------------------------------------

    def _show_steps(self, event: dict[str, Any]) -> None:
        if "steps" not in event:
            return
        self.steps = event
        items: list[dict[str, Any]] = list(event.get("steps") or [])
        current = event.get("current")
        finished = bool(event.get("finished"))
        self.query_one("#guide").add_class("shown")
        self.query_one("#guide-title", PlainStatic).update(f"Guide: {event.get('title', '')}")
        listing = Text()
        first, last = 0, len(items)
        if len(items) > STEPS_SHOWN:  # a window around the current step
            focus = current if isinstance(current, int) else len(items) - 1
            first = max(0, min(focus - 2, len(items) - STEPS_SHOWN))
            last = first + STEPS_SHOWN
        lines: list[tuple[str, str]] = []
        if first:
            lines.append((f"  … {first} before", "dim"))
        for i in range(first, last):
            status = str(items[i].get("status", "pending"))
            lines.append((f"{STEP_MARKS.get(status, '?')} {i + 1}. {items[i].get('title', '')}", STEP_STYLES.get(status, "")))
        if last < len(items):
            lines.append((f"  … {len(items) - last} more", "dim"))
        for n, (line, style) in enumerate(lines):
            if n:
                listing.append("\n")
            listing.append(line, style)
        self.query_one("#steps-list", PlainStatic).update(listing)
        body = self.query_one("#step-body", Markdown)
        command_box = self.query_one("#step-command", PlainStatic)
        step = items[current] if isinstance(current, int) and 0 <= current < len(items) else None
        if finished or step is None or current is None:
            done = sum(1 for s in items if s.get("status") == "done")
            body.update(f"**All steps finished**: {done} of {len(items)} done.")
            command_box.update("")
        else:
            body.update(str(step.get("body", "")) or "(no explanation)")
            command = step.get("command")
            text = Text()
            text.append(f"{current + 1}. {step.get('title', '')}\n", "bold underline")
            if command:
                text.append(f"$ {command}\n", "bold")
            text.append(STEP_HINT, "dim")
            command_box.update(text)
        seen = (event.get("title"), current, finished)
        if seen != self._steps_seen:
            self._steps_seen = seen
            if finished:
                message = f"All steps finished ({sum(1 for s in items if s.get('status') == 'done')} of {len(items)} done)."
            elif step is not None and current is not None:
                message = f"Step {current + 1}/{len(items)}: {step.get('title', '')}"
                if step.get("command"):
                    message += f"\n$ {step['command']}\n(Ctrl-] a pastes it, Ctrl-] m done, Ctrl-] k skip)"
            else:
                return
            self._note(message.split("\n")[0], "bold")
            if self.query_one("#side").has_class("collapsed"):
                self.notify(message, title=f"Guide: {event.get('title', '')}", timeout=20)

    def _show_pointer(self, event: dict[str, Any]) -> None:
        shell = self.query_one("#shell", ShellPane)
        if event.get("cleared"):
            shell.set_highlight(None)
        else:
            shell.set_highlight(event.get("rows") or ())
            if self._loop is not None:
                self._pointer_at = self._loop.time()
        message = str(event.get("message", ""))
        self._note(message, "bold" if not event.get("cleared") else "dim")
        if self.query_one("#side").has_class("collapsed") and not event.get("cleared"):
            self.notify(message, title="The agent points", timeout=10)

    def _show_code(self, code: Code) -> None:
        self.query_one("#code-digits", Digits).update(str(code))
        self.query_one("#code-spoken", PlainStatic).update(f"Say it digit by digit: {code.spoken()}")
        self.query_one("#code-how", PlainStatic).update(
            f"Your agent enters it in their console (cobrowse agent --join {code}). Waiting for them to join…")
        self.query_one("#waiting").add_class("shown")

    # -- consent prompt ------------------------------------------------------------------

    def _show_call(self) -> None:
        """The call bar, refreshed 10 times a second during a call for its meters."""
        runtime = self.runtime
        call = runtime.rtc.call if runtime is not None else None
        levels = runtime.rtc.levels() if runtime is not None else (0.0, 0.0)
        self.query_one(CallBar).show(call, levels, self.agent_name)
        if call is not None and call.in_call:
            if self._call_timer is None:
                self._call_timer = self.set_interval(0.1, self._show_call)
        elif self._call_timer is not None:
            self._call_timer.stop()
            self._call_timer = None

    def _ask_feedback(self, message: str) -> None:
        """The agent ended the session: was it solved? (the runtime gives up on its own in time)."""
        from tui.feedback_dialog import FeedbackDialog

        async def answered(answer: Any) -> None:
            runtime = self.runtime
            if runtime is not None and answer is not None:
                await runtime.give_feedback(answer.solved, answer.rating)

        self.push_screen(FeedbackDialog(message, self.agent_name), answered)

    def _active_prompt(self) -> Any:
        """The one question on show (runtime.prompts): Allow/Deny answer it, by its id."""
        runtime = self.runtime
        if runtime is None:
            return None
        return runtime.prompts.shown

    def _show_prompt(self, event: dict[str, Any]) -> None:
        """One question at a time: the bar names what Allow gives, and its buttons answer
        that prompt (by id) and no other."""
        runtime = self.runtime
        prompt = runtime.prompts.shown if runtime is not None else None
        if prompt is None or prompt.id != event.get("id"):
            if int(event.get("id") or 0) >= TEAM_PROMPTS:  # another agent of the team asks (docs/team.md)
                self._note(str(event.get("message", "")), "bold")
                self.notify(str(event.get("message", "")), title="Ctrl-] y allows, Ctrl-] n refuses", timeout=30)
            return  # already answered, or another one is on show
        unverified = prompt.kind == PromptKind.CONTROL and not (self.identity is not None and self.identity.get("verified"))
        warning = " ⚠ NOT VERIFIED: you will have to confirm twice." if unverified else ""
        self._prompt_id = prompt.id
        self.query_one("#consent-text", PlainStatic).update(
            f"{self.agent_name} asks {ASKS[prompt.kind]}. Allow (Ctrl-] y) {GIVES[prompt.kind]}; "
            f"Deny (Ctrl-] n) refuses; nobody answering = denied.{warning}")
        self.query_one("#allow", Button).label = f"Allow {BUTTON[prompt.kind]} (Ctrl-] y)"
        self.query_one("#consent-bar").add_class("shown")
        self._tick_prompt()
        if self._prompt_timer is None:
            self._prompt_timer = self.set_interval(0.2, self._tick_prompt)

    def _tick_prompt(self) -> None:
        runtime = self.runtime
        prompt = self._active_prompt()
        if prompt is None or runtime is None or prompt.id != self._prompt_id:
            self._hide_prompt()
            return
        left = prompt.deadline - runtime.now
        if left <= 0:  # the runtime denies it on its next tick; never looks answerable again
            self._hide_prompt()
            return
        text = f"denied automatically in {left:3.0f} s"
        countdown = self.query_one("#consent-countdown", PlainStatic)
        if str(countdown.content) != text:
            countdown.update(text)

    def _hide_prompt(self) -> None:
        self._prompt_id = None
        self.query_one("#consent-bar").remove_class("shown")
        if self._prompt_timer is not None:
            self._prompt_timer.stop()
            self._prompt_timer = None

    @property
    def prompt_visible(self) -> bool:
        return self.query_one("#consent-bar").has_class("shown")

    def _refresh_consent(self) -> None:
        runtime = self.runtime
        level = runtime.level if runtime is not None else Level.VIEW
        label = self.query_one("#level", PlainStatic)
        label.update(LEVEL_TEXT.get(level, level))
        label.set_classes(f"{level} session-only")
        if runtime is not None and self._active_prompt() is None:
            self._hide_prompt()
        self.query_one("#pause", Button).label = "Resume  p" if runtime is not None and not runtime.sharing else "Pause  p"

    # -- banner and side panel -----------------------------------------------------------

    @property
    def banner_text(self) -> str:
        return str(self.query_one("#banner", PlainStatic).content)

    def _refresh_banner(self) -> None:
        runtime = self.runtime
        agent = self.agent_name
        level = runtime.level if runtime is not None else Level.VIEW
        sharing = runtime.sharing if runtime is not None else True
        classes = "waiting"
        if self.phase == Phase.ENDED:
            text = "Session ended: nothing is shared."
        elif self.phase == Phase.GUIDE:
            text = (f"Guide, alone: nothing is shared · Ctrl-] {HELP_KEY} gets help from an agent · Ctrl-] ? help · "
                    f"{self.guide.title if self.guide else ''}")
        elif self.phase == Phase.CONNECTING:
            text = "Connecting to the relay…"
        elif self.phase == Phase.WAITING:
            text = "Waiting for your agent to join: nothing is shared yet. Ctrl-] ? for help"
        elif self.phase == Phase.CHECKING:
            text = "Checking the code with your agent… Ctrl-] ? for help"
        elif self.reconnecting:
            text, classes = "Connection lost: reconnecting… (nothing is shared meanwhile)", "trouble"
        elif not self.peer_present:
            text, classes = f"{agent}'s connection dropped: waiting for them to come back", "trouble"
        elif not sharing:
            text, classes = f"Sharing paused: {agent} sees nothing · Ctrl-] p resumes", "paused"
        else:
            text = f"Your terminal is visible to {agent}"
            if level == Level.CONTROL:
                text += " · they can TYPE in it · Ctrl-] r revokes"
            elif level == Level.SUGGEST:
                text += " · they may suggest commands · Ctrl-] r revokes"
            else:
                text += " · view only · Ctrl-] p pauses, Ctrl-] e ends"
            classes = level
        narrow = self.has_class("narrow")
        shared = classes == level
        if narrow and shared:
            text = SHORT_LEVEL[level] + ("" if self.unverified else SHORT_KEYS[level])
        if runtime is not None and runtime.recording.recording and self.phase == Phase.PAIRED:
            text = f"● REC · {text}" if narrow else f"● RECORDING (Ctrl-] x stops) · {text}"
        if narrow and shared and self.unverified:
            text, classes = f"⚠ UNVERIFIED · {text}", "unverified"
        banner = self.query_one("#banner", PlainStatic)
        banner.update(text)
        banner.set_classes(classes)

    def _refresh_side(self) -> None:
        who = self.query_one("#who", PlainStatic)
        if self.phase == Phase.PAIRED:
            state = "connected" if self.peer_present and not self.reconnecting else "connection dropped"
            seen = self.identity
            badge = "" if seen is None else (" ✓ verified" if seen.get("verified") else " ⚠ UNVERIFIED")
            who.update(f"{self.agent_name}{badge} ({state})")
        elif self.phase == Phase.ENDED:
            who.update("nobody (session ended)")
        else:
            who.update("nobody yet")

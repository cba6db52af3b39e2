"""The customer app's view of the session: the banner, the status line, the side panel, the
consent bar, the call bar, the code box and the activity log. Presentation only; the runtime's
events are read in :mod:`tui.customer_events`, the steps in :mod:`tui.customer_steps`, the
session runs in :mod:`tui.customer_run`, the keys and the layout in :mod:`tui.customer_app`;
every sentence is the customer's language (:mod:`tui.customer_texts`)."""

from __future__ import annotations

import asyncio
import logging
import math
from enum import StrEnum
from typing import Any

from rich.cells import cell_len
from textual.notifications import Notification
from textual.app import App
from textual.widgets import Button, Digits, RichLog

from cobrowse.cli.config import colleague_command
from cobrowse.i18n.text import current
from cobrowse.io.customer import CustomerRuntime
from cobrowse.playbook import Playbook
from cobrowse.policy.customer import TEAM_PROMPTS
from cobrowse.policy.customer_team import FIRST
from cobrowse.policy.customer_events import Level
from cobrowse.protocol.prompts import ASKS, GIVES, PromptKind
from cobrowse.wire.code import Code
from cobrowse.plain.keymap import GET_HELP, Front, keys_for, prefix_byte, rewrite
from tui.customer_texts import (CONFIRM_CONTROL, CONNECTING, SHARED, SHORT_KEYS, SHORT_LEVEL, armed_hint, bare,
                                ended_status_hint, fit_hint, guide_status_hint, level_text, seeing_hint, status_hint, team_line, team_names,
                                unverified_hint, consent_labels, pause_label)
from tui.safe import PlainStatic, plain, toast_text
from tui.widgets.call_bar import CallBar

logger = logging.getLogger(__name__)


PREFIX = prefix_byte()  # Ctrl-], or the config file's


class Phase(StrEnum):
    """Where the customer's session is (the banner and the bars follow it)."""

    CONNECTING = "connecting"
    QUEUED = "queued"  # cobrowse help: in an organisation's queue, no code
    WAITING = "waiting"
    CHECKING = "checking"
    PAIRED = "paired"
    ENDED = "ended"
    GUIDE = "guide"  # guide mode, alone: no session yet

#: Below this many columns the app keeps one status line (the banner, in short) and no more.
NARROW = 80
#: Notifications on screen at once (the oldest goes first).
MAX_TOASTS = 2
#: A toast's columns beside its text (the coloured edge, padding) and rows beside it (margin,
#: padding, title): Textual's Toast, 60 columns wide, at most half its rack (all of it when
#: narrow), the rack as wide as the screen but for its scrollbar's columns (measured, Textual 8).
TOAST_WIDTH, TOAST_FRAME, TOAST_RACK_BAR = 60, (3, 4), 2
#: The rows toasts may not take: the banner, the status line, the rack's margin.
TOAST_ROOM = 3
#: The prefix key that asks an agent for help in guide mode (``cobrowse guide``).
HELP_KEY = GET_HELP
#: The key after Ctrl-] → a runtime command; the app itself reads c, b, v, ? and ! (keymap.py).
PREFIX_KEYS = {k.key: k.command for k in keys_for(Front.APP, guide=True)
               if k.command not in ("chat", "toggle_panel", "preview", "help")}


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
    call_agent: str  # a team: the agent the call is with ("": the first agent)
    phase: Phase
    peer_present: bool
    reconnecting: bool
    reconnecting_direct: bool  # while reconnecting, the session goes on over the direct path
    relay_url: str
    held_toasts: list[Notification]  # toasts that wait while a consent question is on show
    after_sas: list[Notification]  # below 80 columns: toasts that wait for the SAS words' toast
    superseding: set[str]  # toast titles whose newest toast replaces the one before
    toasts_shown_as: dict[str, str]  # a toast's whole text -> what it shows (cut to the screen)
    prefix_armed: bool
    viewers: list[dict[str, Any]]  # the team's roster, as the last ``viewers`` event gave it
    team_toasts: list[str]  # the questions about a colleague on show, as toasts show them (they go once answered)
    log_lines: list[str]
    _last_notice: str | None
    _prompt_timer: Any
    _prompt_id: int | None
    _not_yet_until: float | None
    _call_timer: Any

    @property
    def queue_banner(self) -> str:
        return ""

    @property
    def queue_hint(self) -> str:
        return ""

    @property
    def unverified(self) -> bool:
        """The agent said who they are and it could not be verified (issue 8): the red line."""
        return self.identity is not None and not self.identity.get("verified")

    def _show_status(self, width: int | None = None) -> None:
        """The bottom status line, fitted to the window: whole items only, "? help" always."""
        text = armed_hint() if self.prefix_armed else self._status_hint
        status = self.query_one("#status", PlainStatic)
        status.update(fit_hint(text, (width or self.size.width) - 2))
        if self.phase == Phase.ENDED:
            status.set_class(False, "unverified")  # the warning's red went with the session

    @property
    def in_team(self) -> bool:
        """Whether the roster, not the first pairing, says who sees the screen: several agents,
        or the first one left and a colleague goes on."""
        team = self.team
        return len(team) > 1 or (len(team) == 1 and team[0].get("id") != FIRST)

    @property
    def team(self) -> list[dict[str, Any]]:
        """The agents on the roster (admitted or waiting for an answer) while paired."""
        if self.phase != Phase.PAIRED:
            return []
        return [row for row in self.viewers if row.get("state") in ("admitted", "asking")]

    @property
    def _status_hint(self) -> str:
        seeing = sum(1 for row in self.team if row.get("state") == "admitted")
        hint = self._own_status_hint
        # the unverified warning stays first (fit_hint keeps the first item); the banner names everyone
        return seeing_hint(seeing, hint) if seeing > 1 and not self.prefix_armed and not self.unverified else hint

    @property
    def _own_status_hint(self) -> str:
        if self.phase == Phase.ENDED:
            return ended_status_hint()
        if self.unverified:
            return unverified_hint()
        if self.phase == Phase.QUEUED:
            return self.queue_hint
        alone = self.guide is not None and (self.runtime is None or self.runtime.session is None)
        return guide_status_hint() if alone else status_hint()

    def dismiss_team_questions(self) -> None:
        """Answered (the roster changed): the toasts asking about a colleague go at once."""
        shown = {self.toasts_shown_as.get(text, text) for text in self.team_toasts}
        for notification in list(self._notifications):
            if notification.message in shown:
                self._unnotify(notification)
        self.team_toasts = []

    def _dismiss(self, title: str) -> None:
        """A notification whose question was answered goes at once (not at its timeout)."""
        for notification in list(self._notifications):
            if notification.title == title:
                self._unnotify(notification)

    def _note(self, line: str, style: str = "") -> None:
        self.log_lines.append(line)
        self.query_one("#chat-log", RichLog).write(plain(line, style))

    def _show_code(self, code: Code) -> None:
        self.query_one("#code-digits", Digits).update(str(code))
        tr = current()
        self.query_one("#code-spoken", PlainStatic).update(tr("Say it digit by digit: {digits}", digits=code.spoken()))
        self.query_one("#code-how", PlainStatic).update(
            tr("Your agent enters it in their console ({command}). Waiting for them to join…",
               command=colleague_command(code, self.relay_url)))  # --relay too, unless it is the default
        self.query_one("#waiting").add_class("shown")

    # -- consent prompt ------------------------------------------------------------------

    def _show_call(self) -> None:
        """The call bar, refreshed 10 times a second during a call for its meters."""
        runtime = self.runtime.call_seat() if self.runtime is not None else None  # a team: whichever agent's call
        call = runtime.rtc.call if runtime is not None else None
        levels = runtime.rtc.levels() if runtime is not None else (0.0, 0.0)
        bars = self.query(CallBar)
        if not bars:  # closing, as in _tick_prompt
            call = None
        else:
            bars.first().show(call, levels, self.call_agent or self.agent_name)
        if call is not None and call.in_call:
            if self._call_timer is None:
                self._call_timer = self.set_interval(0.1, self._show_call)
        elif self._call_timer is not None:
            self._call_timer.stop()
            self._call_timer = None

    def _active_prompt(self) -> Any:
        """The one question on show (runtime.prompts): Allow/Deny answer it, by its id."""
        runtime = self.runtime
        if runtime is None:
            return None
        return runtime.prompts.shown

    def _show_prompt(self, prompt_id: int, message: str = "") -> None:
        """One question at a time: the bar names what Allow gives, and its buttons answer
        that prompt (by id) and no other. ``message`` is the prompt's own sentence, for a
        question the bar does not hold (a team's other agent: docs/team.md)."""
        runtime = self.runtime
        prompt = runtime.prompts.shown if runtime is not None else None
        if prompt is None or prompt.id != prompt_id:
            if message and prompt_id >= TEAM_PROMPTS:  # another agent of the team asks (docs/team.md)
                self._note(message, "bold")
                self.notify(message, timeout=30)
                self.team_toasts.append(toast_text(rewrite(message)))
            return  # already answered, or another one is on show
        unverified = prompt.kind == PromptKind.CONTROL and not (self.identity is not None and self.identity.get("verified"))
        tr = current()
        self._prompt_id = prompt.id
        self._not_yet_until = None
        question = tr("{agent} asks {what}. Allow (Ctrl-] y) {gives}; Deny (Ctrl-] n) refuses; nobody answering = "
                      "denied.", agent=self.agent_name, what=tr(ASKS[prompt.kind]), gives=tr(GIVES[prompt.kind]))
        if unverified:
            question = tr("⚠ NOT VERIFIED (you will have to confirm twice): {question}", question=question)  # ⚠ opens a row
        self.query_one("#consent-text", PlainStatic).update(rewrite(question))  # the configured keys
        self._fit_consent_bar(self.size.width, self.size.height)
        self.query_one("#consent-bar").remove_class("confirming")
        self.query_one("#consent-bar").add_class("shown")
        self._asking(True)
        self._tick_prompt()
        if self._prompt_timer is None:
            self._prompt_timer = self.set_interval(0.2, self._tick_prompt)

    def _answer_in_bar(self, message: str, wait_s: float | None = None) -> None:
        """The tripwire's answer in the question's place (``confirming``: drawn as a warning).
        A "not yet" (``wait_s``) counts down on the prompt's tick, then says to press again: it
        said "wait 4 more seconds" for as long as the question stayed open."""
        self.query_one("#consent-text", PlainStatic).update(message)  # its keys are the configured ones already
        self.query_one("#consent-bar").add_class("confirming")
        runtime = self.runtime
        self._not_yet_until = None if wait_s is None or runtime is None else runtime.now + wait_s
        self._fit_consent_bar(self.size.width, self.size.height)
        if self._not_yet_until is not None:
            self._tick_not_yet(runtime.now if runtime is not None else 0.0)

    def _tick_not_yet(self, now: float) -> None:
        if self._not_yet_until is None:
            return
        left = math.ceil(self._not_yet_until - now - 0.05)
        tr = current()
        if left > 0:
            said = tr.plural("not yet: wait {n} more second, then press {keys} again to give control",
                             "not yet: wait {n} more seconds, then press {keys} again to give control", left,
                             keys="Ctrl-] y")
        else:
            said = tr("now press {keys} again to give control", keys="Ctrl-] y")
            self._not_yet_until = None
        text = rewrite(said)  # the configured keys
        consent = self.query_one("#consent-text", PlainStatic)
        if str(consent.content) != text:
            consent.update(text)

    def _fit_consent_bar(self, width: int, height: int) -> None:
        """The longest Allow/Deny labels that fit beside each other at ``width`` columns (they
        were cut at 40: "Deny (Ct"); the bar's border and padding take 3 or 4 columns. And the
        question's rows: at most what leaves the buttons and the countdown on the screen (at
        40×10 a long question, a long name, pushed the countdown off the bottom: then the
        question's last words are cut, never how long is left)."""
        prompt = self._active_prompt()
        if prompt is None:
            return
        narrow = self.has_class("narrow")
        room = width - (3 if narrow else 4)
        allow, deny = consent_labels(prompt.kind, room)
        self.query_one("#allow", Button).label = allow
        self.query_one("#deny", Button).label = deny
        countdown = max(-(-cell_len(_countdown(seconds)) // max(1, room)) for seconds in (1, 2, 5))
        taken = 1 + (0 if narrow else 1 + 2) + 1 + countdown  # banner, status and frame, buttons, countdown
        self.query_one("#consent-text", PlainStatic).styles.max_height = max(1, height - taken)

    def _tick_prompt(self) -> None:
        # closing: the widgets go, one by one, before the app's timers stop
        if not (self.query("#consent-bar") and self.query("#consent-countdown")):
            self._stop_prompt_timer()
            return
        runtime = self.runtime
        prompt = self._active_prompt()
        if prompt is None or runtime is None or prompt.id != self._prompt_id:
            self._hide_prompt()
            return
        left = prompt.deadline - runtime.now
        if left <= 0:  # the runtime denies it on its next tick; never looks answerable again
            self._hide_prompt()
            return
        self._tick_not_yet(runtime.now)
        text = _countdown(round(left))
        countdown = self.query_one("#consent-countdown", PlainStatic)
        if str(countdown.content) != text:
            countdown.update(text)

    def _hide_prompt(self) -> None:
        self._prompt_id = None
        self._not_yet_until = None
        self.query_one("#consent-bar").remove_class("shown", "confirming")
        self._asking(False)
        self._stop_prompt_timer()

    def _stop_prompt_timer(self) -> None:
        if self._prompt_timer is not None:
            self._prompt_timer.stop()
            self._prompt_timer = None

    def _asking(self, asking: bool) -> None:
        """A consent question is read whole and on top: the toasts on show (a step card, "connected
        / compare these words") step aside and new ones wait until it is answered, but the one
        about this very question (confirm control a second time)."""
        if asking == self.has_class("asking"):
            return
        self.set_class(asking, "asking")
        if asking:
            for notification in list(self._notifications):
                if notification.title != current()(CONFIRM_CONTROL):
                    self._unnotify(notification)
                    self.held_toasts = [*self.held_toasts, notification][-MAX_TOASTS:]
            return
        held, self.held_toasts = self.held_toasts, []
        for notification in held:
            self.notify(notification.message, title=notification.title, severity=notification.severity,
                        timeout=notification.timeout)

    @property
    def prompt_visible(self) -> bool:
        return self.query_one("#consent-bar").has_class("shown")

    def _refresh_consent(self) -> None:
        runtime = self.runtime
        level = runtime.level if runtime is not None else Level.VIEW
        label = self.query_one("#level", PlainStatic)
        label.update(level_text(level))
        label.set_classes(f"{level} session-only")
        if runtime is not None and self._active_prompt() is None:
            self._hide_prompt()
        paused = runtime is not None and not runtime.sharing
        self.query_one("#pause", Button).label = pause_label(paused)

    # -- banner and side panel -----------------------------------------------------------

    @property
    def banner_text(self) -> str:
        return str(self.query_one("#banner", PlainStatic).content)

    def _refresh_banner(self, width: int | None = None) -> None:
        tr = current()
        width = width or self.size.width
        runtime = self.runtime
        agent = self.agent_name
        level = runtime.level if runtime is not None else Level.VIEW
        seeing = [row for row in self.team if row.get("state") == "admitted"]
        if seeing and self.in_team:  # name everyone who sees it; the strongest grant any of them holds
            agent = team_names(seeing)
            first_here = any(row.get("id") == FIRST for row in seeing)  # suggestions stay with the first
            level = (Level.CONTROL if any(row.get("control") for row in seeing)
                     else level if first_here and level != Level.CONTROL else Level.VIEW)
        sharing = runtime.sharing if runtime is not None else True
        classes = "waiting"
        warn = True  # below 80 columns, an unverified agent: the banner starts with the warning
        text: str
        if self.phase == Phase.ENDED:
            text = tr("Session ended: nothing is shared.")
        elif self.phase == Phase.GUIDE:
            title = self.guide.title if self.guide else ""
            text = tr("Guide, alone: nothing is shared · Ctrl-] {key} gets help from an agent · Ctrl-] ? help · {title}",
                      key=HELP_KEY, title=title)
        elif self.phase == Phase.CONNECTING:
            text = tr(CONNECTING)
        elif self.phase == Phase.QUEUED:
            text = self.queue_banner
        elif self.phase == Phase.WAITING:
            text = tr("Waiting for your agent to join: nothing is shared yet. Ctrl-] ? for help")
        elif self.phase == Phase.CHECKING:
            text = self.checking_banner
        elif self.reconnecting and self.reconnecting_direct:  # the relay is away, the peer is not
            text, classes = tr("Relay connection lost: reconnecting… (sharing goes on over the direct path)"), "trouble"
        elif self.reconnecting:
            text, classes = tr("Connection lost: reconnecting… (nothing is shared meanwhile)"), "trouble"
        elif not self.peer_present:
            text, classes = tr("{agent}'s connection dropped: waiting for them to come back", agent=agent), "trouble"
        elif not sharing:
            text, classes = tr("Sharing paused: {agent} sees nothing · Ctrl-] p resumes", agent=agent), "paused"
        else:
            text, classes = tr(SHARED[level], agent=agent), level
        narrow = self.has_class("narrow")
        shared = classes == level
        recording = runtime is not None and runtime.anyone_records() and self.phase == Phase.PAIRED  # any agent's
        # 80 columns and more, but the sentence does not fit (Persian at 80, a long name): its
        # " · " items that fit (the keys are in the bottom line too), else the short form; whole,
        # never cut ("… Ctrl-] e…" without what the key does)
        full = rewrite(tr("● RECORDING (Ctrl-] x stops) · {banner}", banner=text) if recording else text)
        squeezed = not narrow and shared and width > 0 and cell_len(full) > width - 2
        fitted = fit_hint(full, width - 2) if squeezed else ""
        # an agent who may type: the revoke key stays (the unverified bottom line has none)
        revoke_kept = level == Level.VIEW or bare(fitted).endswith(bare(full.split(" · ")[-1]))
        if fitted and cell_len(fitted) <= width - 2 and " · " in fitted and revoke_kept:
            banner = self.query_one("#banner", PlainStatic)
            banner.update(fitted)
            banner.set_classes(classes)
            return
        if (narrow or squeezed) and shared:
            short = tr(SHORT_LEVEL[level])
            if len(seeing) > 1:  # the only status line: how many see it (what they may do, when more)
                count = tr.plural("{n} agent sees this", "{n} agents see this", len(seeing))
                short = count if level == Level.VIEW else tr("{count} · {level}", count=count, level=short)
            text = tr(SHORT_KEYS[level], level=short)
            if self.unverified and narrow:
                text, warn = unverified_short(text, short, level, width, recording)
        if recording:
            text = (tr("● REC · {banner}", banner=text) if narrow or squeezed
                    else tr("● RECORDING (Ctrl-] x stops) · {banner}", banner=text))
        if narrow and shared and self.unverified:
            if warn:
                text = tr("⚠ UNVERIFIED · {banner}", banner=text)
            classes = "unverified"
        banner = self.query_one("#banner", PlainStatic)
        banner.update(rewrite(text))  # the configured keys ([keys], plain/keymap.py)
        banner.set_classes(classes)

    @property
    def checking_banner(self) -> str:
        tr = current()
        return tr("Checking the code with your agent… Ctrl-] ? for help")

    def _refresh_side(self) -> None:
        tr = current()
        who = self.query_one("#who", PlainStatic)
        if self.in_team:
            who.update(team_line(self.team))
        elif self.phase == Phase.PAIRED:
            dropped = not self.peer_present or (self.reconnecting and not self.reconnecting_direct)
            seen = self.identity
            if seen is None:
                line = (tr("{agent} (connection dropped)", agent=self.agent_name) if dropped
                        else tr("{agent} (connected)", agent=self.agent_name))
            elif seen.get("verified"):
                line = (tr("{agent} ✓ verified (connection dropped)", agent=self.agent_name) if dropped
                        else tr("{agent} ✓ verified (connected)", agent=self.agent_name))
            else:
                line = (tr("{agent} ⚠ UNVERIFIED (connection dropped)", agent=self.agent_name) if dropped
                        else tr("{agent} ⚠ UNVERIFIED (connected)", agent=self.agent_name))
            who.update(line)
        elif self.phase == Phase.ENDED:
            who.update(tr("nobody (session ended)"))
        else:
            who.update(tr("nobody yet"))


def _countdown(seconds: int) -> str:
    """The consent bar's last row (the number padded: the row keeps its width as it counts)."""
    return current().plural("denied automatically in {n} second", "denied automatically in {n} seconds",
                            seconds, n=str(seconds).rjust(3))


def unverified_short(with_keys: str, short: str, level: Level, width: int, recording: bool = False) -> tuple[str, bool]:
    """The narrow banner with an unverified agent, and whether the warning goes in front: the
    warning and the keys where both fit; else, once the agent may type, the keys alone (the
    banner stays red: taking control back matters more than the word); else the warning and
    what they may do; else that without the warning. ``recording``: "● REC · " comes in front
    too, and counts."""
    tr = current()

    def fits(text: str, warn: bool) -> bool:
        text = tr("● REC · {banner}", banner=text) if recording else text
        return cell_len(rewrite(tr("⚠ UNVERIFIED · {banner}", banner=text) if warn else text)) <= width

    if width <= 0:
        return with_keys, True
    tries = [(with_keys, True)] + ([(with_keys, False)] if level != Level.VIEW else []) + [(short, True)]
    return next(((text, warn) for text, warn in tries if fits(text, warn)), (short, False))

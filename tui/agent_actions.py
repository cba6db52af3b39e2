"""The agent console's actions on the session in front: control, typing, recording, the end,
playbooks and steps, suggestions, the pointer and calls. Each finds the current session (or
says why there is none) and calls the pane's typed method; the app mixes this in."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from textual.app import App

from cobrowse.playbook.catalogue import Catalogue
from cobrowse.policy.agent_commands import Invite, Leave, Point, Record, StepStatus
from cobrowse.policy.agent_events import RecordingState
from tui.agent_dialogs import ConfirmDialog, PlaybookDialog, PromptDialog, parse_point, suggestion_text
from tui.agent_keys import told
from tui.agent_session import SessionPane


class SessionActions(App[None]):
    """The actions that act on one session (``AgentApp`` provides ``current`` and ``library``)."""

    #: The playbook library the picker shows (docs/playbooks.md, "The library").
    library: Catalogue

    if TYPE_CHECKING:
        def current(self) -> SessionPane | None: ...

    def _need_session(self) -> SessionPane | None:
        pane = self.current()
        if pane is None:
            self.notify(told("No session here: F2 starts one, F3 joins a customer's code."), severity="warning")
        return pane

    def action_copy_code(self) -> None:
        pane = self._need_session()
        if pane is None:
            return
        if pane.code is None:
            self.notify("This session has no code yet.", severity="warning")
            return
        self.copy_to_clipboard(str(pane.code))
        self.notify(f"Copied {pane.code} to the clipboard.")

    async def action_request_control(self) -> None:
        pane = self._need_session()
        if pane is not None:
            await pane.request_control()

    async def action_invite(self) -> None:
        """A code for a colleague (docs/team.md): the pane shows it when the customer's client answers."""
        pane = self._need_session()
        if pane is not None:
            await pane.command(Invite())

    async def action_leave_session(self) -> None:
        pane = self._need_session()
        if pane is not None:
            await pane.command(Leave())

    def action_toggle_typing(self) -> None:
        pane = self._need_session()
        if pane is not None:
            pane.toggle_typing()

    async def action_toggle_recording(self) -> None:
        """Ask the customer for consent to record (recording starts when they agree), or stop."""
        pane = self._need_session()
        if pane is not None and pane.runtime is not None:
            await pane.command(Record(on=pane.runtime.recording_state is RecordingState.OFF))

    def action_end_session(self) -> None:
        pane = self._need_session()
        if pane is None:
            return
        if pane.ended:
            self.notify("This session has already ended.")
            return
        who = pane.customer_name or "the customer"
        code = f" ({pane.code})" if pane.code else ""

        async def answered(yes: bool | None) -> None:
            if yes:
                await pane.end()

        self.push_screen(ConfirmDialog(f"End the session with {who}{code}?", yes="End session"), answered)

    # playbooks and guidance

    def _live_session(self) -> SessionPane | None:
        pane = self._need_session()
        if pane is None:
            return None
        if pane.ended:
            self.notify("This session has ended.", severity="warning")
            return None
        if pane.sas is None:
            self.notify("Wait for the customer to join first.", severity="warning")
            return None
        return pane

    def action_push_playbook(self) -> None:
        pane = self._live_session()
        if pane is None:
            return

        async def picked(path: Path | None) -> None:
            if path is not None:
                await pane.push_playbook(path)

        runtime = pane.runtime  # the library ranked against the customer's screen and the chat, best first
        suggested = runtime.suggester.matches(runtime.mirror.state.lines(), 3, self.library) if runtime and runtime.mirror.state else []
        self.push_screen(PlaybookDialog(self.library, suggested), picked)

    async def action_call(self) -> None:
        pane = self._live_session()
        if pane is not None:
            await pane.call()

    async def action_hangup(self) -> None:
        pane = self._live_session()
        if pane is not None:
            await pane.hangup()

    async def action_mute(self) -> None:
        pane = self._live_session()
        if pane is not None:
            await pane.toggle_mute()

    async def action_step_done(self) -> None:
        pane = self._live_session()
        if pane is not None:
            await pane.mark_step(StepStatus.DONE)

    async def action_step_skip(self) -> None:
        pane = self._live_session()
        if pane is not None:
            await pane.mark_step(StepStatus.SKIPPED)

    async def action_step_back(self) -> None:
        pane = self._live_session()
        if pane is not None:
            await pane.step_back()

    def action_suggest_command(self) -> None:
        pane = self._live_session()
        if pane is None:
            return

        async def answered(command: str | None) -> None:
            if command:
                await pane.suggest(command)

        self.push_screen(PromptDialog(
            "Suggest a command", "The customer sees it and may paste it at their prompt (it only runs "
            "when they press Enter), edit it, or decline.", pane.active_command(),
            placeholder="git status -sb", ok="Suggest", parse=suggestion_text), answered)

    def action_point_at(self) -> None:
        pane = self._live_session()
        if pane is None:
            return

        async def answered(cmd: Point | None) -> None:
            if cmd:
                await pane.point(cmd)

        self.push_screen(PromptDialog(
            "Point at the customer's screen", "Rows as you count them from the top (3-5, or 7), or a "
            "regex: every line it matches is highlighted.", placeholder="3-5  or  error:.*",
            ok="Point", parse=parse_point), answered)

    async def action_clear_pointer(self) -> None:
        pane = self._live_session()
        if pane is not None:
            await pane.point(Point())

    def action_show_team(self) -> None:
        """The side panel's team tab (tui/agent_team.py)."""
        pane = self._need_session()
        if pane is not None:
            pane.show_side("team-tab")

    def action_toggle_steps(self) -> None:
        pane = self._need_session()
        if pane is not None:
            pane.toggle_side()

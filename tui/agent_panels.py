"""A session pane's side panels: the chat log and the playbook's steps."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on
from textual.widgets import Input, Markdown, TabbedContent

from cobrowse.policy.agent_commands import StepStatus
from cobrowse.policy.agent_events import FeedbackStatus
from tui.agent_facts import SessionView
from tui.agent_keys import told
from tui.safe import PlainStatic

STEP_ICONS = {
    "pending": ("○", "dim"),
    "active": ("▶", "bold yellow"),
    "done": ("✔", "green"),
    "skipped": ("↷", "dim italic"),
    "failed": ("✘", "bold red"),
}


class StepsView(SessionView):
    """The steps panel: the customer's step state as it arrives, the active step's body and command."""

    def current_step(self) -> int | None:
        state = self.steps
        current = state.get("current") if state else None
        return current if isinstance(current, int) else None

    def _render_steps(self) -> None:
        state = self.steps
        if state is None:
            return
        steps = state.get("steps") or []
        current = self.current_step()
        done = sum(1 for step in steps if step.get("status") in (StepStatus.DONE, StepStatus.SKIPPED))
        title = Text.assemble((state.get("title", ""), "bold"), (f"  {done}/{len(steps)}", "dim"))
        if state.get("finished"):
            title.append("  finished", style="bold green")
        self.query_one("#steps-title", PlainStatic).update(title)
        lines = Text()
        for index, step in enumerate(steps):
            status = step.get("status", "pending")
            icon, style = STEP_ICONS.get(status, ("?", ""))
            line = Text.assemble((f"{icon} ", style), f"{index + 1}. {step.get('title', '')}")
            if status != StepStatus.PENDING:
                by = f" · {step['by']}" if step.get("by") else ""
                line.append(f"  {status}{by}", style="dim" if status != StepStatus.FAILED else "red")
            if index == current:
                line.stylize("bold reverse")
            if index:
                lines.append("\n")
            lines.append_text(line)
        self.query_one("#steps-list", PlainStatic).update(lines)
        heading = self.query_one("#step-heading", PlainStatic)
        body = self.query_one("#step-body", Markdown)
        command = self.query_one("#step-command", PlainStatic)
        if current is not None and 0 <= current < len(steps):
            step = steps[current]
            heading.update(Text(f"Step {current + 1}: {step.get('title', '')}", style="bold"))
            body.update(step.get("body") or "")
            body.display = bool(step.get("body"))
            if step.get("command"):
                command.update(Text.assemble(("command  ", "dim"), (step["command"], "bold"),
                                             (told("\n(shift+F2 suggests it to the customer)"), "dim")))
                command.display = True
            else:
                command.display = False
            heading.display = True
        else:
            heading.display = body.display = command.display = False

    def show_side(self, tab: str) -> None:
        side = self.query_one("#side-tabs", TabbedContent)
        if side.active != tab:
            focused = self.app.focused
            if focused is not None and side in focused.ancestors:
                self.app.set_focus(None)  # else the focused widget pulls its tab back
            side.active = tab

    @on(TabbedContent.TabActivated, "#side-tabs")
    def _side_switched(self, event: TabbedContent.TabActivated) -> None:
        event.stop()  # not the session tabs' message
        self.set_class(event.pane is not None and event.pane.id == "steps-tab", "-steps-side")
        self.set_class(event.pane is not None and event.pane.id == "team-tab", "-team-side")
        self.side_changed()

    def side_changed(self) -> None:
        """The side panel shows another tab (the team's redraws for its new width)."""

    def toggle_side(self) -> None:
        side = self.query_one("#side-tabs", TabbedContent)
        self.show_side("chat-tab" if side.active == "steps-tab" else "steps-tab")
        if side.active == "chat-tab" and not self.typing:
            chat = self.query_one("#chat-input", Input)
            if not chat.disabled:
                chat.focus()

    def active_command(self) -> str:
        index = self.current_step()
        steps = (self.steps or {}).get("steps") or []
        if index is not None and 0 <= index < len(steps):
            return steps[index].get("command") or ""
        return ""


def feedback_text(feedback: dict[str, Any]) -> str:
    """The customer's answer at the end, in words."""
    status = feedback.get("status")
    if status != FeedbackStatus.ANSWERED:
        return {"skipped": "the customer skipped the feedback question",
                "timeout": "the customer did not answer the feedback question in time",
                "gone": "the customer left without answering the feedback question"}.get(str(status), "no feedback")
    solved = {True: "solved", False: "NOT solved", None: "solved? (no answer)"}[feedback.get("solved")]
    rating = feedback.get("rating")
    return f"customer feedback: {solved}" + (f", rated {rating}/5 " + "★" * int(rating) if rating else "")

"""The customer app's guide steps and the agent's pointer: the step panel (a window of steps
around the current one, its command and explanation), the notifications while the panel is
collapsed, and the highlighted rows in the shell pane. Presentation only."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import Markdown

from cobrowse.policy.customer_events import PointerShown
from cobrowse.policy.risky_command import RISK_TEXT, command_risk
from cobrowse.i18n.notices import step_changes
from cobrowse.i18n.text import current
from cobrowse.plain.keymap import Front, step_hint
from tui.customer_view import CustomerView
from tui.safe import PlainStatic
from tui.widgets.shell_pane import ShellPane

STEP_MARKS = {"pending": "·", "active": "▶", "done": "✓", "skipped": "↷", "failed": "✗"}
STEP_STYLES = {"pending": "", "active": "bold reverse", "done": "green", "skipped": "dim", "failed": "bold red"}
#: At most this many steps are listed (a window around the current one).
STEPS_SHOWN = 6


class CustomerSteps(CustomerView):
    """The step panel and the pointer; the attributes are set by CustomerApp."""

    def _show_steps(self, event: dict[str, Any]) -> None:
        if "steps" not in event:
            return
        tr = current()
        self.steps = event
        items: list[dict[str, Any]] = list(event.get("steps") or [])
        current_step = event.get("current")
        finished = bool(event.get("finished"))
        title = str(event.get("title", ""))
        self.query_one("#guide").add_class("shown")
        self.query_one("#guide-title", PlainStatic).update(tr("Guide: {title}", title=title))
        self.query_one("#steps-list", PlainStatic).update(self._step_listing(items, current_step))
        body = self.query_one("#step-body", Markdown)
        command_box = self.query_one("#step-command", PlainStatic)
        step = items[current_step] if isinstance(current_step, int) and 0 <= current_step < len(items) else None
        step_title = str(step.get("title", "")) if step is not None else ""
        step_command = str(step.get("command") or "") if step is not None else ""
        done = sum(1 for s in items if s.get("status") == "done")
        if finished or step is None or current_step is None:
            body.update(tr("**All steps finished**: {done} of {total} done.", done=done, total=len(items)))
            command_box.update("")
        else:
            body.update(str(step.get("body", "")) or tr("(no explanation)"))
            command = step.get("command")
            text = Text()
            text.append(tr("{index}. {title}", index=current_step + 1, title=step_title) + "\n",
                        "bold underline")
            if command:
                text.append(f"$ {command}\n", "bold")
                risk = command_risk(str(command))
                if risk is not None:
                    text.append(tr(RISK_TEXT[risk]) + "\n", "bold red")
            text.append(step_hint(Front.APP, tr), "dim")
            command_box.update(text)
        statuses = tuple(str(s.get("status", "pending")) for s in items)
        seen = (event.get("title"), current_step, finished, statuses)
        previous = self._steps_seen
        if seen == previous:
            return
        self._steps_seen = seen
        before = previous[3] if previous is not None and previous[0] == seen[0] else ()
        changes = step_changes(before, items, tr)
        for _, status, line in changes:
            self._note(line, STEP_STYLES[status])
        if previous is not None and previous[:3] == seen[:3]:  # the same step: only statuses changed
            failed = [line for index, status, line in changes if index == current_step and status == "failed"]
            if failed and self.query_one("#side").has_class("collapsed"):
                # it stays the current step; say so where the customer looks (the panel is hidden)
                card = tr("Guide: {title}", title=title)
                self.superseding.add(card)
                self.notify(failed[0], title=card, severity="warning", timeout=20)
            return
        if finished:
            message = headline = tr("All steps finished ({done} of {total} done).", done=done, total=len(items))
        elif step is not None and current_step is not None:
            message = headline = tr("Step {index}/{total}: {title}", index=current_step + 1, total=len(items),
                                    title=step_title)
            if step_command and self.has_class("narrow"):
                # the step and its command matter most in a small toast; the status line shows the keys
                message = tr("{step}\n$ {command}", step=message, command=step_command)
            elif step_command:
                message = tr("{step}\n$ {command}\n(Ctrl-] a pastes it, Ctrl-] m done, Ctrl-] k skip)", step=message,
                             command=step_command)
        else:
            return
        risk = command_risk(step_command) if step_command and not finished else None
        if risk is not None:  # first: a narrow toast may show only its start
            message = tr("{warning} · {suggestion}", warning=tr(RISK_TEXT[risk]), suggestion=message)
        self._note(headline, "bold")
        if self.query_one("#side").has_class("collapsed"):
            card = tr("Guide: {title}", title=title)
            self.superseding.add(card)
            self.notify(message, title=card, timeout=20)

    @staticmethod
    def _step_listing(items: list[dict[str, Any]], current_step: Any) -> Text:
        tr = current()
        first, last = 0, len(items)
        if len(items) > STEPS_SHOWN:  # a window around the current step
            focus = current_step if isinstance(current_step, int) else len(items) - 1
            first = max(0, min(focus - 2, len(items) - STEPS_SHOWN))
            last = first + STEPS_SHOWN
        lines: list[tuple[str, str]] = []
        if first:
            lines.append((tr.plural("  … {n} before", "  … {n} before", first, n=first), "dim"))
        for i in range(first, last):
            status = str(items[i].get("status", "pending"))
            lines.append((f"{STEP_MARKS.get(status, '?')} {i + 1}. {items[i].get('title', '')}", STEP_STYLES.get(status, "")))
        if last < len(items):
            more = len(items) - last
            lines.append((tr.plural("  … {n} more", "  … {n} more", more, n=more), "dim"))
        listing = Text()
        for n, (line, style) in enumerate(lines):
            if n:
                listing.append("\n")
            listing.append(line, style)
        return listing

    def _show_pointer(self, event: PointerShown) -> None:
        shell = self.query_one("#shell", ShellPane)
        cleared = bool(event.cleared)
        if cleared:
            shell.set_highlight(None)
        else:
            shell.set_highlight(event.rows or ())
            if self._loop is not None:
                self._pointer_at = self._loop.time()
        message = event.message
        self._note(message, "dim" if cleared else "bold")
        if self.query_one("#side").has_class("collapsed") and not cleared:
            tr = current()
            self.superseding.add(tr("The agent points"))
            self.notify(message, title=tr("The agent points"), timeout=10)

"""The customer's line for each session event, in their language: one place for plain mode
and the customer app (the app takes these sentences as it is restructured: docs/i18n.md).

``customer_line(event, tr, agent)`` gives the sentence for a customer-side event (its JSON
shape, typed events pass through ``as_json`` first), or ``None`` for an event without one
(screens, steps, voice: plain mode and the app show those their own way). The agent's own
words (chat, an ``End`` message, a name) are values, never looked up. The result is a
``Translated`` string: hand it to the guard whole, so a Persian line keeps its isolates. Pure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from cobrowse.crypto import sas
from cobrowse.i18n.ends import ended_text, frame_warning_text, relay_text, wrong_code_text
from cobrowse.i18n.text import N_, Translator, current

#: The consent levels as the customer reads them (``consent`` events' ``level``).
LEVELS = {"view": N_("view only"), "suggest": N_("suggest (the agent may propose commands)"),
          "control": N_("CONTROL (the agent can type in your terminal)")}


def message_of(event: Mapping[str, Any]) -> str:
    """An event's ``message`` as it came (a ``Translated`` stays one, so its isolates survive)."""
    message = event.get("message", "")
    return message if isinstance(message, str) else str(message)


def warning_message(event: Mapping[str, Any], tr: Translator | None = None) -> str:
    """A ``warning``'s ``message``, ours translated when it is a frame the relay replayed or
    reordered (``ends.FRAME_WARNINGS``); any other as it came."""
    message = message_of(event)
    return frame_warning_text(str(event.get("kind", "")), message, tr) or message


def agent_name(event: Mapping[str, Any], tr: Translator | None = None) -> str:
    """How to call the agent after its ``hello``: the name it gave (a value), or "the agent"."""
    name = event.get("name")
    return name if isinstance(name, str) and name else (tr or current())("the agent")


def repeated_attempt(event: Mapping[str, Any]) -> bool:
    """A reconnect attempt nobody needs a line for: after the first, only the 2nd, 4th, 8th...
    are said (a relay down for its whole 300 s of retries was ~35 lines of "still reconnecting")."""
    if event.get("event") != "connection" or event.get("state") != "reconnecting":
        return False
    attempt = event.get("attempt")
    return isinstance(attempt, int) and attempt > 1 and attempt & (attempt - 1) != 0


def customer_line(event: Mapping[str, Any], tr: Translator | None = None, agent: str = "") -> str | None:
    """The sentence for ``event`` (see the module's docstring); ``agent``: what to call the
    agent (``agent_name`` of its hello; "the agent" when empty)."""
    tr = tr or current()
    agent = agent or tr("the agent")
    kind = event.get("event")
    if kind == "paired":
        return tr("connected. Compare these words with the agent: {words}", words=sas.localize(event["sas"], tr.language))
    if kind == "hello":
        return tr("Your terminal is visible to {agent} (view only). Press Ctrl-] ? for cobrowse commands.", agent=agent)
    if kind == "chat":
        return tr("{agent}: {text}", agent=agent, text=str(event["text"]))
    if kind == "consent":
        level = LEVELS.get(str(event["level"]))
        return tr("consent: {level}", level=tr(level) if level else str(event["level"]))
    if kind == "sharing":
        return (tr("sharing resumed") if event["active"]
                else tr("sharing paused: the agent sees nothing until you press Ctrl-] p"))
    if kind == "connection":
        if event["state"] == "reconnecting":
            if int(event["attempt"]) > 1:
                return tr("still reconnecting (attempt {attempt})", attempt=int(event["attempt"]))
            cause = event.get("cause")
            if cause == "relay_restart":
                line = tr("the relay is restarting: the session resumes by itself, nothing is lost")
            elif cause == "relay_down":
                line = tr("the relay is not answering (your network is fine): the session resumes by itself when it is back")
            else:
                line = tr("lost the connection to the relay (your network, or the path to the relay): reconnecting")
            if event.get("direct"):
                line = tr("{line}; meanwhile the session goes on over the direct path", line=line)
            return line
        return tr("reconnected")
    if kind == "peer":
        return (tr("the agent's connection dropped (their network or their app; yours is fine): waiting for them to come back")
                if event["state"] == "left" else tr("the agent is back"))
    if kind == "path":
        return (tr("direct connection to the agent") if event["path"] == "direct"
                else tr("via the relay: {reason}", reason=str(event["reason"])))
    if kind == "warning" and event.get("kind") == "busy":  # joining: cobrowse.io.joining
        return tr("warning: someone else is entering a code for this session right now; trying again")
    if kind == "warning" and event.get("kind") == "unavailable":
        delay, attempt = f"{float(event.get('retry_in_s') or 0):.1f}", int(event.get("attempt") or 1)
        return tr("warning: the relay could not look the session up just now (its shared store did not answer); "
                  "trying again in {delay} s (attempt {attempt})", delay=delay, attempt=attempt)
    if kind == "warning" and event.get("kind") == "reclaim":
        return tr("warning: the relay restarted before the other side confirmed your code: entering it again "
                  "(compare the words shown next, not earlier ones)")
    if kind == "warning":
        return tr("warning: {message}", message=warning_message(event, tr))
    if kind == "error":
        if event.get("kind") == "wrong_code":
            return tr("error: {message}", message=wrong_code_text("customer", tr))
        return tr("error: {message}", message=relay_text(message_of(event), tr) or message_of(event))
    if kind == "receipt" and event.get("path"):
        path = str(event["path"])
        return tr("receipt of this session: {path} (chain head {head}…; `cobrowse receipts verify {path}` checks it)",
                  path=path, head=str(event.get("head", ""))[:16])
    if kind == "ended":
        return tr("session ended: {message}", message=ended_text(str(event.get("reason", "")), message_of(event), tr))
    return None


#: A step's new status as the customer reads it (plain guide mode's lines, the app's log).
STEP_STATUSES = {"done": N_("step {index}/{total} done: {title}"), "skipped": N_("step {index}/{total} skipped: {title}"),
                 "failed": N_("step {index}/{total} failed: {title}")}
STEP_STATUSES_BY = {"done": N_("step {index}/{total} done: {title} (by {who})"),
                    "skipped": N_("step {index}/{total} skipped: {title} (by {who})"),
                    "failed": N_("step {index}/{total} failed: {title} (by {who})")}
#: Who marked a step (the step machine's ``by``).
STEP_BY = {"agent": N_("agent"), "customer": N_("customer"), "auto": N_("auto")}


def step_changes(before: Sequence[str], steps: Sequence[Any],
                 tr: Translator | None = None) -> list[tuple[int, str, str]]:
    """Each step whose status changed to done, skipped or failed since ``before`` (the statuses
    last seen, in order; a step not seen yet was pending): its index, new status and the line
    saying so. Anything in ``steps`` that is not a step's mapping is passed over."""
    tr = tr or current()
    lines: list[tuple[int, str, str]] = []
    for i, step in enumerate(steps):
        if not isinstance(step, Mapping):
            continue
        status = step.get("status")
        if not isinstance(status, str) or status not in STEP_STATUSES \
                or status == (before[i] if i < len(before) else "pending"):
            continue
        values: dict[str, str | int] = {"index": i + 1, "total": len(steps), "title": str(step.get("title", ""))}
        who = step.get("by")
        if who:  # no literal inside tr(): older Babel extracts it as a msgid
            by = tr(STEP_BY[who]) if who in STEP_BY else str(who)
            lines.append((i, status, tr(STEP_STATUSES_BY[status], who=by, **values)))
        else:
            lines.append((i, status, tr(STEP_STATUSES[status], **values)))
    return lines


def guide_over(exited: bool, status: int, steps: Mapping[str, Any] | None, tr: Translator | None = None) -> str:
    """How a guide run alone ended: the program exited (``status``) or the customer ended it,
    with the steps' tally (``StepMachine.summary``) when a playbook ran."""
    tr = tr or current()
    if steps is None:
        return tr("the guided program exited (status {status})", status=status) if exited else tr("you ended the guide")
    tally = {key: int(steps.get(key, 0)) for key in ("done", "skipped", "failed", "total")}
    if exited:
        return tr("the guided program exited (status {status}); steps: {done} done, {skipped} skipped, "
                  "{failed} failed of {total}", status=status, **tally)
    return tr("you ended the guide; steps: {done} done, {skipped} skipped, {failed} failed of {total}", **tally)


#: Why a call ended, in cobrowse's own words (voice/call.py), as the customer reads them; any
#: other reason (a media failure's, the other side's own text) is shown as it came.
CALL_ENDS = {"declined": N_("declined"), "hung up": N_("hung up"), "no answer": N_("no answer"),
             "the other side left": N_("the other side left"), "the other side hung up": N_("the other side hung up")}


def voice_line(event: Mapping[str, Any], tr: Translator | None = None, agent: str = "") -> str:
    """A ``voice`` event as the customer reads it (``voice.call.describe`` is the English the
    agent's side and the logs keep); a ``reason`` of cobrowse's own is translated, any other
    is shown as it came."""
    tr = tr or current()
    agent = str(event.get("agent") or agent or tr("the agent"))  # a team: the agent the call is with
    state, reason = event.get("state"), event.get("reason")
    if state == "calling":
        return tr("calling {agent}…", agent=agent)
    if state == "ringing":
        return tr("{agent} is calling you (Ctrl-] t to answer, Ctrl-] o to decline)", agent=agent)
    if state == "connecting":
        return tr("connecting the call…")
    if state == "active":
        muted, remote = bool(event.get("muted")), bool(event.get("remote_muted"))
        if muted and remote:
            return tr("call connected; your microphone is muted; {agent} is muted", agent=agent)
        if muted:
            return tr("call connected; your microphone is muted")
        if remote:
            return tr("call connected; {agent} is muted", agent=agent)
        return tr("call connected")
    if not reason:
        return tr("call ended")
    said = CALL_ENDS.get(reason) if isinstance(reason, str) else None
    return tr("call ended ({reason})", reason=tr(said) if said is not None else str(reason))


#: Plain mode's keys when resuming would show what changed while paused (``ResumeReview.hint``).
RESUME_KEYS = N_("s (or Enter): share it   c: clear your screen, then share   n: stay paused")


def resume_review_title(changed: int, tr: Translator | None = None, agent: str = "") -> str:
    """The line above what resuming would show (``resume_review``: ``changed`` lines)."""
    tr = tr or current()
    agent = agent or tr("the agent")
    return tr.plural("sharing again shows {agent} your screen as it is now; {n} line changed while paused:",
                     "sharing again shows {agent} your screen as it is now; {n} lines changed while paused:",
                     changed, agent=agent)

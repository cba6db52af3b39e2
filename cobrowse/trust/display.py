"""What people are told about an agent's identity: the customer, and the agent about the
customer's view. Pure: verdicts in, headless-shaped event dicts out (plain mode prints their
``message``; the apps render their fields).

What the customer reads is in their language (``tr``, default the process's translator:
``cobrowse.i18n``); the agent's texts stay English. Key names are values, not words of the
sentence, so a right-to-left translation isolates them.
"""

from __future__ import annotations

from typing import Any

from cobrowse.i18n.text import N_, Translator, current
from cobrowse.protocol.untrusted import Field, clean
from cobrowse.trust.credential import Verdict
from cobrowse.trust.tripwire import GateAnswer

UNVERIFIED_WARNING = N_(
    "Real support staff from a company you trust can prove who they are; this agent did not. "
    "Never give control, passwords or payment details to someone who called you out of the blue. "
    "If something feels wrong: {report} reports this session, {end} ends it."
)
REPORT_KEY = "Ctrl-] f"
END_KEY = "Ctrl-] e"

#: Why an agent is not verified, by verdict status, for customers who do not read English
#: (the verdict's own ``detail`` is English and quotes the credential).
WHY_UNVERIFIED = {
    "none": N_("they did not prove who they are"),
    "expired": N_("their credential has expired or is not valid yet"),
    "revoked": N_("their organisation revoked their credential"),
    "wrong_org": N_("their credential is not from an organisation you trust"),
    "forged": N_("their proof of identity is forged or broken"),
}


def unverified_warning(tr: Translator | None = None) -> str:
    """The scam warning under every unverified agent's name."""
    return (tr or current())(UNVERIFIED_WARNING, report=REPORT_KEY, end=END_KEY)


def why_unverified(verdict: Verdict | None, tr: Translator) -> str:
    if verdict is None:
        return tr("no agent has proved who they are yet")
    if tr.language == "en" or verdict.status not in WHY_UNVERIFIED:
        return verdict.detail
    return tr(WHY_UNVERIFIED[verdict.status])


def customer_identity_event(verdict: Verdict, claimed_name: str, tr: Translator | None = None) -> dict[str, Any]:
    """The customer's ``identity`` event: ``Verified: Alice from Acme``, or a loud warning.
    ``claimed_name`` is whatever the agent calls itself: shown escaped and capped."""
    tr = tr or current()
    claimed_name = clean(claimed_name, Field.NAME)
    event: dict[str, Any] = {"event": "identity", "status": verdict.status, "verified": verdict.verified,
                             "agent": verdict.agent, "org": verdict.org, "detail": verdict.detail}
    if verdict.verified:
        event["message"] = tr("Verified: {agent} from {org}", agent=verdict.agent, org=verdict.org)
        return event
    why, warning = why_unverified(verdict, tr), unverified_warning(tr)
    if claimed_name:
        event["message"] = tr('!! UNVERIFIED AGENT (calls themself "{name}"): {why}. {warning}',
                              name=claimed_name, why=why, warning=warning)
    else:
        event["message"] = tr("!! UNVERIFIED AGENT: {why}. {warning}", why=why, warning=warning)
    return event


def agent_identity_event(status: str, agent: str, org: str, detail: str) -> dict[str, Any]:
    """The agent's ``identity`` event: how the customer's client judged this agent (the
    customer's client reported it: every string is cleaned)."""
    status, agent, org = clean(status, Field.KIND), clean(agent, Field.NAME), clean(org, Field.NAME)
    detail = clean(detail, Field.DETAIL)
    verified = status == "verified"
    if verified:
        message = f"the customer sees you as: Verified: {agent} from {org}"
    else:
        message = (f"the customer sees you as an UNVERIFIED agent ({status}: {detail}); granting you "
                   "control takes them a second confirmation after a cool-down")
    return {"event": "identity", "seen_by": "customer", "status": status, "verified": verified,
            "agent": agent, "org": org, "detail": detail, "message": message}


def control_gate_event(answer: GateAnswer, verdict: Verdict | None, keys: str,
                       tr: Translator | None = None) -> dict[str, Any]:
    """The tripwire's answer to a first (or too early) grant of control; ``keys`` says how to
    confirm (``Ctrl-] g`` / ``Ctrl-] y``)."""
    tr = tr or current()
    why, wait = why_unverified(verdict, tr), round(answer.wait)
    if answer.state == "armed":
        message = tr("!! WAIT: this agent is NOT verified ({why}). With control they can type anything in your "
                     "terminal. If you are sure, wait {seconds} s, then press {keys} again to confirm.",
                     why=why, seconds=wait, keys=keys)
    else:
        message = tr.plural("not yet: wait {n} more second, then press {keys} again to give control",
                            "not yet: wait {n} more seconds, then press {keys} again to give control", wait, keys=keys)
    return {"event": "control_confirm", "state": answer.state, "wait_s": round(answer.wait, 1), "message": message}

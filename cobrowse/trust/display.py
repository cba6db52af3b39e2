"""What people are told about an agent's identity: the customer, and the agent about the
customer's view. Pure: verdicts in, headless-shaped event dicts out (plain mode prints their
``message``; the apps render their fields).
"""

from __future__ import annotations

from typing import Any

from cobrowse.protocol.untrusted import Field, clean
from cobrowse.trust.credential import Verdict
from cobrowse.trust.tripwire import GateAnswer

UNVERIFIED_WARNING = (
    "Real support staff from a company you trust can prove who they are; this agent did not. "
    "Never give control, passwords or payment details to someone who called you out of the blue. "
    "If something feels wrong: Ctrl-] f reports this session, Ctrl-] e ends it."
)


def customer_identity_event(verdict: Verdict, claimed_name: str) -> dict[str, Any]:
    """The customer's ``identity`` event: ``Verified: Alice from Acme``, or a loud warning.
    ``claimed_name`` is whatever the agent calls itself: shown escaped and capped."""
    claimed_name = clean(claimed_name, Field.NAME)
    event: dict[str, Any] = {"event": "identity", "status": verdict.status, "verified": verdict.verified,
                             "agent": verdict.agent, "org": verdict.org, "detail": verdict.detail}
    if verdict.verified:
        event["message"] = verdict.headline()
        return event
    who = f' (calls themself "{claimed_name}")' if claimed_name else ""
    event["message"] = f"!! UNVERIFIED AGENT{who}: {verdict.detail}. {UNVERIFIED_WARNING}"
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


def control_gate_event(answer: GateAnswer, verdict: Verdict | None, keys: str) -> dict[str, Any]:
    """The tripwire's answer to a first (or too early) grant of control; ``keys`` says how to
    confirm (``Ctrl-] g`` / ``Ctrl-] y``)."""
    why = verdict.detail if verdict is not None else "no agent has proved who they are yet"
    if answer.state == "armed":
        message = (f"!! WAIT: this agent is NOT verified ({why}). With control they can type anything in your "
                   f"terminal. If you are sure, wait {answer.wait:.0f} s, then press {keys} again to confirm.")
    else:
        message = f"not yet: wait {answer.wait:.0f} more second(s), then press {keys} again to give control"
    return {"event": "control_confirm", "state": answer.state, "wait_s": round(answer.wait, 1), "message": message}

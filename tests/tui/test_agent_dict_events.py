"""A dict event from code not yet typed reaches the agent console as its class."""

from __future__ import annotations

import pytest

from cobrowse.policy.agent_commands import ConsentLevel
from cobrowse.policy.agent_events import AgentError, AgentWarning, ChatMessage, ConsentChanged, Side, StepsChanged
from cobrowse.policy.events import as_json
from cobrowse.policy.session_events import CodeShown, PeerBack, PeerLeft, Reconnecting, Resumed, SessionEnded, VoiceChanged
from tests.policy.test_session_events import CASES
from tests.tui.agent_dict_events import Noted, typed


@pytest.mark.parametrize(("event", "legacy"), CASES, ids=[f"{e.KIND}-{i}" for i, (e, _) in enumerate(CASES)])
def test_each_runtime_dict_becomes_the_class_the_runtime_emits(event: object, legacy: dict) -> None:
    again = typed(legacy)
    assert again is not None
    if isinstance(event, (CodeShown, PeerLeft, PeerBack, Reconnecting, Resumed, SessionEnded, VoiceChanged)):
        assert again == event
    elif legacy["event"] in ("warning", "error"):
        assert isinstance(again, AgentWarning if legacy["event"] == "warning" else AgentError)
        assert again.message == legacy["message"] and str(again.kind or "") == str(legacy.get("kind", ""))
    else:
        assert type(again) is type(event)


def test_agent_events_and_notes() -> None:
    assert typed({"event": "chat", "from": "customer", "text": "hi"}) == ChatMessage(Side.CUSTOMER, "hi")
    assert typed({"event": "consent", "level": "control"}) == ConsentChanged(ConsentLevel.CONTROL)
    assert typed({"event": "consent", "level": "\x1b[31mroot"}) == ConsentChanged(ConsentLevel.VIEW)  # junk: the safe level
    assert typed({"event": "steps", "title": "T", "steps": []}) == StepsChanged({"title": "T", "steps": []})
    assert typed({"event": "receipt", "path": "/x", "message": "receipt of this session"}) == Noted("receipt", "receipt of this session")
    assert typed({"event": "pointer", "rows": []}) is None  # nothing the console shows
    reconnecting = typed({"event": "connection", "state": "reconnecting", "attempt": 2, "cause": "network", "message": "m"})
    assert isinstance(reconnecting, Reconnecting) and reconnecting.attempt == 2
    ended = SessionEnded("agent_ended", "bye", {"feedback": {"status": "skipped", "solved": None, "rating": None}})
    assert typed(as_json(ended)) == ended

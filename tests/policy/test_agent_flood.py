"""A hostile customer's flood of the messages a person produces (chat, consent flips, answers)
is bounded on the agent's side as the agent's is on the customer's: past the budget a message
does nothing but count, the agent is told once at once and then once per quiet period."""

from __future__ import annotations

from cobrowse.policy.agent import FROM_CUSTOMER_BUDGETS, AgentPolicy
from cobrowse.policy.agent_events import AgentWarning, ChatMessage, ConsentChanged, ScreenChanged, Side
from cobrowse.protocol import messages as m
from cobrowse.protocol.inbound import NOTICE_EVERY
from cobrowse.screen.sync import ScreenSender


def test_a_chat_flood_is_cut_at_its_burst_and_told_once_then_counted() -> None:
    policy = AgentPolicy()
    burst = int(FROM_CUSTOMER_BUDGETS["chat"].burst)
    events = [e for i in range(500) for e in policy.receive(m.Chat(f"spam {i}"), 0.0).events]
    chats = [e for e in events if isinstance(e, ChatMessage)]
    warnings = [e for e in events if isinstance(e, AgentWarning)]
    assert [c.text for c in chats] == [f"spam {i}" for i in range(burst)]
    assert len(warnings) == 1 and warnings[0].kind == "flood" and "'chat'" in warnings[0].message
    # After the quiet period the count comes with the next message, whatever it is; chat flows again.
    later = policy.receive(m.Chat("hello again"), NOTICE_EVERY + 1).events
    assert isinstance(later[0], AgentWarning) and f"ignored {500 - burst - 1} more 'chat'" in later[0].message
    assert later[1:] == [ChatMessage(Side.CUSTOMER, "hello again")]


def test_a_person_pace_is_never_cut() -> None:
    policy = AgentPolicy()
    got = 0
    for i in range(200):  # two messages a second for 100 s, alternating consent
        plan = policy.receive(m.Consent("control" if i % 2 else "view"), i * 0.5)
        got += sum(isinstance(e, ConsentChanged) for e in plan.events)
        assert not any(isinstance(e, AgentWarning) for e in plan.events)
    assert got == 200


def test_screens_are_not_budgeted_here() -> None:
    policy = AgentPolicy()
    sender = ScreenSender(20, 3)
    for i in range(300):
        sender.feed(b"%d\r\n" % i)
        frame = sender.poll(float(i))  # the sender paces its frames; the agent gets them at once
        assert frame is not None
        events = policy.receive(m.Screen(frame.to_dict()), 0.0).events
        assert [type(e) for e in events] == [ScreenChanged]
    assert policy.screen_frames == 300


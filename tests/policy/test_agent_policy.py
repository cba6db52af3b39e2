"""AgentPolicy, synchronously: commands, the customer's messages, recording consent, the
feedback wait in every order, the identity proof. No relay, no clock, no event loop."""

from __future__ import annotations

import base64
import random

import pytest

from cobrowse.playbook import parse_playbook
from cobrowse.policy import agent_commands as c
from cobrowse.policy.agent import AgentPolicy, FeedbackCame, Plan, StartRecorder, StopRecorder
from cobrowse.policy.agent_commands import CommandError, ConsentLevel, StepStatus
from cobrowse.policy.agent_events import (
    AgentError,
    AgentWarning,
    ChatMessage,
    ConsentChanged,
    FeedbackStatus,
    RecordingChanged,
    RecordingState,
    ScreenChanged,
    Side,
    StepsChanged,
    SuggestionAnswer,
    SuggestionAnswered,
    screen_json,
)
from cobrowse.policy.events import as_json
from cobrowse.protocol import messages as m
from cobrowse.screen.sync import ScreenSender
from cobrowse.trust import OrgKey
from cobrowse.trust.credential import verify

STEPS = {"title": "Fix it", "current": 1, "finished": False,
         "steps": [{"title": "one", "status": "done"}, {"title": "two", "status": "failed"},
                   {"title": "three", "status": "pending"}]}


def run(policy: AgentPolicy, cmd: c.AgentCommand) -> Plan:
    return policy.command(cmd, paired=True)


def test_nothing_but_end_runs_before_pairing() -> None:
    policy = AgentPolicy()
    with pytest.raises(CommandError, match="'chat' needs a paired session"):
        policy.command(c.Chat("hi"), paired=False)
    policy.check(c.End(), paired=False)
    policy.check(c.Keys, paired=True)  # a kind of command, before its fields are known


def test_chat_and_control_requests_send_one_message_each() -> None:
    policy = AgentPolicy()
    assert run(policy, c.Chat("hello")).send == [m.Chat("hello")]
    assert run(policy, c.RequestControl(ConsentLevel.SUGGEST)).send == [m.RequestControl("suggest")]
    with pytest.raises(CommandError, match="non-empty"):
        c.Chat("   ")
    with pytest.raises(CommandError, match="longer than"):
        c.Chat("x" * (m.MAX_TEXT + 1))
    with pytest.raises(CommandError, match='"suggest" or "control"'):
        c.RequestControl(ConsentLevel.VIEW)


def test_keys_need_the_customers_grant_and_stop_when_it_is_withdrawn() -> None:
    policy = AgentPolicy()
    with pytest.raises(CommandError, match="has not granted control"):
        run(policy, c.Keys("ls\r"))
    plan = policy.receive(m.Consent("control"), 0.0)
    assert plan.events == [ConsentChanged(ConsentLevel.CONTROL)] and policy.consent is ConsentLevel.CONTROL
    assert run(policy, c.Keys("ls\r")).send == [m.Keys("ls\r")]
    policy.receive(m.Consent("view"), 0.0)
    with pytest.raises(CommandError, match="has not granted control"):
        run(policy, c.Keys("ls\r"))


def test_suggestions_are_checked_here_and_answered_once() -> None:
    policy = AgentPolicy()
    with pytest.raises(CommandError, match="one printable line; not sent"):
        c.Suggest("true\rrm -rf ~")
    assert run(policy, c.Suggest("ls -la")).send == [m.Suggest(1, "ls -la")]
    assert run(policy, c.Suggest("git status")).send == [m.Suggest(2, "git status")]
    assert policy.receive(m.SuggestAnswer(1, "pasted"), 0.0).events == [
        SuggestionAnswered(1, "ls -la", SuggestionAnswer.PASTED)]
    assert policy.receive(m.SuggestAnswer(1, "pasted"), 0.0).events == []  # answered already
    refused = policy.receive(m.SuggestAnswer(2, "refused", "not one line"), 0.0).events
    assert as_json(refused[0]) == {"event": "suggestion", "id": 2, "command": "git status", "answer": "refused",
                                   "reason": "not one line",
                                   "message": "the customer's cobrowse refused suggestion 2: not one line"}
    assert policy.receive(m.SuggestAnswer(9, "declined"), 0.0).events == []  # never suggested


def test_steps_need_a_running_playbook_and_the_state_comes_from_the_customer() -> None:
    policy = AgentPolicy()
    with pytest.raises(CommandError, match="no playbook is running"):
        run(policy, c.Step.mark(0, StepStatus.DONE))
    pushed = run(policy, c.PushSteps((("title", "T"), ("steps", [{"title": "a", "command": "ls"}]))))
    assert isinstance(pushed.send[0], m.PushPlaybook) and pushed.send[0].playbook["title"] == "T"
    with pytest.raises(CommandError):
        run(policy, c.PushSteps((("title", "T"), ("steps", "not a list"))))
    assert policy.receive(m.Steps(STEPS), 0.0).events == [StepsChanged(STEPS)]
    assert run(policy, c.Step.mark(2, StepStatus.SKIPPED)).send == [m.StepRequest("mark", 2, "skipped")]
    assert run(policy, c.Step.back()).send == [m.StepRequest("back", -1, "")]
    assert policy.receive(m.Steps({"error": "x" * 900}), 0.0).events == [AgentError("x" * 500)]
    assert policy.steps_state == STEPS  # an error does not replace the state
    with pytest.raises(CommandError, match='"status" must be one of pending, active, done, skipped, failed'):
        c.Step(c.StepAction.MARK, 1, "finished")  # type: ignore[arg-type]


def test_a_loaded_playbook_is_pushed_whole() -> None:
    playbook = parse_playbook("# Title\n\n## Step one\n\n```\nls\n```\n", "x.md")
    plan = AgentPolicy().push(playbook)
    assert isinstance(plan.send[0], m.PushPlaybook) and plan.send[0].playbook["title"] == "Title"


def test_pointer_rows_patterns_and_clearing() -> None:
    policy = AgentPolicy()
    assert run(policy, c.Point.at_rows([5, 3])).send == [m.Pointer(3, 5)]
    assert run(policy, c.Point(pattern="^err")).send == [m.Pointer(pattern="^err")]
    assert run(policy, c.Point()).send == [m.Pointer()]
    for bad in ([], [1, 2, 3], [-1], [True], "3"):
        with pytest.raises(CommandError, match="0-based screen rows"):
            c.Point.at_rows(bad)  # type: ignore[arg-type]
    with pytest.raises(CommandError, match="not a valid regex"):
        c.Point(pattern="(")


def test_redaction_patterns_are_checked_and_added_up() -> None:
    policy = AgentPolicy(redact_patterns=("ACME-[0-9]+",))
    assert policy.on_paired().send == [m.Redact(["ACME-[0-9]+"])]
    assert run(policy, c.Redact(("tok_[a-z]+", "ACME-[0-9]+"))).send == [m.Redact(["tok_[a-z]+", "ACME-[0-9]+"])]
    assert policy.redact_patterns == ("ACME-[0-9]+", "tok_[a-z]+")
    with pytest.raises(CommandError):
        c.Redact(("[unclosed",))
    with pytest.raises(CommandError, match='"patterns"'):
        c.Redact(())
    assert AgentPolicy().on_paired().send == []


def test_recording_starts_only_at_the_customers_yes() -> None:
    with pytest.raises(CommandError, match="not available"):
        run(AgentPolicy(), c.Record(True))
    policy = AgentPolicy(can_record=True)
    with pytest.raises(CommandError, match="not recording"):
        run(policy, c.Record(False))
    assert policy.receive(m.Recording("granted"), 0.0).effects == []  # nobody asked: a hostile yes starts nothing
    plan = run(policy, c.Record(True))
    assert plan.send == [m.RecordRequest(True)] and policy.recording is RecordingState.REQUESTED
    assert as_json(plan.events[0]) == {"event": "recording", "state": "requested",
                                       "message": "asked the customer for consent to record"}
    with pytest.raises(CommandError, match="waiting for the customer"):
        run(policy, c.Record(True))
    assert policy.receive(m.Recording("granted"), 0.0).effects == [StartRecorder()]
    event = policy.recording_on("20261206-000000-abcd", "/r/x.cast")
    assert as_json(event) == {"event": "recording", "state": "on", "id": "20261206-000000-abcd",
                              "path": "/r/x.cast", "message": "recording: the customer agreed"}
    with pytest.raises(CommandError, match="already recording"):
        run(policy, c.Record(True))
    stopped = policy.receive(m.Recording("stopped"), 0.0)
    assert stopped.effects == [StopRecorder("stopped by the customer")]
    assert as_json(stopped.events[0]) == {"event": "recording", "state": "stopped", "by": "customer",
                                          "message": "the customer stopped the recording"}


def test_the_agent_stops_a_recording_and_a_late_denial_says_nothing() -> None:
    policy = AgentPolicy(can_record=True)
    run(policy, c.Record(True))
    plan = run(policy, c.Record(False))
    assert plan.send == [m.RecordRequest(False)] and plan.effects == [StopRecorder("stopped by the agent")]
    assert as_json(plan.events[0]) == {"event": "recording", "state": "stopped", "by": "agent",
                                       "message": "recording stopped"}
    assert policy.receive(m.Recording("denied"), 0.0).events == []
    run(policy, c.Record(True))
    assert policy.receive(m.Recording("denied"), 0.0).events == [RecordingChanged(
        RecordingState.DENIED, Side.CUSTOMER, message="the customer declined to be recorded")]


@pytest.mark.parametrize("order", ["answer", "skip_then_answer", "answer_then_skip", "timeout", "gone",
                                   "answer_before_end", "skipped_both", "gone_after_answer"])
def test_every_ending_with_feedback(order: str) -> None:
    """How the ``ended`` event's feedback comes out of each order of answer, skip and close."""
    policy = AgentPolicy()
    assert policy.wants_feedback("agent_ended", asked=True, peer_present=True)
    assert not policy.wants_feedback("agent_ended", asked=True, peer_present=False)
    assert not policy.wants_feedback("customer_ended", asked=True, peer_present=True)
    answer = m.Feedback("no", 4)
    if order == "answer_before_end":
        assert policy.receive(answer, 0.0).effects == []  # not asked yet: ignored
    policy.ending = True
    wait = policy.feedback_wait(60)
    assert as_json(wait) == {"event": "feedback_wait", "timeout_s": 60,
                             "message": "asked the customer whether the problem was solved (waiting up to 60 s)"}
    if order in ("answer", "answer_then_skip", "gone_after_answer"):
        assert policy.receive(answer, 0.0).effects == [FeedbackCame()]
    if order == "skip_then_answer":
        assert policy.skip_feedback().effects == [FeedbackCame()]
        policy.receive(answer, 0.0)
    if order == "answer_then_skip":
        policy.skip_feedback()
    if order == "skipped_both":
        policy.receive(m.Feedback("", 0), 0.0)
    policy.feedback_over(link_gone=order in ("gone", "gone_after_answer"))
    expected = {
        "answer": ("answered", False, 4), "answer_then_skip": ("answered", False, 4),
        "gone_after_answer": ("answered", False, 4), "skip_then_answer": ("not_waited", None, None),
        "timeout": ("timeout", None, None), "answer_before_end": ("timeout", None, None),
        "gone": ("gone", None, None), "skipped_both": ("skipped", None, None),
    }[order]
    assert policy.end_summary(None)["feedback"] == dict(zip(("status", "solved", "rating"), expected))
    assert policy.feedback is not None and policy.feedback.status is FeedbackStatus(expected[0])


def test_the_end_summary_counts_steps_and_names_the_recording() -> None:
    policy = AgentPolicy()
    assert policy.end_summary(None) == {}
    policy.receive(m.Steps(STEPS), 0.0)
    assert policy.end_summary("rec-1") == {
        "recording": "rec-1",
        "summary": {"playbook": "Fix it", "steps": {"pending": 1, "active": 0, "done": 1, "skipped": 0, "failed": 1},
                    "failed": ["two"]}}
    assert policy.end_feedback(None) is False and policy.end_feedback(True) is True
    assert AgentPolicy(ask_feedback=True).end_feedback(None) is True


def test_screens_are_mirrored_and_a_bad_frame_asks_for_a_fresh_one() -> None:
    sender = ScreenSender(20, 3)
    sender.feed(b"hello\r\nworld")
    frame = sender.poll(0.0)
    assert frame is not None
    policy = AgentPolicy()
    plan = policy.receive(m.Screen(frame.to_dict()), 0.0)
    assert policy.screen_frames == 1 and policy.mirror.state is not None
    event = plan.events[0]
    assert isinstance(event, ScreenChanged)
    assert as_json(event) == screen_json(policy.mirror.state)
    assert as_json(event)["lines"][:2] == ["hello", "world"] and "styles" not in as_json(event)
    policy.styles = True
    sender.feed(b"!")
    again = policy.receive(m.Screen(sender.poll(1.0).to_dict()), 0.0)  # type: ignore[union-attr]
    assert "styles" in as_json(again.events[0])
    bad = AgentPolicy().receive(m.Screen({"kind": "diff", "rows": {}}), 0.0)
    assert bad.send == [m.Resync()] and isinstance(bad.events[0], AgentWarning)
    assert as_json(bad.events[0])["kind"] == "screen"


def test_the_customers_other_messages_become_typed_events() -> None:
    policy = AgentPolicy()
    assert policy.receive(m.Chat("hi"), 0.0).events == [ChatMessage(text="hi")]
    assert as_json(policy.receive(m.Chat("hi"), 0.0).events[0]) == {"event": "chat", "from": "customer", "text": "hi"}
    assert as_json(policy.receive(m.Sharing(False), 0.0).events[0]) == {"event": "sharing", "active": False}
    assert policy.sharing is False
    unknown = policy.receive(m.Unknown("teleport"), 0.0)
    assert as_json(unknown.events[0]) == {"event": "warning", "kind": "unknown",
                                          "message": "ignored a 'teleport' message from a newer client"}
    seen = policy.receive(m.IdentitySeen("verified", "Alice", "Acme"), 0.0)
    assert as_json(seen.events[0]) == {"event": "identity", "seen_by": "customer", "status": "verified",
                                       "verified": True, "agent": "Alice", "org": "Acme", "detail": "",
                                       "message": "the customer sees you as: Verified: Alice from Acme"}
    assert policy.seen_as is not None and policy.seen_as.verified
    assert policy.on_peer(True, paired=True).send == [m.Resync()]
    assert policy.on_peer(False, paired=True).send == [] and policy.on_peer(True, paired=False).send == []


def test_the_identity_proof_signs_this_sessions_binding() -> None:
    rng = random.Random(7)
    book = OrgKey.generate("Acme", rng.randbytes)
    book, identity = book.issue("Alice", 1_800_000_000, 30, rng.randbytes)
    policy = AgentPolicy()
    assert policy.proof(None, b"b" * 32) == [] and policy.proof(identity, None) == []
    [proof] = policy.proof(identity, b"b" * 32)
    assert isinstance(proof, m.AgentProof)
    signature = base64.b64decode(proof.proof)
    trusted = [book.trust(1_800_000_000)]
    assert verify(proof.credential, signature, b"b" * 32, trusted, 1_800_000_100).status == "verified"
    assert verify(proof.credential, signature, b"c" * 32, trusted, 1_800_000_100).status != "verified"


def test_audit_summaries_never_keep_what_was_typed() -> None:
    assert c.Keys("secret\r").summary() == {"cmd": "keys", "bytes": 7}
    assert c.Chat("private words").summary() == {"cmd": "chat"}
    assert c.Step.mark(2, StepStatus.DONE).summary() == {"cmd": "step", "index": 2, "status": "done"}
    assert c.Step.back().summary() == {"cmd": "step", "action": "back"}
    assert c.RequestControl().summary() == {"cmd": "request_control", "level": "control"}
    assert c.PushSteps((("title", "T"), ("steps", []))).summary() == {"cmd": "steps", "title": "T"}
    assert c.Record(False).summary() == {"cmd": "record", "on": False}


def test_a_moment_for_an_answer_still_on_the_direct_path() -> None:
    from cobrowse.policy.agent import DIRECT_PATH_GRACE

    policy = AgentPolicy()
    policy.ending = True
    assert policy.feedback_grace(link_gone=True, direct=True) == DIRECT_PATH_GRACE > 0
    assert policy.feedback_grace(link_gone=True, direct=False) == 0  # the relay keeps the order
    assert policy.feedback_grace(link_gone=False, direct=True) == 0  # the wait timed out
    policy.receive(m.Feedback("yes", 5), 0.0)
    assert policy.feedback_grace(link_gone=True, direct=True) == 0  # the answer is here

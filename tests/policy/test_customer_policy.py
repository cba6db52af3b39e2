"""CustomerPolicy's decisions, synchronously: consent, the tripwire, identity, recording,
suggestions, the pointer, steps, sharing, rate limits and ending (no relay, no loop)."""

from __future__ import annotations

import base64
import os
import random

from cobrowse.policy.customer import END_CONFIRM, CustomerPolicy
from cobrowse.policy.customer_consent import HELLO_WAIT
from cobrowse.policy.customer_events import (ConsentChanged, EndSession, Expedite, Level, Notice, NoticeKind,
                                             RecordingState, ResyncScreen, SharingChanged, WriteProgram)
from cobrowse.protocol import messages as m
from cobrowse.protocol.inbound import Budget, RateLimits
from cobrowse.trust import OrgKey
from tests.policy.customer_harness import Drive

NOW = 1_800_000_000


def ready_prompt(d: Drive, level: str = "control") -> int:
    shown = d.events_in(d.agent(m.RequestControl(level)), "consent_prompt")
    assert len(shown) == 1
    d.later(1.1)  # past the prompt's arming
    return int(shown[0]["id"])


def test_view_only_at_first_and_the_agent_is_told_on_pairing() -> None:
    d = Drive()
    assert d.policy.desk.level == Level.VIEW == "view"
    assert d.sent == [m.Consent("view")]
    assert any(isinstance(e, ResyncScreen) for e in d.effects)


def test_keys_reach_the_program_only_with_control() -> None:
    d = Drive()
    out = d.agent(m.Keys("ls\r"))
    assert not any(isinstance(e, WriteProgram) for e in out)
    (notice,) = d.events_in(out, "notice")
    assert notice["kind"] == "ignored" and "not granted control" in notice["message"]
    assert d.sent_in(out) == [m.Consent("view")]  # the agent learns why
    prompt = ready_prompt(d)
    d.answer(True, prompt)  # unverified: the tripwire's first press only warns
    assert d.policy.desk.level == "view" and d.events("control_confirm")[-1]["state"] == "armed"
    d.later(5.0)
    out = d.answer(True, prompt)
    assert d.policy.desk.level == "control" and m.Consent("control") in d.sent_in(out)
    out = d.agent(m.Keys("ls\r"))
    assert out[0] == Expedite() and out[1] == WriteProgram(b"ls\r") and d.events_in(out, "control_keys") == [
        {"event": "control_keys", "bytes": 3}]


def test_the_tripwire_refuses_a_second_press_too_soon_and_a_revoke_resets_it() -> None:
    d = Drive()
    d.command("grant_control")
    assert d.events("control_confirm")[-1]["state"] == "armed"
    d.later(2)
    d.command("grant_control")
    assert d.events("control_confirm")[-1]["state"] == "wait" and d.policy.desk.level == "view"
    d.command("revoke")
    d.later(4)
    d.command("grant_control")  # armed again: the revoke forgot the first press
    assert d.events("control_confirm")[-1]["state"] == "armed" and d.policy.desk.level == "view"
    d.later(5)
    out = d.command("grant_control")
    assert d.policy.desk.level == "control" and [e for e in out if isinstance(e, ConsentChanged)] == [
        ConsentChanged(Level.CONTROL)]


def test_a_verified_agent_gets_control_on_the_first_press() -> None:
    acme = OrgKey.generate("Acme", random.Random(1).randbytes)
    acme, alice = acme.issue("Alice", NOW, 30, os.urandom)
    d = Drive(trusted=[acme.trust(NOW)])
    binding = b"b" * 32
    proof = base64.b64encode(alice.prove(binding)).decode()
    d.agent(m.AgentProof(alice.credential.to_dict(), proof), binding=binding, wall=NOW)
    d.take(d.policy.hello(m.Hello("agent", "cobrowse x", "Alice")))
    (identity,) = d.events("identity")
    assert identity["verified"] and identity["message"] == "Verified: Alice from Acme"
    assert d.sent[-1] == m.IdentitySeen("verified", "Alice", "Acme", identity["detail"])
    d.command("grant_control")
    assert d.policy.desk.level == "control" and not d.events("control_confirm")


def test_an_agent_whose_hello_never_comes_is_judged_unverified_after_the_wait() -> None:
    d = Drive()
    d.tick()
    assert not d.events("identity")
    d.later(HELLO_WAIT)
    d.tick()
    (identity,) = d.events("identity")
    assert not identity["verified"] and identity["message"].startswith("!! UNVERIFIED AGENT")
    d.take(d.policy.hello(m.Hello("agent", "cobrowse x", "[b]Bob[/b]")))
    assert len(d.events("identity")) == 1  # judged once


def test_a_prompt_ignores_an_answer_in_its_first_second_and_times_out_as_a_refusal() -> None:
    d = Drive(consent_timeout=30.0)
    d.agent(m.RequestControl("suggest"))
    d.later(0.5)
    d.command("allow")
    assert "the question on screen is new" in d.events("notice")[-1]["message"]
    d.later(30)
    out = d.tick()
    assert d.events_in(out, "notice")[0]["message"].startswith("no answer: refused suggestions")
    assert d.policy.desk.level == "view" and m.Consent("view") in d.sent_in(out)


def test_three_refusals_and_the_agent_is_refused_without_asking() -> None:
    d = Drive()
    for _ in range(3):
        ready_prompt(d, "suggest")
        d.command("deny")
    out = d.agent(m.RequestControl("suggest"))
    assert not d.events_in(out, "consent_prompt")
    assert m.Consent("view") in d.sent_in(out) and any(isinstance(s, m.Chat) for s in d.sent_in(out))


def test_recording_is_asked_granted_and_stopped_by_one_key() -> None:
    d = Drive()
    (prompt,) = d.events_in(d.agent(m.RecordRequest(True)), "recording_prompt")
    d.later(1.1)
    out = d.answer(True, prompt["id"])
    assert d.events_in(out, "recording")[0] == {"event": "recording", "state": "granted", "by": "customer",
                                               "message": "RECORDING: the agent records this session (Ctrl-] x stops it)"}
    assert m.Recording("granted") in d.sent_in(out)
    assert d.sent_in(d.agent(m.RecordRequest(True))) == [m.Recording("granted")]  # already: no new question
    out = d.command("stop_recording")
    assert d.events_in(out, "recording")[0]["state"] == RecordingState.STOPPED and m.Recording("stopped") in d.sent_in(out)
    assert d.events_in(d.command("stop_recording"), "notice")[0]["message"] == "the session is not being recorded"


def test_a_suggestion_is_pasted_without_enter_or_refused_with_the_reason() -> None:
    d = Drive()
    out = d.agent(m.Suggest(7, "rm -rf /tmp/x\r"))
    (refused,) = d.events_in(out, "notice")
    assert refused["kind"] == NoticeKind.SUGGESTION_REFUSED and refused["id"] == 7
    assert d.sent_in(out)[0].answer == "refused"  # type: ignore[attr-defined]
    d.agent(m.Suggest(8, "systemctl restart cups"))
    assert d.events("suggestion")[-1]["command"] == "systemctl restart cups"
    out = d.command("paste_suggestion")
    assert WriteProgram(b"systemctl restart cups") in out and m.SuggestAnswer(8, "pasted") in d.sent_in(out)
    assert d.events_in(d.command("decline_suggestion"), "notice")[0]["message"] == "no suggested command to answer"


def test_a_paste_into_an_alternate_screen_is_kept_for_later() -> None:
    d = Drive()
    d.agent(m.Suggest(1, "ls"))
    from cobrowse.screen.state import Modes
    d.screen.mode = Modes(False, False, True)
    out = d.command("paste_suggestion")
    assert not any(isinstance(e, WriteProgram) for e in out) and d.policy.suggestion is not None
    out = d.command("decline_suggestion")
    assert d.sent_in(out) == [m.SuggestAnswer(1, "declined")] and d.policy.suggestion is None


def test_the_pointer_names_what_it_covers() -> None:
    d = Drive()
    d.screen.rows = ["$ lpstat", "printer hp is idle", "$ "]
    (event,) = d.events_in(d.agent(m.Pointer(1, 1)), "pointer")
    assert event == {"event": "pointer", "rows": [1], "pattern": "", "message": "the agent points at row 2: printer hp is idle"}
    (event,) = d.events_in(d.agent(m.Pointer(pattern="idle")), "pointer")
    assert event["rows"] == [1]
    (event,) = d.events_in(d.agent(m.Pointer()), "pointer")
    assert event == {"event": "pointer", "cleared": True, "message": "the agent cleared the highlight"}


def test_steps_are_sent_when_they_change_but_not_while_sharing_is_paused() -> None:
    d = Drive()
    book = {"title": "Fix the printer", "steps": [{"title": "Check"}, {"title": "Restart"}]}
    out = d.agent(m.PushPlaybook(book))
    assert d.events_in(out, "notice")[0]["message"] == "the agent started a guide: Fix the printer"
    assert d.events_in(out, "steps")[0]["title"] == "Fix the printer"
    assert [s for s in d.sent_in(out) if isinstance(s, m.Steps)]
    out = d.command("pause")
    assert SharingChanged(False) in out and m.Sharing(False) in d.sent_in(out)
    out = d.command("step_done")
    assert d.events_in(out, "steps")[0]["current"] == 1 and not d.sent_in(out)
    out = d.command("pause")
    assert ResyncScreen() in out and m.Sharing(True) in d.sent_in(out)
    assert [s for s in d.sent_in(out) if isinstance(s, m.Steps)]  # sent on resume
    out = d.agent(m.StepRequest("goto", 9))
    assert "error" in d.sent_in(out)[0].state  # type: ignore[attr-defined]


def test_a_flood_is_cut_and_told_once_then_counted() -> None:
    d = Drive()
    d.policy.limits = RateLimits({"chat": Budget(1, 2)})
    for _ in range(10):
        d.agent(m.Chat("hi"))
    assert len(d.events("chat")) == 2
    (notice,) = d.events("notice")
    assert notice["kind"] == "ignored" and "'chat'" in notice["message"]
    d.later(10)
    d.tick()
    assert d.events("notice")[-1]["count"] == 7


def test_ending_takes_two_presses_within_the_window() -> None:
    d = Drive()
    (notice,) = d.command("end")
    assert isinstance(notice, Notice) and notice.kind == NoticeKind.CONFIRM_END
    d.later(END_CONFIRM + 0.1)
    assert not any(isinstance(e, EndSession) for e in d.command("end"))  # too late: asked again
    d.later(1)
    assert d.command("end") == [EndSession("customer_ended")]


def test_before_pairing_one_press_ends_and_chat_is_not_sent() -> None:
    d = Drive(paired=False)
    assert d.events_in(d.command("chat", "hello"), "notice")[0]["message"].startswith("not connected")
    assert d.command("end") == [EndSession()]


def test_the_prefix_key_reaches_commands_and_everything_else_the_program() -> None:
    d = Drive()
    out = d.keys(b"ls\x1dcbonjour\r")
    assert out[0] == WriteProgram(b"ls") and m.Chat("bonjour") in d.sent_in(out)
    assert CustomerPolicy  # the class is the public entry point


def test_guide_mode_alone_gets_help_ends_without_asking_and_pastes_the_steps_command() -> None:
    from cobrowse.playbook import playbook_from_dict
    from cobrowse.policy.customer_events import EndGuide, GetHelp

    d = Drive(paired=False, guide=True)
    d.take(d.policy.start_playbook(playbook_from_dict({"title": "T", "steps": [{"title": "One", "command": "uname -a"}]})))
    assert d.keys(b"\x1d!") == [GetHelp()]
    out = d.keys(b"\x1da")  # no suggestion from an agent: the step's command, never with Enter
    assert out[0] == WriteProgram(b"uname -a")
    assert d.keys(b"\x1de") == [EndGuide()]  # alone: nothing to confirm
    d.policy.alone = False
    assert d.keys(b"\x1de") == [EndSession()]  # a session exists but is not paired yet: one press
    assert "! get help" in d.events_in(d.keys(b"\x1d?"), "notice")[0]["message"]


def test_outside_guide_mode_the_help_key_is_only_help() -> None:
    d = Drive()
    (notice,) = d.events_in(d.keys(b"\x1d!"), "notice")
    assert "! get help" not in notice["message"] and "e end" in notice["message"]


def test_events_built_by_the_trust_helpers_keep_their_shape_and_any_key_they_grow() -> None:
    from cobrowse.policy.customer_events import ControlConfirm, IdentityShown, from_shape
    from cobrowse.trust import no_proof
    from cobrowse.trust.display import control_gate_event, customer_identity_event
    from cobrowse.trust.tripwire import GateAnswer

    shape = customer_identity_event(no_proof(True), "Bob")
    assert from_shape(IdentityShown, shape).to_json() == shape
    assert from_shape(IdentityShown, {**shape, "lang": "fa"}).to_json() == {**shape, "lang": "fa"}
    gate = control_gate_event(GateAnswer("wait", 2.5), None, "Ctrl-] g")
    assert from_shape(ControlConfirm, gate).to_json() == gate

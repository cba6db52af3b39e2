"""What a customer reads, in their language: scam warnings, identity, consent prompts, ends, errors."""

from __future__ import annotations

import pytest

from cobrowse.errors import RelayRejected, RelayUnavailable, SessionEnded, WrongCode
from cobrowse.i18n.catalogues import translator
from cobrowse.i18n.ends import end_text, error_text, wrong_code_text
from cobrowse.i18n.language import Language
from cobrowse.i18n.text import ENGLISH, FSI, LRI, PDI
from cobrowse.protocol.messages import Hello, decode, encode
from cobrowse.protocol.prompts import PromptKind, PromptQueue, Shown
from cobrowse.trust.credential import Verdict
from cobrowse.trust.display import control_gate_event, customer_identity_event
from cobrowse.trust.tripwire import GateAnswer

RU, ZH, FA = translator(Language.RU), translator(Language.ZH), translator(Language.FA)


def test_the_scam_warning_in_russian_keeps_its_keys_and_quotes_the_name_safely() -> None:
    event = customer_identity_event(Verdict("none", detail="no credential"), "Ivan \x1b[32m✓ Verified", RU)
    message = event["message"]
    assert message.startswith("!! НЕПОДТВЕРЖДЁННЫЙ СПЕЦИАЛИСТ (называет себя «Ivan \\x1b[32m✓ Verified»)")
    assert "он не подтвердил, кто он" in message and "Ctrl-] f" in message and "Ctrl-] e" in message
    assert "\x1b" not in message
    assert event["status"] == "none" and event["verified"] is False  # the fields stay machine-readable


@pytest.mark.parametrize("tr", [ZH, FA], ids=["zh", "fa"])
def test_every_verdict_has_a_reason_in_the_customers_language(tr: object) -> None:
    for status in ("none", "expired", "revoked", "wrong_org", "forged"):
        message = customer_identity_event(Verdict(status, "Eve", "Acme", detail=f"detail of {status}"), "", tr)["message"]  # type: ignore[arg-type]
        assert "detail of" not in message and "UNVERIFIED" not in message


def test_a_verified_agent_in_persian_isolates_the_latin_names() -> None:
    message = customer_identity_event(Verdict("verified", "Alice", "Acme Corp"), "Alice", FA)["message"]
    assert message == f"تأییدشده: {FSI}Alice{PDI} از {FSI}Acme Corp{PDI}"


def test_the_control_cool_down_in_chinese() -> None:
    armed = control_gate_event(GateAnswer("armed", 10.0), None, "Ctrl-] g", ZH)["message"]
    assert "【未经验证】" in armed and "10 秒" in armed and "Ctrl-] g" in armed
    early = control_gate_event(GateAnswer("early", 3.2), None, "Ctrl-] g", RU)["message"]
    assert early.startswith("ещё рано: подождите ещё 3 секунды")


def test_english_is_what_it_was() -> None:
    event = customer_identity_event(Verdict("none", detail="no credential"), "Bob", ENGLISH)
    assert event["message"].startswith('!! UNVERIFIED AGENT (calls themself "Bob"): no credential. Real support')
    assert event["message"].endswith("If something feels wrong: Ctrl-] f reports this session, Ctrl-] e ends it.")
    early = control_gate_event(GateAnswer("early", 1.0), None, "Ctrl-] y", ENGLISH)["message"]
    assert early == "not yet: wait 1 more second, then press Ctrl-] y again to give control"


def test_the_consent_prompt_names_what_y_gives_in_each_language() -> None:
    (shown,) = PromptQueue().request(PromptKind.CONTROL, 0.0)
    assert isinstance(shown, Shown)
    assert shown.prompt.question(ENGLISH) == (
        "the agent asks to CONTROL your terminal (they could type and run commands): Ctrl-] y gives the agent "
        "CONTROL of your terminal; Ctrl-] n refuses (refused automatically in 30 s)")
    assert "Ctrl-] y даёт ему УПРАВЛЕНИЕ терминалом; Ctrl-] n — отказать" in shown.prompt.question(RU)
    assert "按 Ctrl-] y 将您终端的【控制权】交给客服人员" in shown.prompt.question(ZH)
    fa = shown.prompt.question(FA)
    assert f"{FSI}Ctrl-] y{PDI}" in fa and "«کنترل»" in fa and f"{FSI}30{PDI}" in fa
    (recording,) = PromptQueue().request(PromptKind.RECORDING, 0.0)
    assert isinstance(recording, Shown) and f"{LRI}Ctrl-] x{PDI}" in recording.prompt.question(FA)


def test_ends_and_errors() -> None:
    assert end_text("agent_ended", RU) == "специалист завершил сеанс"
    assert end_text("no_such_reason", RU) is None
    assert end_text("agent_ended", ENGLISH) == "the agent ended the session"
    # the customer reads their own end as theirs, in English as in every other language
    assert end_text("customer_ended", ENGLISH) == "you ended the session"
    assert end_text("customer_ended", RU) == "вы завершили сеанс"
    assert error_text(WrongCode(), ZH) == "代码错误，或有人试图拦截：请开始新的会话"
    assert error_text(RelayRejected("expired", "x"), RU) == "срок действия этого кода истёк: попросите новый код"
    # a limit's wait, when the relay said it, in the customer's language (it was dropped)
    assert error_text(RelayRejected("rate_limited", "x", 42), RU).endswith("попробуйте снова через 42 с")
    assert error_text(RelayRejected("rate_limited", "x", 42), ENGLISH).endswith("(too many attempts or sessions): try again in 42 s")
    assert error_text(RelayRejected("full", "x", 30), ZH).endswith("30 秒后重试")
    assert error_text(RelayRejected("rate_limited", "x"), ENGLISH).endswith("wait and try again")
    assert error_text(SessionEnded("peer_timeout"), FA) == "ارتباط طرف مقابل قطع شد و به\u200cموقع برنگشت: جلسه تمام شد"
    down = error_text(RelayUnavailable("cannot reach the relay at ws://h:1 (refused)"), RU)
    assert down.startswith("не удаётся связаться") and "ws://h:1" in down
    assert error_text(RelayUnavailable("cannot reach"), ENGLISH) == "cannot reach"
    assert wrong_code_text("customer", RU).startswith("неверный код: сверьте цифры")


def test_the_customers_hello_carries_a_known_language_only() -> None:
    assert decode(encode(Hello("customer", "cobrowse 0.1", "", "ru"))) == Hello("customer", "cobrowse 0.1", "", "ru")
    assert decode(encode(Hello("customer", "c", "", "ru_RU.UTF-8"))).lang == "ru"  # type: ignore[attr-defined]
    for junk in ("de", "\x1b[2J", "x" * 5000, "fa\u202e"):
        assert decode(encode(Hello("customer", "c", "", junk))).lang == ""  # type: ignore[attr-defined]
    assert decode(encode(Hello("agent", "c"))).lang == ""  # type: ignore[attr-defined]

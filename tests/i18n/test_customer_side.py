"""Plain mode, the keys' help and the customer policy's notices, in the customer's language;
the SAS words each side shows; a translated sentence reaching the guard whole."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "policy"))

from customer_harness import Drive  # noqa: E402

from cobrowse.cli.customer import GuideNotices, PlainNotices  # noqa: E402
from cobrowse.crypto import sas  # noqa: E402
from cobrowse.i18n.catalogues import translator  # noqa: E402
from cobrowse.i18n.language import Language  # noqa: E402
from cobrowse.i18n.text import ENGLISH, FSI, LRI, PDI, Translated, Translator  # noqa: E402
from cobrowse.plain.keymap import Front, guide_hint, help_text, hint, unknown_key  # noqa: E402
from cobrowse.policy.customer_events import ChatReceived, ConsentChanged, Level, SharingChanged, StepsChanged  # noqa: E402
from cobrowse.policy.session_events import EndReason, PeerHello, SessionEnded, SessionPaired  # noqa: E402
from cobrowse.protocol import messages as m  # noqa: E402
from cobrowse.protocol.untrusted import visible  # noqa: E402

RU, ZH, FA = translator(Language.RU), translator(Language.ZH), translator(Language.FA)
ENGLISH_SAS = sas.words_at((0, 1, 2))


def lines(capsys: pytest.CaptureFixture[str]) -> list[str]:
    return capsys.readouterr().err.splitlines()


def test_plain_mode_speaks_russian(capsys: pytest.CaptureFixture[str]) -> None:
    notices = PlainNotices(RU)
    notices(SessionPaired(ENGLISH_SAS))
    notices(PeerHello("agent", "Ivan", "cobrowse 1.0"))
    notices(ChatReceived("привет"))
    notices(ConsentChanged(Level.CONTROL))
    notices(SharingChanged(False))
    notices(SessionEnded(EndReason.AGENT_ENDED, "the agent ended the session"))
    out = lines(capsys)
    assert out[0] == f"[cobrowse] подключено. Сверьте эти слова со специалистом: {sas.localize(ENGLISH_SAS, Language.RU)}"
    assert sas.localize(ENGLISH_SAS, Language.RU) != ENGLISH_SAS
    assert out[1].startswith("[cobrowse] Ваш терминал виден: Ivan (только просмотр)")
    assert out[2] == "[cobrowse] Ivan: привет"
    assert out[3] == "[cobrowse] разрешение: УПРАВЛЕНИЕ (специалист может печатать в вашем терминале)"
    assert "Ctrl-] p" in out[4] and out[4].startswith("[cobrowse] показ приостановлен")
    assert out[5] == "[cobrowse] сеанс завершён: специалист завершил сеанс"


def test_plain_guide_steps_in_chinese_with_plural_forms(capsys: pytest.CaptureFixture[str]) -> None:
    guide = GuideNotices(ZH)
    steps = [{"title": "检查", "status": "pending"}, {"title": "推送", "status": "pending"}]
    guide(StepsChanged({"title": "git", "steps": steps, "current": 0}))
    guide(StepsChanged({"title": "git", "steps": [{**steps[0], "status": "done", "by": "agent"}, steps[1]], "current": 1}))
    out = lines(capsys)
    assert out[0] == "[cobrowse] 指南：git（共 2 步）"
    assert "[cobrowse] 第 1/2 步已完成：检查（客服人员标记）" in out
    assert "[cobrowse] 第 2/2 步：推送" in out
    ru = GuideNotices(RU)
    ru(StepsChanged({"title": "git", "steps": steps * 3, "current": None}))
    assert lines(capsys)[0] == "[cobrowse] инструкция: git (6 шагов)"


def test_the_keys_help_is_translated_and_keeps_the_keys() -> None:
    assert hint(Front.PLAIN, tr=ENGLISH) == hint(Front.PLAIN)  # English by default (the tests pin it)
    assert "c chat" in hint(Front.PLAIN, tr=ENGLISH)
    zh = help_text(Front.APP, tr=ZH)
    assert zh.startswith("所有按键都会发送到您的 shell") and "  v        查看客服人员看到的确切内容" in zh
    assert "y 允许" in hint(Front.PLAIN, every=True, tr=ZH) and "Ctrl-] 输入 Ctrl-] 本身" in hint(Front.PLAIN, tr=ZH)
    assert unknown_key(Front.APP, tr=RU).endswith("или ? (справка)")
    fa = guide_hint(Front.PLAIN, FA)
    assert fa.startswith(f"{LRI}Ctrl-]{PDI} و سپس: ") and f"{FSI}!{PDI}" in fa


def test_the_policys_notices_follow_the_customers_language() -> None:
    drive = Drive(tr=RU)
    drive.command("end")
    assert drive.events("notice")[-1]["message"].startswith("нажмите Ctrl-] e ещё раз в течение")
    drive.agent(m.Suggest(1, "git status"))
    shown = drive.events("suggestion")[-1]["message"]
    assert shown.startswith("специалист предлагает: git status") and "Ctrl-] d — отклонить" in shown
    drive.agent(m.Keys("ls\r"))
    assert any(e["message"].startswith("нажатия клавиш от специалиста проигнорированы") for e in drive.events("notice"))
    drive.agent(m.RequestControl("control"))
    prompt = drive.events("consent_prompt")[-1]["message"]
    assert "УПРАВЛЯТЬ" in prompt and prompt.endswith("подтвердить придётся дважды.")
    english = Drive()
    english.command("end")
    assert english.events("notice")[-1]["message"].startswith("press Ctrl-] e again within")


def test_a_persian_sentence_reaches_the_guard_whole_with_its_isolates() -> None:
    drive = Drive(tr=FA)
    drive.command("chat", "سلام")
    message = drive.events("notice")[-1]["message"]
    assert isinstance(message, Translated) and message == f"شما: {FSI}سلام{PDI}"
    assert visible(message) == message  # ours: the isolates stay
    assert "\\u2068" in visible(str.__str__(message) + "")  # glued or copied: escaped


def test_the_agent_sees_the_customers_words_with_a_romanisation() -> None:
    assert sas.peer_sas("", ENGLISH_SAS) == {}  # an older customer: nothing added
    assert sas.peer_sas("ru", None) == {}
    ru = sas.peer_sas("ru", ENGLISH_SAS)
    assert ru["lang"] == "ru" and ru["sas_words"] == sas.for_agent(ENGLISH_SAS, Language.RU)
    words = sas.localize(ENGLISH_SAS, Language.RU).split()
    assert all(word in ru["sas_words"] for word in words) and "(" in ru["sas_words"]
    assert sas.peer_sas("\x1b[31mru", ENGLISH_SAS) == {}  # junk from a peer adds nothing


def test_an_end_is_translated_only_when_it_is_the_runtimes_stock_sentence() -> None:
    from cobrowse.i18n.ends import AGENT_TIMED_OUT, ended_text

    assert ended_text("agent_ended", "the agent ended the session", RU) == "специалист завершил сеанс"
    assert ended_text("agent_ended", "fixed, bye", RU) == "fixed, bye"  # the agent's own words: as they came
    assert ended_text("command_exited", "guide: 2 done, 1 skipped", ZH) == "guide: 2 done, 1 skipped"
    assert ended_text("peer_timeout", AGENT_TIMED_OUT, FA).startswith("ارتباط کارشناس قطع شد")
    assert ended_text("agent_ended", "", ENGLISH) == "the agent ended the session"


def test_the_playbook_file_follows_the_customers_hello(tmp_path: Path) -> None:
    from cobrowse.i18n.playbooks import for_peer

    original = tmp_path / "fix.md"
    original.write_text("# Fix\n")
    (tmp_path / "fix.ru.md").write_text("# Починить\n")
    assert for_peer(original, "ru") == tmp_path / "fix.ru.md"
    assert for_peer(str(original), "ru_RU.UTF-8") == tmp_path / "fix.ru.md"
    assert for_peer(original, "zh") == original  # no translation: the original
    assert for_peer(original, "") == original and for_peer(original, "../../etc") == original


def test_the_app_gets_the_same_lines_as_plain_mode() -> None:
    from cobrowse.i18n.notices import agent_name, customer_line
    from cobrowse.policy.customer_events import ControlKeys
    from cobrowse.policy.events import as_json
    from cobrowse.policy.session_events import DataPath, ErrorKind, PathChanged, PeerLeft, Reconnecting, SessionError

    agent = agent_name(as_json(PeerHello("agent", "", "cobrowse 1.0")), ZH)
    assert agent == "客服人员"
    assert customer_line(as_json(PeerLeft(message="m")), ZH, agent) == "客服人员的连接断开了（对方的网络或应用问题；您这边正常）：正在等待其返回"
    assert customer_line(as_json(Reconnecting(attempt=2)), RU) == "всё ещё переподключаемся (попытка 2)"
    assert customer_line(as_json(SessionError("x", ErrorKind.WRONG_CODE)), FA).startswith("خطا: ")
    assert customer_line(as_json(ControlKeys(3)), RU) is None  # the receipt's, not a line for the customer
    line = customer_line(as_json(PathChanged(DataPath.RELAY, "no \u202eroute")), FA)
    assert isinstance(line, Translated) and "\u202e" not in line  # a value's bidi control: shown escaped


def test_voice_lines_in_the_customers_language_and_english_unchanged() -> None:
    from cobrowse.i18n.notices import voice_line
    from cobrowse.voice.call import describe

    for event in ({"state": "calling"}, {"state": "ringing"}, {"state": "connecting"},
                  {"state": "active", "muted": True, "remote_muted": True}, {"state": "active", "remote_muted": True},
                  {"state": "active"}, {"state": "ended", "reason": "hangup"}, {"state": "ended"}):
        assert voice_line(event, ENGLISH, "Ivan") == describe(event, "Ivan", "customer")
    assert voice_line({"state": "ringing"}, RU, "Ivan") == "вам звонит Ivan (Ctrl-] t — ответить, Ctrl-] o — отклонить)"
    assert voice_line({"state": "active", "muted": True}, ZH) == "通话已接通；您的麦克风已静音"
    # cobrowse's own reasons in the customer's language; any other (the other side's text) as it came
    for reason in ("declined", "hung up", "no answer", "the other side left", "the other side hung up"):
        assert voice_line({"state": "ended", "reason": reason}, ENGLISH) == f"call ended ({reason})"
        assert reason not in voice_line({"state": "ended", "reason": reason}, FA)
    assert voice_line({"state": "ended", "reason": "declined"}, RU) == "звонок завершён (отклонён)"
    assert voice_line({"state": "ended", "reason": "no answer"}, ZH) == "通话已结束（无人接听）"
    assert voice_line({"state": "ended", "reason": "ICE failed"}, RU) == "звонок завершён (ICE failed)"


def test_the_join_retry_and_reclaim_warnings_are_translated() -> None:
    """cobrowse.io.joining's warnings (a code being entered twice, the relay's store not
    answering, a claim made again after a relay restart) reach the customer in their language."""
    from cobrowse.i18n.notices import customer_line
    from cobrowse.policy.events import as_json
    from cobrowse.policy.session_events import SessionWarning, WarningKind

    busy = as_json(SessionWarning(WarningKind.BUSY, retry_in_s=1.0, attempt=1, message="english"))
    assert customer_line(busy, RU) == "предупреждение: кто-то другой прямо сейчас вводит код для этого сеанса; пробуем снова"
    unavailable = as_json(SessionWarning(WarningKind.UNAVAILABLE, retry_in_s=2.5, attempt=3, message="english"))
    assert customer_line(unavailable, ZH) == "警告：中继服务器暂时无法查找该会话（其共享存储没有响应）；2.5 秒后重试（第 3 次）"
    reclaim = as_json(SessionWarning(WarningKind.RECLAIM, message="english"))
    assert str(customer_line(reclaim, FA)).startswith("هشدار: ")


@pytest.mark.parametrize("tr, start", [(RU, "[cobrowse] квитанция этого сеанса: "), (ZH, "[cobrowse] 本次会话的回执："),
                                       (FA, "[cobrowse] رسید این جلسه: ")])
def test_the_receipt_line_speaks_the_customers_language(capsys: pytest.CaptureFixture[str], tr: Translator,
                                                        start: str) -> None:
    """Seen in tmux: `cobrowse join --plain --lang fa` ended with the receipt's line in English."""
    from cobrowse.policy.keeping_events import ReceiptWritten

    path = "/home/u/.local/share/cobrowse/receipts/20261207-013852-customer-c8c7.jsonl"
    PlainNotices(tr)(ReceiptWritten(path, "90406f1480805be4aa", 7, f"receipt of this session: {path} (...)"))
    line = lines(capsys)[0].translate(str.maketrans("", "", LRI + FSI + PDI))
    assert line.startswith(start) and path in line and "90406f1480805be4…" in line and "receipt of" not in line

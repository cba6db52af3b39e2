"""A team's lines in the customer's language (docs/team.md): the question about a colleague,
the viewers line, the removal, with the agents' names kept as values (isolated in Persian)."""

from __future__ import annotations

from collections.abc import Sequence

from cobrowse.i18n.catalogues import translator
from cobrowse.i18n.language import Language
from cobrowse.i18n.text import FSI, PDI, Translated
from cobrowse.policy.customer_events import ConsentPrompt, Level, Notice
from cobrowse.policy.customer_team import FIRST, OpenInvite, TeamPolicy, ViewersShown
from cobrowse.protocol.untrusted import visible
from tui.customer_texts import seeing_hint, team_line

RU, ZH, FA = translator(Language.RU), translator(Language.ZH), translator(Language.FA)


def three(policy: TeamPolicy) -> list[object]:
    """Alice first, then Bob and Carol admitted; Bob gets control. Everything the customer read."""
    said: list[object] = [*policy.named(FIRST, "Alice")]
    for at, name in ((0.0, "Bob"), (10.0, "Carol")):
        [opened] = policy.invite(FIRST)
        assert isinstance(opened, OpenInvite)
        said += policy.invite_opened(opened.viewer, "1234-56789012")
        out = policy.joined(opened.viewer, name, "NOT VERIFIED", at)
        said += out
        [prompt] = [e for e in out if isinstance(e, ConsentPrompt)]
        said += policy.answer(True, prompt.id, at + 2)
    said += policy.consent_changed(2, Level.CONTROL)
    return said


def messages(said: Sequence[object]) -> list[str]:
    return [e.message for e in said if isinstance(e, (Notice, ConsentPrompt, ViewersShown))]


def test_russian_team_lines() -> None:
    policy = TeamPolicy(tr=RU)
    said = messages(three(policy))
    assert any("Bob (специалист 2), приглашённый Alice (специалист 1), просит разрешения ВИДЕТЬ" in s for s in said)
    assert said[-1] == ("ваш экран видят 3 специалиста: Alice (специалист 1), Bob (специалист 2) с УПРАВЛЕНИЕМ, "
                        "Carol (специалист 3)")
    [who] = policy.who(True)
    assert isinstance(who, Notice) and who.message == said[-1]  # Ctrl-] ?: the same line, asked for
    [asking] = policy.remove(0, 20.0)
    assert isinstance(asking, Notice) and "выбор из 3 специалистов" in asking.message
    removed = messages(policy.pick_answer(True, 21.0))
    assert "вы убрали Carol (специалист 3): ваш экран ему больше не виден" in removed
    assert RU.plural("{n} agent sees this · {hint}", "{n} agents see this · {hint}", 5, hint="x") == \
        "это видят 5 специалистов · x"


def test_chinese_viewers_line() -> None:
    said = messages(three(TeamPolicy(tr=ZH)))
    assert said[-1] == "3 位客服人员能看到您的屏幕：Alice（客服 1）, Bob（客服 2）（拥有控制权）, Carol（客服 3）"


def test_persian_isolates_every_name_and_the_guard_keeps_them() -> None:
    said = [s for s in messages(three(TeamPolicy(tr=FA)))]
    question = next(s for s in said if "دعوتش کرده" in s)
    assert isinstance(question, Translated)
    assert f"{FSI}Bob{PDI}" in question and f"{FSI}Alice{PDI}" in question
    assert visible(question) == question  # ours, whole: the isolates stay
    line = said[-1]
    assert line.startswith(f"{FSI}3{PDI} کارشناس صفحهٔ شما را می‌بینند") and f"{FSI}Carol{PDI}" in line
    hostile = TeamPolicy(tr=FA)
    hostile.named(FIRST, "Eve\u202e")  # a name with a bidi override: shown escaped, never obeyed
    [opened] = hostile.invite(FIRST)
    assert isinstance(opened, OpenInvite)
    out = hostile.invite_opened(opened.viewer, "1234-56789012")
    [notice] = [e for e in out if isinstance(e, Notice)]
    assert "\u202e" not in notice.message and "\\u202e" in notice.message


def test_the_side_panel_and_status_line_in_persian() -> None:
    rows: list[dict[str, object]] = [
        {"id": 1, "name": "Alice", "state": "admitted", "control": False, "verified": True},
        {"id": 2, "name": "Bob", "state": "admitted", "control": True, "verified": False},
        {"id": 3, "name": "Carol", "state": "asking", "control": False, "verified": False},
    ]
    line = team_line(rows, FA)
    assert isinstance(line, Translated) and line.count("\n") == 2
    assert "تأییدشده" in line and "تأیید نشده" in line and "با کنترل" in line and "منتظر پاسخ شما" in line
    assert team_line(rows, RU).splitlines()[1] == "Bob (специалист 2) ⚠ НЕ ПОДТВЕРЖДЁН с УПРАВЛЕНИЕМ"
    assert seeing_hint(2, "x", FA).startswith(f"{FSI}2{PDI} کارشناس این را می‌بینند")

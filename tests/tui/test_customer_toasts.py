"""Toasts in the customer app, as a person saw them in tmux: an agent's long chat message at
80x24 made a toast taller than the screen, which grew upwards over the banner with its first
lines (who speaks, how it starts) off the screen; a guide's step card stayed on show beside the
next step's card ("Step 1/3 … Ctrl-] m done" under "Step 2/3"). A real relay and agent."""

from __future__ import annotations

import asyncio
from typing import Any, Iterator

import pytest
from textual.geometry import Region
from textual.widgets._toast import Toast

from cobrowse.i18n.language import Language
from cobrowse.protocol.prompts import ARMING
from tests.speaking import speaking
from tests.tui.test_customer_app import BASH, INLINE, Agent, _shell_env, agent, paired_app, prefix  # noqa: F401
from tests.tui.test_customer_team_app import invite_bob
from tests.waiting import until
from tui.customer_app import CustomerApp

LONG = "LONG " + " ".join(f"word{i}" for i in range(350)) + " END"
#: Words of every length (a Russian warning as the app showed it): Textual wraps them as we count.
WORDY = ("LONG Настоящие сотрудники поддержки компании, которой вы доверяете, могут подтвердить, кто они; "
         "этот специалист этого не сделал. Никогда не давайте управление, пароли или платёжные данные тому, "
         "кто неожиданно сам вам позвонил. ") * 4 + "Ctrl-] y — разрешить; Ctrl-] n — отказать END"


@pytest.fixture
def russian() -> Iterator[None]:
    with speaking(Language.RU):
        yield


def shown(widget: Any) -> str:
    return "\n".join(strip.text for strip in widget.render_lines(Region(0, 0, *widget.outer_size)))


@pytest.mark.parametrize("text", [LONG, WORDY], ids=["words", "wordy"])
@pytest.mark.parametrize("size", [(80, 24), (200, 50), (40, 10), (120, 30)])
async def test_a_long_chat_message_shows_its_beginning_inside_the_screen(agent: Agent, relay_url: str,
                                                                           size: tuple[int, int], text: str) -> None:
    code = await agent.create()
    app = CustomerApp(relay_url, code, BASH)
    async with app.run_test(size=size, notifications=True) as pilot:
        await paired_app(pilot, agent)
        await agent.rt.command({"cmd": "chat", "text": text})
        await until(lambda: any("LONG" in str(n.message) for n in app._notifications), what="the chat toast")
        await until(lambda: any("LONG" in shown(t) for t in app.screen.query(Toast)), what="the toast drawn")
        drawn = ""
        for _ in range(50):  # (an older toast's end re-mounts the rack: its toasts are drawn a moment later)
            await pilot.pause(0.1)
            toasts = list(app.screen.query(Toast))
            drawn = next((shown(t) for t in toasts if "says" in shown(t)), "")
            if drawn:
                break
        for toast in toasts:
            region = toast.region
            assert region.y >= 1 and region.bottom <= size[1] - (0 if app.has_class("narrow") else 1), region
        assert "LONG " in drawn and (" END" in drawn or "word262 …" in drawn), drawn  # LONG came cut to 2000
        assert "the rest: Ctrl-] b" in drawn or size == (200, 50) or text == WORDY
        assert any("LONG " in line and len(line) > 700 for line in app.log_lines)  # the panel: all of it


async def test_a_colleagues_question_cut_to_the_screen_keeps_its_keys_and_goes_once_answered(
        agent: Agent, relay_url: str, russian: None) -> None:
    """At 80x24 in Russian the question about a second agent is taller than the screen."""
    code = await agent.create()
    app = CustomerApp(relay_url, code, BASH)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await paired_app(pilot, agent)
        bob = await invite_bob(agent, relay_url)
        try:
            def question() -> str:
                return next((str(n.message) for n in app._notifications if "Bob (специалист 2)" in str(n.message)), "")

            await until(lambda: question(), what="the question about Bob")
            assert "Ctrl-] y" in question() and "остальное: Ctrl-] b" in question()
            await asyncio.sleep(ARMING + 0.1)
            await prefix(pilot, "y")
            await until(lambda: not question(), what="the answered question's toast gone")
        finally:
            await bob.close()


async def test_a_step_card_replaces_the_one_before(agent: Agent, relay_url: str) -> None:
    code = await agent.create()
    app = CustomerApp(relay_url, code, BASH)
    async with app.run_test(size=(80, 24)) as pilot:
        await paired_app(pilot, agent)
        await agent.rt.command(INLINE)
        await until(lambda: any("Step 1/2: Say hello" in str(n.message) for n in app._notifications),
                    what="the first step's card")
        await prefix(pilot, "m")
        await until(lambda: any("Step 2/2: Count" in str(n.message) for n in app._notifications),
                    what="the next step's card")
        assert not any("Step 1/2" in str(n.message) for n in app._notifications)


def test_fit_toast_keeps_short_text_and_cuts_long_text_to_its_rows() -> None:
    from cobrowse.i18n.text import FSI, PDI, Translated
    from cobrowse.protocol.untrusted import visible
    from tui.customer_texts import fit_toast, wrapped_rows

    assert fit_toast("a short one", 20, 3) == "a short one"
    cut = fit_toast(LONG, 37, 6)
    assert cut.startswith("LONG word0") and "\n… the rest: Ctrl-] b\n" in cut and cut.endswith("word349 END")
    assert len(wrapped_rows(cut, 37)) == 6
    question = "Bob asks to SEE your screen. " + "A warning. " * 40 + "Ctrl-] y lets them see it; Ctrl-] n refuses"
    assert fit_toast(question, 37, 8).endswith("Ctrl-] n refuses")  # a question's keys stay on show
    assert all(len(row) <= 10 for row in wrapped_rows("x" * 35 + " 漢字漢字漢字 y", 10))
    ours = fit_toast(Translated(f"{FSI}{'слово ' * 80}{PDI} конец"), 30, 5)
    assert isinstance(ours, Translated) and ours.count(FSI) == ours.count(PDI) == 1
    assert "\\u20" not in visible(ours, multiline=True)  # no isolate left unpaired, shown escaped


@pytest.mark.parametrize("size, kept", [((40, 10), ["third"]), ((80, 24), ["second", "third"])])
async def test_notices_of_one_moment_still_make_way(relay_url: str, size: tuple[int, int], kept: list[str]) -> None:
    """Seen in tmux at 40x10: "connected" and "UNVERIFIED" came together and both stayed, the
    first over the banner (Textual queues a notification: the second did not see the first)."""
    from tests.tui.test_customer_app_events import waiting_app

    app = CustomerApp(relay_url, None, "cat")
    async with app.run_test(size=size, notifications=True) as pilot:
        await waiting_app(pilot)
        app.clear_notifications()
        for title in ("first", "second", "third"):
            app.notify(f"the {title} notice of this moment", title=title)
        await pilot.pause()
        assert [n.title for n in app._notifications] == kept

"""Below 80 columns one toast shows at a time: the SAS words' toast ("connected: compare these
words with your agent") was replaced at once by the unverified-agent toast, and the words were
then nowhere on the screen (the side panel is closed; seen in tmux at 40×10 in Chinese). The
words stay until their toast goes; the warning comes after them (the banner says UNVERIFIED
meanwhile)."""

from __future__ import annotations

import pytest

from cobrowse.crypto.sas import localize
from cobrowse.i18n.language import Language
from tests.speaking import speaking
from tests.tui.test_customer_app import BASH, Agent, _shell_env, agent
from tests.waiting import until
from tui.customer_app import CustomerApp

__all__ = ["_shell_env", "agent"]


def screen_text(app: CustomerApp) -> str:
    return "".join("".join(segment.text for segment in strip) for strip in app.screen._compositor.render_strips())


@pytest.mark.parametrize("lang", [Language.ZH, Language.EN])
async def test_the_sas_words_stay_on_screen_at_40x10(agent: Agent, relay_url: str, lang: Language) -> None:
    with speaking(lang) as language:
        code = await agent.create()
        app = CustomerApp(relay_url, code, BASH)
        async with app.run_test(size=(40, 10), notifications=True) as pilot:
            await until(lambda: app.sas is not None and app.identity is not None, what="pairing and the verdict")
            await pilot.pause(0.5)
            words = localize(app.sas, language)
            await until(lambda: all(word in screen_text(app) for word in words.split()), what="the words on the screen")
            await pilot.pause(0.5)  # the warning's toast does not take their place
            assert all(word in screen_text(app) for word in words.split()), screen_text(app)
            assert app.banner_text.startswith("⚠")  # the warning is on the screen meanwhile
            [sas] = [n for n in app._notifications if n.title != "" and words in str(n.message)]
            app._unnotify(sas)  # its time is up
            await until(lambda: any("UNVERIFIED" in n.title or "未经验证" in n.title for n in app._notifications),
                        what="the warning's toast after the words'")


async def test_the_words_stay_when_both_notices_come_in_one_moment(agent: Agent, relay_url: str) -> None:
    """As in tmux: "paired" and the verdict in one moment, the words' toast still in Textual's
    queue when the warning came."""
    code = await agent.create()
    app = CustomerApp(relay_url, code, BASH)
    async with app.run_test(size=(40, 10), notifications=True) as pilot:
        await until(lambda: app.sas is not None and app.identity is not None, what="pairing and the verdict")
        app.clear_notifications()
        app.after_sas.clear()
        await pilot.pause()
        app._common({"event": "paired", "sas": app.sas})
        app._show_identity(dict(app.identity or {}))
        await pilot.pause(0.5)
        words = localize(app.sas or "", Language.EN)
        assert all(word in screen_text(app) for word in words.split()), screen_text(app)
        assert app.after_sas

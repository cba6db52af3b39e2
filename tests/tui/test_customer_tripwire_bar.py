"""The tripwire's answer to the customer's first Ctrl-] y (an unverified agent asks for control)
was a toast in the bottom-right corner while the customer read the consent bar at the top: it
was missed, and the second press looked like it did nothing. Now it is in the bar, in the
question's place, at 80×24 and 40×12; the keys are the bytes a terminal sends."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from cobrowse.i18n.language import Language
from cobrowse.protocol.prompts import ARMING
from tests.speaking import speaking
from tests.tui.terminal_keys import type_bytes
from tests.tui.test_customer_app import BASH, Agent, _shell_env, agent, paired_app  # noqa: F401
from tests.waiting import until
from tui.customer_app import CustomerApp

CTRL_RIGHT_BRACKET = b"\x1d"


def screen(app: Any) -> str:
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def bar_rows(app: Any) -> str:
    region = app.query_one("#consent-bar").region
    rows = screen(app).split("\n")[region.y:region.bottom]
    return " ".join(row[region.x:region.right].strip(" ┃━┏┓┗┛▌") for row in rows)


@pytest.mark.parametrize("size", [(80, 24), (40, 12)])
async def test_the_first_yes_is_answered_in_the_consent_bar(agent: Agent, relay_url: str,  # noqa: F811
                                                           size: tuple[int, int]) -> None:
    code = await agent.create()
    app = CustomerApp(relay_url, code, BASH, consent_timeout=30.0, control_cooldown=1.0)
    async with app.run_test(size=size) as pilot:
        await paired_app(pilot, agent)
        await agent.rt.command({"cmd": "request_control", "level": "control"})
        await until(lambda: app.prompt_visible, what="the consent prompt")
        await asyncio.sleep(ARMING + 0.1)
        await type_bytes(pilot, CTRL_RIGHT_BRACKET + b"y")
        await until(lambda: "WAIT" in bar_rows(app), what=f"the warning in the bar: {bar_rows(app)!r}", pilot=pilot)
        shown = " ".join(bar_rows(app).split())
        assert "NOT verified" in shown and "Ctrl-] y" in shown, shown
        assert app.prompt_visible and not [n for n in app._notifications if "WAIT" in str(n.message)]
        await type_bytes(pilot, CTRL_RIGHT_BRACKET + b"y")  # too soon: said in the bar too
        await until(lambda: "not yet" in bar_rows(app), what="the too-soon answer in the bar", pilot=pilot)
        await asyncio.sleep(1.1)
        await type_bytes(pilot, CTRL_RIGHT_BRACKET + b"y")
        await until(lambda: not app.prompt_visible, what="control granted", pilot=pilot)
        await agent.event("consent", level="control")
        assert not app.query_one("#consent-bar").has_class("confirming")


async def test_the_unverified_mark_opens_its_row_in_russian_at_40x12(agent: Agent, relay_url: str) -> None:  # noqa: F811
    """"… нет ответа — отказ. ⚠" then "НЕ ПОДТВЕРЖДЁН: …" on the next row: the mark ended a row."""
    with speaking(Language.RU):
        code = await agent.create()
        app = CustomerApp(relay_url, code, BASH, consent_timeout=30.0)
        async with app.run_test(size=(40, 12)) as pilot:
            await paired_app(pilot, agent)
            await agent.rt.command({"cmd": "request_control", "level": "control"})
            await until(lambda: "⚠" in bar_rows(app), what="the unverified mark in the bar", pilot=pilot)
            region = app.query_one("#consent-text").region
            rows = screen(app).split("\n")[region.y:region.bottom]
            marked = [row[region.x:region.right].strip() for row in rows if "⚠" in row]
            assert marked and all(row.startswith("⚠") for row in marked), rows


async def test_the_warning_mark_stays_with_its_words_in_chinese_at_40x12(agent: Agent, relay_url: str) -> None:  # noqa: F811
    """"!! 请稍等：…": the words after the space are one run, moved whole to the next row; "!!"
    stood alone on the bar's first row."""
    with speaking(Language.ZH):
        code = await agent.create()
        app = CustomerApp(relay_url, code, BASH, consent_timeout=30.0)
        async with app.run_test(size=(40, 12)) as pilot:
            await paired_app(pilot, agent)
            await agent.rt.command({"cmd": "request_control", "level": "control"})
            await until(lambda: app.prompt_visible, what="the consent prompt")
            await asyncio.sleep(ARMING + 0.1)
            await type_bytes(pilot, CTRL_RIGHT_BRACKET + b"y")
            await until(lambda: "!!" in bar_rows(app), what="the warning in the bar", pilot=pilot)
            region = app.query_one("#consent-text").region
            rows = [row[region.x:region.right].strip() for row in screen(app).split("\n")[region.y:region.bottom]]
            assert rows[0].startswith("!!") and len(rows[0]) > 2, rows
            assert not any(row.endswith(("⚠", "!!")) for row in rows), rows

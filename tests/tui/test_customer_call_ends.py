"""A call the agent declines or hangs up ended on the customer's side with the call bar gone and
a line in the side panel's log, which is closed unless opened (80×24 in tmux: nothing said the
agent declined). Now a toast says how it ended, unless the customer ended it themselves."""

from __future__ import annotations

from typing import Any

from cobrowse.voice.settings import RtcSettings
from tests.tui.test_customer_app import BASH, Agent, _shell_env, agent, paired_app, prefix
from tests.waiting import until
from tui.customer_app import CustomerApp

__all__ = ["_shell_env", "agent"]

TONE = RtcSettings(direct=False, ice_hosts=("127.0.0.1",), mic="tone:500", speaker="none")


def ended_toasts(app: CustomerApp) -> list[str]:
    return [str(n.message) for n in app._notifications if "call ended" in str(n.message)]


async def ring(pilot: Any, app: CustomerApp, agent: Agent) -> None:
    await agent.rt.command({"cmd": "call"})
    await until(lambda: app.query_one("#call-bar").has_class("ringing"), what="the call bar ringing")


async def test_the_customer_is_told_when_the_agent_ends_the_call(agent: Agent, relay_url: str) -> None:
    agent.rt.rtc.settings = TONE
    code = await agent.create()
    app = CustomerApp(relay_url, code, BASH, rtc=TONE)
    async with app.run_test(size=(80, 24)) as pilot:
        await paired_app(pilot, agent)
        await ring(pilot, app, agent)
        await agent.rt.command({"cmd": "hangup"})  # the agent gives up before the answer
        await until(lambda: not app.query_one("#call-bar").has_class("shown"), what="the call bar gone")
        await until(lambda: ended_toasts(app), what="a toast saying the call ended")
        assert ended_toasts(app) == ["call ended (hung up)"]
        app.clear_notifications()

        await ring(pilot, app, agent)
        await prefix(pilot, "o")  # the customer declines: their own doing, no toast
        await until(lambda: not app.query_one("#call-bar").has_class("shown"), what="the call bar gone")
        await agent.event("voice", state="ended", reason="declined")
        await pilot.pause(0.3)
        assert ended_toasts(app) == []

        await prefix(pilot, "t")  # the customer calls, the agent declines
        await agent.event("voice", state="ringing")
        await agent.rt.command({"cmd": "hangup"})
        await until(lambda: ended_toasts(app), what="a toast saying the agent declined")
        assert ended_toasts(app) == ["call ended (declined)"]
        await prefix(pilot, "e")
        await prefix(pilot, "e")

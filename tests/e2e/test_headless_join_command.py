"""The command the headless (and line) agent tells the customer to type works as typed: on a
relay other than the default one it carries ``--relay`` (it said ``cobrowse join CODE``, which
looks for the session on 127.0.0.1:8765, while the console said the right thing)."""

from __future__ import annotations

import shlex

from harness import Proc, start_agent


async def test_the_customer_command_reaches_the_agents_relay(relay_url: str) -> None:
    agent = await start_agent(relay_url)
    customer: Proc | None = None
    try:
        shown = await agent.event("code")
        assert shown["customer_command"] == f"cobrowse join {shown['code']} --relay {relay_url}"
        words = shlex.split(shown["customer_command"])
        assert words[:2] == ["cobrowse", "join"]
        customer = await Proc.start(*words[1:], "--command", "bash --norc --noprofile", name="customer",
                                    env={"PS1": "$ ", "TERM": "xterm-256color"})
        await agent.event("paired")
        await customer.stderr_line("Compare these words")
    finally:
        for proc in (customer, agent):
            if proc is not None:
                await proc.kill()


async def test_the_colleague_command_reaches_the_agents_relay(relay_url: str) -> None:
    """The ``invite`` message's command is typed as given (it had no ``--relay``)."""
    from tests.e2e.test_team import ASKED, ENV, session

    a, customer = await session(relay_url)
    b: Proc | None = None
    try:
        await a.send({"cmd": "invite"})
        message = (await a.event("invite"))["message"]
        typed = message.split("joins with: ", 1)[1].split(" (", 1)[0]
        assert typed.endswith(f"--relay {relay_url}"), message
        words = shlex.split(typed)
        assert words[:3] == ["cobrowse", "agent", "--join"]
        b = await Proc.start(*words[1:], "--headless", "--name", "Bob", name="agent B", env=ENV)
        await b.event("paired")
        await customer.stderr_line(ASKED)
    finally:
        for proc in (b, customer, a):
            if proc is not None:
                await proc.kill()

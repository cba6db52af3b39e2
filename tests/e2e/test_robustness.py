"""A side that vanishes: the relay holds its place for the grace period, then both learn why."""

from __future__ import annotations

from harness import Proc, pair


async def test_agent_that_never_comes_back_ends_the_session_for_the_customer(relay_url: str) -> None:
    agent, customer, _ = await pair(relay_url)
    try:
        agent.proc.kill()  # no close message: like a crashed laptop
        await customer.stderr_line("the agent's connection dropped")
        assert await customer.wait(timeout=15) == 1
        await customer.stderr_line("the agent's connection dropped and they did not come back in time")
    finally:
        await agent.kill()
        await customer.kill()


async def test_customer_that_never_comes_back_ends_the_session_for_the_agent(relay_url: str) -> None:
    agent, customer, _ = await pair(relay_url)
    try:
        customer.proc.kill()
        await agent.event("peer", state="left")
        ended = await agent.event("ended", timeout=15)
        assert ended["reason"] == "peer_timeout"
        assert "did not come back" in ended["message"]
        assert await agent.wait() == 1
    finally:
        await agent.kill()
        await customer.kill()


async def test_closing_the_customers_terminal_ends_the_session_cleanly(relay_url: str) -> None:
    """stdin closing (the terminal went away) sends EOF to the shell, which exits."""
    agent, customer, _ = await pair(relay_url)
    try:
        assert customer.proc.stdin is not None
        customer.proc.stdin.close()
        assert await customer.wait() == 0
        assert (await agent.event("ended"))["reason"] == "command_exited"
        assert await agent.wait() == 0
    finally:
        await agent.kill()
        await customer.kill()


async def test_relay_going_away_for_good_is_reported(relay_url: str, relay) -> None:  # type: ignore[no-untyped-def]
    env = {"COBROWSE_RECONNECT_FOR": "2"}
    agent = await Proc.start("agent", "--headless", "--relay", relay_url, name="agent", env=env)
    customer = None
    try:
        code = (await agent.event("code"))["code"]
        customer = await Proc.start("join", code, "--relay", relay_url, "--command", "sleep 60", name="customer", env=env)
        await agent.event("paired")
        relay.close()
        await relay.wait_closed()
        await agent.event("connection", state="reconnecting")
        await customer.stderr_line("reconnecting")  # the first line says who dropped (docs/relay.md)
        assert await agent.wait() == 3
        assert await customer.wait() == 3
        # the relay said it went away (close 1001) and nothing listens since: the relay's fault, not the network's
        await customer.stderr_line("stopped and was not back within 2 s")
        assert "stopped and was not back" in (await agent.event("ended"))["message"]
    finally:
        await agent.kill()
        if customer:
            await customer.kill()


async def test_sigterm_ends_the_session_for_both_at_once(relay_url: str) -> None:
    import signal

    agent, customer, _ = await pair(relay_url)
    try:
        customer.proc.send_signal(signal.SIGTERM)
        assert await customer.wait() == 0
        ended = await agent.event("ended", timeout=5)
        assert ended["reason"] == "customer_ended"
        assert await agent.wait() == 0
    finally:
        await agent.kill()
        await customer.kill()


async def test_sigterm_before_anyone_joined_stops_cleanly(relay_url: str) -> None:
    """`share` waiting for its agent (nothing forked yet): SIGTERM ends it like Ctrl-] e, not by
    the signal's default action (which skips every clean-up: exit -15)."""
    import signal

    customer = await Proc.start("share", "--relay", relay_url, "--command", "sleep 60", name="customer")
    try:
        await customer.stderr_line("cobrowse code:")
        customer.proc.send_signal(signal.SIGTERM)
        assert await customer.wait() == 0
    finally:
        await customer.kill()

"""Through a corporate proxy: HTTP_PROXY / HTTPS_PROXY / NO_PROXY honoured as curl does, a
proxy that is down or refuses named in a one-line error (real processes, a real CONNECT
proxy and a real relay on 127.0.0.1; ``relay.test`` resolves only inside the proxy)."""

from __future__ import annotations

from urllib.parse import urlsplit

from connect_proxy import ConnectProxy
from harness import Proc

ENV = {"PS1": "$ ", "TERM": "xterm-256color"}


def via_name(relay_url: str) -> str:
    port = urlsplit(relay_url).port
    return f"ws://relay.test:{port}"


async def test_both_sides_pair_through_the_proxy(relay_url: str) -> None:
    relay = via_name(relay_url)
    async with ConnectProxy({"relay.test": "127.0.0.1"}) as proxy:
        env = {**ENV, "HTTP_PROXY": proxy.url, "NO_PROXY": "intranet.example"}
        agent = await Proc.start("agent", "--headless", "--relay", relay, name="agent", env=env)
        customer = None
        try:
            code = (await agent.event("code"))["code"]
            customer = await Proc.start("join", code, "--relay", relay, "--command", "bash --norc --noprofile",
                                        "--plain", name="customer", env=env)
            await agent.event("paired")
            await customer.send("echo through-$((6*7))\n")
            await agent.screen(lambda lines: any("through-42" in line for line in lines))
            assert proxy.targets.count(f"relay.test:{urlsplit(relay_url).port}") >= 2
            await agent.send({"cmd": "end"})
            assert await customer.wait() == 0
        finally:
            await agent.kill()
            if customer is not None:
                await customer.kill()


async def test_no_proxy_skips_it(relay_url: str) -> None:
    async with ConnectProxy({"relay.test": "127.0.0.1"}) as proxy:
        env = {**ENV, "HTTP_PROXY": proxy.url, "NO_PROXY": ".test"}
        agent = await Proc.start("agent", "--headless", "--relay", via_name(relay_url), name="agent", env=env)
        try:
            assert await agent.wait() == 3  # relay.test does not resolve without the proxy
            assert proxy.targets == []
        finally:
            await agent.kill()


async def test_a_proxy_that_is_down_is_named(relay_url: str) -> None:
    async with ConnectProxy() as proxy:
        down = proxy.url
    agent = await Proc.start("agent", "--headless", "--relay", via_name(relay_url), name="agent",
                             env={**ENV, "HTTPS_PROXY": "", "HTTP_PROXY": down})
    try:
        assert await agent.wait() == 3
        line = await agent.stderr_line("cannot reach the relay")
        assert down in line and "HTTP_PROXY" in line and "--no-proxy" in line
    finally:
        await agent.kill()


async def test_a_proxy_that_refuses_is_named(relay_url: str) -> None:
    async with ConnectProxy(refuse=403) as proxy:
        code = await Proc.start("join", "12-3456-7890", "--relay", via_name(relay_url), "--plain",
                                name="customer", env={**ENV, "HTTP_PROXY": proxy.url})
        try:
            assert await code.wait() == 3
            line = await code.stderr_line("cannot reach the relay")
            assert proxy.url in line and "403" in line
        finally:
            await code.kill()


async def test_an_unusable_proxy_setting_is_a_usage_error(relay_url: str) -> None:
    agent = await Proc.start("agent", "--headless", "--relay", via_name(relay_url), name="agent",
                             env={**ENV, "HTTP_PROXY": "ftp://proxy.example:21"})
    try:
        assert await agent.wait() == 2
        assert any("HTTP_PROXY" in line and "ftp" in line for line in agent.stderr_lines)
    finally:
        await agent.kill()


async def test_the_proxy_flag_wins_even_for_a_loopback_relay(relay_url: str) -> None:
    async with ConnectProxy() as proxy:
        agent = await Proc.start("agent", "--headless", "--relay", relay_url, "--proxy", proxy.url, name="agent", env=ENV)
        try:
            await agent.event("code")
            assert proxy.targets == [f"127.0.0.1:{urlsplit(relay_url).port}"]
        finally:
            await agent.kill()


async def test_the_no_proxy_flag_wins_over_the_environment(relay_url: str) -> None:
    async with ConnectProxy({"relay.test": "127.0.0.1"}) as proxy:
        agent = await Proc.start("agent", "--headless", "--relay", via_name(relay_url), "--no-proxy", name="agent",
                                 env={**ENV, "HTTP_PROXY": proxy.url})
        try:
            assert await agent.wait() == 3  # straight to relay.test, which only the proxy resolves
            assert proxy.targets == []
        finally:
            await agent.kill()

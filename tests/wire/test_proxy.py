"""The proxy choice follows curl's rules (pure: the environment is passed in)."""

from __future__ import annotations

import pytest

from cobrowse.wire.proxy import ProxyChoice, ProxySettingError, bypassed, choose_proxy

WSS = "wss://relay.example.com"
WS = "ws://relay.example.com:8765"


def test_scheme_specific_then_all_proxy_lower_case_first() -> None:
    env = {"HTTPS_PROXY": "http://upper:3128", "https_proxy": "http://lower:3128", "ALL_PROXY": "http://all:1"}
    assert choose_proxy(WSS, env) == ProxyChoice("http://lower:3128", "https_proxy")
    assert choose_proxy(WS, env) == ProxyChoice("http://all:1", "ALL_PROXY")
    assert choose_proxy(WS, {"HTTP_PROXY": "proxy:8080"}) == ProxyChoice("http://proxy:8080", "HTTP_PROXY")
    assert choose_proxy(WSS, {}) == ProxyChoice(None, "")


def test_flags_win_over_the_environment() -> None:
    env = {"HTTPS_PROXY": "http://env:3128"}
    assert choose_proxy(WSS, env, flag="socks5h://corp:1080") == ProxyChoice("socks5h://corp:1080", "--proxy")
    assert choose_proxy(WSS, env, flag="http://x:1", no_proxy_flag=True) == ProxyChoice(None, "--no-proxy")


def test_no_proxy_hosts_suffixes_ips_cidr_and_star() -> None:
    env = {"HTTPS_PROXY": "http://p:3128", "NO_PROXY": "internal.example, .corp.example,10.0.0.0/8, 192.168.1.5,::1"}
    assert choose_proxy("wss://relay.internal.example", env).url is None
    assert choose_proxy("wss://internal.example", env).source == "NO_PROXY"
    assert choose_proxy("wss://a.b.corp.example", env).url is None
    assert choose_proxy("wss://10.2.3.4:8765", env).url is None
    assert choose_proxy("wss://192.168.1.5", env).url is None
    assert choose_proxy("wss://192.168.1.6", env).url == "http://p:3128"
    assert choose_proxy("wss://notinternal.example", env).url == "http://p:3128"
    assert bypassed("anything.example", "*") and not bypassed("x.example", "")
    assert bypassed("relay.example.com", "example.com:443")


def test_a_loopback_relay_is_never_proxied() -> None:
    env = {"HTTP_PROXY": "http://p:3128", "ALL_PROXY": "http://p:3128"}
    for url in ("ws://127.0.0.1:8765", "ws://127.3.2.1", "ws://[::1]:8765", "ws://localhost:8765"):
        assert choose_proxy(url, env) == ProxyChoice(None, "loopback"), url
    assert choose_proxy("ws://127.0.0.1:8765", env, flag="http://p:1").url == "http://p:1"


@pytest.mark.parametrize("bad", ["ftp://p:21", "http://", "http://p:notaport"])
def test_an_unusable_setting_names_where_it_came_from(bad: str) -> None:
    with pytest.raises(ProxySettingError, match="HTTPS_PROXY"):
        choose_proxy(WSS, {"HTTPS_PROXY": bad})
    with pytest.raises(ProxySettingError, match="--proxy"):
        choose_proxy(WSS, {}, flag=bad)

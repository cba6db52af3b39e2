"""Relay settings: precedence flags > env > file > defaults, and errors that name the key."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from cobrowse.errors import ConfigError
from relay.config import RelayConfig, load_config

DIGEST = hashlib.sha256(b"token").hexdigest()


def test_defaults() -> None:
    cfg = load_config(env={})
    assert cfg == RelayConfig()
    assert (cfg.host, cfg.port, cfg.grace, cfg.unclaimed_ttl) == ("127.0.0.1", 8765, 300.0, 600.0)
    assert cfg.max_frame_bytes == 256 * 1024 and cfg.agent_tokens == () and cfg.customers_may_create


def test_precedence_flags_over_env_over_file(tmp_path: Path) -> None:
    path = tmp_path / "relay.toml"
    path.write_text(
        f'[relay]\nhost = "0.0.0.0"\nport = 1000\ngrace = 5\nagent_tokens = ["{DIGEST.upper()}"]\n'
        "customers_may_create = false\n"
    )
    cfg = load_config(path=path, env={})
    assert (cfg.host, cfg.port, cfg.grace) == ("0.0.0.0", 1000, 5.0)
    assert cfg.agent_tokens == (DIGEST,) and cfg.customers_may_create is False
    env = {"COBROWSE_RELAY_PORT": "2000", "COBROWSE_RELAY_GRACE": "7.5", "COBROWSE_RELAY_CUSTOMERS_MAY_CREATE": "yes"}
    cfg = load_config(path=path, env=env)
    assert (cfg.port, cfg.grace, cfg.customers_may_create) == (2000, 7.5, True)
    cfg = load_config(path=path, env=env, flags={"port": "3000", "grace": None})
    assert (cfg.host, cfg.port, cfg.grace) == ("0.0.0.0", 3000, 7.5)


def test_config_file_from_env(tmp_path: Path) -> None:
    path = tmp_path / "r.toml"
    path.write_text("[relay]\nmax_frame_bytes = 4096\n")
    assert load_config(env={"COBROWSE_RELAY_CONFIG": str(path)}).max_frame_bytes == 4096


def test_tokens_from_env_comma_separated() -> None:
    other = hashlib.sha256(b"x").hexdigest()
    cfg = load_config(env={"COBROWSE_RELAY_AGENT_TOKENS": f"{DIGEST}, {other}"})
    assert cfg.agent_tokens == (DIGEST, other)


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"flags": {"port": "http"}}, "'port' from --port"),
        ({"flags": {"port": "70000"}}, "'port' from --port"),
        ({"flags": {"grace": "-1"}}, "'grace' from --grace"),
        ({"flags": {"unclaimed_ttl": "soon"}}, "'unclaimed_ttl' from --unclaimed-ttl"),
        ({"flags": {"max_frame_bytes": "12"}}, "'max_frame_bytes'"),
        ({"env": {"COBROWSE_RELAY_AGENT_TOKENS": "plaintext-token"}}, "COBROWSE_RELAY_AGENT_TOKENS"),
        ({"env": {"COBROWSE_RELAY_CUSTOMERS_MAY_CREATE": "maybe"}}, "customers_may_create"),
        ({"flags": {"host": " "}}, "'host'"),
    ],
)
def test_invalid_values_name_the_key_and_source(kwargs: dict, needle: str) -> None:
    kwargs.setdefault("env", {})
    with pytest.raises(ConfigError) as info:
        load_config(**kwargs)
    assert needle in str(info.value)


def test_file_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(path=tmp_path / "missing.toml", env={})
    bad = tmp_path / "bad.toml"
    bad.write_text("[relay\nport=")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(path=bad, env={})
    typo = tmp_path / "typo.toml"
    typo.write_text("[relay]\nprot = 1\n")
    with pytest.raises(ConfigError, match="unknown relay setting 'prot'"):
        load_config(path=typo, env={})
    wrong = tmp_path / "wrong.toml"
    wrong.write_text('[relay]\nport = "x"\n')
    with pytest.raises(ConfigError, match=r"'port' from .*wrong.toml \[relay\]"):
        load_config(path=wrong, env={})
    flat = tmp_path / "flat.toml"  # the table forgotten: the relay started on 8765 with every default
    flat.write_text('port = 9000\nhost = "0.0.0.0"\n[other]\nx = 1\n')
    with pytest.raises(ConfigError, match=r"flat.toml': port, host must be under a \[relay\] table"):
        load_config(path=flat, env={})


def test_direct_construction_is_validated_too() -> None:
    with pytest.raises(ConfigError, match="rate_limit"):
        RelayConfig(rate_limit=0)


def test_loud_warning_only_when_open_to_the_network_without_tokens() -> None:
    assert RelayConfig(host="127.0.0.1").security_warnings() == []
    assert RelayConfig(host="localhost").security_warnings() == []
    assert RelayConfig(host="::1").security_warnings() == []
    (warning,) = RelayConfig(host="0.0.0.0").security_warnings()
    assert "agent tokens" in warning and "0.0.0.0" in warning
    assert RelayConfig(host="0.0.0.0", agent_tokens=(DIGEST,)).security_warnings() == []


@pytest.mark.parametrize("word", ["off", "none", "None", "no", "false", " OFF "])
def test_a_session_store_turned_off_by_any_usual_word(word: str) -> None:
    """`--session-store none` once made a file called `none`."""
    assert load_config(env={}, flags={"session_store": word}).session_store == "off"
    assert load_config(env={"COBROWSE_RELAY_SESSION_STORE": word}).session_store == "off"


def test_a_session_store_file_named_like_a_word_stays_a_file(tmp_path: Path) -> None:
    path = str(tmp_path / "none")
    assert load_config(env={}, flags={"session_store": path}).session_store == path


def test_the_max_connections_help_says_the_margin_the_limits_use() -> None:
    """--help said RLIMIT_NOFILE - 64 while the relay keeps 448 descriptors (docs/relay.md)."""
    from relay.cli_args import _SETTINGS
    from relay.limits import ACCEPT_RESERVE, FD_MARGIN

    assert f"RLIMIT_NOFILE - {FD_MARGIN + ACCEPT_RESERVE}" in _SETTINGS["max_connections"][1]


def test_queue_orgs_name_organisations_for_the_metrics_in_every_spelling() -> None:
    table = load_config(env={}, flags={"queue_orgs": {"acme": "0123456789ABCDEF", "beta.co": "fedcba9876543210"}})
    assert table.queue_org_labels == {"0123456789abcdef": "acme", "fedcba9876543210": "beta.co"}
    listed = RelayConfig(queue_orgs=("acme=0123456789abcdef", "fedcba9876543210"))
    assert listed.queue_org_labels == {"0123456789abcdef": "acme", "fedcba9876543210": "fedcba9876543210"}
    env = load_config(env={"COBROWSE_RELAY_QUEUE_ORGS": "acme=0123456789abcdef, fedcba9876543210"})
    assert env.queue_orgs == listed.queue_orgs
    assert RelayConfig().queue_org_labels == {}


@pytest.mark.parametrize("bad", [
    ["acme=0123"], ["0123456789abcdeg"], ["other=0123456789abcdef"], ["a b=0123456789abcdef"],
    ["acme=0123456789abcdef", "acme=fedcba9876543210"], ["acme=0123456789abcdef", "beta=0123456789abcdef"],
    [f"{i:016x}" for i in range(101)], 7, [7],
])
def test_queue_orgs_refuse_what_would_make_a_bad_or_unbounded_label(bad: object) -> None:
    with pytest.raises(ConfigError, match="queue_orgs"):
        load_config(env={}, flags={"queue_orgs": bad})

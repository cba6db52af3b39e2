"""The admin-facing files stay true to the code: docs/relay.md documents every setting
(key, env var, flag), and docker-compose.yml and the systemd unit use only real settings."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import fields
from pathlib import Path

import pytest

from cobrowse.wire.envelope import CLOSE_REASONS, ERROR_CODES
from relay.cli import _SETTINGS
from relay.config import FIELD_NAMES, RelayConfig

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "relay.md").read_text()
COMPOSE = (ROOT / "docker-compose.yml").read_text()
UNIT = (ROOT / "deploy" / "cobrowse-relay.service").read_text()


def table_rows() -> dict[str, list[str]]:
    rows = {}
    for line in DOC.splitlines():
        match = re.match(r"\| `([a-z_]+)` \| `(COBROWSE_RELAY_[A-Z_]+)` \| (.+?) \| (.+?) \| (.+) \|$", line)
        if match:
            rows[match.group(1)] = list(match.groups()[1:])
    return rows


def test_every_setting_is_in_the_reference_table_with_its_env_var_flag_and_default() -> None:
    rows = table_rows()
    assert set(rows) == set(FIELD_NAMES)
    defaults = RelayConfig()
    for f in fields(RelayConfig):
        env, flag, default, meaning = rows[f.name]
        assert env == f"COBROWSE_RELAY_{f.name.upper()}"
        assert flag == (f"`--{f.name.replace('_', '-')}`" if f.name in _SETTINGS else "—"), f.name
        value = getattr(defaults, f.name)
        if isinstance(value, bool):
            assert default == f"`{str(value).lower()}`"
        elif isinstance(value, (int, float)):
            assert default == f"`{value:g}`" if isinstance(value, float) else f"`{value}`", f.name
        elif isinstance(value, str):
            assert default == f'`"{value}"`'
        assert meaning.strip()


def test_docs_cover_the_error_codes_and_operating_topics() -> None:
    for code in ("over_quota", "handshake_timeout", "slow_consumer", "rate_limited", "unauthorized", "full"):
        assert f"`{code}`" in DOC and code in ERROR_CODES
    for reason in ("idle", "killed", "shutdown"):
        assert reason in CLOSE_REASONS and f"`{reason}`" in DOC
    for topic in ("## Agent tokens", "## Limits", "## Observability", "## Admin endpoint", "## TLS",
                  "## Behind a reverse proxy", "## Graceful shutdown", "## Docker", "## systemd"):
        assert topic in DOC
    assert "```nginx" in DOC and "```caddy" in DOC and "X-Forwarded-For" in DOC


def env_names(text: str) -> set[str]:
    return set(re.findall(r"\b(COBROWSE_RELAY_[A-Z_]+)\b", text))


def test_compose_runs_relay_redis_and_coturn_with_real_settings() -> None:
    services = re.search(r"^services:\n(.*?)^volumes:", COMPOSE, re.S | re.M)
    assert services
    names = re.findall(r"^  ([a-z-]+):\s*$", services.group(1), re.M)
    assert {"relay", "redis", "coturn"} <= set(names)
    known = {f"COBROWSE_RELAY_{n.upper()}" for n in FIELD_NAMES} | {"COBROWSE_RELAY_CONFIG"}
    used = env_names(COMPOSE)
    assert used and used <= known, used - known
    assert "COBROWSE_RELAY_TOKEN_STORE" in used and "stop_grace_period" in COMPOSE


def test_systemd_unit_is_hardened_and_uses_real_settings() -> None:
    keys = dict(
        line.split("=", 1) for line in UNIT.splitlines() if "=" in line and not line.lstrip().startswith("#")
    )
    for key, value in {
        "DynamicUser": "yes", "NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes",
        "PrivateTmp": "yes", "PrivateDevices": "yes", "RestrictSUIDSGID": "yes", "KillSignal": "SIGTERM",
        "StateDirectory": "cobrowse-relay", "CapabilityBoundingSet": "",
    }.items():
        assert keys.get(key) == value, key
    assert keys["ExecStart"].split()[1:3] == ["relay", "--config"]
    assert keys["ExecReload"].endswith("-HUP $MAINPID")
    assert float(keys["TimeoutStopSec"]) > RelayConfig().drain_timeout
    known = {f"COBROWSE_RELAY_{n.upper()}" for n in FIELD_NAMES}
    assert env_names(UNIT) <= known


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_systemd_unit_verifies(tmp_path: Path) -> None:  # pragma: no cover - depends on the host
    unit = tmp_path / "cobrowse-relay.service"
    unit.write_text(UNIT.replace("/opt/cobrowse/bin/cobrowse", shutil.which("true") or "/bin/true"))
    result = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr

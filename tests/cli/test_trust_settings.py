"""Where agents find their credential and customers their trusted organisations: flags >
environment > config file, and bad files fail with a clear message before any network."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cobrowse.cli.commands import agent_identity, trusted_orgs
from cobrowse.cli.config import resolve
from cobrowse.cli.org import load_trusted, write_secret
from cobrowse.errors import ConfigError
from cobrowse.trust import OrgKey


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "config.toml"
    monkeypatch.setenv("COBROWSE_CONFIG", str(path))
    for name in ("COBROWSE_CREDENTIAL", "COBROWSE_TRUSTED_ORGS", "COBROWSE_RELAY"):
        monkeypatch.delenv(name, raising=False)
    return path


def test_credential_flag_beats_env_beats_file(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config.write_text('credential = "~/from-file.json"\n')
    assert resolve(None).credential == os.path.expanduser("~/from-file.json")
    monkeypatch.setenv("COBROWSE_CREDENTIAL", "/env.json")
    assert resolve(None).credential == "/env.json"
    assert resolve(None, credential_flag="/flag.json").credential == "/flag.json"


def test_trusted_orgs_add_up_from_flags_env_and_file(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config.write_text('trusted_orgs = ["/file.json", "/both.json"]\n')
    monkeypatch.setenv("COBROWSE_TRUSTED_ORGS", f"/env.json{os.pathsep}/both.json")
    assert resolve(None, org_flags=["/flag.json"]).trusted_orgs == ("/flag.json", "/env.json", "/both.json", "/file.json")


def test_bad_settings_are_config_errors(config: Path, tmp_path: Path) -> None:
    config.write_text("trusted_orgs = [1, 2]\n")
    with pytest.raises(ConfigError, match="trusted_orgs: expected a list of trust file paths"):
        resolve(None)
    config.write_text('trusted_orgs = "/one.json"\n')
    with pytest.raises(ConfigError, match="'trusted_orgs' has the wrong type"):
        resolve(None)
    config.write_text("")
    with pytest.raises(ConfigError, match="does not exist"):
        trusted_orgs(resolve(None, org_flags=[str(tmp_path / "missing.json")]))
    key = tmp_path / "key.json"
    write_secret(key, OrgKey.generate("Acme", os.urandom).to_dict())
    with pytest.raises(ConfigError, match="not a cobrowse-agent-identity/1 file"):
        agent_identity(resolve(None, credential_flag=str(key)))
    assert agent_identity(resolve(None)) is None


def test_a_published_trust_file_loads(tmp_path: Path) -> None:
    import json

    book = OrgKey.generate("Acme", os.urandom)
    path = tmp_path / "acme.json"
    path.write_text(json.dumps(book.trust(0).to_dict()))
    (trust,) = load_trusted([str(path)])
    assert trust.name == "Acme" and trust.public_key == book.public_key

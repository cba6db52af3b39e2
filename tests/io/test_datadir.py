"""cobrowse.io.datadir.config_dir answers as platformdirs does (without importing it where it can)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import platformdirs
import pytest

from cobrowse.io.datadir import config_dir, data_dir

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("home, xdg", [
    ("/home/ana", None), ("/home/ana/", None), ("/", None), ("//srv/x", None), ("/home/a b/ünï", None),
    ("/home/ana", ""), ("/home/ana", "/elsewhere/conf"), ("/home/ana", "relative/conf"), ("relative", None),
    ("", None), ("/home/ana/../bob", None),
])
def test_config_dir_is_platformdirs_answer(monkeypatch: pytest.MonkeyPatch, home: str, xdg: str | None) -> None:
    monkeypatch.setenv("HOME", home)
    if xdg is None:
        monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    else:
        monkeypatch.setenv("XDG_CONFIG_HOME", xdg)
    try:
        expected = Path(platformdirs.user_config_dir("cobrowse"))
    except RuntimeError:  # platformdirs cannot resolve a home: the fallback asks it too and fails the same way
        with pytest.raises(RuntimeError):
            config_dir()
        return
    assert config_dir() == expected
    assert str(config_dir()) == str(expected)


@pytest.mark.parametrize("home, xdg", [
    ("/home/ana", None), ("/home/ana/", None), ("/", None), ("/home/ana", ""), ("/home/ana", "/elsewhere/data"),
    ("/home/ana", "relative/data"), ("relative", None), ("", None),
])
def test_data_dir_is_platformdirs_answer(monkeypatch: pytest.MonkeyPatch, home: str, xdg: str | None) -> None:
    monkeypatch.delenv("COBROWSE_DATA_DIR", raising=False)
    monkeypatch.setenv("HOME", home)
    if xdg is None:
        monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    else:
        monkeypatch.setenv("XDG_DATA_HOME", xdg)
    try:
        expected = Path(platformdirs.user_data_dir("cobrowse"))
    except RuntimeError:
        with pytest.raises(RuntimeError):
            data_dir()
        return
    assert str(data_dir()) == str(expected)


def test_the_settings_find_the_file_without_platformdirs(tmp_path: Path) -> None:
    """`cobrowse join` with no COBROWSE_CONFIG: the file under $HOME/.config, platformdirs not loaded."""
    (tmp_path / ".config" / "cobrowse").mkdir(parents=True)
    (tmp_path / ".config" / "cobrowse" / "config.toml").write_text('name = "Ana"\n')
    env = {k: v for k, v in os.environ.items() if k not in ("COBROWSE_CONFIG", "XDG_CONFIG_HOME")}
    env["HOME"] = str(tmp_path)
    code = ("import sys, json\nfrom cobrowse.cli.config import config_path, load_file\n"
            "print(json.dumps([str(config_path()), load_file(config_path()).get('name'), 'platformdirs' in sys.modules]))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=60, check=True)
    path, name, loaded = json.loads(out.stdout.strip().splitlines()[-1])
    assert path == str(tmp_path / ".config" / "cobrowse" / "config.toml")
    assert name == "Ana"
    assert loaded is False

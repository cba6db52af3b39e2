"""--no-predict and the config file's ``predict``: predictive local echo on by default."""

from __future__ import annotations

from pathlib import Path

import pytest

from cobrowse.cli.config import resolve
from cobrowse.cli.main import build_parser
from cobrowse.errors import ConfigError


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "config.toml"
    monkeypatch.setenv("COBROWSE_CONFIG", str(path))
    path.write_text("")
    return path


def test_on_by_default_off_by_flag_or_file_and_the_flag_wins(config: Path) -> None:
    parse = build_parser().parse_args
    assert resolve(None, predict_flag=parse(["agent"]).predict).predict is True
    assert resolve(None, predict_flag=parse(["agent", "--no-predict"]).predict).predict is False
    config.write_text("predict = false\n")
    assert resolve(None, predict_flag=parse(["agent"]).predict).predict is False
    config.write_text("predict = true\n")
    assert resolve(None, predict_flag=parse(["agent", "--no-predict"]).predict).predict is False


def test_a_predict_that_is_not_a_boolean_is_a_usage_error(config: Path) -> None:
    config.write_text('predict = "no"\n')
    with pytest.raises(ConfigError, match="predict"):
        resolve(None)

"""Where `cobrowse relay token create` puts the store is where the relay's help says it is:
the help said COBROWSE_DATA_DIR held the token store, while the store (docs/relay.md) is in
the platform's data dir whatever COBROWSE_DATA_DIR says; an admin who set it looked for
their tokens in the wrong place (`token list`: "no agent tokens")."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cobrowse", *args], capture_output=True, text=True, env=env,
                          timeout=60)


def test_the_token_store_is_where_the_help_says(tmp_path: Path) -> None:
    data_dir, xdg = tmp_path / "data", tmp_path / "xdg"
    env = {**os.environ, "COBROWSE_DATA_DIR": str(data_dir), "XDG_DATA_HOME": str(xdg), "COBROWSE_CONFIG": os.devnull}
    for name in ("COBROWSE_RELAY_TOKEN_STORE", "COBROWSE_RELAY_CONFIG"):
        env.pop(name, None)
    made = cli("relay", "token", "create", "--name", "alice", env=env)
    assert made.returncode == 0, made.stderr
    store = xdg / "cobrowse" / "relay-tokens.json"
    assert store.exists() and not (data_dir / "relay-tokens.json").exists()
    assert str(store) in made.stderr
    helped = " ".join(cli("relay", "--help", env=env).stdout.split())
    assert "COBROWSE_DATA_DIR (live sessions; not the token store)" in helped
    assert "relay-tokens.json in the platform data dir, ~/.local/share/cobrowse; COBROWSE_DATA_DIR does not move it" in helped
    listed = cli("relay", "token", "list", env=env)
    assert "alice" in listed.stdout + listed.stderr

"""The base install (no extras) as a customer and an agent get it: a wheel in a fresh venv.

Sharing, chat and consent work; a call says exactly which extra to install and the session
goes on; the direct path quietly stays on the relay. The processes run the venv's
``cobrowse`` script from a folder outside the source tree, so nothing from the checkout
can stand in for what the wheel lacks.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from harness import Proc

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def base_cli(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    where = tmp_path_factory.mktemp("base-install")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(where), str(ROOT)],
                   check=True, capture_output=True, timeout=300)
    (wheel,) = where.glob("cobrowse-*.whl")
    subprocess.run([sys.executable, "-m", "venv", str(where / "venv")], check=True, timeout=120)
    pip = subprocess.run([str(where / "venv" / "bin" / "python"), "-m", "pip", "install", "-q",
                          "--disable-pip-version-check", str(wheel)], capture_output=True, text=True, timeout=600)
    assert pip.returncode == 0, pip.stderr[-2000:]
    check = subprocess.run([str(where / "venv" / "bin" / "python"), "-c", "import aiortc"], capture_output=True)
    assert check.returncode != 0, "the base install must not bring aiortc"
    return [str(where / "venv" / "bin" / "cobrowse")]


async def test_the_base_install_shares_chats_and_explains_calls(base_cli: list[str], relay_url: str,
                                                               tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    agent = await Proc.start("agent", "--headless", "--relay", relay_url, name="agent", cli=base_cli)
    customer = None
    try:
        code = (await agent.event("code"))["code"]
        customer = await Proc.start("join", code, "--relay", relay_url, "--command", "bash --norc --noprofile",
                                    "--plain", name="customer", cli=base_cli, env={"PS1": "$ ", "TERM": "xterm-256color"})
        await agent.event("paired")
        await customer.stderr_line("Compare these words")
        await customer.send("echo base-$((20+22))\n")
        await agent.screen(lambda lines: any("base-42" in line for line in lines))
        await agent.send({"cmd": "chat", "text": "hello from the base install"})
        await customer.stderr_line("hello from the base install")
        await agent.send({"cmd": "call"})
        error = await agent.event("error")
        assert "pip install 'cobrowse[voice]'" in error["message"]
        await agent.send({"cmd": "chat", "text": "still here"})
        await customer.stderr_line("still here")
        assert not agent.all("path") or all(e["path"] == "relay" for e in agent.all("path"))
        await agent.send({"cmd": "end"})
        assert await customer.wait() == 0
    finally:
        await agent.kill()
        if customer is not None:
            await customer.kill()


def test_devices_without_the_voice_extra_says_what_to_install(base_cli: list[str], tmp_path: Path) -> None:
    out = subprocess.run([*base_cli, "devices"], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert out.returncode == 2 and "pip install 'cobrowse[voice]'" in out.stderr

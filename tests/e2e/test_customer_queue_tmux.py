"""``cobrowse help`` in the full-screen customer app, in real terminals (tmux, real key
sequences) at 80×24 and 100×30: the queue box with the place and the guide to try alone, an
agent of the organisation (``agent --headless --queue``, a real process) picks, the shared
shell starts; Esc or Ctrl-C leaves the queue and the app exits 0 with the line saying so."""

from __future__ import annotations

import shlex
import shutil
import sys
import unicodedata
from pathlib import Path

import pytest
from harness import Proc

from cobrowse.i18n.catalogues import translator
from cobrowse.i18n.language import Language
from cobrowse.i18n.text import FSI, LRI, PDI
from cobrowse.queue.events import LEFT
from tui.customer_queue import QUEUE_HINT
from tui.customer_texts import bare

from tests.e2e.test_apps_tmux import Tmux
from tests.e2e.test_help_queue import org

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (apt-get install tmux)")


@pytest.fixture
def acme(tmp_path: Path) -> dict[str, Path]:
    """Acme, one agent (Alice) and the trust file Acme publishes."""
    assert org(tmp_path, "init", "--name", "Acme").returncode == 0
    files = {"alice": tmp_path / "alice.json", "trust": tmp_path / "acme.trust.json"}
    assert org(tmp_path, "issue-agent", "Alice", "--days", "5", "--out", str(files["alice"])).returncode == 0
    assert org(tmp_path, "publish", "--out", str(files["trust"])).returncode == 0
    return files


def help_command(relay: str, trust: Path, topic: str, *extra: str) -> str:
    cobrowse = " ".join(shlex.quote(a) for a in (sys.executable, "-m", "cobrowse", "help", *extra, "--org", str(trust),
                                                  "--topic", topic, "--relay", relay,
                                                  "--command", "bash --norc --noprofile"))
    return (f"env -u COLUMNS -u LINES PS1='$ ' COBROWSE_CONFIG=/dev/null TERM=xterm-256color {cobrowse}; "
            "echo APP-EXIT=$?; sleep 30")


@pytest.mark.parametrize("size", [(80, 24), (100, 30)], ids=["80x24", "100x30"])
async def test_queue_in_the_app_then_the_session(relay_url: str, acme: dict[str, Path], size: tuple[int, int]) -> None:
    tmux = Tmux()
    alice = None
    try:
        tmux.start("customer", help_command(relay_url, acme["trust"], "git push is rejected"), *size)
        screen = await tmux.wait("customer", lambda s: "you are next" in s, "the place in the queue")
        assert "Waiting in Acme's queue" in screen.splitlines()[0]
        assert "cobrowse guide fix-git-push" in screen  # the guide to try alone
        assert "Esc or Ctrl-C leaves the queue" in screen
        alice = await Proc.start("agent", "--headless", "--queue", "--relay", relay_url,
                                 "--credential", str(acme["alice"]), name="alice")
        listed = await alice.event("queue", total=1)
        await alice.send({"cmd": "pick", "id": listed["waiting"][0]["id"]})
        await alice.event("paired")
        screen = await tmux.wait("customer", lambda s: "Verified: Alice from Acme" in s or "visible to" in s,
                                 "the session after the pick")
        assert "you are next" not in screen
        tmux.keys("customer", "echo from-the-queue", literal=True)
        tmux.keys("customer", "Enter")
        await tmux.wait("customer", lambda s: "\nfrom-the-queue" in s, "the shell's answer")
        await alice.send({"cmd": "end"})
        await tmux.wait("customer", lambda s: "APP-EXIT=" in s, "the app's exit")
        assert await alice.wait() == 0
    finally:
        tmux.kill()
        if alice is not None:
            await alice.kill()


@pytest.mark.parametrize("key", ["Escape", "C-c"])
async def test_esc_or_ctrl_c_leaves_the_queue(relay_url: str, acme: dict[str, Path], key: str) -> None:
    tmux = Tmux()
    try:
        tmux.start("customer", help_command(relay_url, acme["trust"], "printer"), 80, 24)
        await tmux.wait("customer", lambda s: "you are next" in s, "the place in the queue")
        tmux.keys("customer", key)
        screen = await tmux.wait("customer", lambda s: "APP-EXIT=" in s, "the app's exit")
        assert "APP-EXIT=0" in screen and "cobrowse: you left Acme's queue" in screen
    finally:
        tmux.kill()




def cells(line: str) -> int:
    """Columns a row takes in tmux: format characters (isolates, ZWNJ) and marks take none."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line
               if unicodedata.category(ch) != "Cf" and not unicodedata.combining(ch))


async def test_the_queue_in_persian(relay_url: str, acme: dict[str, Path]) -> None:
    """Right to left in the app: tmux holds each row in logical order with our isolates (FSI,
    LRI … PDI) kept and none shown escaped; they take no cell, so the box stays 80 wide."""
    tmux = Tmux()
    try:
        tmux.start("customer", help_command(relay_url, acme["trust"], "git push is rejected", "--lang", "fa"), 80, 24)
        fa = translator(Language.FA)
        screen = await tmux.wait("customer", lambda s: "fix-git-push" in s, "the queue box in Persian")
        assert "\\u20" not in screen  # no isolate escaped by the guard
        assert FSI in screen and LRI in screen and PDI in screen
        assert bare(fa(QUEUE_HINT)) in bare(screen)
        box = [line for line in screen.splitlines() if line.startswith(("╭", "│", "╰"))]
        assert len(box) >= 8 and {cells(line) for line in box} == {80}, [cells(line) for line in box]
        tmux.keys("customer", "Escape")
        screen = await tmux.wait("customer", lambda s: "APP-EXIT=" in s, "the app's exit")
        assert "APP-EXIT=0" in screen and bare(fa(LEFT, org="Acme")) in bare(screen)
    finally:
        tmux.kill()

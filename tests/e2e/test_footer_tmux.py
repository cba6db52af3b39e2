"""The agent console's footer in real terminals (issue 14): at 80×24 and 200×50, on the start
screen and in a session opened with a real F2, the footer holds only whole items, written
alike ("F2 New", "⇧F7 Call"), F9 Commands always among them."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.e2e.test_apps_tmux import Tmux
from tests.e2e.test_layout_tmux import command
from tui.agent_keys import DEFAULT_KEYS

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (apt-get install tmux)")

ITEMS = {f"{k.shown} {k.footer}" for k in DEFAULT_KEYS if k.shown and k.show}


def footer_items(screen: str) -> list[str]:
    return re.split(r" {2,}", screen.rstrip().splitlines()[-1].strip())


def whole(screen: str) -> bool:
    items = footer_items(screen)
    return "F9 Commands" in items and all(item in ITEMS for item in items)


@pytest.mark.parametrize("size", [(80, 24), (200, 50)], ids=["80x24", "200x50"])
async def test_the_footer_shows_whole_items_at_every_width(relay_url: str, size: tuple[int, int]) -> None:
    tmux = Tmux()
    try:
        tmux.start("agent", command("agent", "--relay", relay_url), *size)
        screen = await tmux.wait("agent", lambda s: "New session" in s and "F9 Commands" in s, "the start screen")
        assert whole(screen), footer_items(screen)
        tmux.keys("agent", "F2")
        screen = await tmux.wait("agent", lambda s: re.search(r"cobrowse join \d+-\d{4}-\d{4}", s)
                                 and "Playbook" in s.rstrip().splitlines()[-1] or size[0] < 100 and "cobrowse join" in s,
                                 "a session, its footer")
        screen = await tmux.wait("agent", whole, "the session's footer, whole items only")
        items = footer_items(screen)
        assert items[:2] == ["F2 New", "F3 Join"], items  # the most important first
        assert len(" ".join(items)) <= size[0]
        if size[0] >= 200:
            assert {"F1 Playbook", "⇧F2 Suggest", "⇧F7 Call"} <= set(items), items
    finally:
        tmux.kill()


async def test_a_moved_key_is_named_in_the_footer_and_the_sentences(relay_url: str, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[keys.console]\ncopy_code = "F3"\njoin_code = "F5"\n')  # a swap
    moved = {"F5 Join", "F3 Copy"} | ITEMS - {"F3 Join", "F5 Copy"}
    tmux = Tmux()
    try:
        tmux.start("agent", command("agent", "--relay", relay_url).replace("/dev/null", str(config)), 80, 24)
        await tmux.wait("agent", lambda s: "New session" in s and "F9 Commands" in s, "the start screen")
        tmux.keys("agent", "F2")
        screen = await tmux.wait("agent", lambda s: "Read this code to the customer (F3 copies it)" in s
                                 and "F3 Copy" in footer_items(s), "the code, with the configured copy key")
        items = footer_items(screen)
        assert "F3 Copy" in items and "F9 Commands" in items and set(items) <= moved, items
    finally:
        tmux.kill()

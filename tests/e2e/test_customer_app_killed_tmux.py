"""The customer app (Textual, in tmux) when the relay's admin ends the session (`cobrowse relay
kill ID`): the end box says the relay's administrator ended it (not the agent) and what to do
(call the agent back for a new code), in the customer's language; a key closes the app with
status 1, and the exit line says it once more, with the receipt's path. Real relay, real headless agent, real app."""

from __future__ import annotations

import asyncio
import hashlib
import re
import shutil
from pathlib import Path

import pytest
from harness import start_agent
from test_apps_tmux import Tmux, app_command
from test_customer_app_relay_ends_tmux import box_text
from test_relay_admin_kill import ADMIN, _relay_cli

from tests.relay.soak import RelayProc

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (apt-get install tmux)")

WORDS = {
    "en": ("The session ended", "relay's administrator ended the session", "call your agent back and ask for a new code"),
    "ru": ("Сеанс завершён", "администратор сервера-посредника завершил сеанс", "попросите новый код"),
}


@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_the_app_says_the_relays_admin_ended_it_and_what_to_do(tmp_path: Path, lang: str) -> None:
    config = tmp_path / "relay.toml"
    config.write_text(f'[relay]\nadmin_tokens = ["{hashlib.sha256(ADMIN.encode()).hexdigest()}"]\n')
    relay = RelayProc(tmp_path / "relay-data", "--config", str(config))
    relay.start()
    tmux = Tmux()
    agent = await start_agent(relay.url)
    try:
        code = (await agent.event("code"))["code"]
        tmux.start("customer", "env PS1='$ ' bash --norc --noprofile", 80, 24)
        await tmux.wait("customer", lambda s: "$" in s, "the shell's prompt")
        tmux.keys("customer", app_command("join", code, "--relay", relay.url, "--lang", lang, "--command", "sleep 600"),
                  literal=True)
        tmux.keys("customer", "Enter")
        await agent.event("hello", role="customer")
        base = f"http://127.0.0.1:{relay.port}"
        listed = await asyncio.to_thread(_relay_cli, "sessions", "--url", base)
        killed = await asyncio.to_thread(_relay_cli, "kill", listed.stdout.splitlines()[1].split()[0], "--url", base)
        assert killed.returncode == 0, killed.stderr
        title, blame, next_step = WORDS[lang]
        await tmux.wait("customer", lambda s: title in box_text(s) and next_step in box_text(s), "the end box")
        text = box_text(tmux.screen("customer"))
        assert blame in text, text
        tmux.keys("customer", "Enter")
        after = await tmux.wait("customer", lambda s: re.search(r"^APP-EXIT=\d", s, re.M), "the app's exit")
        assert re.search(r"^APP-EXIT=1$", after, re.M), after
        said = tmux.run("capture-pane", "-p", "-J", "-t", "customer")
        assert blame in said, said
        assert re.search(r"receipts/\S+-customer-\S+\.jsonl", "".join(said.split())), said  # a failed end names it too
        assert (await agent.event("ended"))["reason"] == "killed"
    finally:
        tmux.kill()
        await agent.kill()
        relay.stop()

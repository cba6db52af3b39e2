"""The ``[keys]`` section of the config file (issue 14): the customer's prefix and letters, the
agent console's keys. Checked settings, clear errors, and the keys working from real
terminal bytes (tmux) in plain mode and in the console, with the help and footer showing them."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest

from cobrowse.plain import keymap
from cobrowse.plain.keys_config import KeysError, parse_keys
from cobrowse.plain.prefix import Command, PrefixParser, ToProgram
from tests.e2e.harness import start_agent
from tests.e2e.test_apps_tmux import Tmux

tmux_needed = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (apt-get install tmux)")


@pytest.fixture(autouse=True)
def default_keys() -> Iterator[None]:
    yield
    keymap.configure()


def test_a_prefix_and_letters_from_the_file_drive_the_parser_and_the_help() -> None:
    keys = parse_keys({"prefix": "ctrl-a", "customer": {"pause": "w", "chat": "q"}}, "/x/config.toml")
    assert keys.prefix == 0x01
    keymap.configure(keys.prefix, dict(keys.letters))
    parser = PrefixParser()
    assert parser.feed(b"ls\x01w") == [ToProgram(b"ls"), Command("pause")]
    assert parser.feed(b"\x01\x01\x1d") == [ToProgram(b"\x01\x1d")]  # the prefix twice: a literal one; Ctrl-] is a key again
    assert parser.feed(b"\x01p") == [Command("help")]  # p no longer pauses: the help says what does
    help_line = keymap.hint(keymap.Front.PLAIN, every=True)
    assert help_line.startswith("Ctrl-A then: q chat") and "w pause" in help_line and "Ctrl-]" not in help_line
    assert keymap.rewrite("press Ctrl-] p to resume; Ctrl-] e ends") == "press Ctrl-A w to resume; Ctrl-A e ends"


@pytest.mark.parametrize(("section", "error"), [
    ({"prefix": "ctrl-c"}, "keys.prefix = 'ctrl-c': Ctrl-C interrupts programs"),
    ({"prefix": "alt-x"}, "keys.prefix = 'alt-x': expected a control key"),
    ({"customer": {"pause": "e"}}, "keys.customer.pause = 'e': that key already does 'end' (move it too)"),
    ({"customer": {"pasue": "w"}}, "keys.customer.pasue: no such command"),
    ({"customer": {"pause": "W"}}, "keys.customer.pause = 'W': expected one lowercase letter"),
    ({"console": {"new_session": "ctrl+n"}}, "keys.console.new_session = 'ctrl+n' is not a function key"),
    ({"console": {"new_session": "shift+F3"}}, "cursor-position report"),
    ({"colours": {}}, "unknown setting keys.colours"),
])
def test_a_bad_setting_is_refused_naming_it_and_the_file(section: dict[str, object], error: str) -> None:
    with pytest.raises(KeysError) as raised:
        parse_keys(section, "/home/c/.config/cobrowse/config.toml")
    assert str(raised.value).startswith("/home/c/.config/cobrowse/config.toml: ")
    assert error in str(raised.value)


def test_console_keys_move_and_conflicts_are_refused() -> None:
    from tui import agent_keys

    try:
        agent_keys.configure([("join_code", "⇧F12"), ("invite", "F3")], "cfg.toml")  # a swap
        binding = next(b for b in agent_keys.bindings() if b.action == "join_code")
        assert binding.key == "shift+f12,f24" and binding.key_display == "⇧F12"
        assert ("Join by code", "Join a session the customer created with `cobrowse share` (shift+F12)",
                "join_code") in agent_keys.palette()
        with pytest.raises(agent_keys.ConsoleKeyError, match=r"cfg.toml: keys.console.join_code = 'F2': that key "
                                                             r"already does 'new_session' \(move it too\)"):
            agent_keys.configure([("join_code", "F2")], "cfg.toml")
        with pytest.raises(agent_keys.ConsoleKeyError, match="keys.console.joinn: no such action"):
            agent_keys.configure([("joinn", "F2")], "cfg.toml")
    finally:
        agent_keys.configure([])


def cobrowse(*args: str) -> str:
    return " ".join(shlex.quote(a) for a in (sys.executable, "-m", "cobrowse", *args))


def test_an_invalid_file_stops_the_cli_with_the_key_and_the_file(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[keys]\ncustomer = { pause = "e" }\n')
    out = subprocess.run([sys.executable, "-m", "cobrowse", "join", "1-2345-6789", "--plain"], capture_output=True,
                         text=True, timeout=20, env={"COBROWSE_CONFIG": str(config), "PATH": "/usr/bin:/bin"})
    assert out.returncode == 2, out
    assert f"{config}: keys.customer.pause = 'e': that key already does 'end'" in out.stderr


@tmux_needed
async def test_plain_mode_reads_the_configured_prefix_from_real_keys(relay_url: str, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[keys]\nprefix = "ctrl-a"\ncustomer = { help = "/" }\n')
    agent = await start_agent(relay_url)
    tmux = Tmux()
    try:
        code = (await agent.event("code"))["code"]
        join = cobrowse("join", code, "--plain", "--relay", relay_url, "--command", "bash --norc --noprofile")
        tmux.start("customer", f"env PS1='$ ' COBROWSE_CONFIG={config} TERM=xterm-256color {join}; sleep 30", 100, 30)
        await agent.event("paired")
        screen = await tmux.wait("customer", lambda s: "Press Ctrl-A / for cobrowse" in s and s.rstrip().endswith("$"),
                                 "the hello, in the configured keys")
        assert "Ctrl-]" not in screen, screen
        tmux.keys("customer", "clear", "Enter")
        tmux.keys("customer", "C-a")
        tmux.keys("customer", "/")
        screen = await tmux.wait("customer", lambda s: "Ctrl-A then:" in s, "the help on Ctrl-A /")
        assert "/ help" in " ".join(screen.split()), screen
        tmux.keys("customer", "cat -v", "Enter")
        tmux.keys("customer", "C-]")  # no longer the prefix: the program gets it
        tmux.keys("customer", "Enter")
        await tmux.wait("customer", lambda s: re.search(r"^\^\]$", s, re.M), "cat -v showing ^]")
    finally:
        tmux.kill()
        await agent.kill()


@tmux_needed
async def test_the_console_binds_and_shows_the_configured_key(relay_url: str, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[keys.console]\njoin_code = "shift+F12"\ninvite = "F3"\n')  # a swap
    tmux = Tmux()
    try:
        agent = cobrowse("agent", "--relay", relay_url)
        tmux.start("agent", f"env COBROWSE_CONFIG={config} TERM=xterm-256color {agent}; sleep 30", 100, 30)
        await tmux.wait("agent", lambda s: "New session" in s and "⇧F12 Join" in s.rstrip().splitlines()[-1],
                        "the start screen, the footer showing shift+F12")
        assert "Join by code (⇧F12)" in tmux.screen("agent")  # the start screen's button says it too
        tmux.keys("agent", "S-F12")  # ESC[24;2~ from tmux, as xterm sends it
        await tmux.wait("agent", lambda s: "Join a customer's session" in s, "the join dialog on shift+F12")
    finally:
        tmux.kill()


def _last_line(screen: str) -> str:
    return (screen.rstrip().splitlines() or [""])[-1]


@tmux_needed
async def test_the_customer_app_reads_the_configured_prefix_from_real_keys(relay_url: str, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[keys]\nprefix = "ctrl-a"\ncustomer = { help = "/", toggle_panel = "w" }\n')
    agent = await start_agent(relay_url)
    tmux = Tmux()
    try:
        code = (await agent.event("code"))["code"]
        join = cobrowse("join", code, "--relay", relay_url, "--command", "bash --norc --noprofile")
        tmux.start("customer", f"env PS1='$ ' COBROWSE_CONFIG={config} TERM=xterm-256color {join}; sleep 30", 100, 30)
        await agent.event("paired")
        # The bottom line names the configured keys: "Ctrl-A then: ..." before pairing, the unverified
        # agent's warning after it (the app may open after pairing: it starts the session first).
        screen = await tmux.wait("customer", lambda s: "Ctrl-A" in _last_line(s), "the status line in the configured keys")
        assert "Ctrl-]" not in screen, screen
        assert "/ help" in _last_line(screen), screen  # the help item, kept when the line is fitted
        tmux.keys("customer", "C-a")
        tmux.keys("customer", "/")
        await tmux.wait("customer", lambda s: "press Ctrl-A and then:" in s, "the help screen on Ctrl-A /")
    finally:
        tmux.kill()
        await agent.kill()


def test_our_sentences_stay_ours_when_their_keys_are_rewritten() -> None:
    from cobrowse.i18n.text import Translated

    keymap.configure()
    sentence = Translated("press Ctrl-] p")
    assert keymap.rewrite(sentence) is sentence  # the default keys: untouched
    keymap.configure(0x01, {"pause": "w"})
    rewritten = keymap.rewrite(sentence)
    assert rewritten == "press Ctrl-A w" and isinstance(rewritten, Translated)  # its isolates are still ours
    assert type(keymap.rewrite("a peer's Ctrl-] p")) is str

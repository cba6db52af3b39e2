"""Persian (right to left) in real terminals: what tmux holds, what a bidi terminal shows.

tmux has no bidi: it keeps every line in logical order, and a terminal that implements the
Unicode bidi algorithm (VTE, Konsole, mlterm) reorders each line for display. VTE does it with
fribidi, so fribidi stands in for that terminal here: fed the row tmux holds, it must show the
sentence right to left with each key name (``Ctrl-] g``) whole and in its place, which takes
the isolates cobrowse puts around values (without them the key name splits the sentence).
The isolates take no cell in tmux, in Rich/Textual and in glibc's wcwidth, so a Persian line
in a bordered Textual box leaves the border where it belongs. Plain mode's and the apps'
last guard keep the isolates of a sentence handed over whole and escape any other.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import secrets
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from rich.cells import cell_len

from cobrowse.i18n.catalogues import translator
from cobrowse.i18n.language import Language
from cobrowse.i18n.text import FSI, PDI
from cobrowse.io.agent import AgentRuntime
from cobrowse.io.link import RelayLink
from tests.waiting import until

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (apt-get install tmux)")
ROOT = Path(__file__).resolve().parents[2]
FA = translator(Language.FA)
GATE = ("not yet: wait {n} more second, then press {keys} again to give control",
        "not yet: wait {n} more seconds, then press {keys} again to give control")
PAR_ON = 0x40  # fribidi: paragraph direction from the first strong character, as terminals do


def fribidi() -> ctypes.CDLL:
    name = ctypes.util.find_library("fribidi")
    if name is None:
        pytest.skip("libfribidi is not installed (apt-get install libfribidi0)")
    return ctypes.CDLL(name)


def logical_to_visual(line: str) -> list[int]:
    """Each character's column once a bidi terminal reordered ``line`` (fribidi_log2vis)."""
    lib, n = fribidi(), len(line)
    text = (ctypes.c_uint32 * n)(*map(ord, line))
    out = (ctypes.c_uint32 * (n + 1))()
    l2v = (ctypes.c_int * n)()
    base = ctypes.c_uint32(PAR_ON)
    assert lib.fribidi_log2vis(text, n, ctypes.byref(base), out, l2v, None, None)
    return list(l2v)


def check_reads_right_to_left(line: str, fragment: str) -> None:
    """The Persian just before ``fragment`` shows right of it, the Persian after it left of it,
    the fragment itself left to right: the sentence reads from the right, in order."""
    pos = logical_to_visual(line)
    start = line.index(fragment)
    end = start + len(fragment)
    before = max(i for i in range(start) if "\u0600" <= line[i] <= "\u06ff")
    after = min(i for i in range(end, len(line)) if "\u0600" <= line[i] <= "\u06ff")
    assert pos[start] < pos[end - 1], "the key name is reversed"
    assert pos[before] > max(pos[start:end]) and pos[after] < min(pos[start:end]), "the sentence is out of order"


def test_a_bidi_terminal_shows_the_persian_sentence_in_order() -> None:
    line = "[cobrowse] " + FA.plural(*GATE, 3, keys="Ctrl-] g")
    check_reads_right_to_left(line, "Ctrl-] g")
    bare = line.replace(FSI, "").replace(PDI, "")
    with pytest.raises(AssertionError, match="out of order"):  # what the isolates are for
        check_reads_right_to_left(bare, "Ctrl-] g")


class Tmux:
    def __init__(self) -> None:
        self.socket = f"cobrowse-rtl-{secrets.token_hex(4)}"

    def run(self, *args: str) -> str:
        done = subprocess.run(["tmux", "-L", self.socket, "-f", "/dev/null", *args],
                              capture_output=True, text=True, timeout=10)
        assert done.returncode == 0, f"tmux {args[0]}: {done.stderr}"
        return done.stdout

    async def wait_for(self, name: str, text: str, timeout: float = 20.0) -> str:
        screen = ""
        try:
            async with asyncio.timeout(timeout):
                while text not in (screen := self.run("capture-pane", "-p", "-J", "-t", name)):
                    await asyncio.sleep(0.2)
        except TimeoutError:
            raise AssertionError(f"no {text!r} in {timeout}s; screen:\n{screen}") from None
        return screen

    def kill(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, timeout=10)


async def test_a_persian_customer_in_tmux(relay_url: str) -> None:
    """The real `cobrowse join --plain --lang fa` in tmux: Persian in logical order, the key
    names inside isolates (plain mode hands its sentences to the guard whole), and not one
    isolate shown escaped."""
    agent = AgentRuntime(RelayLink(relay_url, "agent"), lambda event: None, name="Ivan")
    await agent.create()
    task = asyncio.create_task(agent.run())
    tmux = Tmux()
    command = shlex.join([sys.executable, "-m", "cobrowse", "join", str(agent.code), "--relay", relay_url, "--plain",
                          "--lang", "fa", "--command", "bash --norc --noprofile"])
    tmux.run("new-session", "-d", "-s", "fa", "-x", "200", "-y", "40", "-c", str(ROOT),
             f"env COBROWSE_CONFIG=/dev/null PS1='$ ' {command}; sleep 30")
    try:
        await tmux.wait_for("fa", "کارشناس تأییدنشده")
        await until(lambda: agent.paired, "the agent paired", 20)
        await agent.command({"cmd": "request_control", "level": "control"})
        screen = await tmux.wait_for("fa", "Ctrl-] y")
        (prompt,) = [row for row in screen.splitlines() if "Ctrl-] y" in row]
        prompt = prompt[prompt.index("[cobrowse]"):]  # after the shell's "$ " when the prompt printed first (issue 14)
        assert prompt.replace(FSI, "").startswith("[cobrowse] کارشناس اجازه می\u200cخواهد که ترمینال شما را «کنترل» کند")
        assert "\\u20" not in screen and f"{FSI}Ctrl-] y{PDI}" in prompt
    finally:
        tmux.kill()
        task.cancel()


def test_plain_modes_guard_keeps_our_isolates_and_escapes_a_peers(tmp_path: Path) -> None:
    """``say`` (plain mode's last guard) in tmux: our sentence keeps its isolates and reads in
    order in a bidi terminal; the same isolates glued in by an f-string, as a peer's would be, are
    shown escaped."""
    script = tmp_path / "say.py"
    script.write_text(
        "from cobrowse.cli.commands import say\n"
        "from cobrowse.i18n.catalogues import translator\n"
        "from cobrowse.i18n.language import Language\n"
        f"GATE = {GATE!r}\n"
        "say(translator(Language.FA).plural(*GATE, 3, keys='Ctrl-] g'))\n"
        "say(f\"peer: {translator(Language.FA)('Verified: {agent} from {org}', agent='Eve', org='X')}\")\n",
        encoding="utf-8")
    tmux = Tmux()
    tmux.run("new-session", "-d", "-s", "say", "-x", "200", "-y", "10", "-c", str(ROOT),
             f"env PYTHONPATH={shlex.quote(str(ROOT))} {shlex.quote(sys.executable)} {shlex.quote(str(script))}; sleep 30")
    try:
        screen = asyncio.run(tmux.wait_for("say", "peer:"))
        ours, peer = [row.rstrip() for row in screen.splitlines() if row.startswith("[cobrowse]")]
        assert ours == "[cobrowse] " + FA.plural(*GATE, 3, keys="Ctrl-] g")
        check_reads_right_to_left(ours, "Ctrl-] g")
        assert "\\u2068Eve\\u2069" in peer and FSI not in peer
    finally:
        tmux.kill()


async def test_textual_keeps_a_persian_box_aligned() -> None:
    """Isolates, the zero-width non-joiner and the hamza above take no cell in Rich, in tmux
    and in glibc: the box's right border is in one column on every row."""
    assert cell_len(FSI + PDI + "\u200c\u0654") == 0
    tmux = Tmux()
    app = shlex.join([sys.executable, str(Path(__file__).with_name("rtl_box_app.py"))])
    tmux.run("new-session", "-d", "-s", "box", "-x", "100", "-y", "12", "-c", str(ROOT),
             # pytest's COLUMNS/LINES would size Textual for another terminal
             f"env -u COLUMNS -u LINES PYTHONPATH={shlex.quote(str(ROOT))} TERM=xterm-256color {app}")
    try:
        screen = await tmux.wait_for("box", "Acme")
        libc = ctypes.CDLL(ctypes.util.find_library("c"))
        libc.setlocale(6, b"C.UTF-8")  # LC_ALL

        def columns(row: str) -> int:
            return sum(max(libc.wcwidth(ord(ch)), 0) for ch in row)

        box = [row for row in screen.splitlines() if row.strip()[:1] in "┌│└" and row.strip()]
        assert len(box) >= 4, screen
        right = {columns(row.rstrip()) for row in box}
        assert len(right) == 1, f"the border moved: {right}\n{screen}"
        assert any(f"{FSI}Ctrl-] g{PDI}" in row for row in box), screen
    finally:
        tmux.kill()

"""Screen fidelity through real processes: what the headless agent's `screen` events show is
what the customer's program drew.

Two kinds of reference:

* the customer's own stdout in piped mode carries the shared program's bytes unchanged, so
  feeding them to an independent emulator (pyte, and a second ``Emulator``) gives the screen
  the agent must show;
* a real terminal: `cobrowse join --plain` runs inside tmux, and tmux's capture-pane, cursor,
  size and alternate-screen flag must equal the agent's screen after every step, a resize of
  the customer's terminal included.

Every wait is bounded; a screen counts as settled once it equals the reference for a few
consecutive polls.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import secrets
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any, AsyncIterator, Awaitable, Callable

import pyte  # test-only reference emulator
import pytest

from cobrowse.screen import Emulator
from harness import CLI, Proc, start_agent
from tcp_proxy import TcpProxy

COLS, ROWS = 100, 30
SIZE = f"{COLS}x{ROWS}"
SETTLE = 15.0
# What the shared programs see, so runs do not depend on the developer's shell setup.
PROGRAM_ENV = {
    "PS1": "$ ", "TERM": "xterm-256color", "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8",
    "LESS": "", "LESSOPEN": "", "LESSCLOSE": "", "LESSHISTFILE": "-", "HISTFILE": "/dev/null",
}


def need(*programs: str) -> None:
    missing = [p for p in programs if shutil.which(p) is None]
    if missing:
        pytest.skip(f"needs {', '.join(missing)} installed (CI installs them: .ci/run)")


class Customer(Proc):
    """A customer process whose stdout (the shared program's bytes, unchanged in plain mode) is
    kept raw, chunk by chunk: the harness's line reader would hold back a last line with no
    newline (a prompt, a pager's status line)."""

    async def _read_stdout(self) -> None:
        assert self.proc.stdout is not None
        while chunk := await self.proc.stdout.read(65536):
            self.stdout_raw.extend(chunk)
            self._changed.set()
        self._changed.set()

    async def output(self, needle: bytes, timeout: float = SETTLE) -> None:
        """Wait until the shared program wrote ``needle``."""
        try:
            await self._wait_for(lambda: True if needle in self.stdout_raw else None, f"output {needle!r}", timeout)
        except AssertionError as exc:
            raise AssertionError(f"{exc}; the program wrote {bytes(self.stdout_raw[-400:])!r}") from None
        except TimeoutError:
            raise AssertionError(f"the program never wrote {needle!r}; wrote {bytes(self.stdout_raw[-400:])!r}") from None


async def start_customer(relay: str, *args: str, command: str, size: str = SIZE) -> Customer:
    proc = await Customer.start(*args, "--relay", relay, "--command", command, "--size", size,
                                name="customer", env=PROGRAM_ENV)
    assert isinstance(proc, Customer)
    return proc


@contextlib.asynccontextmanager
async def paired(relay_url: str, command: str, *, agent_relay: str | None = None) -> AsyncIterator[tuple[Proc, Customer]]:
    """An agent-created session with ``command`` shared at 100x30 from a piped customer."""
    agent = await start_agent(agent_relay or relay_url)
    customer: Customer | None = None
    try:
        code = (await agent.event("code"))["code"]
        customer = await start_customer(relay_url, "join", code, command=command)
        await agent.event("paired")
        await customer.stderr_line("Compare these words")
        yield agent, customer
    finally:
        await agent.kill()
        if customer is not None:
            await customer.kill()


# -- screens -----------------------------------------------------------------------------

def view(event: dict[str, Any]) -> dict[str, Any]:
    """The parts of a `screen` event a fidelity check compares (trailing spaces trimmed)."""
    return {"size": list(event["size"]), "cursor": list(event["cursor"]), "alt_screen": event.get("alt_screen"),
            "lines": [line.rstrip() for line in event["lines"]]}


def emulated(data: bytes, cols: int = COLS, rows: int = ROWS) -> dict[str, Any]:
    """The screen a second, independent ``Emulator`` shows after ``data``."""
    emu = Emulator(cols, rows)
    emu.feed(bytes(data))
    cursor = emu.cursor()
    return {"size": [cols, rows], "cursor": [cursor.col, cursor.row], "alt_screen": emu.modes().alt_screen,
            "lines": [line.rstrip() for line in emu.lines()]}


def pyte_screen(data: bytes, cols: int = COLS, rows: int = ROWS) -> dict[str, Any]:
    """The screen pyte shows after ``data`` (pyte has no alternate screen: primary-only programs)."""
    screen = pyte.Screen(cols, rows)
    pyte.ByteStream(screen).feed(bytes(data))
    return {"cursor": [screen.cursor.x, screen.cursor.y], "lines": [line.rstrip() for line in screen.display]}


async def settle(agent: Proc, expected: Callable[[], Awaitable[dict[str, Any]] | dict[str, Any]],
                 what: str, until: Callable[[dict[str, Any]], bool] = lambda screen: True,
                 timeout: float = SETTLE, stable: int = 3) -> dict[str, Any]:
    """Wait until the agent's latest screen equals ``expected()`` on ``stable`` polls in a row
    (and, if given, ``until(reference)`` holds: the program got as far as the test needs).

    Returns the agent's screen event; on timeout asserts equality (pytest shows the diff).
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    hits = 0
    while True:
        want = expected()
        if asyncio.iscoroutine(want):
            want = await want
        screens = agent.all("screen")
        got = view(screens[-1]) if screens else None
        if got is not None:
            got = {k: got[k] for k in want}
        hits = hits + 1 if got == want and until(want) else 0
        if hits >= stable:
            return screens[-1]
        if loop.time() > deadline:
            assert got == want, f"{what}: the agent's screen never matched the reference"
            assert until(want), f"{what}: the reference never got there: {want}"
            assert loop.time() < deadline + 2, f"{what}: the screens never stayed equal for {stable} polls"
        await asyncio.sleep(0.1)


def at_prompt(screen: dict[str, Any]) -> bool:
    """The shell waits at a fresh `$ ` prompt."""
    col, row = screen["cursor"]
    return col == 2 and screen["lines"][row] == "$"


def numbered_file(path: Path, count: int = 200) -> Path:
    path.write_text("".join(f"line {i:03d} of the fidelity file\n" for i in range(1, count + 1)))
    return path


# -- 1. real programs in a real pty, piped customer -----------------------------------

async def test_ls_color_is_mirrored_exactly(relay_url: str) -> None:
    need("ls", "head")
    async with paired(relay_url, "sh -c 'ls --color=always /usr/bin | head -50; echo ls-done; exec sleep 60'") as (agent, customer):
        await customer.output(b"ls-done")
        screen = await settle(agent, lambda: emulated(customer.stdout_raw), "ls --color")
        assert b"\x1b[" in customer.stdout_raw, "ls printed colours"
        got = view(screen)
        assert got["size"] == [COLS, ROWS]
        assert {k: got[k] for k in ("cursor", "lines")} == pyte_screen(customer.stdout_raw)
        names = subprocess.run(["sh", "-c", "ls /usr/bin | head -50"], capture_output=True, text=True,
                               env={**os.environ, **PROGRAM_ENV}, check=True).stdout.splitlines()
        # 51 lines on 30 rows: the last 28 names, `ls-done`, and the cursor on the empty last row
        assert got["lines"] == [*names[-28:], "ls-done", ""]
        assert got["cursor"] == [0, ROWS - 1]
        assert got["alt_screen"] is False


async def test_top_batch_then_exit_last_screen_arrives(relay_url: str) -> None:
    """top prints and the program exits at once: the agent still gets the final screen before `ended`."""
    need("top")
    async with paired(relay_url, "sh -c 'read go; top -b -n 1'") as (agent, customer):
        await customer.send(b"go\n")
        await agent.event("ended", timeout=SETTLE)
        assert await customer.wait() == 0
        assert b"load average" in customer.stdout_raw
        screens = agent.all("screen")
        assert screens, "no screen at all"
        last = view(screens[-1])
        assert last == emulated(customer.stdout_raw)
        assert {k: last[k] for k in ("cursor", "lines")} == pyte_screen(customer.stdout_raw)
        assert any(re.match(r" *\d+ +\S+ +\S+ +\S+ ", line) for line in last["lines"]), "process rows are shown"
        kinds = [e["event"] for e in agent.events if e["event"] in ("screen", "ended")]
        assert kinds[-1] == "ended" and kinds.count("ended") == 1


async def test_less_alternate_screen_then_primary_restored(relay_url: str, tmp_path: Path) -> None:
    need("less")
    text = numbered_file(tmp_path / "pages.txt")
    command = f"sh -c 'echo before-less; less {shlex.quote(str(text))}; echo after-less; exec sleep 60'"
    async with paired(relay_url, command) as (agent, customer):
        await customer.output(b"line 029")
        first = view(await settle(agent, lambda: emulated(customer.stdout_raw), "less, first page"))
        assert first["alt_screen"] is True
        assert first["lines"][0] == "line 001 of the fidelity file"
        assert first["lines"][ROWS - 2] == "line 029 of the fidelity file"
        assert "pages.txt" in first["lines"][ROWS - 1]
        assert first["cursor"][1] == ROWS - 1
        await customer.send(b" ")
        await customer.output(b"line 058")
        second = view(await settle(agent, lambda: emulated(customer.stdout_raw), "less, after a space"))
        assert second["alt_screen"] is True
        assert second["lines"][0] == "line 030 of the fidelity file"
        assert second["lines"][ROWS - 2] == "line 058 of the fidelity file"
        assert second["lines"][ROWS - 1] == ":"
        assert second["cursor"] == [1, ROWS - 1]
        await customer.send(b"q")
        await customer.output(b"after-less")
        back = view(await settle(agent, lambda: emulated(customer.stdout_raw), "after less quit"))
        assert back["alt_screen"] is False
        assert back["lines"][:3] == ["before-less", "after-less", ""]
        assert back["cursor"] == [0, 2]
        assert not any(line.startswith("line ") for line in back["lines"])


async def test_vi_insert_mode_text_is_seen(relay_url: str, tmp_path: Path) -> None:
    need("vi")
    target = tmp_path / "note.txt"
    target.write_text("first line\n")
    # vi opened by a short name: its status line must fit one row (pytest-xdist's paths are longer)
    command = f"sh -c 'cd {shlex.quote(str(tmp_path))}; echo before-vi; vi -u NONE -i NONE -n note.txt; echo after-vi; exec sleep 60'"
    async with paired(relay_url, command) as (agent, customer):
        await customer.output(b"note.txt")
        opened = view(await settle(agent, lambda: emulated(customer.stdout_raw), "vi opened"))
        assert opened["alt_screen"] is True
        assert opened["lines"][0] == "first line"
        assert opened["lines"][1] == "~"
        await customer.send(b"Ohello from vi")
        typed = view(await settle(agent, lambda: emulated(customer.stdout_raw), "vi insert mode"))
        assert typed["lines"][:2] == ["hello from vi", "first line"]
        assert typed["cursor"] == [len("hello from vi"), 0]
        await customer.send(b"\x1b")
        await asyncio.sleep(0.3)
        await customer.send(b":q!\r")
        await customer.output(b"after-vi")
        back = view(await settle(agent, lambda: emulated(customer.stdout_raw), "after :q!"))
        assert back["alt_screen"] is False
        assert back["lines"][:3] == ["before-vi", "after-vi", ""]
        assert back["cursor"] == [0, 2]
        assert "hello from vi" not in back["lines"]
        assert target.read_text() == "first line\n"


# -- 2. fidelity against a real terminal: the customer runs in tmux ----------------------

class Tmux:
    """A private tmux server (its own socket) with one session, the customer's terminal."""

    def __init__(self, env: dict[str, str]) -> None:
        self.socket = f"cobrowse-test-{secrets.token_hex(6)}"
        self.env = env
        self.target = "fidelity"

    async def run(self, *args: str) -> str:
        proc = await asyncio.create_subprocess_exec(
            "tmux", "-L", self.socket, *args, stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=self.env)
        try:
            async with asyncio.timeout(10):
                out, err = await proc.communicate()
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise AssertionError(f"tmux {args} hung") from None
        assert proc.returncode == 0, f"tmux {args}: {err.decode(errors='replace')}"
        return out.decode(errors="replace")

    async def start(self, command: str, cols: int, rows: int, cwd: str) -> None:
        await self.run("-f", os.devnull, "new-session", "-d", "-s", self.target, "-x", str(cols), "-y", str(rows),
                       "-c", cwd, command)

    async def type(self, text: str) -> None:
        await self.run("send-keys", "-t", self.target, "-l", text)

    async def key(self, name: str) -> None:
        await self.run("send-keys", "-t", self.target, name)

    async def screen(self) -> dict[str, Any]:
        """What the pane shows: its size, cursor, alternate-screen flag and rows."""
        facts = (await self.run("display-message", "-p", "-t", self.target,
                                "#{pane_width} #{pane_height} #{cursor_x} #{cursor_y} #{alternate_on}")).split()
        cols, rows, x, y, alt = (int(v) for v in facts)
        lines = (await self.run("capture-pane", "-p", "-t", self.target)).split("\n")
        lines = [line.rstrip() for line in lines[:rows]]
        lines += [""] * (rows - len(lines))
        return {"size": [cols, rows], "cursor": [x, y], "alt_screen": bool(alt), "lines": lines}

    async def kill(self) -> None:
        try:
            await self.run("kill-server")
        except AssertionError:
            pass


@contextlib.asynccontextmanager
async def in_tmux(relay_url: str, tmp_path: Path, *extra: str) -> AsyncIterator[tuple[Tmux, Proc, Path]]:
    """An agent, and `cobrowse join --plain` sharing bash with tmux (100x30) as its terminal."""
    errors = tmp_path / "customer.err"
    env = {k: v for k, v in os.environ.items() if k not in ("COBROWSE_RELAY", "TMUX", "TMUX_PANE")}
    env.update(PROGRAM_ENV, COBROWSE_CONFIG=os.devnull, PYTHONUNBUFFERED="1")
    env.pop("TERM")  # inside tmux the terminal is tmux's own (tmux-256color)
    tmux = Tmux(env)
    agent = await start_agent(relay_url)
    try:
        code = (await agent.event("code"))["code"]
        customer = shlex.join([*CLI, "join", code, "--plain", "--relay", relay_url, *extra,
                               "--command", "bash --norc --noprofile"])
        # cobrowse's own [cobrowse] lines go to a file: the pane then shows the shared program only
        # (PS1 set by `env`: tmux runs the command with $SHELL -c, and a non-interactive bash drops PS1)
        await tmux.start(f"exec env 'PS1=$ ' {customer} 2>{shlex.quote(str(errors))}", COLS, ROWS, os.getcwd())
        await agent.event("paired")
        yield tmux, agent, errors
    finally:
        await tmux.kill()
        await agent.kill()


async def test_tmux_capture_pane_equals_the_agents_screen(relay_url: str, tmp_path: Path) -> None:
    need("tmux", "less", "vi", "top", "head")
    pages = numbered_file(tmp_path / "pages.txt")
    note = tmp_path / "note.txt"
    note.write_text("first line\n")
    async with in_tmux(relay_url, tmp_path) as (tmux, agent, errors):

        async def same(what: str, until: Callable[[dict[str, Any]], bool] = lambda screen: True) -> dict[str, Any]:
            return view(await settle(agent, tmux.screen, what, until))

        prompt = await same("the first prompt", at_prompt)
        assert prompt["lines"][0] == "$" and prompt["cursor"] == [2, 0] and prompt["size"] == [COLS, ROWS]

        await tmux.type("ls --color=always /usr/bin | head -40")
        await tmux.key("Enter")
        await same("ls --color", lambda s: at_prompt(s) and s["cursor"][1] > 0)

        await tmux.type(r"clear; printf '\033[5;10Hhello\033[10;20H\033[1;31mworld\033[0m\033[12;3H'")
        await tmux.key("Enter")
        drawn = await same("printf with cursor addressing", lambda s: s["lines"][11] == "  $")
        assert drawn["lines"][4] == " " * 9 + "hello"
        assert drawn["lines"][9] == " " * 19 + "world"
        assert drawn["lines"][11] == "  $" and drawn["cursor"] == [4, 11]

        await tmux.type("top -b -n 1 | head -20")
        await tmux.key("Enter")
        await same("top -b -n 1", lambda s: at_prompt(s) and any(line.startswith("top - ") for line in s["lines"]))

        await tmux.type(f"less {shlex.quote(str(pages))}")
        await tmux.key("Enter")
        paged = await same("less, first page", lambda s: s["lines"][0].startswith("line 001") and "pages.txt" in s["lines"][-1])
        assert paged["alt_screen"] and paged["lines"][0] == "line 001 of the fidelity file"
        await tmux.key("Space")
        paged = await same("less, second page", lambda s: s["lines"][0].startswith("line 030") and s["lines"][-1] == ":")
        assert paged["lines"][0] == "line 030 of the fidelity file"

        # the customer's terminal shrinks while less runs: SIGWINCH, pty resized, snapshot sent
        await tmux.run("resize-window", "-t", tmux.target, "-x", "80", "-y", "24")
        resized = await same("less after the resize to 80x24", lambda s: s["size"] == [80, 24] and s["lines"][-1] == ":")
        assert resized["size"] == [80, 24] and resized["alt_screen"]
        await tmux.key("q")
        back = await same("less quit, primary screen restored", lambda s: not s["alt_screen"] and at_prompt(s))
        assert not back["alt_screen"]

        await tmux.type("clear; ls --color=always /usr/bin | head -30")
        await tmux.key("Enter")
        await same("ls at 80x24", lambda s: at_prompt(s) and s["cursor"][1] == 23)

        await tmux.type(f"cd {shlex.quote(str(tmp_path))}; vi -u NONE -i NONE -n note.txt")
        await tmux.key("Enter")
        opened = await same("vi opened", lambda s: s["lines"][0] == "first line" and "note.txt" in s["lines"][-1])
        assert opened["alt_screen"] and opened["lines"][0] == "first line"
        await tmux.type("Ohello from vi")
        typed = await same("vi insert mode", lambda s: s["lines"][0] == "hello from vi")
        assert typed["lines"][:2] == ["hello from vi", "first line"]
        await tmux.key("Escape")
        await asyncio.sleep(0.3)
        await tmux.type(":q!")
        await tmux.key("Enter")
        back = await same("vi quit", lambda s: not s["alt_screen"] and at_prompt(s))
        assert not back["alt_screen"]

        # and grow again at the prompt
        await tmux.run("resize-window", "-t", tmux.target, "-x", str(COLS), "-y", str(ROWS))
        grown = await same("the prompt after growing back to 100x30", lambda s: s["size"] == [COLS, ROWS] and at_prompt(s))
        assert grown["size"] == [COLS, ROWS]

        await tmux.type("exit")
        await tmux.key("Enter")
        assert (await agent.event("ended"))["reason"] == "command_exited"
        assert "Compare these words" in errors.read_text()


async def test_tmux_size_option_yields_to_the_real_terminal(relay_url: str, tmp_path: Path) -> None:
    """`--size` is for a customer with no terminal: with one, the pty has the terminal's size,
    and the mirror must have it too (it kept the --size before: every row wrapped wrongly)."""
    need("tmux")
    async with in_tmux(relay_url, tmp_path, "--size", "60x20") as (tmux, agent, _):
        await settle(agent, tmux.screen, "the first prompt", at_prompt)  # typed earlier, the tty would echo it
        await tmux.type("stty size; printf '%070d|\\n' 7")
        await tmux.key("Enter")
        screen = view(await settle(agent, tmux.screen, "--size under tmux",
                                   lambda s: at_prompt(s) and any(line.endswith("7|") for line in s["lines"])))
        assert screen["size"] == [COLS, ROWS]
        assert f"{ROWS} {COLS}" in screen["lines"]
        assert "0" * 69 + "7|" in screen["lines"]


# -- 3. a late-joining agent sees the current screen at once ----------------------------

async def test_late_joining_agent_sees_the_current_screen_at_once(relay_url: str) -> None:
    program = "echo printed-before-the-agent; printf '\\033[10;40Hplaced at row 10'; exec sleep 60"
    customer = await start_customer(relay_url, "share", command=shlex.join(["sh", "-c", program]))
    agent = None
    try:
        code = (await customer.stderr_line("cobrowse code: ")).split("cobrowse code: ", 1)[1].strip()
        await customer.output(b"placed at row 10")  # drawn before the agent even started
        await asyncio.sleep(0.2)
        agent = await start_agent(relay_url, "--join", code)
        await agent.event("paired")
        first = view(await agent.event("screen"))
        assert first == emulated(customer.stdout_raw)
        assert first["lines"][0] == "printed-before-the-agent"
        assert first["lines"][9] == " " * 39 + "placed at row 10"
        assert first["cursor"] == [55, 9] and first["size"] == [COLS, ROWS]
        # the current screen came whole in the first frame: nothing was still missing
        await asyncio.sleep(0.3)
        assert all(view(s) == first for s in agent.all("screen"))
    finally:
        await customer.kill()
        if agent is not None:
            await agent.kill()


# -- 4. a reconnecting agent sees the current screen, and chat arrives exactly once -----

async def test_reconnecting_agent_sees_the_current_screen_and_chat_once(relay: Any, relay_url: str) -> None:
    proxy = await TcpProxy("127.0.0.1", relay.port).start()
    try:
        async with paired(relay_url, "bash --norc --noprofile", agent_relay=proxy.url) as (agent, customer):
            await customer.send(b"echo before-$((1+1))\r")
            await settle(agent, lambda: emulated(customer.stdout_raw), "before the drop",
                         until=lambda s: "before-2" in s["lines"] and at_prompt(s))
            connections = proxy.connections

            # the agent's network fails: both ends of its connection die, reconnects wait
            proxy.hold()
            proxy.drop()
            await agent.event("connection", state="reconnecting")
            await customer.stderr_line("the agent's connection dropped")
            await customer.send(b"echo during-$((2+2))\r")
            await customer.send(b"\x1dcsent during the outage\r")
            await customer.output(b"\rduring-4\r\n")
            await customer.stderr_line("you: sent during the outage")
            await asyncio.sleep(0.3)
            assert proxy.connections > connections, "the agent is trying to reconnect"
            assert not agent.all("chat")
            assert not any("during-4" in s["lines"] for s in agent.all("screen"))
            assert [e["state"] for e in agent.all("connection")] == ["reconnecting"], "still disconnected while held"
            seen = len(agent.events)

            proxy.release()
            resumed = await agent.event("connection", state="resumed")
            assert resumed["peer"] is True
            after = view(await settle(agent, lambda: emulated(customer.stdout_raw), "after the reconnect",
                                      until=lambda s: "during-4" in s["lines"] and at_prompt(s)))
            assert after["lines"][after["cursor"][1] - 1] == "during-4"
            await agent.event("chat", text="sent during the outage")
            await customer.send(b"\x1dcafter the outage\r")
            await agent.event("chat", text="after the outage")
            assert [c["text"] for c in agent.all("chat")] == ["sent during the outage", "after the outage"]
            assert all(c["from"] == "customer" for c in agent.all("chat"))
            assert not any(e.get("event") == "ended" for e in agent.events[seen:])
            # and the session goes on both ways
            await agent.send({"cmd": "chat", "text": "the agent is back"})
            await customer.stderr_line("the agent is back")
            await customer.send(b"echo still-$((3+3))\r")
            await settle(agent, lambda: emulated(customer.stdout_raw), "the session goes on",
                         until=lambda s: "still-6" in s["lines"] and at_prompt(s))
    finally:
        await proxy.close()


# -- 5. cell by cell against tmux: the fidelity items of issue 14 -------------------------
#
# The same bytes go into a real tmux (a pane running `cat`) and into our emulator; every cell's
# text, colours and attributes and the cursor must be equal, as a person sees them: a hidden
# cell shows nothing, a line-drawing cell shows its line (tmux keeps the ASCII letter and a flag).

ITEM_COLS, ITEM_ROWS = 40, 10
_REGION = "\x1b[2J\x1b[H" + "\r\n".join(str(i) for i in range(1, 9))


def _lines(*texts: str) -> str:
    """Each text, then a mark at column 30 (so a shifted layout shows as a changed gap)."""
    return "".join(f"{text}\x1b[30G#\r\n" for text in texts)


FIDELITY_ITEMS: dict[str, str] = {
    "combining marks": _lines("cafe\u0301|", "naïve e\u0301\u0302|", "e\x1b[31m\u0301x\x1b[0m|"),
    "devanagari": _lines("नमस्ते दुनिया|"),
    "thai": _lines("สวัสดีครับ|"),
    "vs16": _lines("\u2764\ufe0f|\u2764|", "1\ufe0f\u20e3|"),
    "zwj emoji": _lines("\U0001F468\u200d\U0001F469\u200d\U0001F467|", "\U0001F469\u200d\u2764\ufe0f\u200d\U0001F48B\u200d\U0001F468|"),
    "zero-width space": _lines("a\u200bb\ufeffc\u2060d|"),
    "arabic and persian with vowels": _lines("سَلامٌ عَلَيْكُم|", "کِتابِ من|"),
    "hangul jamo": _lines("\u1100\u1161\u11a8\u1102\u1162|"),
    "sgr 21, 4:3, 4:4, 4:5, 53": _lines("\x1b[21mdbl\x1b[0m \x1b[4:3mcurly\x1b[4:4mdot\x1b[4:5mdash\x1b[4:0m \x1b[53mover\x1b[55m "
                                        "\x1b[4m\x1b[21mx\x1b[4my\x1b[0m|"),
    "sgr 8 hidden": _lines("pw: \x1b[8mhunter2\x1b[28m shown \x1b[8;31mred\x1b[0m|"),
    "sgr 1;2 bold and dim": _lines("\x1b[1;2mboth\x1b[22m \x1b[1m\x1b[2mboth\x1b[0m \x1b[2m\x1b[1mboth\x1b[0m "
                                   "\x1b[1;38;5;2mbold\x1b[0m|"),
    "scroll region past the last row": _REGION + "\x1b[3;99r\x1b[10;1Hx\nY",
    "deccolm clears": "abc\r\ndef\x1b[?3l",
    "decom and reverse index": _REGION + "\x1b[3;6r\x1b[?6h\x1b[9;1HX\x1bMY\x1b[2;2H\x1b7\x1b[?6l\x1b[1;1H\x1b8R\x1bMS\x1b[?6l\x1b[r",
    "decrc restores the line-drawing set": "\x1b(0\x1b7\x1b(Bqqq\x1b8lqk\r\n\x1b7\x1b(0qq\x1b8qq\x1b(B\r\n\x1b(0\x1b[s\x1b(Bqq\x1b[uqq\x1b(B",
}
# What tmux 3.3a does that we keep different on purpose: DECSTBM under DECOM homes the cursor to
# the screen's top-left (tmux) instead of the region's (VT100, xterm, avt). Not in the items above.

_TMUX_SGR_ATTRS = {
    "1": "bold", "2": "faint", "3": "italic", "4": "underline", "4:1": "underline", "4:2": "double_underline",
    "4:3": "curly_underline", "4:4": "dotted_underline", "4:5": "dashed_underline", "5": "blink", "7": "inverse",
    "8": "hidden", "9": "strikethrough", "53": "overline", "5:3": "overline",  # tmux 3.3a writes 53 as 5:3
}


def _drawing(ch: str) -> str:
    """The DEC special graphics character for ``ch``, as our emulator draws it."""
    emu = Emulator(2, 1)
    emu.feed(b"\x1b(0" + ch.encode())
    return emu.row(0).text[0]


def tmux_cells(capture: str, rows: int) -> list[list[tuple[str, Any, Any, frozenset[str]]]]:
    """`capture-pane -p -e` output as rows of (character, fg, bg, attributes), hidden shown blank.
    tmux writes only what changed since the previous cell, across lines too (a row after one that
    ended in line drawing starts without SO), so the state carries over."""
    out = []
    fg: Any = None
    bg: Any = None
    attrs: set[str] = set()
    acs = False
    for line in capture.split("\n")[:rows]:
        cells = []
        for m in re.finditer(r"\x1b\[([0-9;:]*)m|(\x0e)|(\x0f)|(.)", line, re.S):
            if m.group(2) or m.group(3):
                acs = bool(m.group(2))
                continue
            ch = m.group(4)
            if ch is not None:
                shown = " " if "hidden" in attrs else (_drawing(ch) if acs else ch)
                cells.append((shown, fg, bg, frozenset(attrs)))
                continue
            params = (m.group(1) or "0").split(";")
            i = 0
            while i < len(params):
                p = params[i]
                if p in ("38", "48"):
                    if params[i + 1] == "5":
                        colour: Any = int(params[i + 2])
                        i += 3
                    else:
                        colour = tuple(int(v) for v in params[i + 2:i + 5])
                        i += 5
                    if p == "38":
                        fg = colour
                    else:
                        bg = colour
                    continue
                i += 1
                if p in ("", "0"):
                    fg = bg = None
                    attrs.clear()
                elif p in _TMUX_SGR_ATTRS:
                    attrs.add(_TMUX_SGR_ATTRS[p])
                elif p == "39":
                    fg = None
                elif p == "49":
                    bg = None
                elif p.isdigit() and (30 <= int(p) <= 37 or 90 <= int(p) <= 97):
                    fg = int(p) - 30 if int(p) < 90 else int(p) - 82
                elif p.isdigit() and (40 <= int(p) <= 47 or 100 <= int(p) <= 107):
                    bg = int(p) - 40 if int(p) < 100 else int(p) - 92
                else:
                    raise AssertionError(f"capture-pane wrote an SGR the test does not know: {p!r} in {line!r}")
        out.append(cells)
    return [_trim(r) for r in out] + [[]] * (rows - len(out))


def our_cells(emu: Emulator) -> list[list[tuple[str, Any, Any, frozenset[str]]]]:
    """Our emulator's rows in the same form."""
    from cobrowse.screen.state import style_dict

    rows = []
    for row in emu.state().rows:
        cells = []
        for text, style in row.runs:
            names = frozenset(k for k, v in style_dict(style).items() if v is True)
            for ch in text:
                cells.append((ch, style.fg, style.bg, names))
        rows.append(_trim(cells))
    return rows


def _trim(cells: list) -> list:
    while cells and cells[-1][0] == " " and cells[-1][1:] == (None, None, frozenset()):
        cells.pop()
    return cells


async def tmux_draws(data: bytes, tmp_path: Path, cols: int = ITEM_COLS, rows: int = ITEM_ROWS) -> tuple[list, list[int]]:
    """Feed ``data`` to a real tmux pane (`cat`, raw tty) and return its cells and cursor."""
    source = tmp_path / "bytes"
    source.write_bytes(data)
    done = tmp_path / "done"
    env = {k: v for k, v in os.environ.items() if k not in ("TMUX", "TMUX_PANE")}
    env.update(LC_ALL="C.UTF-8", LANG="C.UTF-8")
    tmux = Tmux(env)
    try:
        await tmux.start(f"stty raw -echo; cat {shlex.quote(str(source))}; touch {shlex.quote(str(done))}; exec sleep 60",
                         cols, rows, str(tmp_path))
        for _ in range(100):
            if done.exists():
                break
            await asyncio.sleep(0.05)
        assert done.exists(), "tmux never ran the pane's command"
        await asyncio.sleep(0.2)  # the pane read everything cat wrote
        capture = await tmux.run("capture-pane", "-p", "-e", "-t", tmux.target)
        x, y = (await tmux.run("display-message", "-p", "-t", tmux.target, "#{cursor_x} #{cursor_y}")).split()
        return tmux_cells(capture, rows), [int(x), int(y)]
    finally:
        await tmux.kill()


# tmux 3.4 changed how VS16 and emoji modifiers widen a cell; the reference here is 3.3a.
_TMUX_33_ONLY = {"vs16", "zwj emoji"}


@pytest.mark.parametrize("item", sorted(FIDELITY_ITEMS))
async def test_tmux_and_the_emulator_draw_each_fidelity_item_alike(item: str, tmp_path: Path) -> None:
    need("tmux")
    if item in _TMUX_33_ONLY:
        version = subprocess.run(["tmux", "-V"], capture_output=True, text=True).stdout.strip()
        if not version.startswith("tmux 3.3"):
            pytest.skip(f"{version}: the reference for {item!r} is tmux 3.3a's drawing")
    data = FIDELITY_ITEMS[item].encode()
    want_cells, want_cursor = await tmux_draws(data, tmp_path)
    emu = Emulator(ITEM_COLS, ITEM_ROWS)
    emu.feed(data)
    cursor = emu.cursor()
    assert [cursor.col, cursor.row] == want_cursor, f"{item}: the cursor"
    got = our_cells(emu)
    for y, (ours, theirs) in enumerate(zip(got, want_cells)):
        assert ours == theirs, f"{item}: row {y} differs from tmux"
    # and the same bytes one at a time (a pty read may end anywhere)
    emu = Emulator(ITEM_COLS, ITEM_ROWS)
    for i in range(len(data)):
        emu.feed(data[i:i + 1])
    assert our_cells(emu) == got, f"{item}: fed byte by byte, the screen differs"
    assert emu.cursor() == cursor


async def test_hidden_text_never_reaches_the_agent_and_styles_are_opt_in(relay_url: str, tmp_path: Path) -> None:
    """Through real processes: the shared program prints a concealed secret (SGR 8), clusters
    and new attributes; the headless agent (`--styles`) sees blanks where tmux shows nothing,
    the clusters whole, and the style runs; no event carries the secret."""
    script = tmp_path / "draw.sh"
    script.write_bytes(b"printf 'pw: \\033[8mhunter2\\033[0m|\\r\\ncafe\\314\\201 \\033[21mdbl\\033[0m \\033[1;2mbd\\033[0m|\\r\\n'"
                       b"; echo drawn; exec sleep 60\n")
    agent = await start_agent(relay_url, "--styles")
    customer: Customer | None = None
    try:
        code = (await agent.event("code"))["code"]
        customer = await start_customer(relay_url, "join", code, command=f"sh {shlex.quote(str(script))}")
        await agent.event("paired")
        await customer.output(b"drawn")
        screen = await settle(agent, lambda: emulated(customer.stdout_raw), "the drawing",
                              until=lambda s: "drawn" in s["lines"])
        lines = view(screen)["lines"]
        assert lines[:3] == ["pw:        |", "cafe\u0301 dbl bd|", "drawn"]
        styles = screen["styles"]
        assert [4, 11, {"hidden": True}] in styles[0]
        assert [5, 8, {"double_underline": True}] in styles[1]
        assert [9, 11, {"bold": True, "faint": True}] in styles[1]
        assert b"hunter2" in customer.stdout_raw, "the customer's own terminal got the bytes (it conceals them)"
        assert not any("hunter2" in json.dumps(event) for event in agent.events), "the secret reached the agent"
    finally:
        await agent.kill()
        if customer is not None:
            await customer.kill()


async def test_screen_events_carry_no_styles_by_default(relay_url: str) -> None:
    async with paired(relay_url, "sh -c 'printf \"\\033[1mbold\\033[0m\\r\\n\"; echo drawn; exec sleep 60'") as (agent, customer):
        await customer.output(b"drawn")
        screen = await settle(agent, lambda: emulated(customer.stdout_raw), "bold text", until=lambda s: "drawn" in s["lines"])
        assert "styles" not in screen

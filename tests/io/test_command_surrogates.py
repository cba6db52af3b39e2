"""A lone surrogate (U+D800-U+DFFF: no UTF-8 for it) in any string field of an agent
command, from any entry point (an in-process ``agent.command(...)`` with a typed command or a
mapping, the console's typed commands), is refused with a CommandError that says so before
anything is planned; the session goes on. It raised UnicodeEncodeError from the frame's
encoding, after the command was planned (stdin's lines were fixed in cobrowse/io/headless.py).
Real relay and runtimes on 127.0.0.1."""

from __future__ import annotations

import asyncio

import pytest

from cobrowse.policy import agent_commands as c
from cobrowse.policy.agent_commands import CommandError
from tests.io.test_keys_at_once import _chats, _control
from tests.io.test_resume import paired_runtimes, stop

LONE = "a\ud800b"

TYPED = [
    lambda: c.Chat(LONE),
    lambda: c.Keys(LONE),
    lambda: c.Keys("\udce9"),  # what surrogateescape makes of a stray byte
    lambda: c.Suggest(LONE),
    lambda: c.Point(pattern=LONE),
    lambda: c.Redact(("ok", LONE)),
    lambda: c.Ticket(LONE),
    lambda: c.PushPlaybook(name=LONE),
    lambda: c.PushSteps((("title", "t"), ("steps", [{"title": "x", "body": ["ok", {"deep": LONE}]}]))),
]
MAPPINGS = [
    {"cmd": "chat", "text": LONE},
    {"cmd": "keys", "data": LONE},
    {"cmd": "suggest", "command": LONE},
    {"cmd": "point", "pattern": LONE},
    {"cmd": "redact", "patterns": [LONE]},
    {"cmd": "ticket", "id": LONE},
    {"cmd": "playbook", "path": LONE},
    {"cmd": "steps", "title": LONE, "steps": [{"title": "x"}]},
]


@pytest.mark.pure
@pytest.mark.parametrize("make", TYPED, ids=[f"typed{i}" for i in range(len(TYPED))])
def test_a_typed_command_with_a_lone_surrogate_is_refused_on_construction(make) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(CommandError, match="lone surrogate"):
        make()


@pytest.mark.pure
def test_a_cyclic_or_deep_structure_is_walked_without_recursion() -> None:
    deep: list[object] = [LONE]
    for _ in range(100_000):
        deep = [deep]
    with pytest.raises(CommandError, match="lone surrogate"):
        c.PushSteps((("steps", deep),))
    loop: list[object] = ["ok"]
    loop.append(loop)
    c.PushSteps((("steps", loop),))  # no surrogate: left to the playbook's own checks
    assert c.Chat("emoji \U0001f600 and \u202e are not surrogates").text


async def test_in_process_commands_with_a_lone_surrogate_are_refused_and_the_session_goes_on(relay_url: str) -> None:
    agent, agent_events, customer, events, program, tasks = await paired_runtimes(relay_url)
    try:
        await _control(agent_events, customer)
        for i, cmd in enumerate(MAPPINGS):
            with pytest.raises(CommandError, match="lone surrogate"):
                await agent.command(cmd)
        await agent.command({"cmd": "keys", "data": "ok"})
        await agent.command(c.Chat("still here"))
        await events.until(lambda: "still here" in _chats(events), timeout=10)
        async with asyncio.timeout(10):
            while bytes(program) != b"ok":
                assert len(program) < 2, bytes(program)
                await asyncio.sleep(0.01)
        assert not any(t.done() for t in tasks)
    finally:
        await stop(tasks, agent, customer)

"""A hostile agent that floods and burns the customer's CPU and memory (issue 11, items 3-4).

Real customer (`cobrowse join`, plain mode, a real shell on a real pty), real relay, the
hostile agent of ``hostile_agent.py``. Outcomes only: how many lines the customer's
terminal got, whether the customer's own keys still echo (a bounded wait, generous: the
attacks below would hold an unprotected customer for over a minute), how far the customer's
peak memory grew, whether the session survived.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from harness import Proc
from test_hostile_agent import (
    BASH,
    PREFIX,
    Start,
    hostile_session,
    quiet,
    shell_runs,
    typed,
    wait_stdout,
)

from cobrowse.protocol import messages as m

__all__ = ["hostile_session"]  # the fixture, shared with test_hostile_agent.py

ECHO_WAIT = 20.0
#: Patterns that cost the `regex` module its whole per-match timeout on a line of a's ending in "!".
CATASTROPHIC = ["(a|aa)+$", "(a|a)+$", "(aa|a)+$", "(a|aa)+b"]
A_LINE = "a" * 60 + "!"


def new_lines(customer: Proc, since: int) -> list[str]:
    return customer.stderr_lines[since:]


async def keys_still_echo(customer: Proc, tag: str) -> None:
    """The customer types; their own terminal must show the echo (and the shell's answer)."""
    await typed(customer, f"echo {tag}-$((6*7))\r".encode())
    await wait_stdout(customer, f"{tag}-42".encode(), timeout=ECHO_WAIT)


def peak_rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM in /proc: not Linux?")


# floods: one prompt, a bounded number of notices


async def test_200_control_requests_show_at_most_a_few_prompts(hostile_session: Start) -> None:
    agent, customer = await hostile_session()
    since = len(customer.stderr_lines)
    await agent.flood(m.RequestControl("control"), 200)
    await agent.flood(lambda i: m.RequestControl("suggest" if i % 2 else "control"), 200)
    await quiet(customer, agent)
    prompts = [line for line in new_lines(customer, since) if "Ctrl-] y" in line]
    assert len(prompts) <= 3, f"{len(prompts)} prompts for 400 requests (prompt fatigue): {prompts[:5]}"
    assert len(new_lines(customer, since)) <= 10, f"{len(new_lines(customer, since))} lines for 400 requests"


async def test_200_record_requests_show_at_most_a_few_prompts(hostile_session: Start) -> None:
    agent, customer = await hostile_session()
    since = len(customer.stderr_lines)
    await agent.flood(lambda i: m.RecordRequest(i % 3 != 2), 200)
    await quiet(customer, agent)
    assert len(new_lines(customer, since)) <= 10, f"{len(new_lines(customer, since))} lines for 200 record requests"


async def test_200_keys_without_a_grant_give_a_bounded_number_of_notices(hostile_session: Start, tmp_path: Path) -> None:
    agent, customer = await hostile_session()
    marker = tmp_path / "typed-by-the-agent"
    since = len(customer.stderr_lines)
    await agent.flood(m.Keys(f"touch {marker}\r"), 200)
    await quiet(customer, agent)
    lines = new_lines(customer, since)
    assert len(lines) <= 5, f"{len(lines)} notices for 200 unauthorised key messages"
    await shell_runs(customer, tmp_path, "after-keys")
    assert not marker.exists(), "the agent's keys reached the shell without a grant"


async def test_a_1mb_name_is_a_bounded_number_of_lines(hostile_session: Start) -> None:
    agent, customer = await hostile_session(hello=False)
    since = len(customer.stderr_lines)
    await agent.send(m.Hello("agent", "cobrowse", "Alice from Microsoft\n" * 50_000))  # ~1 MB, ~3 KB sealed
    await agent.send(m.Chat("after the name"))
    await customer.stderr_line("after the name")
    await quiet(customer, agent)
    lines = new_lines(customer, since)
    assert len(lines) <= 10, f"a 1 MB name printed {len(lines)} lines"
    assert sum(len(line) for line in lines) <= 16 * 1024, "a 1 MB name printed more than 16 KB"


async def test_malformed_messages_do_not_end_the_session_or_flood_the_terminal(hostile_session: Start) -> None:
    agent, customer = await hostile_session()
    since = len(customer.stderr_lines)
    payloads = [b"", b"\x00", b"\x00{", b"\x00[]", b"\x00null", b"\x00" + b"[" * 100_000, b"\x02{}",
                b"\x01not zlib", b"\x00{\"t\":\"chat\",\"text\":5}", b"\x00{\"t\":\"keys\",\"data\":[1]}",
                b"\x00{\"t\":\"pointer\",\"first\":\"0\"}", b"\x00{\"t\":\"nope\"}", b"\x00\xff\xfe",
                b"\x00{\"t\":\"suggest\",\"id\":1e400,\"command\":\"x\"}", b"\x00{\"t\":\"step\",\"action\":\"mark\",\"index\":-99}"]
    await agent.flood_raw(payloads * 20)
    await agent.send(m.Chat("still here"))
    await customer.stderr_line("still here")
    await quiet(customer, agent)
    assert agent.ended is None and not agent.all(m.End), "malformed messages ended the session"
    lines = new_lines(customer, since)
    assert len(lines) <= 20, f"{len(payloads) * 20} malformed messages printed {len(lines)} lines"
    await keys_still_echo(customer, "after-malformed")


# patterns: the customer's own keys keep echoing


async def burst_of_a_lines(customer: Proc, count: int) -> None:
    """``count`` distinct lines ``N aaa…a!`` (distinct: a cache of answers per line does not help)."""
    await typed(customer, f"seq -f '%g {A_LINE}' 1 {count}\r".encode())


async def test_a_catastrophic_expect_pattern_does_not_freeze_the_customer(hostile_session: Start) -> None:
    agent, customer = await hostile_session()
    steps = [{"title": f"step {i}", "expect": CATASTROPHIC[i % 2], "fail": CATASTROPHIC[(i + 1) % 2]} for i in range(3)]
    await agent.send(m.PushPlaybook({"title": "fix it", "steps": steps}))
    await agent.expect(m.Steps)
    await burst_of_a_lines(customer, 1500)  # unbounded: 1,500 lines x 2 patterns x 50 ms = 150 s
    await keys_still_echo(customer, "after-expect")


async def test_catastrophic_redaction_patterns_do_not_freeze_the_customer(hostile_session: Start) -> None:
    agent, customer = await hostile_session()
    await agent.send(m.Redact(CATASTROPHIC * 5))
    await quiet(customer, agent)
    await burst_of_a_lines(customer, 1500)  # unbounded: 1,500 distinct lines x 50 ms, and each frame's rows
    await keys_still_echo(customer, "after-redact")


async def test_pointer_floods_with_a_catastrophic_pattern_do_not_freeze_the_customer(hostile_session: Start) -> None:
    agent, customer = await hostile_session()
    await burst_of_a_lines(customer, 40)
    await agent.screen(lambda lines: sum(A_LINE in line for line in lines) >= 20)
    await agent.flood(lambda i: m.Pointer(pattern=CATASTROPHIC[i % len(CATASTROPHIC)]), 300)  # unbounded: 300 x 24 rows x 50 ms
    await keys_still_echo(customer, "after-pointer")


# inflating messages: bounded memory, and the keys echo


async def test_inflating_messages_cost_bounded_memory(hostile_session: Start) -> None:
    agent, customer = await hostile_session()
    await keys_still_echo(customer, "before-bombs")
    await quiet(customer, agent)
    pid = customer.proc.pid
    before = peak_rss_kb(pid)
    sizes = []
    for i in range(50):
        kind, field = [("chat", "text"), ("hello", "name"), ("suggest", "command"), ("playbook", "title")][i % 4]
        sizes.append(await agent.bomb(4 * 1024 * 1024 - 64, kind, field))
    assert max(sizes) < 8 * 1024, "the bombs are small on the wire"
    await agent.send(m.Chat("after the bombs"))
    await customer.stderr_line("after the bombs")
    await keys_still_echo(customer, "after-bombs")
    grown_mb = (peak_rss_kb(pid) - before) / 1024
    assert grown_mb <= 16, f"50 messages of <8 KB each inflated the customer's peak memory by {grown_mb:.0f} MB"
    assert agent.ended is None, "the bombs ended the session"


async def test_the_customer_can_still_end_the_session_under_attack(hostile_session: Start) -> None:
    """Ctrl-] e works while the agent floods (the customer's way out is never blocked)."""
    agent, customer = await hostile_session(command=BASH)
    flood = asyncio.create_task(agent.flood(lambda i: m.RequestControl("control"), 2000, rate=400))
    try:
        await asyncio.sleep(0.5)
        await typed(customer, PREFIX + b"e" + PREFIX + b"e")  # Ctrl-] e twice: ending asks for a second press
        end = await agent.expect(m.End, timeout=ECHO_WAIT)
        assert end.reason == "customer_ended"
        assert await customer.wait(ECHO_WAIT) == 0
    finally:
        flood.cancel()
        await asyncio.gather(flood, return_exceptions=True)

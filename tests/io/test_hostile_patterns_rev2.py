"""A hostile agent's playbook whose pattern would compile to hundreds of megabytes, against
the real customer runtime through a real relay (rev2): refused before it is compiled, the
agent told why, the customer's memory unchanged. Before, one ``expect:`` of 17 characters
(``(?:a{1000}){1000}``) cost the customer 277 MB and 0.4 s, and ``a{4294967294}`` gigabytes."""

from __future__ import annotations

from cobrowse.protocol import messages as m
from tests.io.test_resume import paired_runtimes, stop


def rss_mb() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        return next(int(line.split()[1]) // 1024 for line in status if line.startswith("VmRSS"))


async def test_a_pushed_playbook_with_a_huge_pattern_is_refused_and_costs_nothing(relay_url: str) -> None:
    agent, agent_events, customer, events, _, tasks = await paired_runtimes(relay_url)
    try:
        before = rss_mb()
        steps = [{"title": f"step {i}", "expect": f"(?:a{{1000}}){{{1000 + i}}}"} for i in range(2)]
        await agent.send(m.PushPlaybook({"title": "pwned-guide", "steps": steps}))
        await agent_events.until(lambda: any("too large" in str(e) for e in agent_events.events))
        assert rss_mb() - before < 100
        assert not any("pwned-guide" in str(e) for e in events.events)  # no guide started
    finally:
        await stop(tasks, agent, customer)


async def test_huge_redaction_and_pointer_patterns_are_refused_and_cost_nothing(relay_url: str) -> None:
    agent, agent_events, customer, events, _, tasks = await paired_runtimes(relay_url)
    try:
        before = rss_mb()
        await agent.send(m.Redact(["(?:a{1000}){1000}"]))
        await agent.send(m.Pointer(-1, -1, pattern="(?:a{1000}){1001}"))
        await agent_events.until(lambda: any("pointer pattern refused" in str(e.get("text")) for e in agent_events.of("chat")))
        assert any("redaction patterns refused" in str(e.get("text")) for e in agent_events.of("chat"))
        assert rss_mb() - before < 100
        await agent.send(m.Redact([r"secret-\d{4}"]))  # an everyday one still applies
        await events.until(lambda: any("masks 1 more pattern" in str(e.get("message")) for e in events.of("notice")))
    finally:
        await stop(tasks, agent, customer)

"""A real `cobrowse join --plain --lang ru` customer through a real relay: the scam warning,
the consent prompt and the end are in Russian; an unknown locale is English, said once."""

from __future__ import annotations

import asyncio

from harness import Proc

from cobrowse.io.agent import AgentRuntime
from cobrowse.io.link import RelayLink
from tests.waiting import until


async def agent_session(relay_url: str) -> tuple[AgentRuntime, asyncio.Task[None]]:
    agent = AgentRuntime(RelayLink(relay_url, "agent"), lambda event: None, name="Ivan")
    await agent.create()
    return agent, asyncio.create_task(agent.run())


async def customer(relay_url: str, code: str, *extra: str, env: dict[str, str] | None = None) -> Proc:
    return await Proc.start("join", code, "--relay", relay_url, "--command", "bash --norc --noprofile", "--plain",
                            *extra, name="customer", env={"PS1": "$ ", "TERM": "xterm-256color", **(env or {})})


async def test_a_russian_customer_reads_the_warning_and_the_prompt_in_russian(relay_url: str) -> None:
    agent, task = await agent_session(relay_url)
    proc = await customer(relay_url, str(agent.code), "--lang", "ru")
    try:
        warning = await proc.stderr_line("НЕПОДТВЕРЖДЁННЫЙ СПЕЦИАЛИСТ")
        assert "называет себя «Ivan»" in warning and "Ctrl-] e — завершить его" in warning
        await until(lambda: agent.paired, "the agent paired", 20)
        await agent.command({"cmd": "request_control", "level": "control"})
        prompt = await proc.stderr_line("специалист просит разрешения УПРАВЛЯТЬ")
        assert "Ctrl-] y даёт ему УПРАВЛЕНИЕ терминалом" in prompt
        await agent.end("agent_ended")
        assert await proc.wait() == 0
        assert not any("no translation" in line for line in proc.stderr_lines)
    finally:
        await proc.kill()
        if not task.done():
            task.cancel()


async def test_an_unknown_locale_is_english_and_said_once(relay_url: str) -> None:
    agent, task = await agent_session(relay_url)
    proc = await customer(relay_url, str(agent.code), env={"COBROWSE_LANG": "", "LC_ALL": "", "LC_MESSAGES": "",
                                                          "LANG": "de_DE.UTF-8"})
    try:
        await proc.stderr_line("UNVERIFIED AGENT")
        await agent.end("agent_ended")
        assert await proc.wait() == 0
        notices = [line for line in proc.stderr_lines if "no translation for de_DE.UTF-8 (from LANG)" in line]
        assert len(notices) == 1, proc.stderr_lines
    finally:
        await proc.kill()
        if not task.done():
            task.cancel()


async def test_the_agent_and_a_russian_customer_compare_the_same_words(relay_url: str) -> None:
    """Two real processes: the headless agent's hello event says the customer reads Russian
    and gives the customer's words with their romanisation; the customer's stderr shows the
    same Russian words; both come from the same three indices as the English SAS."""
    from harness import start_agent, start_customer

    from cobrowse.crypto import sas
    from cobrowse.i18n.language import Language

    agent = await start_agent(relay_url)
    customer = None
    try:
        code = (await agent.event("code"))["code"]
        customer = await start_customer(relay_url, code, "--lang", "ru")
        english = (await agent.event("paired"))["sas"]
        hello = await agent.event("hello", role="customer")
        assert hello["lang"] == "ru"
        line = await customer.stderr_line("Сверьте эти слова со специалистом")
        shown = line.split(": ", 1)[1].split()
        assert len(shown) == 3 and shown == sas.localize(english, Language.RU).split()
        assert all(f"{word} (" in hello["sas_words"] for word in shown), (hello, line)
        assert sas.indices_of(english) is not None and shown != english.split()
        await agent.send({"cmd": "end"})
        assert await customer.wait() == 0
        assert await agent.wait() == 0
    finally:
        await agent.kill()
        if customer is not None:
            await customer.kill()


async def test_an_english_customer_adds_english_words_for_the_agent(relay_url: str) -> None:
    from harness import pair

    agent, customer, _ = await pair(relay_url)
    try:
        english = agent.all("paired")[0]["sas"]
        hello = await agent.event("hello", role="customer")
        assert hello["lang"] == "en" and hello["sas_words"] == english
        await agent.send({"cmd": "end"})
        assert await customer.wait() == 0
    finally:
        await agent.kill()
        await customer.kill()


async def test_a_pushed_playbook_arrives_in_the_customers_language(relay_url: str) -> None:
    """The agent pushes `fix-git-push` by name; the customer's hello said `ru`: the Russian
    file is what the customer's cobrowse runs (its title on stderr, in the agent's steps)."""
    from harness import start_agent, start_customer

    agent = await start_agent(relay_url)
    customer = None
    try:
        code = (await agent.event("code"))["code"]
        customer = await start_customer(relay_url, code, "--lang", "ru")
        await agent.event("hello", role="customer", lang="ru")
        await agent.send({"cmd": "playbook", "name": "fix-git-push"})
        await customer.stderr_line("специалист запустил инструкцию: Исправить ошибку git push")
        await customer.stderr_line("[cobrowse] инструкция: Исправить ошибку git push (")
        steps = await agent.event("steps")
        assert steps["title"] == "Исправить ошибку git push"
        await agent.send({"cmd": "end"})
        assert await customer.wait() == 0
    finally:
        await agent.kill()
        if customer is not None:
            await customer.kill()


async def test_guide_mode_runs_the_translation_for_the_customers_language() -> None:
    guide = await Proc.start("guide", "collect-diagnostics", "--plain", "--lang", "zh", "--relay", "ws://127.0.0.1:9",
                             "--command", "bash --norc --noprofile", name="guide",
                             env={"PS1": "$ ", "TERM": "xterm-256color"})
    try:
        title = await guide.stderr_line("[cobrowse] 指南：")
        assert "步）" in title and "Collect diagnostics" not in title
        await guide.stderr_line("[cobrowse] 第 1/")
        await guide.send("exit\n")
        assert await guide.wait() == 0
        assert any("指南已结束：指南中的程序已退出（状态 0）；步骤：共 6 步，完成 0" in line for line in guide.stderr_lines), \
            guide.stderr_lines
    finally:
        await guide.kill()

"""The receipt's path and chain head (docs/records.md: "someone who noted it can show that the
end was not cut") reached the app's side-panel log only, gone with the app as the session
ended: in tmux the customer read "session ended: you ended the session" and nothing else. The
app's exit lines say it too, in the customer's language."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.tui.test_customer_app import BASH, Agent, _shell_env, agent, paired_app, prefix
from tests.waiting import until
from tui.customer_app import CustomerApp

__all__ = ["_shell_env", "agent"]


async def test_the_exit_lines_name_the_receipt(agent: Agent, relay_url: str, data_dir: Path) -> None:
    code = await agent.create()
    app = CustomerApp(relay_url, code, BASH)
    messages: list[object] = []
    exit_app = app.exit

    def exiting(*args: Any, **kwargs: Any) -> None:  # Textual prints the message once the app is gone
        messages.append(kwargs.get("message"))
        exit_app(*args, **kwargs)

    app.exit = exiting  # type: ignore[method-assign]
    async with app.run_test(size=(80, 24)) as pilot:
        await paired_app(pilot, agent)
        await prefix(pilot, "e")
        await prefix(pilot, "e")
        await until(lambda: not app.is_running, what="the app to exit")
    said = "\n".join(str(getattr(m, "plain", m)) for m in messages if m is not None)
    [receipt] = list((data_dir / "receipts").glob("*.jsonl"))
    assert said.startswith("cobrowse: session ended: "), said
    assert f"cobrowse: receipt of this session: {receipt} (chain head " in said, said

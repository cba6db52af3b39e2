"""The console's playbook picker lists the library's best matches for the customer's screen
first (suggest_playbooks), marked "suggested"; Enter on the first pushes it."""

from __future__ import annotations

from pathlib import Path

from cobrowse.playbook.catalogue import SAMPLES, Catalogue
from cobrowse.playbook.suggest_session import Suggester
from tests.tui.test_playbook_picker import SIZE, prompts
from tests.waiting import until
from tui.agent_app import AgentApp, PlaybookDialog


async def test_suggested_playbooks_come_first_and_can_be_picked(tmp_path: Path) -> None:
    library = Catalogue([SAMPLES])
    suggester = Suggester(library)
    suggester.heard("customer", "my deploy fails")
    screen = ["$ ssh deploy@10.0.4.17", "ssh: connect to host 10.0.4.17 port 22: Connection refused", "$"]
    suggested = suggester.matches(screen, 3)
    app = AgentApp("ws://127.0.0.1:9", None, "Alice", playbook_dir=library)
    async with app.run_test(size=SIZE) as pilot:
        picked: list[Path | None] = []
        app.push_screen(PlaybookDialog(app.library, suggested), picked.append)
        await until(lambda: isinstance(app.screen, PlaybookDialog) and app.screen.query("#playbook-list")
                    and prompts(app.screen), "the picker", pilot=pilot)
        shown = prompts(app.screen)
        assert shown[0].startswith("suggested") and "Fix an SSH connection that fails" in shown[0]
        assert sum(p.startswith("suggested") for p in shown) == len(suggested) <= 3
        await pilot.press("enter")
        await until(lambda: picked, "the pick", pilot=pilot)
        assert picked[0] is not None and picked[0].name == "fix-ssh-connection.md"

"""The console's playbook picker: the installed library (samples included), ranked search,
and a path typed by hand."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input, OptionList

from tui.agent_app import AgentApp, PlaybookDialog
from tests.waiting import until

SIZE = (100, 30)


def prompts(dialog: PlaybookDialog) -> list[str]:
    options = dialog.query_one("#playbook-list", OptionList)
    return [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]


async def test_the_default_library_has_the_samples_and_search_ranks(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("COBROWSE_DATA_DIR", str(tmp_path))  # no user library: the samples alone
    app = AgentApp("ws://127.0.0.1:9", None, "Alice")
    async with app.run_test(size=SIZE) as pilot:
        picked: list[Path | None] = []
        app.push_screen(PlaybookDialog(app.library), picked.append)
        await until(lambda: isinstance(app.screen, PlaybookDialog) and app.screen.query("#playbook-list")
                    and prompts(app.screen), "the picker", pilot=pilot)
        dialog = app.screen
        assert any("Fix a failing git push" in p for p in prompts(dialog))
        await pilot.press(*"non-fast-forward")
        await until(lambda: "Fix a failing git push" in prompts(dialog)[0], "the ranked search", pilot=pilot)
        await pilot.press("enter")
        await until(lambda: picked, "the pick", pilot=pilot)
        assert picked[0] is not None and picked[0].name == "fix-git-push.md"


async def test_a_typed_path_is_offered_first(tmp_path: Path) -> None:
    own = tmp_path / "mine.md"
    own.write_text("# Mine\n## One step\n")
    app = AgentApp("ws://127.0.0.1:9", None, "Alice", playbook_dir=tmp_path / "empty")
    async with app.run_test(size=SIZE) as pilot:
        picked: list[Path | None] = []
        app.push_screen(PlaybookDialog(app.library), picked.append)
        await until(lambda: isinstance(app.screen, PlaybookDialog) and app.screen.query("#playbook-list")
                    and prompts(app.screen), "the picker", pilot=pilot)
        dialog = app.screen
        assert "the library is empty" in prompts(dialog)[0]
        dialog.query_one("#playbook-search", Input).value = str(own)
        await until(lambda: "Open the file" in prompts(dialog)[0], "the typed path", pilot=pilot)
        await pilot.press("enter")
        await until(lambda: picked, "the pick", pilot=pilot)
        assert picked == [own]

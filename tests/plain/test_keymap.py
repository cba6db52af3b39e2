"""One table for the Ctrl-] keys: every parser takes what its help lists, and nothing else."""

from __future__ import annotations

from cobrowse.plain.keymap import ALIASES, KEYMAP, Front, command_for, help_text, hint, keys_for, unknown_key
from cobrowse.plain.prefix import COMMANDS, HELP, Command, PrefixParser

P = b"\x1d"


def test_keys_are_unique_and_aliases_point_at_keys() -> None:
    keys = [k.key for k in KEYMAP]
    assert len(keys) == len(set(keys))
    assert all(target in keys for target in ALIASES.values())


def test_plain_mode_parses_exactly_the_keys_its_help_lists() -> None:
    listed = {k.key for k in keys_for(Front.PLAIN)}
    assert {chr(c) for c in COMMANDS} | {"c"} == listed | set(ALIASES)
    for k in keys_for(Front.PLAIN):
        assert f"{k.key} {k.short}" in HELP
        if k.key != "c":
            assert PrefixParser().feed(P + k.key.encode()) == [Command(k.command)]
    assert "b panel" not in HELP and "v preview" not in HELP  # app-only keys are not offered in plain mode


def test_the_app_and_guide_keys() -> None:
    app = {k.key for k in keys_for(Front.APP)}
    assert {"b", "v"} <= app and "!" not in app
    assert "!" in {k.key for k in keys_for(Front.APP, guide=True)}
    assert command_for("h", Front.APP) == "help" and command_for("!", Front.APP) is None
    assert command_for("!", Front.PLAIN, guide=True) == "get_help"


def test_help_texts_come_from_the_table() -> None:
    text = help_text(Front.APP)
    for k in keys_for(Front.APP, guide=True):
        assert f"  {k.key:<8} {k.help}" in text
    short = hint(Front.APP)
    assert "c chat" in short and "a paste" not in short  # the status line keeps the common keys
    assert "a paste" in hint(Front.APP, every=True)
    assert unknown_key(Front.APP).endswith("or ? (help)") and "b" in unknown_key(Front.APP)


def test_guide_and_step_hints_list_only_keys_the_parsers_take() -> None:
    import re

    from cobrowse.plain.keymap import guide_hint, step_hint

    for front in (Front.PLAIN, Front.APP):
        for line, guide in ((guide_hint(front), True), (step_hint(front), False)):
            keys = re.findall(r"(?:^Ctrl-\] then: |^Ctrl-\] | · )(\S) ", line)
            assert keys, line
            assert all(command_for(key, front, guide=guide) for key in keys), (front, line)
    plain_guide = PrefixParser(guide=True)
    assert plain_guide.feed(P + b"!") == [Command("get_help")]
    assert PrefixParser().feed(P + b"!") == [Command("help")]  # outside guide mode: not a key

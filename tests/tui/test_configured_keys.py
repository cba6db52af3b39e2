"""Keys moved in the config file (issue 14, docs/config.md): every sentence of the customer app
and the agent console that names a key names the configured one, in every language (key
names are Latin: the translated sentence is rewritten, isolates and all)."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest
from textual.widgets import Button

from cobrowse.i18n.catalogues import translator
from cobrowse.i18n.language import Language
from cobrowse.i18n.text import Translated, Translator
from cobrowse.plain import keymap
from cobrowse.protocol.prompts import PromptKind
from tests.tui.test_customer_app import (  # noqa: F401
    BASH,
    Agent,
    _shell_env,
    agent,
    paired_app,
    until,
)
from tui import agent_keys
from tui.customer_app import CustomerApp
from tui.customer_texts import allow_label, button_label, pause_label

LANGUAGES = [Language.EN, Language.RU, Language.ZH, Language.FA]
MOVED = {"allow": "w", "deny": "z", "grant_control": "j", "pause": "q", "end": "x", "stop_recording": "h", "call": "i"}


@pytest.fixture(autouse=True)
def default_keys() -> Iterator[None]:
    yield
    keymap.configure()
    agent_keys.configure([])


def tr_for(language: Language) -> Translator:
    return translator(language)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_consent_and_panel_buttons_name_the_configured_keys(language: Language) -> None:
    tr = tr_for(language)
    keymap.configure(0x01, MOVED)
    allow = allow_label(PromptKind.CONTROL, tr)
    assert "Ctrl-A" in allow and "Ctrl-]" not in allow and allow.rstrip(")）\u2069").endswith("w"), allow
    assert isinstance(allow, Translated) or language is Language.EN
    deny = button_label("deny", tr)
    assert "Ctrl-A" in deny and deny.rstrip(")）\u2069").endswith("z"), deny
    for button, key in (("grant-control", "j"), ("end", "x"), ("call", "i"), ("revoke", "r")):
        assert button_label(button, tr).rstrip("\u2069").endswith(f"  {key}") or \
            button_label(button, tr).endswith(f"\u2066{key}\u2069"), (button, button_label(button, tr))
    assert pause_label(False, tr).rstrip("\u2069").endswith("q") and pause_label(True, tr).rstrip("\u2069").endswith("q")
    keymap.configure()
    assert allow_label(PromptKind.CONTROL, tr) == tr("Allow control (Ctrl-] y)")  # the defaults: as translated


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_banner_sentences_are_rewritten_in_every_language(language: Language) -> None:
    from tui.customer_texts import SHARED, SHORT_KEYS
    from cobrowse.policy.customer_events import Level

    tr = tr_for(language)
    keymap.configure(0x01, MOVED)
    view = keymap.rewrite(tr(SHARED[Level.VIEW], agent="Alice"))
    assert "Ctrl-]" not in view and "Ctrl-A q" in view.replace("\u2066", "").replace("\u2068", "") \
        and "Ctrl-A x" in view.replace("\u2066", "").replace("\u2068", ""), view
    short = keymap.rewrite(tr(SHORT_KEYS[Level.CONTROL], level="x"))
    assert "Ctrl-A r" in short.replace("\u2066", "").replace("\u2068", ""), short


def test_a_peer_value_in_an_isolate_is_rewritten_too_and_only_once() -> None:
    keymap.configure(0x01, {"get_help": "c", "chat": "w"})
    fa = tr_for(Language.FA)
    text = keymap.rewrite(fa("Guide, alone: nothing is shared · Ctrl-] {key} gets help from an agent · Ctrl-] ? help · "
                             "{title}", key=keymap.GET_HELP, title="t"))
    assert "Ctrl-A\u2069 \u2068c\u2069" in text and "Ctrl-]" not in text, text  # "!" → "c", not on to chat's "w"


def test_the_console_sentences_name_the_configured_keys() -> None:
    agent_keys.configure([("copy_code", "F3"), ("join_code", "F5"), ("clear_pointer", "⇧F12"), ("invite", "⇧F4"),
                          ("call", "⇧F3"), ("hangup", "⇧F7")])
    told = agent_keys.told
    assert told("Read this code to the customer (F5 copies it):") == "Read this code to the customer (F3 copies it):"
    assert told("No session here: F2 starts one, F3 joins a customer's code.") == \
        "No session here: F2 starts one, F5 joins a customer's code."
    assert told("⇧F7 answers, ⇧F8 declines.") == "⇧F3 answers, ⇧F7 declines."  # a swap, each key once
    assert told("(shift+F4 clears)") == "(shift+F12 clears)"  # the sentence's own style
    agent_keys.configure([])
    assert told("F5 copies it") == "F5 copies it"


async def test_the_customer_app_asks_and_labels_with_the_configured_keys(agent: Agent, relay_url: str,
                                                                         tmp_path: Path) -> None:
    keymap.configure(0x01, MOVED)
    code = await agent.create()
    app = CustomerApp(relay_url, code, BASH, control_cooldown=0.3)
    async with app.run_test(size=(120, 36)) as pilot:
        await paired_app(pilot, agent)
        await agent.rt.command({"cmd": "request_control", "level": "control"})
        await until(lambda: app.prompt_visible, what="the control question")
        question = str(app.query_one("#consent-text").content)
        assert "Allow (Ctrl-A w)" in question and "Deny (Ctrl-A z)" in question and "Ctrl-]" not in question, question
        assert str(app.query_one("#allow", Button).label) == "Allow control (Ctrl-A w)"
        assert str(app.query_one("#deny", Button).label) == "Deny (Ctrl-A z)"
        labels = {b.id: str(b.label) for b in app.query(Button)}
        assert labels["grant-control"] == "Control  j" and labels["pause"] == "Pause  q" and labels["end"] == "End  x"
        assert "Ctrl-]" not in app.banner_text, app.banner_text

"""A customer-facing string without a translation fails here.

The strings are extracted with Babel (as ``pybabel extract`` does with babel.cfg) from the
modules a customer reads; every msgid must have a non-empty, non-fuzzy translation in each
catalogue with the same ``{placeholders}``, the shipped ``.mo`` must match its ``.po``, and
Persian must isolate the Latin fragments it writes itself (docs/i18n.md).
"""

from __future__ import annotations

import configparser
import gettext
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po

from cobrowse.i18n.catalogues import mo_resource
from cobrowse.i18n.language import Language
from cobrowse.i18n.text import LRI, PDI, placeholders

ROOT = Path(__file__).resolve().parents[2]
LOCALE = ROOT / "cobrowse" / "locale"
KEYWORDS = {"tr": None, "plural": (1, 2), "N_": None}

#: Every module whose strings a customer reads (the full-screen app's included).
CUSTOMER_FACING = [
    "cobrowse/trust/display.py",
    "cobrowse/protocol/prompts.py",
    "cobrowse/errors.py",
    "cobrowse/i18n/ends.py",
    "cobrowse/i18n/notices.py",
    "cobrowse/cli/customer.py",
    "cobrowse/cli/code_prompt.py",
    "cobrowse/plain/keymap.py",
    "cobrowse/plain/prefix.py",
    "cobrowse/plain/feedback.py",
    "cobrowse/policy/customer.py",
    "cobrowse/policy/customer_consent.py",
    "cobrowse/policy/risky_command.py",
    "cobrowse/i18n/signatures.py",
    "cobrowse/queue/events.py",
    "cobrowse/cli/help.py",
    "tui/customer_app.py",
    "tui/customer_view.py",
    "tui/customer_texts.py",
    "tui/customer_events.py",
    "tui/customer_steps.py",
    "tui/customer_queue.py",
    "tui/customer_run.py",
    "tui/customer_screens.py",
    "tui/widgets/call_bar.py",
    "tui/feedback_dialog.py",
    "cobrowse/policy/customer_patterns.py",
    "cobrowse/policy/customer_team.py",
    "cobrowse/io/customer_team.py",
]
TRANSLATED = [lang for lang in Language if lang is not Language.EN]


def extracted() -> dict[str, tuple[str, ...]]:
    """msgid → (msgid,) or (singular, plural), from every customer-facing module."""
    found: dict[str, tuple[str, ...]] = {}
    for module in CUSTOMER_FACING:
        for _line, message, _comments, _context in extract_from_file("python", ROOT / module, keywords=KEYWORDS):
            ids = (message,) if isinstance(message, str) else tuple(message)
            found[ids[0]] = ids
    return found


def catalogue(lang: Language) -> Catalog:
    with open(LOCALE / lang.value / "LC_MESSAGES" / "cobrowse.po", "rb") as f:
        return read_po(f, locale=lang.value)


def strings(message: Message) -> Iterator[str]:
    yield from (message.string,) if isinstance(message.string, str) else message.string


def test_the_list_is_what_babel_cfg_extracts() -> None:
    config = configparser.ConfigParser()
    config.read(ROOT / "babel.cfg")
    patterns = [section.split(":", 1)[1].strip() for section in config.sections()]
    for module in CUSTOMER_FACING:
        assert any(Path(module).match(p.replace("**", "*")) or module == p for p in patterns), module
    assert len(extracted()) >= 50


@pytest.mark.parametrize("lang", TRANSLATED, ids=str)
def test_every_customer_string_is_translated(lang: Language) -> None:
    cat = catalogue(lang)
    assert not cat.fuzzy, f"{lang}: the catalogue's header is marked fuzzy"
    missing, bad = [], []
    for msgid, ids in extracted().items():
        message = cat.get(msgid)
        if message is None or not all(s.strip() for s in strings(message)) or message.fuzzy:
            missing.append(msgid)
            continue
        if len(ids) == 2 and (not isinstance(message.id, tuple) or len(list(strings(message))) != cat.num_plurals):
            bad.append(f"{msgid!r}: needs {cat.num_plurals} plural forms")
        expected = placeholders(ids[0]) | (placeholders(ids[1]) if len(ids) == 2 else frozenset())
        for text in strings(message):
            if placeholders(text) != expected:
                bad.append(f"{msgid!r}: {sorted(placeholders(text))} instead of {sorted(expected)}")
    assert not missing, (f"{lang}: no translation for {len(missing)} customer-facing string(s) "
                         f"(run the update in docs/i18n.md): {missing}")
    assert not bad, f"{lang}: {bad}"


@pytest.mark.parametrize("lang", TRANSLATED, ids=str)
def test_the_shipped_mo_matches_the_po(lang: Language) -> None:
    compiled = gettext.GNUTranslations(mo_resource(lang).open("rb"))
    for message in catalogue(lang):
        if not message.id:
            continue
        if isinstance(message.id, tuple):
            forms = [compiled.ngettext(*message.id, n) for n in range(0, 30)]
            assert set(forms) == set(strings(message)), f"{lang}: recompile the .mo (pybabel compile, docs/i18n.md)"
        else:
            assert compiled.gettext(message.id) == message.string, f"{lang}: recompile the .mo (docs/i18n.md)"


_LATIN = re.compile(r"[A-Za-z][A-Za-z\]\-' ]*[A-Za-z]|[A-Za-z]")


def test_persian_isolates_its_own_latin_fragments() -> None:
    """``cobrowse``, ``Ctrl-] x``: written inside LRI … PDI so they cannot reorder the sentence."""
    loose = []
    for message in catalogue(Language.FA):
        for text in strings(message) if message.id else ():
            bare = re.sub(r"\{[a-z_0-9]+\}", "", re.sub(f"{LRI}[^{PDI}]*{PDI}", "", text))
            loose += _LATIN.findall(bare)
    assert not loose, loose


def test_end_reasons_and_relay_errors_say_what_the_runtime_says() -> None:
    from cobrowse.i18n.ends import END_REASONS, OWN_ENDS, RELAY_ERRORS
    from cobrowse.io.runtime import END_MESSAGES
    from cobrowse.wire.envelope import CLOSE_REASONS, ERROR_CODES

    # (the customer's own ends are said to them as theirs: OWN_ENDS holds the runtime's words)
    assert {k: OWN_ENDS.get(k, END_REASONS[k]) for k in END_MESSAGES} == END_MESSAGES
    assert set(CLOSE_REASONS) <= set(END_REASONS)
    assert {k: ERROR_CODES[k] for k in RELAY_ERRORS} == RELAY_ERRORS

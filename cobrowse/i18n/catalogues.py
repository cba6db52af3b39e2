"""The compiled catalogues shipped in the package (``cobrowse/locale/LANG/LC_MESSAGES/
cobrowse.mo``), loaded once per language. English is the source language: no catalogue.

The ``.po`` files are the sources (translators edit them); the ``.mo`` files are compiled
from them with ``pybabel compile`` and committed, so ``pip install`` needs no build step
and no Babel (docs/i18n.md; a test checks that every ``.mo`` matches its ``.po``).
"""

from __future__ import annotations

import gettext
import io
from collections.abc import Mapping
from functools import cache
from typing import TYPE_CHECKING

from cobrowse.i18n.language import Choice, Language, choose_language
from cobrowse.i18n.text import Translator, current, install

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

DOMAIN = "cobrowse"


def mo_resource(language: Language) -> Traversable:
    from importlib import resources  # ~4 ms at start-up, and English (the default) reads no catalogue

    return resources.files("cobrowse.locale").joinpath(language.value, "LC_MESSAGES", f"{DOMAIN}.mo")


@cache
def translator(language: Language, isolate: bool = True) -> Translator:
    """The translator for ``language`` (English when it has no catalogue); ``isolate``: see
    ``cobrowse.i18n.text``."""
    if language is Language.EN:
        return Translator()
    data = mo_resource(language).read_bytes()
    return Translator(language, gettext.GNUTranslations(io.BytesIO(data)), isolate)


def customer_translator(flag: str | None, environ: Mapping[str, str],
                        isolate: bool = True) -> tuple[Translator, Choice]:
    """The customer's translator from ``--lang`` and the environment, and how it was chosen
    (``choice.notice``: the one line to show when the language asked for is not available)."""
    choice = choose_language(flag, environ)
    return translator(choice.language, isolate), choice


def install_customer_language(flag: str | None, environ: Mapping[str, str], isolate: bool = True) -> str | None:
    """Install the customer's translator for this process (``cobrowse.i18n.text.install``);
    return the notice to show once when the language asked for is not available."""
    tr, choice = customer_translator(flag, environ, isolate)
    install(tr)
    return choice.notice


def without_isolates() -> None:
    """The Textual customer app still turns sentences into plain ``str`` (``str(...)``,
    f-strings) before its guard, which would show a Persian sentence's isolates escaped: until
    it hands them over whole (docs/i18n.md), it gets its sentences without isolates."""
    install(translator(current().language, isolate=False))

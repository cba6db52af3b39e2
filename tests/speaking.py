"""The customer's texts in one language for a test, and English again after it (the
translator is process-wide: a test that forgot to put it back changed every later test)."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from cobrowse.i18n.catalogues import translator
from cobrowse.i18n.language import Language
from cobrowse.i18n.text import ENGLISH, install


@contextmanager
def speaking(language: Language) -> Iterator[Language]:
    install(translator(language))
    try:
        yield language
    finally:
        install(ENGLISH)

"""A playbook in the customer's language: ``NAME.LANG.md`` next to ``NAME.md``.

A translation is the same playbook (same steps, commands and patterns) with its titles and
explanations in another language; it is not a playbook of its own in the library (the
catalogue hides it) and is chosen where the playbook is pushed or run: by the customer's
``lang`` (their hello) on the agent's side, by the customer's own language in guide mode.
Patterns match what programs print, which may itself be translated: the samples keep the
English patterns, as the programs' output in the C locale.
"""

from __future__ import annotations

from pathlib import Path

from cobrowse.i18n.language import Language, parse_language

SUFFIX = ".md"


def translation_language(path: Path) -> Language | None:
    """``fix-git-push.ru.md`` → Russian; ``fix-git-push.md`` (or ``v1.2.md``) → ``None``."""
    stem = path.name[: -len(SUFFIX)] if path.name.lower().endswith(SUFFIX) else path.stem
    base, dot, code = stem.rpartition(".")
    if not dot or not base:
        return None
    try:
        return Language(code)
    except ValueError:
        return None


def is_translation(path: Path) -> bool:
    return translation_language(path) is not None


def translated(path: Path, language: Language | None) -> Path:
    """The file to use for a customer of ``language``: the translation next to ``path`` when
    there is one, else ``path`` itself (English is the original)."""
    if language is None or language is Language.EN or is_translation(path):
        return path
    candidate = path.with_name(f"{path.name[: -len(SUFFIX)]}.{language.value}{SUFFIX}")
    return candidate if candidate.is_file() else path


def translations(path: Path) -> list[Language]:
    """The languages ``path`` is available in besides English (for listings)."""
    return [lang for lang in Language if lang is not Language.EN and translated(path, lang) != path]


def for_peer(path: Path | str, lang: str) -> Path:
    """The file to push to a customer whose hello said ``lang`` (untrusted: an unknown or
    empty code, an older customer's, gives ``path`` itself)."""
    return translated(Path(path), parse_language(lang) if lang else None)

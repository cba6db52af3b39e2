"""Which language cobrowse speaks to the customer, and which values of ``lang`` we accept.

The order is the one HEADLESS.md names: ``--lang``, then ``COBROWSE_LANG``, then the POSIX
locale (``LC_ALL``, ``LC_MESSAGES``, ``LANG``: the first one set decides, as the C library
does). A language we have no catalogue for falls back to English, and the customer is told
once (in English: we cannot say it in a language we do not have).

Pure: the environment is passed in. ``parse_language`` is also the check on a peer's
``lang`` (the customer's hello): anything but a known code is ``None``, never an error.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import StrEnum
from cobrowse.wire.frozen import frozen


class Language(StrEnum):
    EN = "en"
    RU = "ru"
    ZH = "zh"  # Simplified Chinese; zh_TW / zh_HK readers get it too (better than English)
    FA = "fa"


#: Written right to left: values inside their sentences are isolated (``cobrowse.i18n.text``).
RTL = frozenset({Language.FA})

#: Each language's name in itself, for ``--lang`` help and notices.
NATIVE_NAMES: Mapping[Language, str] = {
    Language.EN: "English",
    Language.RU: "Русский",
    Language.ZH: "简体中文",
    Language.FA: "فارسی",
}

#: Locale values that mean "no language chosen": English, silently.
NEUTRAL = frozenset({"c", "posix"})
ENV_ORDER = ("COBROWSE_LANG", "LC_ALL", "LC_MESSAGES", "LANG")
MAX_TAG = 35  # BCP 47 tags and POSIX locale names are short; anything longer is not one
_TAG = re.compile(r"[A-Za-z]{2,8}(?:[-_@.][A-Za-z0-9=-]{1,16})*")


def parse_language(value: object) -> Language | None:
    """``ru``, ``ru_RU.UTF-8``, ``zh-Hans-CN``, ``fa_IR@calendar`` → a known language; anything
    else (other languages, junk, a peer's attempt at something clever) → ``None``."""
    if not isinstance(value, str) or not 0 < len(value) <= MAX_TAG or not _TAG.fullmatch(value):
        return None
    primary = re.split(r"[-_@.]", value, maxsplit=1)[0].lower()
    try:
        return Language(primary)
    except ValueError:
        return None


@frozen
class Choice:
    """The language, where it came from (``--lang`` or the variable's name, ``default``), and
    the one notice to show when the request could not be honoured (``None`` otherwise)."""

    language: Language
    source: str
    notice: str | None = None


def _unknown(value: str, source: str) -> Choice:
    known = ", ".join(lang.value for lang in Language)
    shown = value if value.isprintable() and len(value) <= MAX_TAG else repr(value[:MAX_TAG])
    return Choice(Language.EN, source, f"cobrowse has no translation for {shown!s} (from {source}): "
                                       f"showing English; available: {known} (--lang CODE)")


def choose_language(flag: str | None, environ: Mapping[str, str]) -> Choice:
    """The customer's language from ``--lang`` (``flag``) or the environment."""
    if flag:
        found = parse_language(flag)
        return Choice(found, "--lang") if found else _unknown(flag, "--lang")
    for name in ENV_ORDER:
        value = environ.get(name, "")
        if not value:
            continue
        if value.split(".")[0].lower() in NEUTRAL:
            return Choice(Language.EN, name)
        found = parse_language(value)
        return Choice(found, name) if found else _unknown(value, name)
    return Choice(Language.EN, "default")

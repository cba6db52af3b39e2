"""The translation function: our own English sentences in, the customer's language out.

Safe with untrusted text by construction:

- a msgid is one of our literal sentences (Babel extracts them from the source; the test
  ``tests/i18n/test_coverage.py`` fails when one has no translation). A ``SafeText`` (peer
  text) or any other ``str`` subclass is refused as a msgid: peer text is only ever a value;
- values are put in by name (``{name}``) with our own tiny substitution, never
  ``str.format``: no attribute or index lookups, and a value's braces are never read again;
  a bidi control in a value is shown escaped (``\u2066``), whoever forgot to clean it;
- in a right-to-left language every value is wrapped in Unicode isolates (FSI … PDI), so a
  code, a command, a key name or a Latin name keeps its own direction inside a Persian
  sentence and cannot reorder the words around it. Peer values come in already cleaned of
  bidi controls (``cobrowse.protocol.untrusted``), so the only isolates are ours.

The result is a ``Translated`` string: the front ends' last guard (``untrusted.visible``)
keeps the balanced isolates of a ``Translated`` it is handed whole, and escapes every bidi
control in any other string, so a sentence glued together with peer text by an f-string loses
its isolates rather than letting a peer's through. Until every customer front end hands its
sentences over whole, the CLI installs translators with ``isolate=False`` (docs/i18n.md).

Pure. The catalogue is passed in (``cobrowse.i18n.catalogues`` loads one from the package);
the composition root installs the customer's translator once (``install``), and pure
modules take ``tr`` as an argument defaulting to ``current()``.
"""

from __future__ import annotations

import gettext
import re
from collections.abc import Iterable, Mapping
from dataclasses import field

from cobrowse.i18n.language import RTL, Language
from cobrowse.wire.frozen import frozen

FSI = "\u2068"  # first strong isolate: the value's own first letter decides its direction
LRI = "\u2066"  # left-to-right isolate: codes, commands, keys
PDI = "\u2069"  # pop directional isolate
Value = str | int | float
#: Bidi controls in a value are shown escaped, so the only isolates in a sentence are ours
#: (the front ends' guard keeps the isolates of a ``Translated``; it escapes everything else).
_VALUE_BIDI = {code: f"\\u{code:04x}" for code in (0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A))}
_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}|\{\{|\}\}")


def N_(msgid: str) -> str:
    """Mark a constant for extraction; it is translated where it is shown."""
    return msgid


def placeholders(text: str) -> frozenset[str]:
    """The ``{name}`` fields of a message (the coverage test compares them across languages)."""
    return frozenset(m.group(1) for m in _PLACEHOLDER.finditer(text) if m.group(1))


def fill(template: str, values: Mapping[str, Value], isolate: bool = False) -> str:
    """Put ``values`` into ``{name}`` fields; ``{{``/``}}`` are literal braces. A field with no
    value raises KeyError (the caller falls back to English)."""

    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        if name is None:
            return match.group(0)[0]
        value = values[name]
        text = value if isinstance(value, Translated) else str(value).translate(_VALUE_BIDI)  # ours nest
        return f"{FSI}{text}{PDI}" if isolate else text

    return _PLACEHOLDER.sub(one, template)


def ltr(text: str) -> str:
    """Force a fragment left to right (an LRI … PDI isolate), for codes and commands shown
    on their own line in a right-to-left front end."""
    return f"{LRI}{text}{PDI}"


class Translated(str):
    """A sentence from our catalogue, values filled in (see the module's docstring)."""

    __slots__ = ()


_ISOLATES = str.maketrans("", "", LRI + FSI + PDI)


def joined(separator: str, parts: Iterable[Translated]) -> Translated:
    """Our sentences in a row (``a · b · c``): still ``Translated``, so their isolates survive
    as one value of another sentence. Only ``Translated`` parts: anything else is refused."""
    items = list(parts)
    if any(not isinstance(part, Translated) for part in items) or type(separator) is not str:
        raise TypeError("joined() takes translated sentences and one of our literal separators")
    return Translated(separator.translate(_VALUE_BIDI).join(items))


def _our_msgid(msgid: object) -> str:
    if type(msgid) is not str:
        raise TypeError(f"a msgid must be one of cobrowse's own literal strings, not {type(msgid).__name__}: "
                        "peer text is a value, never a message")
    return msgid


@frozen
class Translator:
    """One language's catalogue. ``tr("text {name}", name=value)``; ``tr.plural(...)``."""

    language: Language = Language.EN
    catalogue: gettext.NullTranslations = field(default_factory=gettext.NullTranslations, compare=False)
    isolate: bool = True  # put isolates in right-to-left sentences (False: plain text, see above)

    @property
    def rtl(self) -> bool:
        return self.language in RTL

    def __call__(self, msgid: str, /, **values: Value) -> Translated:
        msgid = _our_msgid(msgid)
        return self._fill(self.catalogue.gettext(msgid), msgid, values)

    def plural(self, singular: str, plural: str, n: int, /, **values: Value) -> Translated:
        """``n`` picks the form by the language's plural rule (Russian has three) and is
        also available as ``{n}``."""
        singular, plural = _our_msgid(singular), _our_msgid(plural)
        english = singular if n == 1 else plural
        return self._fill(self.catalogue.ngettext(singular, plural, n), english, {"n": n, **values})

    def _fill(self, translated: str, english: str, values: Mapping[str, Value]) -> Translated:
        isolate = self.rtl and self.isolate
        if self.rtl and not isolate:
            translated = translated.translate(_ISOLATES)
        try:
            return Translated(fill(translated, values, isolate=isolate and translated is not english))
        except KeyError:
            return Translated(fill(english, values))


ENGLISH = Translator()
_current = [ENGLISH]


def install(translator: Translator) -> None:
    """Make ``translator`` the process's default (the CLI does it once, for customer commands)."""
    _current[0] = translator


def current() -> Translator:
    """The process's translator: English unless the composition root installed another."""
    return _current[0]

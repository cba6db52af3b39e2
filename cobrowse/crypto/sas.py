"""The short authentication string both sides show and compare by voice.

Three words from a list of 256 (24 bits): enough that a man in the middle who somehow got
past the PAKE would be caught by two people reading three words to each other, and short
enough to actually be read. Words were picked to be distinct when spoken.

In the customer's language: every language has its own list of 256 words, so both sides
derive the same three indices from the key and each shows the words of the customer's
language (``sas_words(key, language=...)``). The events carry the English words (the
headless contract), from which ``localize`` gives the customer's words and ``for_agent``
the agent's view of them: the customer's words with a romanisation the agent can read aloud.
The agent learns the customer's language from the customer's hello (``lang``: untrusted,
``parse_language`` keeps only a known code). Pure.
"""

from __future__ import annotations

from collections.abc import Sequence

from cobrowse.crypto.sas_words import FA, RU, ZH
from cobrowse.i18n.language import Language, parse_language

WORDS: tuple[str, ...] = (
    "acorn", "adobe", "amber", "anchor", "apple", "arrow", "aspen", "atlas", "bagel", "bamboo",
    "banjo", "barley", "basil", "beacon", "beaver", "berry", "bison", "blossom", "bongo",
    "breeze", "brick", "bridge", "bronze", "bubble", "bucket", "buffalo", "button", "cabin",
    "cactus", "camel", "canoe", "canyon", "carbon", "carrot", "castle", "cedar", "cello",
    "cherry", "chess", "cider", "circus", "citrus", "clover", "cobalt", "cocoa", "comet",
    "copper", "coral", "cotton", "cougar", "coyote", "crane", "crayon", "cricket", "crystal",
    "cupcake", "daisy", "delta", "denim", "desert", "diesel", "dingo", "dolphin", "domino",
    "donkey", "dragon", "eagle", "echo", "eclipse", "elbow", "ember", "emerald", "engine",
    "falcon", "fennel", "ferry", "fiddle", "figure", "fjord", "flamingo", "flute", "forest",
    "fossil", "fox", "galaxy", "garden", "garlic", "gecko", "geyser", "ginger", "giraffe",
    "glacier", "globe", "goblin", "gopher", "granite", "grape", "gravel", "guitar", "hammer",
    "harbor", "harp", "hazel", "helmet", "heron", "hickory", "honey", "hornet", "husky",
    "igloo", "indigo", "iris", "island", "ivory", "jacket", "jaguar", "jasmine", "jelly",
    "jigsaw", "jungle", "kayak", "kettle", "kiwi", "koala", "ladder", "lagoon", "lantern",
    "lemon", "leopard", "lilac", "lime", "linen", "lizard", "llama", "lobster", "locket",
    "lotus", "magnet", "mango", "maple", "marble", "meadow", "melon", "meteor", "mint",
    "mitten", "monkey", "moose", "mosaic", "muffin", "nectar", "needle", "nickel", "nutmeg",
    "oasis", "oatmeal", "ocean", "olive", "onion", "orbit", "orchid", "otter", "owl", "paddle",
    "panda", "papaya", "parrot", "pasta", "peach", "peanut", "pebble", "pelican", "pepper",
    "piano", "pickle", "pigeon", "pillow", "pine", "pirate", "pizza", "planet", "plum",
    "pocket", "polar", "pony", "poppy", "potato", "pretzel", "puffin", "pumpkin", "puzzle",
    "quartz", "quill", "rabbit", "raccoon", "radar", "radish", "raven", "reef", "ribbon",
    "river", "robin", "rocket", "rose", "ruby", "saddle", "salmon", "satin", "sequoia",
    "shadow", "shark", "sherbet", "silver", "sketch", "sloth", "snail", "socket", "sonnet",
    "spider", "spinach", "sponge", "spruce", "squid", "stencil", "storm", "sugar", "summit",
    "sunset", "swan", "tango", "teapot", "thistle", "thunder", "tiger", "toffee", "tomato",
    "topaz", "tractor", "trumpet", "tulip", "tundra", "turnip", "turtle", "tuxedo", "umbrella",
    "unicorn", "valley", "velvet", "violin", "volcano", "waffle", "walnut", "walrus", "wasabi",
    "willow", "window",
)
assert len(WORDS) == 256


_RU_LATIN = dict(zip("абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
                     ("a", "b", "v", "g", "d", "e", "yo", "zh", "z", "i", "y", "k", "l", "m", "n", "o", "p", "r", "s",
                      "t", "u", "f", "kh", "ts", "ch", "sh", "shch", "", "y", "", "e", "yu", "ya")))


def romanize_ru(word: str) -> str:
    """Russian in Latin letters as an English speaker would read them aloud (BGN-like)."""
    return "".join(_RU_LATIN.get(ch, ch) for ch in word)


#: Each language's words, and how the agent reads them (the word itself for English).
WORD_LISTS: dict[Language, tuple[str, ...]] = {
    Language.EN: WORDS,
    Language.RU: RU,
    Language.ZH: tuple(word for word, _ in ZH),
    Language.FA: tuple(word for word, _ in FA),
}
ROMANIZED: dict[Language, tuple[str, ...]] = {
    Language.EN: WORDS,
    Language.RU: tuple(romanize_ru(word) for word in RU),
    Language.ZH: tuple(latin for _, latin in ZH),
    Language.FA: tuple(latin for _, latin in FA),
}
_ENGLISH_INDEX = {word: index for index, word in enumerate(WORDS)}


def sas_indices(sas_key: bytes, count: int = 3) -> tuple[int, ...]:
    """The indices both sides derive: the first ``count`` bytes of the SAS key."""
    return tuple(sas_key[:count])


def words_at(indices: Sequence[int], language: Language = Language.EN) -> str:
    return " ".join(WORD_LISTS[language][i] for i in indices)


def sas_words(sas_key: bytes, count: int = 3, language: Language = Language.EN) -> str:
    """Render the first ``count`` bytes of the SAS key as words of ``language``."""
    return words_at(sas_indices(sas_key, count), language)


def indices_of(english: str) -> tuple[int, ...] | None:
    """The indices behind an English SAS (the ``sas`` of a ``paired`` event); ``None`` if a
    word is not one of ours."""
    try:
        return tuple(_ENGLISH_INDEX[word] for word in english.split())
    except KeyError:
        return None


def localize(english: str, language: Language) -> str:
    """The customer's words for the English SAS ``english`` (unchanged if it is not an SAS)."""
    indices = indices_of(english)
    return english if indices is None else words_at(indices, language)


def for_agent(english: str, language: Language) -> str:
    """What the agent compares with a customer of ``language``: each of the customer's words
    with its romanisation, ``яблоко (yabloko) · ...``; the English words for English."""
    indices = indices_of(english)
    if indices is None or language is Language.EN:
        return english
    words, latin = WORD_LISTS[language], ROMANIZED[language]
    return " · ".join(f"{words[i]} ({latin[i]})" for i in indices)


def peer_sas(lang: str, english: str | None) -> dict[str, str]:
    """What a ``hello`` event adds when the peer said which language it reads: ``lang`` and
    ``sas_words``, the words that peer reads with their romanisation (``for_agent``). Empty
    for an older peer (no ``lang``) or before pairing. ``lang`` is untrusted: only a code
    ``parse_language`` knows is kept (``messages.decode`` already checked it)."""
    language = parse_language(lang) if lang else None
    if language is None or english is None:
        return {}
    return {"lang": language.value, "sas_words": for_agent(english, language)}

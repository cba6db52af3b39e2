"""The short authentication string both sides show and compare by voice.

Three words from a list of 256 (24 bits): enough that a man in the middle who somehow got
past the PAKE would be caught by two people reading three words to each other, and short
enough to actually be read. Words were picked to be distinct when spoken.
"""

from __future__ import annotations

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


def sas_words(sas_key: bytes, count: int = 3) -> str:
    """Render the first ``count`` bytes of the SAS key as words."""
    return " ".join(WORDS[b] for b in sas_key[:count])

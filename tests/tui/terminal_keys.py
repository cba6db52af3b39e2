"""Keys as real terminals send them: the bytes terminfo gives for a key, parsed by Textual's
own input parser, delivered to the app the way its driver delivers them.

Pressing Textual key names (``pilot.press("f14")``) tests the binding table against itself:
a console bound to ``f14`` passed its tests while xterm sends shift+F2 as ``ESC[1;2Q``,
which Textual reports as ``shift+f2``. These helpers start from the terminal's bytes.
"""

from __future__ import annotations

import curses
import os
import re
from functools import cache

from textual import events
from textual._xterm_parser import XTermParser
from textual.app import App
from textual.pilot import Pilot

#: The terminals the tests speak for: xterm (and its descendants) and tmux.
TERMS = ("xterm-256color", "tmux-256color")
_SHOWN = re.compile(r"(⇧)?F(\d{1,2})")


@cache
def terminfo_key(term: str, shown: str) -> bytes:
    """The bytes ``term`` sends for a key as the console shows it (``F5``, ``⇧F2``): terminfo's
    ``kfN``, where shift adds 12 (``kf14`` is shift+F2)."""
    match = _SHOWN.fullmatch(shown)
    if match is None:
        raise ValueError(f"not a function key: {shown!r}")
    number = int(match[2]) + (12 if match[1] else 0)
    with open(os.devnull, "wb") as sink:  # terminfo needs a descriptor; pytest captures stdout
        curses.setupterm(term, sink.fileno())
    sequence = curses.tigetstr(f"kf{number}")
    if not sequence:
        raise LookupError(f"{term} has no kf{number} in terminfo")
    return sequence


def parse(data: bytes) -> list[events.Event]:
    """What Textual makes of ``data`` arriving on its input."""
    parser = XTermParser()
    return [*parser.feed(data.decode()), *parser.feed("")]


def keys_of(data: bytes) -> list[str]:
    return [event.key for event in parse(data) if isinstance(event, events.Key)]


async def type_bytes(pilot: Pilot[object], data: bytes) -> None:
    """Deliver ``data`` to the app as its driver would deliver terminal input."""
    app: App[object] = pilot.app
    driver = app._driver
    assert driver is not None
    for event in parse(data):
        event.set_sender(app)
        driver.send_message(event)
    await pilot.pause()


async def press_key(pilot: Pilot[object], shown: str, term: str = TERMS[0]) -> None:
    """Press the key the console shows as ``shown`` the way ``term`` sends it."""
    await type_bytes(pilot, terminfo_key(term, shown))

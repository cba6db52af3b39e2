"""The screen layer: emulator adapter, screen values, frames, sync and keys.

Pure code: no I/O, no clock, no asyncio. ``emulator`` is the only module that
imports the emulator library (pyavt).
"""

from .diff import ScreenFrame, apply, diff, snapshot
from .emulator import Emulator
from .keys import encode_key, encode_paste
from .state import (
    DEFAULT_STYLE,
    MAX_COLS,
    MAX_ROWS,
    Color,
    Cursor,
    Modes,
    Row,
    ScreenState,
    Style,
    blank_row,
)
from .sync import DEFAULT_FPS, ScreenMirror, ScreenSender

__all__ = [
    "Color",
    "Cursor",
    "DEFAULT_FPS",
    "DEFAULT_STYLE",
    "Emulator",
    "MAX_COLS",
    "MAX_ROWS",
    "Modes",
    "Row",
    "ScreenFrame",
    "ScreenMirror",
    "ScreenSender",
    "ScreenState",
    "Style",
    "apply",
    "blank_row",
    "diff",
    "encode_key",
    "encode_paste",
    "snapshot",
]

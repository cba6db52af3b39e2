"""Audio level meters drawn in text, for the call bars of both apps."""

from __future__ import annotations


def meter_bar(level: float, width: int = 10) -> str:
    """A level (0..1, see ``cobrowse.voice.level.meter``) as ▮ cells out of ``width``."""
    filled = round(max(0.0, min(1.0, level)) * width)
    return "▮" * filled + "▯" * (width - filled)

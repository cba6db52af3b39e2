"""How `cobrowse ... --help` lays out its prose."""

from __future__ import annotations

import argparse
import os
import sys


def terminal_columns() -> int:
    """``shutil.get_terminal_size().columns``, without importing ``shutil``: argparse makes a
    formatter for every argument it adds and imports shutil (with bz2, lzma and fnmatch: ~3-6
    ms) in the first, on every command line, to read the width only ``--help`` uses. The
    same answer: ``$COLUMNS`` if a positive number, else standard output's terminal, else 80."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
        columns = columns or 80
    return columns


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Descriptions and the epilog filled to the terminal's width, paragraph by paragraph (blank
    lines kept): the raw formatter printed them as written, up to 300 columns a line."""

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24,
                 width: int | None = None) -> None:
        # argparse's own default, ``shutil.get_terminal_size().columns - 2``, from terminal_columns()
        super().__init__(prog, indent_increment, max_help_position, terminal_columns() - 2 if width is None else width)

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        import re
        import textwrap  # only --help pays for them (argparse does the same)

        # ASCII whitespace only: a no-break space keeps "·" with the word before it
        paragraphs = (re.sub(r"[ \t\n]+", " ", paragraph).strip() for paragraph in text.split("\n\n"))
        return "\n\n".join(textwrap.fill(paragraph, width, initial_indent=indent, subsequent_indent=indent)
                           for paragraph in paragraphs)

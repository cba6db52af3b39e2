"""How `cobrowse ... --help` lays out its prose."""

from __future__ import annotations

import argparse


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Descriptions and the epilog filled to the terminal's width, paragraph by paragraph (blank
    lines kept): the raw formatter printed them as written, up to 300 columns a line."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        import re
        import textwrap  # only --help pays for them (argparse does the same)

        # ASCII whitespace only: a no-break space keeps "·" with the word before it
        paragraphs = (re.sub(r"[ \t\n]+", " ", paragraph).strip() for paragraph in text.split("\n\n"))
        return "\n\n".join(textwrap.fill(paragraph, width, initial_indent=indent, subsequent_indent=indent)
                           for paragraph in paragraphs)

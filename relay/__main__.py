"""``python -m relay``: the same as ``cobrowse relay`` (handy before the CLI is wired)."""

from __future__ import annotations

import argparse
import sys

from relay.cli import run
from relay.cli_args import add_arguments


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cobrowse relay", description="Run the cobrowse relay.")
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())

"""``cobrowse playbooks``' arguments, apart from the command: building the parser (every
``cobrowse`` start, ``--help`` and ``--version`` too) then loads no playbook, signature or
redaction code."""

from __future__ import annotations

import argparse

from cobrowse.cli.help_format import HelpFormatter


def add_arguments(sub: argparse._SubParsersAction[argparse.ArgumentParser], epilog: str) -> None:
    playbooks = sub.add_parser(
        "playbooks", help="list and search the playbook library (agents)",
        description="The playbook library: the folders in --playbooks / $COBROWSE_PLAYBOOKS (separated by :) or "
                    "the config file's playbooks, then <data dir>/playbooks, then the samples shipped with cobrowse. "
                    "A playbook's name is its file name without .md; the first folder with a name wins.",
        epilog=epilog, formatter_class=HelpFormatter)
    actions = playbooks.add_subparsers(dest="playbooks_action", metavar="{list,search,suggest}", required=True)
    listing = actions.add_parser("list", help="every playbook in the library, invalid ones with their error")
    listing.add_argument("--json", action="store_true", help="a JSON array on stdout")
    search = actions.add_parser("search", help="the library ranked by relevance to TEXT, best first")
    search.add_argument("text", metavar="TEXT", nargs="+", help="what to look for: an error message, a command, a few words "
                        "(quoted or not)")
    search.add_argument("--json", action="store_true", help="a JSON array on stdout")
    search.add_argument("--limit", type=int, default=10, metavar="N", help="at most N results (default 10)")
    suggest = actions.add_parser("suggest", help="the library ranked against a terminal screen read from stdin",
                                 description="What suggest_playbooks does in a session, for a screen you have: reads the "
                                 "text of a terminal (e.g. `tmux capture-pane -p`) from standard input and ranks the "
                                 "library against it, error lines and commands weighing most (docs/helpdesk.md).")
    suggest.add_argument("--json", action="store_true", help="a JSON array on stdout")
    suggest.add_argument("--limit", type=int, default=5, metavar="N", help="at most N results (default 5)")
    for parser in (listing, search, suggest):
        add_folder_option(parser)
    listing.add_argument("--org", action="append", metavar="FILE",
                         help="check signatures against this organisation's trust file too (repeatable; added to "
                              "trusted_orgs in the config and $COBROWSE_TRUSTED_ORGS)")


def add_folder_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--playbooks", action="append", metavar="DIR",
                        help="a playbook library folder, searched before the data dir and the samples (repeatable; "
                             "default: $COBROWSE_PLAYBOOKS, then the config file's playbooks)")

"""`cobrowse guide PLAYBOOK`: a playbook run alone; Ctrl-] ! creates a session for an agent."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from cobrowse.cli.commands import interactive, say, trusted_orgs
from cobrowse.cli.config import ClientSettings
from cobrowse.cli.customer import GuideNotices
from cobrowse.i18n.playbooks import translated
from cobrowse.i18n.text import current
from cobrowse.io.runtime import EXIT_SECURITY, EXIT_USAGE

if TYPE_CHECKING:
    from cobrowse.playbook import Playbook

__all__ = ["GuideNotices", "playbook_path", "run_guide", "run_guide_plain"]


def playbook_path(given: str, settings: ClientSettings) -> Path:
    """A file path as given, else the library's playbook of that name (``fix-git-push``); in
    the customer's language when it has a translation (``NAME.LANG.md`` next to it)."""
    language = current().language
    path = Path(given).expanduser()
    if path.exists() or "/" in given or given.endswith(".md"):
        return translated(path, language)
    from cobrowse.cli.playbooks import catalogue

    return catalogue(settings).find_for(given, language)


async def run_guide(args: argparse.Namespace, settings: ClientSettings) -> int:
    """`cobrowse guide PLAYBOOK`: the playbook alone; Ctrl-] ! creates a session for an agent."""
    from cobrowse.playbook import PlaybookError, load_playbook

    try:
        path = playbook_path(args.playbook, settings)
        playbook = load_playbook(path)
    except PlaybookError as exc:
        print(f"cobrowse: {exc}", file=sys.stderr)
        return EXIT_USAGE
    from cobrowse.cli.playbooks import check_signature  # who signed it, checked against the trust files

    from cobrowse.i18n.signatures import signature_text

    verdict = check_signature(path, trusted_orgs(settings))
    say(signature_text(verdict, path.name))
    if verdict.refused:
        return EXIT_SECURITY
    if not args.plain and interactive():
        from tui.guide_app import GuideApp

        app = GuideApp(settings.relay, playbook, args.command, args.consent_timeout,
                       name=settings.name, reconnect_for=settings.reconnect_for,
                       redact_patterns=settings.redact_patterns, rtc=settings.rtc, trusted=trusted_orgs(settings),
                       proxy=settings.proxy_for(settings.relay))
        await app.run_async()
        return app.return_code or 0
    return await run_guide_plain(args, settings, playbook)


async def run_guide_plain(args: argparse.Namespace, settings: ClientSettings, playbook: Playbook) -> int:
    """Plain guide: output passes straight through; steps as [cobrowse] lines on stderr."""
    from cobrowse.cli.customer import run_customer

    return await run_customer(args, settings, guide=playbook)

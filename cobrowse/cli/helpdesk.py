"""The help desk at the composition root: the webhook this agent run posts to, its ticket."""

from __future__ import annotations

import argparse

from cobrowse.cli.config import ClientSettings
from cobrowse.errors import ConfigError
from cobrowse.helpdesk.summary import TicketError, check_ticket
from cobrowse.io import webhook


def start_webhook(args: argparse.Namespace, settings: ClientSettings) -> webhook.Webhook | None:
    """Configure this process's webhook (agents); a bad ``--ticket`` is a usage error."""
    ticket = getattr(args, "ticket", None)
    if ticket is not None:
        try:
            ticket = check_ticket(ticket)
        except TicketError as exc:
            raise ConfigError(f"--ticket: {exc}") from None
    return webhook.configure(settings.webhook_url, settings.webhook_secret, agent=agent_name(settings), ticket=ticket)


def agent_name(settings: ClientSettings) -> str:
    """The name the customer sees: ``--name``, else the one the credential vouches for."""
    if settings.name or not settings.credential:
        return settings.name
    from cobrowse.cli.commands import agent_identity

    try:
        identity = agent_identity(settings)
    except Exception:  # a bad credential file fails later, with its own message
        return ""
    return str(identity.credential.agent) if identity is not None else ""

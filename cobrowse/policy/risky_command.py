"""What a command the agent offers would do that a customer must not miss: the support scam's
moves ("run `curl … | sh`", "show me `~/.ssh/id_rsa`", `rm -rf ~`). The customer still decides;
this only says, next to the command, why to think twice. A warning, not a filter: a command
that slips past these shapes is shown as before, never refused here. Pure; the patterns are
ours and bounded (the command is at most ``MAX_SUGGESTION`` characters)."""

from __future__ import annotations

import re
from enum import StrEnum

from cobrowse.i18n.text import N_

__all__ = ["Risk", "RISK_TEXT", "command_risk"]


class Risk(StrEnum):
    DOWNLOAD_RUN = "download_run"
    SECRETS = "secrets"
    ERASE = "erase"


#: The warning shown with the command, translated where it is shown.
RISK_TEXT = {
    Risk.DOWNLOAD_RUN: N_("⚠ this runs a program downloaded from the internet, unseen: only if you trust who wrote it"),
    Risk.SECRETS: N_("⚠ this shows your private keys or passwords: never let anyone see them"),
    Risk.ERASE: N_("⚠ this can erase your files or disk for good"),
}

_SHELL = r"(?:sudo\s+(?:-\S+\s+)*)?(?:env\s+\S+=\S*\s+)*(?:/\S*/)?(?:ba|z|da|k|c|tc|fi|a)?sh|python[0-9.]*|perl|ruby|node|php"
_FETCH = r"\b(?:curl|wget|fetch|aria2c|Invoke-WebRequest|iwr|irm|Invoke-RestMethod)\b"
_DECODE = r"\b(?:base64\s+(?:-d|--decode)|xxd\s+-r)"
_DOWNLOAD_RUN = re.compile(
    rf"(?:{_FETCH}|{_DECODE})[^|]*\|\s*(?:tee\s+\S+\s*\|\s*)?(?:{_SHELL})\b"  # curl … | sh, base64 -d | bash
    rf"|(?:{_SHELL})\s+(?:-\S+\s+)*(?:<\s*)?[<(\"']*\$?\(\s*{_FETCH}"  # bash <(curl …), sh -c "$(curl …)"
    r"|\b(?:iex|Invoke-Expression)\b",
    re.IGNORECASE)
_SECRETS = re.compile(
    r"\.ssh/(?:id_\w+\b(?!\.pub)|[^\s/]*_key\b(?!\.pub)|identity\b(?!\.pub))|\.aws/credentials|/etc/(?:shadow|gshadow|sudoers)\b|\.netrc\b|\.pgpass\b"
    r"|\.docker/config\.json|\.kube/config|\.gnupg/|\.git-credentials|\.password-store|\bkeychain\b.*\bfind-\w*password"
    r"|\bsecurity\s+(?:find|dump)-\w+|\bgpg\s+(?:--export-secret|--armor\s+--export-secret)",
    re.IGNORECASE)
_ERASE = re.compile(
    r"\brm\s+(?:-\S*\s+)*-\S*[rR]\S*\s+(?:-\S+\s+)*(?:--no-preserve-root\s+)?(?:/|~|\$HOME|/\*|~/\*|\*|/home\S*|/etc|/usr|/var)(?:\s|$)"
    r"|\bmkfs(?:\.\w+)?\b|\bdd\b[^|;&]*\bof=/dev/(?!null\b)|\bshred\b|\bwipefs\b|>\s*/dev/(?:sd|nvme|hd|vd|disk)"
    r"|:\(\)\s*\{\s*:\s*\|\s*:\s*&\s*\}",  # a fork bomb
    re.IGNORECASE)


def command_risk(command: str) -> Risk | None:
    """The worst thing ``command`` is seen to do, or None (most commands)."""
    if _DOWNLOAD_RUN.search(command):
        return Risk.DOWNLOAD_RUN
    if _ERASE.search(command):
        return Risk.ERASE
    if _SECRETS.search(command):
        return Risk.SECRETS
    return None

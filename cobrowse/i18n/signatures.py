"""A playbook's signature verdict in the customer's language (``cobrowse guide``: who vouches
for the guide about to run). The agent's library keeps ``PlaybookVerdict.message`` (English);
in English both read the same. The verdict's ``detail`` is technical and stays as it came. Pure."""

from __future__ import annotations

from cobrowse.i18n.text import N_, Translator, current
from cobrowse.trust.playbook_signature import PlaybookVerdict, SignatureStatus

SIGNATURE_TEXT = {
    SignatureStatus.VERIFIED: N_("{name}: signed by {org} (verified against your trust file)"),
    SignatureStatus.UNSIGNED: N_("{name}: unsigned (nobody vouches for where it came from)"),
    SignatureStatus.UNKNOWN_ORG: N_("{name}: signed as {org}, but NOT verified: {detail}"),
    SignatureStatus.TAMPERED: N_("{name}: REFUSED, the signature does not match: {detail}"),
}


def signature_text(verdict: PlaybookVerdict, name: str, tr: Translator | None = None) -> str:
    """The line ``cobrowse guide`` shows before the guide runs (or is refused)."""
    tr = tr or current()
    org = verdict.org if verdict.status is SignatureStatus.VERIFIED else repr(verdict.org)
    return tr(SIGNATURE_TEXT[verdict.status], name=name, org=org, detail=verdict.detail)

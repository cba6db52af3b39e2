"""The argument parser of `cobrowse org`: apart from cobrowse.cli.org (which loads the
cryptography) so that building the command line costs nothing."""

from __future__ import annotations

import argparse

DEFAULT_DAYS = 90


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dir", metavar="DIR", help="where the organisation key lives (default: $COBROWSE_ORG_DIR, "
                        "else an org folder next to the config file, ~/.config/cobrowse/org)")
    sub = parser.add_subparsers(dest="org_action", metavar="ACTION", required=True)
    init = sub.add_parser("init", help="create the organisation's signing key",
                          description="Create the organisation's Ed25519 signing key (mode 0600). Keep it safe: "
                          "whoever holds it can vouch for anyone.")
    init.add_argument("--name", required=True, help="the organisation's name as customers will see it, e.g. ACME")
    init.add_argument("--force", action="store_true", help="replace an existing key (every credential issued with it stops verifying)")
    issue = sub.add_parser("issue-agent", help="issue an agent credential signed by the organisation key",
                           description="Create a key for an agent and a credential for it, signed by the "
                           "organisation key and valid for --days. The output holds the agent's private key.")
    issue.add_argument("agent", metavar="NAME", help="the agent's name as customers will see it")
    issue.add_argument("--days", type=float, default=DEFAULT_DAYS, help=f"validity in days (default {DEFAULT_DAYS})")
    issue.add_argument("--out", metavar="FILE", help="write the credential file here, mode 0600 (default: standard output)")
    revoke = sub.add_parser("revoke", help="revoke an agent credential by id",
                            description="Revoke a credential (its id is printed by issue-agent and by list); "
                            "then publish the trust file again.")
    revoke.add_argument("id", metavar="ID", help="the credential id")
    publish = sub.add_parser("publish", help="write the public trust file customers use",
                             description="Write the organisation's public trust file (name, public key, "
                             "revoked credential ids). Customers load it with --org FILE or trusted_orgs.")
    publish.add_argument("--out", metavar="FILE", help="write it here (default: standard output)")
    sub.add_parser("list", help="list the credentials issued", description="List the credentials issued, with their state.")
    sign = sub.add_parser("sign-playbook", help="sign playbooks so customers can trust where a guide came from",
                          description="Sign each playbook's exact bytes with the organisation key: writes FILE.sig next "
                          "to it. `cobrowse guide` and `cobrowse playbooks list` then show \"signed by ORG (verified "
                          "against your trust file)\"; a playbook changed after signing is refused. Sign again after "
                          "every edit.")
    sign.add_argument("files", metavar="FILE", nargs="+", help="the playbook files (Markdown)")

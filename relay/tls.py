"""The relay's own TLS (``tls_cert``/``tls_key``): serve wss:// without a proxy in front."""

from __future__ import annotations

import errno
import os
import ssl

from cobrowse.errors import ConfigError
from relay.config import RelayConfig


def ssl_context(config: RelayConfig) -> ssl.SSLContext | None:
    """The server TLS context for tls_cert/tls_key (None without TLS); ConfigError if unusable."""
    if not config.tls:
        return None
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    load_certificate(ctx, config)
    return ctx


def load_certificate(ctx: ssl.SSLContext, config: RelayConfig) -> None:
    for what, path in (("certificate", config.tls_cert), ("key", config.tls_key)):
        try:
            with open(path, "rb"):
                pass
        except OSError as exc:  # which of the two, and what to do: not only "Permission denied"
            hint = (f" by the relay's user (uid {os.geteuid()}): make it readable, or hand it over with "
                    "systemd's LoadCredential= (deploy/cobrowse-relay.service)") if exc.errno == errno.EACCES else ""
            raise ConfigError(f"cannot read the TLS {what} {path!r}: {exc.strerror or exc}{hint}") from None
    try:
        ctx.load_cert_chain(config.tls_cert, config.tls_key)
    except (OSError, ssl.SSLError) as exc:
        why = getattr(exc, "strerror", None) or getattr(exc, "reason", None) or str(exc)
        raise ConfigError(
            f"cannot load the TLS certificate {config.tls_cert!r} with the key {config.tls_key!r}: {why} "
            "(tls_cert must be the PEM certificate chain and tls_key its PEM private key: not swapped, "
            "and the key of that certificate)"
        ) from None

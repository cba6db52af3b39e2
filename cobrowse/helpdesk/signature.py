"""The webhook's signature: ``X-Cobrowse-Signature: sha256=<hex HMAC-SHA256 of the body>``.

The same scheme GitHub uses for its webhooks (``X-Hub-Signature-256``), so receivers that
already check those need one header name changed. The HMAC covers the exact bytes posted;
a receiver must check it on the raw body, before parsing, with a constant-time compare.
"""

from __future__ import annotations

import hashlib
import hmac

HEADER = "X-Cobrowse-Signature"
PREFIX = "sha256="


def sign(secret: str, body: bytes) -> str:
    """The header value for ``body`` under ``secret``."""
    return PREFIX + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, header: str | None) -> bool:
    """Whether ``header`` is the signature of ``body`` under ``secret`` (constant time)."""
    if not header or not header.startswith(PREFIX):
        return False
    return hmac.compare_digest(sign(secret, body).encode(), header.strip().encode())

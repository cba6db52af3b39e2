"""``python -m relay.health``: the container's health check, from the relay's own settings.

A health check that polls ``http://127.0.0.1:8765/healthz`` breaks as soon as an admin turns
TLS on or moves the port. This one reads the same file and environment the relay reads
(``COBROWSE_RELAY_CONFIG``, ``COBROWSE_RELAY_*``), so it asks ``https://`` when the relay
serves TLS, on the relay's port. It talks to its own relay over loopback, so it does not
check the certificate's name (the certificate names the public host). Exit 0: healthy.
"""

from __future__ import annotations

import ipaddress
import json
import ssl
import sys
import urllib.error
import urllib.request

from cobrowse.errors import ConfigError
from relay.config import RelayConfig, load_config


def health_url(config: RelayConfig) -> str:
    host = config.host
    try:
        address = ipaddress.ip_address(host)
        if address.is_unspecified:
            host = "::1" if address.version == 6 else "127.0.0.1"
        if ipaddress.ip_address(host).version == 6:
            host = f"[{host}]"
    except ValueError:
        pass  # a name: ask it as the relay binds it
    return f"{'https' if config.tls else 'http'}://{host}:{config.port}/healthz"


def main() -> int:
    try:
        config = load_config()
    except ConfigError as exc:
        print(f"unhealthy: {exc}", file=sys.stderr)
        return 1
    url = health_url(config)
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        with urllib.request.urlopen(url, timeout=4, context=context if config.tls else None) as reply:
            body = json.loads(reply.read() or b"{}")
            healthy = reply.status == 200
    except (OSError, urllib.error.URLError, ValueError) as exc:
        print(f"unhealthy: {url}: {exc}", file=sys.stderr)
        return 1
    print(f"{'healthy' if healthy else 'unhealthy'}: {url} {json.dumps(body)[:200]}")
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())

"""What this machine allows the relay: descriptors and memory, read once at start."""

from __future__ import annotations

import resource

from relay.config import RelayConfig
from relay.limits import Limits, derive_limits


def mem_available() -> int | None:
    """Bytes of memory the kernel says are available (None where /proc/meminfo is not)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def machine_limits(config: RelayConfig) -> Limits:
    """The admission limits for this process: the settings, sized by RLIMIT_NOFILE and memory."""
    nofile = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    if nofile == resource.RLIM_INFINITY:
        nofile = 1 << 20
    return derive_limits(
        nofile=nofile, mem_available=mem_available(), max_connections=config.max_connections,
        reserved_connections=config.reserved_connections, connections_per_address=config.connections_per_address,
        connect_rate=config.connect_rate, connect_burst=config.connect_burst,
        open_rate=config.open_rate, open_burst=config.open_burst, unpaired_per_address=config.unpaired_per_address,
        max_unpaired=config.max_unpaired, token_factor=config.token_limit_factor, max_sessions=config.max_sessions,
    )

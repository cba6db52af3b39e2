"""Settings for calls and the direct path: flags > environment > config file > defaults.

Pure data (the caller passes the environment and the file's table in), so the CLI can read
its settings without loading WebRTC.
"""

from __future__ import annotations

import os
from typing import Any

from cobrowse.errors import ConfigError
from cobrowse.wire.frozen import frozen

CONNECT_TIMEOUT = 15.0
KEEPALIVE = 15.0
FALSE = ("0", "false", "no", "off")


@frozen
class RtcSettings:
    direct: bool = True
    ice_hosts: tuple[str, ...] | None = None
    mic: str = "default"
    speaker: str = "default"
    echo_gate: bool = True
    connect_timeout: float = CONNECT_TIMEOUT
    keepalive: float = KEEPALIVE
    #: Packets (20 ms each) the receiver holds before playing: less delay, less tolerance.
    audio_buffer: int = 2
    #: After the direct path failed, try again after these delays (s), then stay on the relay.
    retry_backoff: tuple[float, ...] = (10.0, 30.0, 120.0)

    @classmethod
    def from_sources(cls, env: dict[str, str], file: dict[str, Any], *, mic: str | None = None,
                     speaker: str | None = None, direct: bool | None = None) -> RtcSettings:
        """Flags > environment > config file > defaults (docs/voice.md lists the keys)."""
        def pick(key: str, flag: Any) -> Any:
            if flag is not None:
                return flag
            if env.get(f"COBROWSE_{key.upper()}"):  # set and not empty
                return env[f"COBROWSE_{key.upper()}"]
            return file.get(key)

        raw_direct = pick("direct", direct)
        hosts = pick("ice_hosts", None)
        if isinstance(hosts, str):
            hosts = [h.strip() for h in hosts.split(",") if h.strip()]
        if hosts is not None and not (isinstance(hosts, list) and all(isinstance(h, str) for h in hosts)):
            raise ConfigError("ice_hosts must be a list of local IP addresses, e.g. [\"192.168.1.20\"]")
        echo = pick("echo_gate", None)
        buffer = pick("audio_buffer", None)
        try:
            audio_buffer = int(buffer) if buffer is not None else 2
        except (TypeError, ValueError):
            audio_buffer = -1
        if not 1 <= audio_buffer <= 8:
            raise ConfigError(f"audio_buffer={buffer!r}: expected 1-8 packets of 20 ms (default 2)")
        return cls(
            direct=raw_direct is None or str(raw_direct).lower() not in FALSE,
            ice_hosts=tuple(hosts) if hosts is not None else None,
            mic=str(pick("mic", mic) or "default"),
            speaker=str(pick("speaker", speaker) or "default"),
            echo_gate=echo is None or str(echo).lower() not in FALSE,
            audio_buffer=audio_buffer,
        )

    @classmethod
    def from_env(cls) -> RtcSettings:
        return cls.from_sources(dict(os.environ), {})

"""Client settings: flags, then environment variables, then the config file, then defaults.

The config file is TOML at ``$COBROWSE_CONFIG`` or ``<user config dir>/cobrowse/config.toml``
(``~/.config/cobrowse/config.toml`` on Linux)::

    relay = "wss://relay.example.com"
    token = "..."          # agents, when the relay requires one
    name = "Alice"         # shown to the customer
    reconnect_for = 300    # seconds to keep trying after the connection to the relay drops
    playbooks = "~/support/playbooks"   # the playbook library folder(s): a path or a list of paths
    mic = "default"        # calls: microphone (a PulseAudio source; docs/voice.md)
    speaker = "default"    # calls: speaker (a PulseAudio sink)
    direct = true          # carry sealed frames over a direct WebRTC path when one exists
    ice_hosts = ["192.168.1.20"]   # offer host candidates only on these addresses
    echo_gate = true       # quiet the microphone while the other side's voice plays
    audio_buffer = 2       # packets of 20 ms held before playing (1-8): delay vs. tolerance
    predict = true         # agents: predictive local echo of control-mode keys (--no-predict)
    redact_patterns = ['ACME-[0-9]{8}']  # extra secrets to mask (docs/privacy.md); an agent
                                         # pushes its own to the customer, who masks them too

``redact_patterns`` add up: the config file's, then ``$COBROWSE_REDACT`` (one regex a line),
then each ``--redact REGEX``; more redaction never weakens it.
    credential = "~/.config/cobrowse/alice.credential.json"   # agents: from `cobrowse org issue-agent`
    trusted_orgs = ["~/acme.trust.json"]   # customers: organisations whose agents are shown verified
    webhook_url = "https://helpdesk.example.com/hooks/cobrowse"   # agents: session summaries (docs/helpdesk.md)
    webhook_secret = "..."                 # signs them (X-Cobrowse-Signature); or $COBROWSE_WEBHOOK_SECRET

    [keys]                 # the keys (cobrowse/plain/keys_config.py; docs/config.md)
    prefix = "ctrl-a"      # the customer's prefix instead of Ctrl-]
    customer = { chat = "t" }            # the key after it, by command
    console = { suggest_command = "shift+F12" }   # the agent console, by action
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from cobrowse.errors import ConfigError
from cobrowse.plain import keymap
from cobrowse.plain.keys_config import KeysError, KeysSettings, parse_keys
from cobrowse.wire.proxy import ProxyChoice, ProxySettingError, choose_proxy
from cobrowse.voice.settings import RtcSettings
from cobrowse.wire.frozen import frozen

DEFAULT_RELAY = "ws://127.0.0.1:8765"


def join_command(code: object | None, relay_url: str) -> str:
    """What the customer types: ``--relay`` too unless the relay is the default one, since a
    ``cobrowse join`` without it looks for the session on 127.0.0.1:8765."""
    join = "cobrowse join" if code is None else f"cobrowse join {code}"
    return join if relay_url.rstrip("/") == DEFAULT_RELAY else f"{join} --relay {relay_url}"


def colleague_command(code: object, relay_url: str) -> str:
    """What a colleague invited into a session types (``--relay`` as in ``join_command``)."""
    join = f"cobrowse agent --join {code}"
    return join if relay_url.rstrip("/") == DEFAULT_RELAY else f"{join} --relay {relay_url}"
KEYS: dict[str, type | tuple[type, ...]] = {"relay": str, "token": str, "name": str, "reconnect_for": (int, float), "playbooks": (str, list),
                                            "mic": str, "speaker": str, "direct": bool, "ice_hosts": list, "echo_gate": bool, "audio_buffer": int,
                                            "redact_patterns": list,
                                            "credential": str, "trusted_orgs": list,
                                            "webhook_url": str, "webhook_secret": str, "predict": bool, "keys": dict}


def config_path() -> Path:
    explicit = os.environ.get("COBROWSE_CONFIG")
    if explicit:
        return Path(explicit)
    from cobrowse.io.datadir import config_dir

    return config_dir() / "config.toml"


def load_file(path: Path) -> dict[str, Any]:
    if not path.exists():
        if os.environ.get("COBROWSE_CONFIG"):
            raise ConfigError(f"config file {path} (from COBROWSE_CONFIG) does not exist")
        return {}
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from None
    if not text.strip():  # an empty file (COBROWSE_CONFIG=/dev/null): no TOML parser to load
        return {}
    import tomllib  # only when there is a file: most customers have none (join start-up)

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from None
    client = {k: v for k, v in data.items() if not isinstance(v, dict) or k == "keys"}
    for key, value in client.items():
        if key not in KEYS:
            raise ConfigError(f"{path}: unknown setting {key!r} (known: {', '.join(KEYS)})")
        if not isinstance(value, KEYS[key]):
            raise ConfigError(f"{path}: {key!r} has the wrong type")
    return client


@frozen
class ClientSettings:
    relay: str
    relay_explicit: bool
    token: str | None
    name: str
    reconnect_for: float = 300.0
    playbooks: tuple[str, ...] = ()  # library folders before the data dir's and the samples
    redact_patterns: tuple[str, ...] = ()
    rtc: RtcSettings = RtcSettings()
    credential: str | None = None
    trusted_orgs: tuple[str, ...] = ()
    proxy: str | None = None  # --proxy URL (else the environment, as curl reads it)
    no_proxy: bool = False  # --no-proxy
    webhook_url: str | None = None  # agents: each session's summary is posted here (docs/helpdesk.md)
    webhook_secret: str | None = None
    predict: bool = True  # agents: predictive local echo (--no-predict, predict = false)
    keys: KeysSettings = KeysSettings()  # the config file's [keys] (the customer's are in use once resolved)
    config_file: str = ""  # where the settings came from, for errors about them

    def proxy_for(self, url: str) -> ProxyChoice:
        """How connections to ``url`` go out: --proxy / --no-proxy, else HTTPS_PROXY & co."""
        try:
            return choose_proxy(url, os.environ, self.proxy, self.no_proxy)
        except ProxySettingError as exc:
            raise ConfigError(str(exc)) from None


def settings_of(args: argparse.Namespace) -> ClientSettings:
    """The command's settings: its flags, then the environment, then the config file."""
    return resolve(args.relay, getattr(args, "token", None), getattr(args, "name", None),
                   getattr(args, "redact", None),
                   mic_flag=getattr(args, "mic", None), speaker_flag=getattr(args, "speaker", None),
                   direct_flag=getattr(args, "direct", None),
                   credential_flag=getattr(args, "credential", None), org_flags=getattr(args, "org", None),
                   playbooks_flags=getattr(args, "playbooks", None),
                   proxy_flag=getattr(args, "proxy", None), no_proxy_flag=bool(getattr(args, "no_proxy", False)),
                   webhook_flag=getattr(args, "webhook", None),
                   predict_flag=getattr(args, "predict", None))


def redact_patterns(file: dict[str, Any], flags: list[str] | None) -> tuple[str, ...]:
    """The file's, the environment's and the flags' patterns together, each checked (a bad
    one is a ConfigError naming where it came from)."""
    sources = [
        ("the config file's redact_patterns", list(file.get("redact_patterns") or [])),
        ("COBROWSE_REDACT", [p for p in os.environ.get("COBROWSE_REDACT", "").splitlines() if p.strip()]),
        ("--redact", list(flags or [])),
    ]
    out: list[str] = []
    for source, patterns in sources:
        if not patterns:
            continue
        # here, not at the top: the screen's modules (~15 ms) stay off what `join CODE` needs
        # before its claim goes out (cobrowse.cli.early_claim)
        from cobrowse.screen.redact import RedactPatternError, compile_patterns

        try:
            compile_patterns(patterns, source)
        except RedactPatternError as exc:
            raise ConfigError(f"{exc} (see docs/privacy.md)") from None
        out.extend(patterns)
    return tuple(dict.fromkeys(out))


def playbook_folders(flags: list[str] | None, env: str | None, file: str | list[Any] | None) -> tuple[str, ...]:
    """The agent's own library folders: ``--playbooks`` flags, else ``$COBROWSE_PLAYBOOKS``
    (separated by ``:``), else the config file's ``playbooks`` (a path or a list)."""
    if flags:
        folders: list[Any] = list(flags)
    elif env:
        folders = [f for f in env.split(os.pathsep) if f]
    elif isinstance(file, str):
        folders = [file]
    else:
        folders = list(file or [])
    if not all(isinstance(f, str) and f for f in folders):
        raise ConfigError('playbooks: expected a folder or a list of folders, like ["~/support/playbooks"]')
    return tuple(os.path.expanduser(f) for f in folders)


def webhook_settings(flag: str | None, file: dict[str, Any]) -> dict[str, str | None]:
    """``--webhook`` / ``$COBROWSE_WEBHOOK_URL`` / ``webhook_url``, and the secret that signs
    (``$COBROWSE_WEBHOOK_SECRET`` / ``webhook_secret``): a URL without a secret is an error."""
    url = flag or os.environ.get("COBROWSE_WEBHOOK_URL") or file.get("webhook_url") or None
    secret = os.environ.get("COBROWSE_WEBHOOK_SECRET") or file.get("webhook_secret") or None
    if url:
        from cobrowse.helpdesk.delivery import check_url  # agents with a webhook only (join start-up)

        try:
            check_url(url)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        if not secret:
            raise ConfigError("a webhook needs a secret to sign with: set COBROWSE_WEBHOOK_SECRET or webhook_secret "
                              "in the config file (docs/helpdesk.md)")
    return {"webhook_url": url, "webhook_secret": secret}


def key_settings(file: dict[str, Any], path: Path) -> KeysSettings:
    """The file's ``[keys]``, checked, and the customer's keys put in use (``plain.keymap``)."""
    try:
        keys = parse_keys(file["keys"], str(path)) if "keys" in file else KeysSettings()
    except KeysError as exc:
        raise ConfigError(f"{exc} (see docs/config.md)") from None
    keymap.configure(keys.prefix, dict(keys.letters))
    return keys


def resolve(relay_flag: str | None, token_flag: str | None = None, name_flag: str | None = None,
            redact_flags: list[str] | None = None, *, mic_flag: str | None = None, speaker_flag: str | None = None,
            direct_flag: bool | None = None, credential_flag: str | None = None,
            org_flags: list[str] | None = None, playbooks_flags: list[str] | None = None,
            proxy_flag: str | None = None, no_proxy_flag: bool = False, webhook_flag: str | None = None,
            predict_flag: bool | None = None) -> ClientSettings:
    path = config_path()
    file = load_file(path)
    keys = key_settings(file, path)
    relay = relay_flag or os.environ.get("COBROWSE_RELAY") or file.get("relay")
    if relay and not relay.startswith(("ws://", "wss://")):
        raise ConfigError(f"relay URL {relay!r} must start with ws:// or wss://")
    token = token_flag or os.environ.get("COBROWSE_TOKEN") or file.get("token")
    name = name_flag or os.environ.get("COBROWSE_NAME") or file.get("name") or ""
    raw = os.environ.get("COBROWSE_RECONNECT_FOR") or file.get("reconnect_for") or 300.0
    try:
        reconnect_for = float(raw)
    except ValueError:
        raise ConfigError(f"COBROWSE_RECONNECT_FOR={raw!r}: expected a number of seconds") from None
    if not 0 < reconnect_for <= 3600:
        raise ConfigError(f"reconnect_for={reconnect_for}: expected 0 < seconds <= 3600")
    playbooks = playbook_folders(playbooks_flags, os.environ.get("COBROWSE_PLAYBOOKS"), file.get("playbooks"))
    rtc = RtcSettings.from_sources(dict(os.environ), file, mic=mic_flag, speaker=speaker_flag, direct=direct_flag)
    credential = credential_flag or os.environ.get("COBROWSE_CREDENTIAL") or file.get("credential")
    orgs = file.get("trusted_orgs", [])
    if not all(isinstance(o, str) for o in orgs):
        raise ConfigError("trusted_orgs: expected a list of trust file paths, like [\"~/acme.trust.json\"]")
    env_orgs = [o for o in os.environ.get("COBROWSE_TRUSTED_ORGS", "").split(os.pathsep) if o]
    trusted = tuple(dict.fromkeys(os.path.expanduser(o) for o in [*(org_flags or []), *env_orgs, *orgs]))
    settings = ClientSettings(relay or DEFAULT_RELAY, bool(relay), token or None, name, reconnect_for, playbooks,
                              redact_patterns(file, redact_flags), rtc,
                              credential=os.path.expanduser(credential) if credential else None, trusted_orgs=trusted,
                              proxy=proxy_flag, no_proxy=no_proxy_flag,
                              predict=predict_flag if predict_flag is not None else bool(file.get("predict", True)),
                              keys=keys, config_file=str(path),
                              **webhook_settings(webhook_flag, file))
    settings.proxy_for(settings.relay)  # a proxy setting cobrowse cannot use fails here, before any network
    return settings

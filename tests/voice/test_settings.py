"""Call settings: flags > environment > config file > defaults, validated with clear errors."""

from __future__ import annotations

import pytest

from cobrowse.errors import ConfigError
from cobrowse.voice.settings import RtcSettings


def test_defaults_and_precedence() -> None:
    assert RtcSettings.from_sources({}, {}) == RtcSettings()
    file = {"mic": "file-mic", "speaker": "file-spk", "direct": False, "ice_hosts": ["10.0.0.2"], "audio_buffer": 3}
    from_file = RtcSettings.from_sources({}, file)
    assert (from_file.mic, from_file.speaker, from_file.direct, from_file.ice_hosts, from_file.audio_buffer) == (
        "file-mic", "file-spk", False, ("10.0.0.2",), 3)
    env = {"COBROWSE_MIC": "env-mic", "COBROWSE_DIRECT": "1", "COBROWSE_ICE_HOSTS": "127.0.0.1, ::1",
           "COBROWSE_AUDIO_BUFFER": "1"}
    from_env = RtcSettings.from_sources(env, file)
    assert (from_env.mic, from_env.direct, from_env.ice_hosts, from_env.audio_buffer) == ("env-mic", True, ("127.0.0.1", "::1"), 1)
    flagged = RtcSettings.from_sources(env, file, mic="flag-mic", direct=False)
    assert (flagged.mic, flagged.direct) == ("flag-mic", False)
    assert RtcSettings.from_sources({"COBROWSE_MIC": ""}, {}).mic == "default"  # empty means unset


@pytest.mark.parametrize("bad", ["0", "9", "two"])
def test_audio_buffer_is_checked(bad: str) -> None:
    with pytest.raises(ConfigError, match="audio_buffer.*1-8"):
        RtcSettings.from_sources({"COBROWSE_AUDIO_BUFFER": bad}, {})


def test_ice_hosts_must_be_addresses() -> None:
    with pytest.raises(ConfigError, match="ice_hosts"):
        RtcSettings.from_sources({}, {"ice_hosts": [1, 2]})

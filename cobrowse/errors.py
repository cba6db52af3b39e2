"""One exception tree for everything cobrowse raises on purpose.

Every message is written for the person at the keyboard: it says what happened and
what to do next. Following h11, errors are split by whose fault they are::

    CobrowseError
    ├── LocalError            this machine or its user: fix the input or the setup
    │   ├── ConfigError       a bad flag, env var or config file
    │   ├── AudioUnavailable  no usable microphone/speaker: calls only, the session goes on
    │   └── InvalidCode       a session code that cannot be parsed
    ├── RemoteError           the relay or the peer did or said something
    │   ├── RelayUnavailable  cannot reach the relay (down, wrong URL, network)
    │   ├── RelayRejected     the relay refused a request; ``code`` says why
    │   └── SessionEnded      the session is over; ``reason`` says why
    └── SecurityError         cryptographic checks failed: the session is dead ("scared")
        ├── WrongCode         key confirmation failed: wrong code or an interceptor
        └── TamperedFrame     a sealed frame did not open: altered in transit

A SecurityError is never retried: the session that raised it must not go on.
"""

from __future__ import annotations

from cobrowse.i18n.text import N_


class CobrowseError(Exception):
    """Base of every deliberate cobrowse error."""


class LocalError(CobrowseError):
    """Caused by this machine or its user."""


class ConfigError(LocalError):
    """A flag, environment variable or config file is invalid."""


class AudioUnavailable(LocalError):
    """No usable sound device: says which and what to do; the session goes on without voice."""


class InvalidCode(LocalError):
    """The session code cannot be parsed."""


class RemoteError(CobrowseError):
    """Caused by the relay or the peer."""


class RelayUnavailable(RemoteError):
    """The relay cannot be reached."""


class RelayRejected(RemoteError):
    """The relay refused a request; ``code`` is a stable machine-readable reason."""

    def __init__(self, code: str, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        #: Seconds worth waiting before trying again (a limit refused), when the relay said.
        self.retry_after = retry_after if retry_after is not None and 0 < retry_after <= 86400 else None


class SessionEnded(RemoteError):
    """The session is over; ``reason`` is a stable machine-readable reason."""

    def __init__(self, reason: str, message: str | None = None) -> None:
        super().__init__(message or reason)
        self.reason = reason


class SecurityError(CobrowseError):
    """A cryptographic check failed; the session must stop at once."""


#: English msgids; a customer front end shows them through ``cobrowse.i18n.ends.error_text``.
WRONG_CODE_MESSAGE = N_("wrong code, or someone tried to intercept: start a new session")
#: What the side that typed a code hears when the other side's client did not accept it:
#: before pairing a wrong code ends only that attempt, the other side's session stays open.
WRONG_CODE_RETRY_MESSAGE = N_(
    "wrong code: check the digits with your agent and try again "
    "(if the right code keeps failing, someone may be intercepting: ask for a new code)"
)


class WrongCode(SecurityError):
    """Key confirmation failed: the two sides do not share a key."""

    def __init__(self, message: str = WRONG_CODE_MESSAGE) -> None:
        super().__init__(message)


class TamperedFrame(SecurityError):
    """A sealed frame failed authentication."""

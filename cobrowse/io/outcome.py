"""How a session ended, as the person and the shell see it: the reason, its sentence, the exit status.

Every end (on purpose, the peer's, the relay's, a failure) comes down to an ``Outcome``; the
command line exits with its ``exit_code`` and the front ends show its ``message``. The
statuses are a public contract (docs/headless.md, "Exit status"): scripts tell "the relay is
down" (3) from "the relay said no" (4) from "a security check failed or the code was wrong" (5).
``END_MESSAGES`` is the English of each end reason; cobrowse/i18n/ends.py translates the same
text (a test holds them equal).
"""

from __future__ import annotations


from cobrowse.errors import WRONG_CODE_RETRY_MESSAGE, LocalError, RelayRejected, RelayUnavailable, SecurityError
from cobrowse.wire.frozen import frozen

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_UNREACHABLE = 3
EXIT_REJECTED = 4
EXIT_SECURITY = 5

END_MESSAGES = {
    "agent_ended": "the agent ended the session",
    "customer_ended": "the customer ended the session",
    "command_exited": "the customer's shared program exited",
    "peer_timeout": "the other side's connection dropped and they did not come back in time: the session is over",
    "expired": "nobody joined before the session code expired: start a new session",
    "scared": "the session was stopped because a security check failed",
    "claim_timeout": "the code was not confirmed in time: check the digits and try again",
    "renewed": "the other side started over with a new code: ask for the new code",
    "peer_unresponsive": "the other side stopped acknowledging what was sent to it: the session was ended",
}


#: Ends that no person chose and that lose the session: status 1, "session failed" (a script
#: must not take "the relay was stopped without keeping sessions" or "the relay ended it for
#: idling" for a normal end).
FAILED_ENDS = frozenset({"peer_timeout", "expired", "shutdown", "idle", "killed"})

#: The relay's admin ended the session (``cobrowse relay kill``): neither side chose it, so each is
#: told who did and what to do next (the relay's ``closed`` carries only the reason). The
#: customer's sentence is translated (cobrowse/i18n/ends.py ``KILLED_FOR_CUSTOMER``, held equal).
KILLED_MESSAGES = {
    "customer": ("the relay's administrator ended the session (not your agent, and nothing on your side): "
                 "to go on, call your agent back and ask for a new code"),
    "agent": ("the relay's administrator ended the session (not the customer): to go on, start a new session "
              "and give the customer the new code; ask the relay's administrator why if you did not expect it"),
}


def killed_message(role: str) -> str:
    return KILLED_MESSAGES["customer" if role == "customer" else "agent"]


@frozen
class Outcome:
    reason: str
    message: str
    exit_code: int


def wrong_code_message(role: str) -> str:
    """What the side that typed a rejected code is told (names the other side)."""
    return WRONG_CODE_RETRY_MESSAGE if role == "customer" else WRONG_CODE_RETRY_MESSAGE.replace(
        "your agent", "the customer")


def exit_code_for(error: BaseException) -> int:
    if isinstance(error, SecurityError):
        return EXIT_SECURITY
    if isinstance(error, RelayRejected):
        return EXIT_REJECTED
    if isinstance(error, RelayUnavailable):
        return EXIT_UNREACHABLE
    if isinstance(error, LocalError):
        return EXIT_USAGE
    return EXIT_FAILED

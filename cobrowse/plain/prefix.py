"""The prefix key of plain mode: how a customer talks to cobrowse instead of their shell.

Every byte typed goes to the shared program, except the prefix, Ctrl-] (0x1d, the telnet
convention), which starts a cobrowse command. The next key picks the command:

    Ctrl-] c <text> Enter   send a chat message to the agent
    Ctrl-] y / Ctrl-] n     allow / deny the question on screen (it says what y gives)
    Ctrl-] g                grant control of the terminal to the agent
    Ctrl-] s                grant suggest (the agent may propose commands)
    Ctrl-] r                revoke: back to view only, at once
    Ctrl-] p                pause / resume sharing the screen
    Ctrl-] a / Ctrl-] d     paste the agent's suggested command (you press Enter) / decline it
    Ctrl-] m / Ctrl-] k     mark the current guide step done / skip it
    Ctrl-] t                talk: call the agent, or answer their call
    Ctrl-] o                hang up (off), or decline a ringing call
    Ctrl-] u                mute / unmute your microphone
    Ctrl-] x                stop the agent's recording of this session (at once)
    Ctrl-] f                flag: report this session to the relay's operator (a suspected scam)
    Ctrl-] e                end the session
    Ctrl-] ?                list these commands
    Ctrl-] Ctrl-]           send a literal Ctrl-] to the program

Pure: bytes in, actions out.
"""

from __future__ import annotations

from dataclasses import dataclass

PREFIX = 0x1D
COMMANDS = {
    ord("y"): "allow",
    ord("n"): "deny",
    ord("g"): "grant_control",
    ord("s"): "grant_suggest",
    ord("r"): "revoke",
    ord("p"): "pause",
    ord("e"): "end",
    ord("f"): "report",
    ord("a"): "paste_suggestion",
    ord("d"): "decline_suggestion",
    ord("m"): "step_done",
    ord("k"): "step_skip",
    ord("t"): "call",
    ord("o"): "hangup",
    ord("u"): "mute",
    ord("x"): "stop_recording",
    ord("?"): "help",
    ord("h"): "help",
}
MAX_CHAT = 2000

HELP = (
    "Ctrl-] then: c chat · y allow · n deny · g grant control · s grant suggest · "
    "r revoke · p pause/resume · a paste suggestion · d decline · m step done · k skip step · "
    "t talk (call/answer) · o hang up · u mute · x stop recording · f report a scam · e end · Ctrl-] literal Ctrl-]"
)


@dataclass(frozen=True)
class ToProgram:
    data: bytes


@dataclass(frozen=True)
class Command:
    name: str
    text: str = ""


@dataclass(frozen=True)
class Echo:
    """Feedback while the customer types a chat line (shown on the cobrowse line, not the shell)."""

    text: str


Action = ToProgram | Command | Echo


class PrefixParser:
    def __init__(self) -> None:
        self._state = "normal"
        self._chat = bytearray()

    def feed(self, data: bytes) -> list[Action]:
        actions: list[Action] = []
        passthrough = bytearray()

        def flush() -> None:
            if passthrough:
                actions.append(ToProgram(bytes(passthrough)))
                passthrough.clear()

        for byte in data:
            if self._state == "normal":
                if byte == PREFIX:
                    self._state = "prefix"
                else:
                    passthrough.append(byte)
            elif self._state == "prefix":
                self._state = "normal"
                if byte == PREFIX:
                    passthrough.append(PREFIX)
                elif byte == ord("c"):
                    flush()
                    self._state = "chat"
                    self._chat.clear()
                    actions.append(Echo("chat> "))
                elif byte in COMMANDS:
                    flush()
                    actions.append(Command(COMMANDS[byte]))
                else:
                    flush()
                    actions.append(Command("help"))
            else:
                if byte in (0x0D, 0x0A):
                    self._state = "normal"
                    text = self._chat.decode("utf-8", "replace").strip()
                    self._chat.clear()
                    actions.append(Command("chat", text) if text else Echo("(chat cancelled)"))
                elif byte in (0x1B, 0x03, PREFIX):
                    self._state = "normal"
                    self._chat.clear()
                    actions.append(Echo("(chat cancelled)"))
                elif byte in (0x7F, 0x08):
                    # erase one character, not one byte: drop UTF-8 continuation bytes too
                    while self._chat and self._chat[-1] & 0xC0 == 0x80:
                        del self._chat[-1]
                    if self._chat:
                        del self._chat[-1]
                elif len(self._chat) < MAX_CHAT:
                    self._chat.append(byte)
        flush()
        return actions

"""The prefix key of plain mode: how a customer talks to cobrowse instead of their shell.

Every byte typed goes to the shared program, except the prefix, Ctrl-] (0x1d, the telnet
convention), which starts a cobrowse command. The next key picks the command: the table is
``cobrowse.plain.keymap.KEYMAP`` (this parser, the apps and every help text come from it).

A letter of another layout counts as the US key in its place (``cobrowse.plain.layouts``).
Pure: bytes in, actions out.
"""

from __future__ import annotations


from cobrowse.i18n.text import current
from cobrowse.plain.layouts import us_key
from cobrowse.plain.keymap import ALIASES, DEFAULT_PREFIX, Front, command_for, hint, key_of, keys_for, prefix_byte
from cobrowse.wire.frozen import frozen

PREFIX = DEFAULT_PREFIX


def commands(*, guide: bool = False) -> dict[int, str]:
    """The key after the prefix → the runtime command (chat is read here: it takes a line)."""
    return {ord(alias): command_for(alias, Front.PLAIN, guide=guide) or "help" for alias in ALIASES} | {
        ord(k.key): k.command for k in keys_for(Front.PLAIN, guide=guide) if k.command != "chat"}


COMMANDS = commands()
MAX_CHAT = 2000

HELP = hint(Front.PLAIN, every=True)


@frozen
class ToProgram:
    data: bytes


@frozen
class Command:
    name: str
    text: str = ""


@frozen
class Echo:
    """Feedback while the customer types a chat line (shown on the cobrowse line, not the shell)."""

    text: str


@frozen
class Draft:
    """The chat line as typed so far (``chat> hel``), for the front end to show in place, once
    per feed that changed it; ``None``: the line was sent or cancelled (its result follows)."""

    text: str | None


Action = ToProgram | Command | Echo | Draft


class PrefixParser:
    def __init__(self, *, guide: bool = False) -> None:
        self._commands = commands(guide=guide)
        self._prefix = prefix_byte()[0]  # Ctrl-], or the config file's (keymap.configure)
        self._chat_key = ord(key_of("chat"))
        self._state = "normal"
        self._chat = bytearray()
        self._drafted = False  # a Draft of this chat line was given (its end must be told)
        self._char = bytearray()  # a non-ASCII key after the prefix, as read so far
        self._char_len = 0

    @staticmethod
    def _us_key(char: bytes) -> str:
        """The US key a layout's letter is on (``н`` → ``y``); NUL for none (the help)."""
        try:
            text = char.decode("utf-8")
        except UnicodeDecodeError:
            return "\0"
        return us_key(text, current().language) or "\0"

    def feed(self, data: bytes) -> list[Action]:
        actions: list[Action] = []
        passthrough = bytearray()
        changed = False

        def flush() -> None:
            if passthrough:
                actions.append(ToProgram(bytes(passthrough)))
                passthrough.clear()

        def close_chat() -> None:
            self._state = "normal"
            self._chat.clear()
            if self._drafted:
                self._drafted = False
                actions.append(Draft(None))

        def command(key: int) -> None:
            nonlocal changed
            flush()
            if key == self._chat_key:
                self._state = "chat"
                self._chat.clear()
                changed = True
            else:
                actions.append(Command(self._commands.get(key, "help")))

        for index, byte in enumerate(data):
            if self._state == "prefix_char":  # a letter of another layout (Ctrl-] н): its whole character
                if byte & 0xC0 == 0x80 and len(self._char) < self._char_len:
                    self._char.append(byte)
                    if len(self._char) < self._char_len:
                        continue
                    self._state = "normal"
                    command(ord(self._us_key(bytes(self._char))))
                    continue
                self._state = "normal"  # cut short: not a character
                command(-1)
            if self._state == "normal":
                if byte == self._prefix:
                    self._state = "prefix"
                else:
                    passthrough.append(byte)
            elif self._state == "prefix":
                self._state = "normal"
                if byte == self._prefix:
                    passthrough.append(self._prefix)
                elif 0xC0 <= byte < 0xF8:
                    self._state = "prefix_char"
                    self._char = bytearray([byte])
                    self._char_len = 2 if byte < 0xE0 else 3 if byte < 0xF0 else 4
                else:
                    command(byte)
            elif self._state == "chat_esc":  # the [ or O after ESC: a key's sequence follows
                self._state = "chat_key"
            elif self._state == "chat_key":  # inside an arrow's or a function key's sequence: not text
                if 0x40 <= byte <= 0x7E:
                    self._state = "chat"
            else:
                if byte in (0x0D, 0x0A):
                    text = self._chat.decode("utf-8", "replace").strip()
                    close_chat()
                    actions.append(Command("chat", text) if text else Echo(current()("(chat cancelled)")))
                elif byte == 0x1B and data[index + 1:index + 2] in (b"[", b"O"):
                    self._state = "chat_esc"  # a key that sends a sequence (arrows, F-keys) is ignored
                elif byte in (0x1B, 0x03, self._prefix):
                    close_chat()
                    actions.append(Echo(current()("(chat cancelled)")))
                elif byte in (0x7F, 0x08):
                    # erase one character, not one byte: drop UTF-8 continuation bytes too
                    while self._chat and self._chat[-1] & 0xC0 == 0x80:
                        del self._chat[-1]
                    if self._chat:
                        del self._chat[-1]
                    changed = True
                elif byte == 0x15:  # Ctrl-U: the whole line
                    self._chat.clear()
                    changed = True
                elif byte < 0x20:
                    pass  # other control characters are not text (never shown, never sent)
                elif len(self._chat) < MAX_CHAT:
                    self._chat.append(byte)
                    changed = True
        flush()
        if changed and self._state.startswith("chat"):
            self._drafted = True
            actions.append(Draft(current()("chat> ") + self._chat.decode("utf-8", "replace").replace("\ufffd", "")))
        return actions

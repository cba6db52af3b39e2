"""Plain mode's prefix key: bytes in, actions out."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cobrowse.plain.prefix import COMMANDS, HELP, MAX_CHAT, PREFIX, Command, Draft, Echo, PrefixParser, ToProgram

P = bytes([PREFIX])


def feed_all(parser: PrefixParser, *chunks: bytes) -> list:
    out: list = []
    for chunk in chunks:
        out.extend(parser.feed(chunk))
    return out


def program_bytes(actions: list) -> bytes:
    return b"".join(a.data for a in actions if isinstance(a, ToProgram))


def test_normal_bytes_pass_through() -> None:
    data = b"ls -la\r\x1b[A\x03\x04\x7f\x00\xff\xe2\x82\xac"
    assert PrefixParser().feed(data) == [ToProgram(data)]
    assert PrefixParser().feed(b"") == []


@given(st.binary().filter(lambda b: PREFIX not in b))
def test_anything_without_the_prefix_passes_through_unchanged(data: bytes) -> None:
    parser = PrefixParser()
    assert program_bytes(parser.feed(data)) == data
    assert all(isinstance(a, ToProgram) for a in parser.feed(data))


EXPECTED = {
    b"y": "allow",
    b"n": "deny",
    b"g": "grant_control",
    b"s": "grant_suggest",
    b"r": "revoke",
    b"p": "pause",
    b"e": "end",
    b"?": "help",
    b"h": "help",
    b"a": "paste_suggestion",
    b"d": "decline_suggestion",
    b"m": "step_done",
    b"t": "call",
    b"o": "hangup",
    b"u": "mute",
    b"k": "step_skip",
    b"x": "stop_recording",
    b"f": "report",
    b"l": "drop_viewer",
}


def test_expected_covers_every_command() -> None:
    assert {k[0] for k in EXPECTED} == set(COMMANDS)


@pytest.mark.parametrize("key, name", EXPECTED.items())
def test_every_command_key(key: bytes, name: str) -> None:
    assert PrefixParser().feed(P + key) == [Command(name)]
    # surrounded by normal typing, the order is kept and nothing leaks to the program
    assert PrefixParser().feed(b"ab" + P + key + b"cd") == [ToProgram(b"ab"), Command(name), ToProgram(b"cd")]


def test_chat_line() -> None:
    parser = PrefixParser()
    actions = parser.feed(P + b"chello agent\r")
    assert actions == [Command("chat", "hello agent")]  # typed at once (a paste): no draft to show
    assert parser.feed(b"x") == [ToProgram(b"x")]  # back to normal


@pytest.mark.parametrize("end", [b"\r", b"\n"])
def test_chat_line_ends_with_cr_or_lf_and_is_stripped(end: bytes) -> None:
    assert PrefixParser().feed(P + b"c  hi  " + end)[-1] == Command("chat", "hi")


def test_chat_is_not_sent_to_the_program() -> None:
    actions = PrefixParser().feed(b"echo " + P + b"cmy password is hunter2\r" + b"done")
    assert program_bytes(actions) == b"echo done"
    assert Command("chat", "my password is hunter2") in actions


@pytest.mark.parametrize("bs", [b"\x7f", b"\x08"])
def test_chat_backspace(bs: bytes) -> None:
    actions = PrefixParser().feed(P + b"c" + b"helo" + bs + b"lo" + bs * 2 + b"lo\r")
    assert actions[-1] == Command("chat", "hello")


def test_chat_backspace_on_empty_line_is_harmless() -> None:
    assert PrefixParser().feed(P + b"c" + b"\x7f" * 3 + b"ok\r")[-1] == Command("chat", "ok")


def test_chat_backspace_removes_a_whole_utf8_character() -> None:
    text = "café 日本"
    typed = text.encode() + b"\x7f" + "本".encode() + b"\x7f\x7f" + b"!"
    assert PrefixParser().feed(P + b"c" + typed + b"\r")[-1] == Command("chat", "café !")


def test_chat_utf8_split_across_feeds() -> None:
    parser = PrefixParser()
    raw = P + b"c" + "é".encode() + b"\r"
    actions = feed_all(parser, *[raw[i : i + 1] for i in range(len(raw))])
    assert actions[-1] == Command("chat", "é")


@pytest.mark.parametrize("cancel", [b"\x1b", b"\x03", P])
def test_chat_cancel(cancel: bytes) -> None:
    parser = PrefixParser()
    actions = parser.feed(P + b"chalf a thought" + cancel)
    assert actions == [Echo("(chat cancelled)")]
    assert parser.feed(b"ls\r") == [ToProgram(b"ls\r")]  # the shell gets keys again
    # a later chat starts empty
    assert parser.feed(P + b"cnew\r")[-1] == Command("chat", "new")


def test_empty_chat_is_cancelled() -> None:
    assert PrefixParser().feed(P + b"c   \r") == [Echo("(chat cancelled)")]


def test_chat_length_is_capped() -> None:
    actions = PrefixParser().feed(P + b"c" + b"x" * (MAX_CHAT + 500) + b"\r")
    assert actions[-1] == Command("chat", "x" * MAX_CHAT)


def test_double_prefix_sends_a_literal_prefix() -> None:
    assert PrefixParser().feed(P + P) == [ToProgram(P)]
    assert PrefixParser().feed(b"a" + P + P + b"b") == [ToProgram(b"a" + P + b"b")]
    assert PrefixParser().feed(P * 4) == [ToProgram(P * 2)]


def test_prefix_split_across_feeds() -> None:
    parser = PrefixParser()
    assert parser.feed(b"abc" + P) == [ToProgram(b"abc")]
    assert parser.feed(b"r") == [Command("revoke")]
    assert parser.feed(P) == []
    assert parser.feed(P) == [ToProgram(P)]
    assert parser.feed(P) == []
    assert parser.feed(b"c") == [Draft("chat> ")]
    assert parser.feed(b"h") == [Draft("chat> h")]
    assert parser.feed(b"i\r") == [Draft(None), Command("chat", "hi")]


def test_byte_by_byte_equals_all_at_once() -> None:
    stream = b"ls\r" + P + b"y" + b"x" + P + P + P + b"cok\x7fk\r" + P + b"zq" + P + b"e"
    at_once = PrefixParser().feed(stream)
    one_by_one = feed_all(PrefixParser(), *[stream[i : i + 1] for i in range(len(stream))])
    assert [a for a in at_once if not isinstance(a, (ToProgram, Draft))] == [
        a for a in one_by_one if not isinstance(a, (ToProgram, Draft))
    ]
    assert program_bytes(at_once) == program_bytes(one_by_one) == b"ls\rx" + P + b"q"


@pytest.mark.parametrize("key", [b"z", b"\r", b"1", b" ", b"\x1b", b"Y"])
def test_unknown_key_shows_help_and_is_swallowed(key: bytes) -> None:
    assert PrefixParser().feed(b"a" + P + key + b"b") == [ToProgram(b"a"), Command("help"), ToProgram(b"b")]


def test_help_text_lists_every_command() -> None:
    for key in ("c", "y", "n", "g", "s", "r", "p", "e", "a", "d", "m", "k"):
        assert f"{key} " in HELP


def test_the_chat_line_is_shown_as_typed_with_its_edits() -> None:
    """Each key typed into chat gives the line as it now reads (it showed nothing until Enter)."""
    parser = PrefixParser()
    assert parser.feed(P + b"c") == [Draft("chat> ")]
    assert parser.feed(b"hel") == [Draft("chat> hel")]
    assert parser.feed(b"o") == [Draft("chat> helo")]
    assert parser.feed(b"\x7f") == [Draft("chat> hel")]
    assert parser.feed("lo wörld".encode()) == [Draft("chat> hello wörld")]
    assert parser.feed(b"\x7f" * 5) == [Draft("chat> hello ")]
    assert parser.feed(b"\x15") == [Draft("chat> ")]  # Ctrl-U: the whole line
    assert parser.feed(b"hi\r") == [Draft(None), Command("chat", "hi")]
    assert parser.feed(b"x") == [ToProgram(b"x")]


def test_a_character_split_over_two_reads_is_shown_once_whole() -> None:
    parser = PrefixParser()
    parser.feed(P + b"c")
    word = "日".encode()
    assert parser.feed(word[:1]) == [Draft("chat> ")]
    assert parser.feed(word[1:]) == [Draft("chat> 日")]


@pytest.mark.parametrize("key", [b"\x1b[A", b"\x1b[D", b"\x1bOP", b"\x1b[1;2Q", b"\x1b[3~", b"\t", b"\x01"])
def test_keys_that_are_not_text_are_neither_shown_nor_sent(key: bytes) -> None:
    """An arrow in chat cancelled it and typed ``[A`` into the shell; control characters were
    kept in the line (and would have been shown raw)."""
    parser = PrefixParser()
    actions = parser.feed(P + b"cab" + key + b"c")
    assert actions == [Draft("chat> abc")], actions
    assert parser.feed(b"\r") == [Draft(None), Command("chat", "abc")]


def test_escape_alone_still_cancels_and_ends_the_draft() -> None:
    parser = PrefixParser()
    parser.feed(P + b"cab")
    assert parser.feed(b"\x1b") == [Draft(None), Echo("(chat cancelled)")]
    assert parser.feed(b"ls") == [ToProgram(b"ls")]


@pytest.mark.parametrize("chunks", [(P + "ж".encode(),), (P + "ж".encode()[:1], "ж".encode()[1:]),
                                    (P + "中".encode()[:2], "中".encode()[2:] + b"ls")])
def test_a_non_ascii_key_after_the_prefix_is_swallowed_whole(chunks: tuple[bytes, ...]) -> None:
    """Plain mode, a Russian layout on: Ctrl-] ; sends Ctrl-] ж (no cobrowse key); its first byte
    showed the help and the second went to the customer's shell as a stray byte."""
    out = feed_all(PrefixParser(), *chunks)
    assert Command("help") in out
    assert program_bytes(out) == (b"ls" if len(chunks) == 2 and chunks[1].endswith(b"ls") else b"")


@pytest.mark.parametrize("layout", ["ru", "uk", "el", "he", "fa", "ar"])
@pytest.mark.parametrize("split", [False, True])
def test_the_key_where_y_is_allows_in_every_common_layout(layout: str, split: bool) -> None:
    """Ctrl-] н (Russian), غ (Persian, Arabic), υ (Greek), ט (Hebrew): the key marked y. It showed
    the help: a customer with such a layout on could not allow anything from plain mode."""
    from cobrowse.plain.layouts import LAYOUTS
    key = LAYOUTS[layout]["qwertyuiop".index("y")].encode()
    chunks = (P + key[:1], key[1:] + b"ls") if split else (P + key + b"ls",)
    out = feed_all(PrefixParser(), *chunks)
    assert [a for a in out if isinstance(a, Command)] == [Command("allow")]
    assert program_bytes(out) == b"ls"


def test_a_russian_layouts_keys_run_their_us_letters_and_chat_opens() -> None:
    out = feed_all(PrefixParser(), P + "т".encode(), P + "к".encode(), P + "с".encode() + "привет\r".encode())
    assert [a for a in out if isinstance(a, Command)] == [Command("deny"), Command("revoke"), Command("chat", "привет")]
    assert program_bytes(out) == b""


@pytest.mark.parametrize("char", ["Н", "ё", "х", "中", "é", "😀"])
def test_other_characters_after_the_prefix_only_show_the_help(char: str) -> None:
    """An upper-case letter (as Y is), a letter on a punctuation key, one no layout here has."""
    out = feed_all(PrefixParser(), P + char.encode() + b"x")
    assert out == [Command("help"), ToProgram(b"x")]


def test_a_character_cut_short_after_the_prefix_shows_the_help_and_the_rest_passes() -> None:
    assert feed_all(PrefixParser(), P + "н".encode()[:1] + b"ls") == [Command("help"), ToProgram(b"ls")]

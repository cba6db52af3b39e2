"""Key names to terminal bytes (xterm conventions)."""

import pytest

from cobrowse.screen import Modes, encode_key, encode_paste

NORMAL = Modes()
APP = Modes(app_cursor=True)

TABLE = [
    # key, normal mode, application cursor mode (None: same as normal)
    ("up", b"\x1b[A", b"\x1bOA"),
    ("down", b"\x1b[B", b"\x1bOB"),
    ("right", b"\x1b[C", b"\x1bOC"),
    ("left", b"\x1b[D", b"\x1bOD"),
    ("home", b"\x1b[H", b"\x1bOH"),
    ("end", b"\x1b[F", b"\x1bOF"),
    ("ctrl+up", b"\x1b[1;5A", None),
    ("shift+left", b"\x1b[1;2D", None),
    ("alt+right", b"\x1b[1;3C", None),
    ("ctrl+shift+home", b"\x1b[1;6H", None),
    ("pageup", b"\x1b[5~", None),
    ("pagedown", b"\x1b[6~", None),
    ("insert", b"\x1b[2~", None),
    ("delete", b"\x1b[3~", None),
    ("ctrl+delete", b"\x1b[3;5~", None),
    ("shift+pageup", b"\x1b[5;2~", None),
    ("f1", b"\x1bOP", None),
    ("f2", b"\x1bOQ", None),
    ("f3", b"\x1bOR", None),
    ("f4", b"\x1bOS", None),
    ("f5", b"\x1b[15~", None),
    ("f6", b"\x1b[17~", None),
    ("f7", b"\x1b[18~", None),
    ("f8", b"\x1b[19~", None),
    ("f9", b"\x1b[20~", None),
    ("f10", b"\x1b[21~", None),
    ("f11", b"\x1b[23~", None),
    ("f12", b"\x1b[24~", None),
    ("shift+f1", b"\x1b[1;2P", None),
    ("ctrl+f5", b"\x1b[15;5~", None),
    ("f13", b"\x1b[1;2P", None),
    ("f17", b"\x1b[15;2~", None),
    ("f24", b"\x1b[24;2~", None),
    ("enter", b"\r", None),
    ("return", b"\r", None),
    ("tab", b"\t", None),
    ("shift+tab", b"\x1b[Z", None),
    ("backspace", b"\x7f", None),
    ("ctrl+backspace", b"\x08", None),
    ("escape", b"\x1b", None),
    ("space", b" ", None),
    ("ctrl+space", b"\x00", None),
    ("ctrl+@", b"\x00", None),
    ("ctrl-at", b"\x00", None),
    ("ctrl+a", b"\x01", None),
    ("ctrl+c", b"\x03", None),
    ("ctrl+d", b"\x04", None),
    ("ctrl+h", b"\x08", None),
    ("ctrl+i", b"\t", None),
    ("ctrl+j", b"\n", None),
    ("ctrl+m", b"\r", None),
    ("ctrl+z", b"\x1a", None),
    ("ctrl+shift+a", b"\x01", None),
    ("ctrl+[", b"\x1b", None),
    ("ctrl+left_square_bracket", b"\x1b", None),
    ("ctrl+backslash", b"\x1c", None),
    ("ctrl+\\", b"\x1c", None),
    ("ctrl+right_square_bracket", b"\x1d", None),
    ("ctrl+circumflex_accent", b"\x1e", None),
    ("ctrl+underscore", b"\x1f", None),
    ("ctrl+slash", b"\x1f", None),
    ("ctrl+question_mark", b"\x7f", None),
    ("ctrl+2", b"\x00", None),
    ("ctrl+8", b"\x7f", None),
    ("alt+x", b"\x1bx", None),
    ("alt+X", b"\x1bX", None),
    ("alt+ctrl+c", b"\x1b\x03", None),
    ("alt+enter", b"\x1b\r", None),
    ("alt+backspace", b"\x1b\x7f", None),
    ("alt+full_stop", b"\x1b.", None),
    ("a", b"a", None),
    ("A", b"A", None),
    ("shift+a", b"A", None),
    ("7", b"7", None),
    ("+", b"+", None),
    ("ctrl++", b"+", None),
    ("é", "é".encode(), None),
    ("中", "中".encode(), None),
    ("full_stop", b".", None),
    ("comma", b",", None),
    ("slash", b"/", None),
    ("backslash", b"\\", None),
    ("minus", b"-", None),
    ("plus", b"+", None),
    ("underscore", b"_", None),
    ("at", b"@", None),
    ("exclamation_mark", b"!", None),
    ("less_than_sign", b"<", None),
    ("vertical_line", b"|", None),
    ("tilde", b"~", None),
    ("pound_sign", "£".encode(), None),
]


@pytest.mark.parametrize("key,normal,app", TABLE)
def test_key_table(key, normal, app):
    assert encode_key(key, NORMAL) == normal
    assert encode_key(key, APP) == (normal if app is None else app)


@pytest.mark.parametrize(
    "key", ["", "nosuchkey", "f25", "f0", "hyper+a", "ctrl+nosuch", "super+x", "\x03", "ctrl+", "+up"]
)
def test_unknown_keys_raise(key):
    with pytest.raises(ValueError):
        encode_key(key, NORMAL)


def test_paste():
    assert encode_paste("ls\n", NORMAL) == b"ls\r"
    bp = Modes(bracketed_paste=True)
    assert encode_paste("a\r\nb", bp) == b"\x1b[200~a\rb\x1b[201~"
    # A paste cannot close the brackets early and smuggle keystrokes.
    assert encode_paste("x\x1b[201~rm -rf ~\n", bp) == b"\x1b[200~xrm -rf ~\r\x1b[201~"
    body = encode_paste("\x1b[20\x1b[201~1~evil", bp)[6:-6]
    assert b"\x1b[201~" not in body
    assert encode_paste("é", bp) == b"\x1b[200~" + "é".encode() + b"\x1b[201~"

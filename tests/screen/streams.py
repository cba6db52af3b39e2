"""Hypothesis strategies for terminal output streams (shared by the screen tests)."""

from hypothesis import strategies as st

_text = st.text(alphabet="abcdefghij XYZ0123456789-_|", min_size=1, max_size=30)
_multibyte = st.sampled_from([
    "é", "ü", "中", "文字", "🙂", "█", "→", "e\u0301", "\u200b", "\ufffd", "\u0301", "नमस्ते", "\u2764\ufe0f",
    "\U0001F468\u200d\U0001F469\u200d\U0001F467", "\u200d", "\U00100000", "\U0003c001", "\u1100\u1161\u11a8",
])
_newline = st.sampled_from(["\r\n", "\n", "\r", "\t", "\b"])


@st.composite
def _cursor_move(draw):
    n = draw(st.integers(0, 40))
    m = draw(st.integers(0, 90))
    return draw(
        st.sampled_from(
            [f"\x1b[{n};{m}H", f"\x1b[{n}A", f"\x1b[{n}B", f"\x1b[{m}C", f"\x1b[{m}D", f"\x1b[{m}G",
             f"\x1b[{n}d", "\x1b[H", "\x1b7", "\x1b8", "\x1bM", "\x1bD", "\x1bE"]
        )
    )


@st.composite
def _sgr(draw):
    parts = draw(
        st.lists(
            st.one_of(
                st.sampled_from(["0", "1", "2", "3", "4", "5", "7", "9", "22", "23", "24", "27", "39", "49", "",
                                 "8", "28", "21", "53", "55", "4:0", "4:1", "4:3", "4:5", "58;5;3"]),
                st.integers(30, 37).map(str),
                st.integers(40, 47).map(str),
                st.integers(90, 97).map(str),
                st.integers(0, 255).map(lambda i: f"38;5;{i}"),
                st.integers(0, 255).map(lambda i: f"48;5;{i}"),
                st.tuples(st.integers(0, 255), st.integers(0, 255), st.integers(0, 255)).map(
                    lambda c: f"38;2;{c[0]};{c[1]};{c[2]}"
                ),
                st.tuples(st.integers(0, 255), st.integers(0, 255), st.integers(0, 255)).map(
                    lambda c: f"48;2;{c[0]};{c[1]};{c[2]}"
                ),
            ),
            min_size=1,
            max_size=3,
        )
    )
    return "\x1b[" + ";".join(parts) + "m"


@st.composite
def _erase_edit(draw):
    n = draw(st.integers(0, 5))
    return draw(
        st.sampled_from(
            ["\x1b[J", "\x1b[1J", "\x1b[2J", "\x1b[K", "\x1b[1K", "\x1b[2K", f"\x1b[{n}L", f"\x1b[{n}M",
             f"\x1b[{n}P", f"\x1b[{n}@", f"\x1b[{n}X", f"\x1b[{n}S", f"\x1b[{n}T", f"\x1b[{n + 1};{n + 3}r",
             "\x1b[r", f"\x1b[{n + 1};99r", "\x1b(0", "\x1b(B", "\x1b)0", "\x0e", "\x0f", "\x1b[s", "\x1b[u",
             f"\x1b[{n}b"]
        )
    )


_modes = st.sampled_from(
    ["\x1b[?1049h", "\x1b[?1049l", "\x1b[?47h", "\x1b[?47l", "\x1b[?1047h", "\x1b[?1047l",
     "\x1b[?1h", "\x1b[?1l", "\x1b[?2004h", "\x1b[?2004l", "\x1b[?25l", "\x1b[?25h",
     "\x1b[?7l", "\x1b[?7h", "\x1bc", "\x1b[!p", "\x9b?2004h", "\x9b?1h", "\x1b[?6h", "\x1b[?6l",
     "\x1b[?3l", "\x1b[?3h"]
)

token = st.one_of(
    _text, _text, _text, _multibyte, _newline, _newline, _cursor_move(), _sgr(), _erase_edit(), _modes,
)


@st.composite
def split_stream(draw, max_tokens=60):
    """(bytes, list of chunk boundaries)."""
    data = "".join(draw(st.lists(token, max_size=max_tokens))).encode("utf-8")
    cuts = sorted(set(draw(st.lists(st.integers(0, len(data)), max_size=12))))
    chunks = []
    prev = 0
    for c in cuts + [len(data)]:
        chunks.append(data[prev:c])
        prev = c
    return data, chunks


sizes = st.tuples(st.integers(2, 30), st.integers(1, 10))

"""NoticeLane against an emulated terminal: every byte the program and the lane write is
fed to an ``Emulator`` standing for the customer's real terminal, and its rows checked."""

from __future__ import annotations

import pytest

from cobrowse.plain.notice_lane import ASK_CURSOR, MAX_REPLAY, NoticeLane, _unfinished
from cobrowse.screen.emulator import Emulator


class Terminal:
    def __init__(self, cols: int = 40, rows: int = 8, *, at_row: int = 1) -> None:
        self.screen = Emulator(cols, rows)
        self.screen.feed(b"earlier output\r\n" * (at_row - 1))
        self.lane = NoticeLane(cols, rows)
        assert self.lane.start() == ASK_CURSOR
        cursor = self.screen.cursor()
        _, to_program = self.lane.keys(f"\x1b[{cursor.row + 1};{cursor.col + 1}R".encode())
        assert to_program == b""

    def program(self, data: bytes) -> None:
        self.screen.feed(data)
        self.screen.feed(self.lane.output(data))

    def say(self, *lines: str, urgent: bool = False) -> None:
        self.screen.feed(self.lane.notice(list(lines), urgent=urgent))

    def key(self, data: bytes) -> bytes:
        restore, to_program = self.lane.keys(data)
        self.screen.feed(restore)
        return to_program

    def text(self) -> list[str]:
        return [line.rstrip() for line in self.screen.lines()]


def test_a_notice_goes_above_a_wrapped_command_line_and_the_cursor_stays_in_it() -> None:
    term = Terminal(at_row=3)
    term.program(b"$ " + b"x" * 45)  # wraps onto a second row
    before = term.screen.cursor()
    term.say("[cobrowse] hello")
    rows = term.text()
    assert rows[:3] == ["earlier output", "earlier output", "[cobrowse] hello"], rows
    assert rows[3:5] == ["$ " + "x" * 38, "x" * 7], rows
    after = term.screen.cursor()
    assert (after.col, after.row) == (before.col, before.row + 1)
    term.program(b"\x08\x1b[K")  # readline's relative edits still land on its line
    assert term.text()[4] == "x" * 6


def test_at_the_bottom_the_rows_above_scroll_up() -> None:
    term = Terminal(at_row=8)
    term.program(b"$ typed")
    term.say("[cobrowse] one", "[cobrowse] two")
    rows = term.text()
    assert rows[-3:] == ["[cobrowse] one", "[cobrowse] two", "$ typed"], rows
    assert term.screen.cursor().row == 7


def test_notices_wait_for_the_cursor_report_and_it_never_reaches_the_program() -> None:
    term = Emulator(40, 8)
    term.feed(b"a\r\nb\r\n")
    lane = NoticeLane(40, 8)
    lane.start()
    data = b"$ "
    term.feed(data)
    term.feed(lane.output(data))
    assert lane.notice(["[cobrowse] early"], urgent=True) == b""  # held: where is the cursor?
    restore, to_program = lane.keys(b"l\x1b[3;1Rs")
    assert to_program == b"ls"
    term.feed(restore)
    assert [line.rstrip() for line in term.lines()[:4]] == ["a", "b", "[cobrowse] early", "$"]


@pytest.mark.parametrize("cut", [3, 4, 5])
def test_a_cursor_report_split_over_two_reads_is_still_taken_out(cut: int) -> None:
    """The report came in two reads (a slow link): neither half matched, both went to the
    program as keys, and the lane placed its lines as if the cursor had been at the top."""
    term = Emulator(40, 8)
    term.feed(b"a\r\nb\r\n")
    lane = NoticeLane(40, 8)
    lane.start()
    report = b"\x1b[3;1R"
    restore, first = lane.keys(b"l" + report[:cut])
    assert lane.notice(["[cobrowse] early"], urgent=True) == b""
    restore, second = lane.keys(report[cut:] + b"s")
    assert first + second == b"ls"
    term.feed(restore)
    assert [line.rstrip() for line in term.lines()[:3]] == ["a", "b", "[cobrowse] early"]


REPORTS = [b"\x1b[3;1R", b"\x1b[12;40R", b"\x1b[1234;1234R"]


@pytest.mark.parametrize(("report", "cut"), [(r, cut) for r in REPORTS for cut in range(1, len(r))])
@pytest.mark.parametrize("before", [b"", b"l"])
def test_a_cursor_report_split_anywhere_is_taken_out_whole(report: bytes, cut: int, before: bytes) -> None:
    """Split right after ESC or ``ESC [`` (a slow link, the first second of a session), the
    report's rest reached the program as keys (``[3;1R`` typed at the shell prompt)."""
    lane = NoticeLane(40, 8)
    lane.start()
    lane.output(b"a\r\nb\r\n")
    restore, first = lane.keys(before + report[:cut])
    assert restore == b"" and first == before
    assert lane.notice(["[cobrowse] early"], urgent=True) == b""  # still held: the report is not whole yet
    restore, second = lane.keys(report[cut:] + b"s")
    assert first + second == before + b"s"
    assert b"[cobrowse] early" in restore


@pytest.mark.parametrize("key", [b"\x1b[15", b"\x1b[", b"\x1b"])  # F5's first part, or Esc's
def test_a_key_cut_like_a_report_reaches_the_program_whole(key: bytes) -> None:
    lane = NoticeLane(40, 8)
    lane.start()
    assert lane.keys(key)[1] == b""  # it may be a report's first part
    assert lane.keys(b"~")[1] == key + b"~"


def test_a_read_ending_in_a_newline_is_no_reports_start() -> None:
    lane = NoticeLane(40, 8)
    lane.start()
    assert lane.keys(b"\x1b\n")[1] == b"\x1b\n"


def test_a_lone_escape_held_while_the_report_is_awaited_comes_before_the_report_is_taken_out() -> None:
    lane = NoticeLane(40, 8)
    lane.start()
    assert lane.keys(b"\x1b")[1] == b""
    assert lane.keys(b"\x1b[3;1R")[1] == b"\x1b"
    assert lane.keys(b"\x1b")[1] == b"\x1b"  # the report came: nothing is held any more


def test_a_lone_escape_held_for_a_report_that_never_comes_is_released_when_the_lane_gives_up() -> None:
    """A terminal that never answers: the ESC (vim's, say) reaches the program at the give-up,
    not at the customer's next key; nothing is released while the report is still awaited."""
    lane = NoticeLane(40, 8)
    lane.start()
    assert lane.keys(b"\x1b")[1] == b""
    assert lane.release_keys() == b""  # still awaited: it may be the report's start
    lane.give_up()
    assert lane.release_keys() == b"\x1b"
    assert lane.release_keys() == b""  # once
    assert lane.keys(b"x")[1] == b"x"


def test_keys_held_when_a_flood_makes_the_lane_give_up_are_released_too() -> None:
    lane = NoticeLane(40, 8)
    lane.start()
    assert lane.keys(b"\x1b[")[1] == b""
    lane.output(b"y" * (MAX_REPLAY + 1))
    assert lane.release_keys() == b"\x1b["


def test_a_full_screen_program_is_not_drawn_over_but_a_question_is_shown_then_removed() -> None:
    term = Terminal(rows=6)
    term.program(b"$ less\r\n\x1b[?1049h\x1b[H" + b"\r\n".join(b"line %d" % i for i in range(1, 7)))
    full = term.text()
    term.say("[cobrowse] a chat")
    assert term.text() == full  # held
    term.say("[cobrowse] the agent asks for control: Ctrl-] y allows", urgent=True)
    assert "asks for control" in term.text()[-2] + term.text()[-1]
    assert term.text()[:4] == full[:4]
    assert term.key(b"\x1d") == b"\x1d"
    assert term.text() == full  # the program's rows, as it left them
    term.program(b"\x1b[?1049l")  # the program exits: the held chat comes, and the question, in order
    flat = "".join(term.text())
    assert -1 < flat.index("[cobrowse] a chat") < flat.index("[cobrowse] the agent asks for control: Ctrl-] y allows"), flat


@pytest.mark.parametrize(("data", "unfinished"), [
    (b"plain text", False), (b"\x1b[1;3", True), (b"\x1b[1;31m", False), (b"\x1b", True), (b"\x1b]0;title", True),
    (b"\x1b]0;title\x07", False), (b"\x1b]8;;url\x1b\\", False), (b"\x1b(", True), (b"\x1b(0", False),
    ("é".encode()[:1], True), ("€".encode()[:2], True), ("€".encode(), False), ("😀".encode()[:3], True),
])
def test_the_program_stopped_inside_a_sequence(data: bytes, unfinished: bool) -> None:
    assert _unfinished(data) is unfinished


def test_a_notice_never_goes_inside_the_programs_escape_sequence() -> None:
    term = Terminal()
    term.program(b"$ \x1b[3")  # the program's write stopped inside a colour
    term.say("[cobrowse] hello")
    assert "[cobrowse] hello" not in term.text()  # waits: our bytes would break its sequence
    term.program(b"1mred\x1b[0m")
    rows = term.text()
    assert rows[0] == "[cobrowse] hello" and rows[1] == "$ red", rows


def test_a_scroll_region_keeps_the_programs_own_line() -> None:
    term = Terminal(rows=8)
    # apt: the last row out of the scroll region, a progress bar drawn there
    term.program(b"\x1b[1;7r\x1b[8;1HProgress: [ 40%]\x1b[7;1H" + b"".join(b"line %d\r\n" % i for i in range(1, 8)))
    term.program(b"$ typed")
    term.say("[cobrowse] hello")
    rows = term.text()
    assert rows[-1] == "Progress: [ 40%]" and rows[-3:-1] == ["[cobrowse] hello", "$ typed"], rows
    assert term.screen.cursor().row == 6
    term.program(b"\x1b7\x1b[8;1HProgress: [ 5")  # drawing the bar (outside the region): wait for it
    term.say("[cobrowse] later")
    assert "[cobrowse] later" not in term.text()
    term.program(b"0%]\x1b8")
    rows = term.text()
    assert rows[-1] == "Progress: [ 50%]" and rows[-3:-1] == ["[cobrowse] later", "$ typed"], rows


def test_a_program_stuck_inside_a_sequence_does_not_hold_a_question_for_ever() -> None:
    term = Terminal()
    term.program(b"$ \x1b[3")
    term.say("[cobrowse] the agent asks for control", urgent=True)
    assert term.lane.waiting and "[cobrowse] the agent asks for control" not in term.text()
    term.screen.feed(term.lane.overdue())  # the caller's timer: nothing came from the program
    assert term.text()[0] == "[cobrowse] the agent asks for control" and not term.lane.waiting


def test_plain_mode_ends_on_a_fresh_line_only_when_the_cursor_is_not_at_its_start() -> None:
    term = Terminal(at_row=3)
    term.program(b"$ ")  # the inner shell's last prompt
    assert term.lane.fresh_line() == b"\r\n"
    term.program(b"exit\r\n")
    assert term.lane.fresh_line() == b""


def test_lines_held_for_a_cursor_report_that_never_came_are_shown_when_plain_mode_ends() -> None:
    """A session can pair and end within the second the lane waits for the terminal's answer
    (a flood's e2e test lost every line so, the reason it ended too)."""
    screen = Emulator(80, 8)
    lane = NoticeLane(80, 8)
    screen.feed(lane.start())
    for data in (b"flood\r\n" * 20, b"flo"):
        screen.feed(data)
        screen.feed(lane.output(data))
    screen.feed(lane.notice(["[cobrowse] connected"], urgent=False))
    screen.feed(lane.notice(["[cobrowse] session ended: the agent ended the session"], urgent=True))
    assert not any("cobrowse" in line for line in screen.lines())  # held: no report yet
    screen.feed(lane.finish())
    assert [line.rstrip() for line in screen.lines()][-4:] == [
        "flo", "[cobrowse] connected", "[cobrowse] session ended: the agent ended the session", ""]
    assert b"cobrowse" not in lane.finish()  # said once


def test_a_line_waiting_for_a_program_stuck_inside_a_sequence_is_shown_when_plain_mode_ends() -> None:
    term = Terminal()
    term.program(b"$ \x1b[3")
    term.say("[cobrowse] session ended: the program exited", urgent=True)
    assert term.lane.waiting
    out = term.lane.finish()
    assert out.startswith(b"\x18")  # the program's sequence cancelled, not completed by our text
    term.screen.feed(out)
    assert "[cobrowse] session ended: the program exited" in "".join(term.text()) and not term.lane.waiting


def test_the_chat_line_shows_as_typed_on_one_row_above_the_prompt() -> None:
    term = Terminal(at_row=3)
    term.program(b"$ ls")
    cursor = term.screen.cursor()
    for typed in ("chat> ", "chat> h", "chat> hel", "chat> he"):
        term.screen.feed(term.lane.draft(f"[cobrowse] {typed}"))
    rows = term.text()
    assert rows[:4] == ["earlier output", "earlier output", "[cobrowse] chat> he", "$ ls"], rows
    assert (term.screen.cursor().col, term.screen.cursor().row) == (cursor.col, cursor.row + 1)  # the prompt's
    term.screen.feed(term.lane.draft(None))
    term.say("[cobrowse] you: he")  # the result takes the draft's row
    assert term.text()[2:4] == ["[cobrowse] you: he", "$ ls"], term.text()


def test_a_line_that_comes_while_typing_goes_above_the_chat_line() -> None:
    term = Terminal(at_row=3)
    term.program(b"$ ")
    term.screen.feed(term.lane.draft("[cobrowse] chat> hi"))
    term.say("[cobrowse] the agent: hello")
    term.screen.feed(term.lane.draft("[cobrowse] chat> hi there"))
    rows = term.text()
    assert rows[2:5] == ["[cobrowse] the agent: hello", "[cobrowse] chat> hi there", "$"], rows


@pytest.mark.parametrize("at_row", [3, 8])
@pytest.mark.parametrize("width", [40, 80])  # one row filled to its last column, or two
def test_a_line_exactly_as_wide_as_the_screen_is_not_taken_for_part_of_the_prompt(at_row: int, width: int) -> None:
    """A notice that fills its last row to the last column ends there: the prompt below it is
    a line of its own. Taken for a wrapped command line, every later notice went above it,
    so it sank to the prompt (``connected. Compare these words…`` with words that made it 80
    columns wide: the agent's first line landed above it, about 1 run in 4)."""
    term = Terminal(cols=40, rows=8, at_row=at_row)
    term.program(b"$ ")
    full = "[cobrowse] connected: " + "w" * (width - 22)
    term.say(full)
    term.say("[cobrowse] the agent: hello")
    rows = term.text()
    prompt = rows.index("$")
    assert rows[prompt - 1] == "[cobrowse] the agent: hello", rows
    assert "".join(rows[prompt - 1 - width // 40:prompt - 1]) == full, rows
    assert (term.screen.cursor().row, term.screen.cursor().col) == (prompt, 2)


@pytest.mark.parametrize("at_row", [3, 8])
@pytest.mark.parametrize("width", [40, 80, 120])
def test_a_programs_own_line_exactly_as_wide_as_the_screen_is_not_taken_for_part_of_the_prompt(at_row: int, width: int) -> None:
    """The program printed a line ending at the last column, then the prompt: it was taken for
    the first row of a wrapped command line and the notice landed above it (a row off, or
    more: ``ls`` in columns, a ruler). The emulator says whether a row really wrapped."""
    term = Terminal(cols=40, rows=8, at_row=at_row)
    output = "=" * (width - 1) + "|"
    term.program(output.encode() + b"\r\n$ ")
    term.say("[cobrowse] the agent: hello")
    rows = term.text()
    prompt = rows.index("$")
    assert rows[prompt - 1] == "[cobrowse] the agent: hello", rows
    assert "".join(rows[prompt - 1 - width // 40:prompt - 1]) == output, rows
    assert (term.screen.cursor().row, term.screen.cursor().col) == (prompt, 2)


def test_bash_readlines_wrapped_command_line_moves_whole_below_a_notice() -> None:
    """What bash (readline, TERM=xterm-256color, 20 columns) wrote for a command line that fills
    its first row exactly, then a backspace over the wrap: readline forced the wrap itself (a
    space, CR), so the full first row did wrap and the notice goes above the whole line."""
    term = Terminal(cols=20, rows=6, at_row=2)
    term.program(b"$ echo ddddddddddddd \r")  # readline's forced wrap at the exact fill
    term.program(b"e")
    term.program(b"\x08 \x08")
    term.say("[cobrowse] hi")
    rows = term.text()
    assert rows[:3] == ["earlier output", "[cobrowse] hi", "$ echo ddddddddddddd"], rows
    assert (term.screen.cursor().row, term.screen.cursor().col) == (3, 0)


@pytest.mark.parametrize("at_row", [3, 8])
@pytest.mark.parametrize("newline", [b"x\r\r\n", b"\x1b[36mx\r\r\n\x1b[30m\x1b[m\x0f",  # plain; TERM=tmux-256color
                                     b"\x1b[36mx\r\r\n\x1b[30m\x1b(B\x1b[m"])  # TERM=xterm-256color
def test_fishs_command_line_that_fills_its_row_exactly_moves_whole_below_a_notice(at_row: int, newline: bytes) -> None:
    """What fish 3.6 (40 columns) wrote for a command line filling its row exactly: a newline
    of its own (no wrap flag; the pty adds the first CR), then, at the next key, ``ESC M`` back
    up to redraw the row's end. The notice went between the two rows and fish's redraw landed
    on it (seen in tmux)."""
    term = Terminal(cols=40, rows=8, at_row=at_row)
    line = "$ echo " + "x" * 33
    term.program(line.encode()[:-1])
    term.program(newline)
    term.say("[cobrowse] the agent: hello")
    term.say("[cobrowse] and again")
    term.program(b"\x1bM\x1b[38Cxxy\x1bM\r\r\n\x1b[C")  # the key "y", as fish drew it
    rows = term.text()
    start = rows.index(line)
    assert rows[start - 2:start + 2] == ["[cobrowse] the agent: hello", "[cobrowse] and again", line, "y"], rows
    assert (term.screen.cursor().row, term.screen.cursor().col) == (start + 1, 1)


@pytest.mark.parametrize("at_row", [3, 8])
def test_a_programs_full_line_then_a_plain_newline_keeps_its_row(at_row: int) -> None:
    """Only fish's own newline (CR CR LF) joins a full row to the blank row below it: a
    program's line ending at the last column, then waiting on a blank row, stays above."""
    term = Terminal(cols=40, rows=8, at_row=at_row)
    output = "=" * 40
    term.program(output.encode() + b"\r\n")
    term.say("[cobrowse] the agent: hello")
    rows = term.text()
    assert rows[rows.index(output) + 1] == "[cobrowse] the agent: hello", rows


@pytest.mark.parametrize("at_row", [3, 8])  # room below, and at the bottom (the rows above scroll)
def test_a_line_taller_than_a_row_that_comes_while_typing_goes_above_the_chat_line(at_row: int) -> None:
    """A two-row line (at 40 columns) came in while the chat line was shown: it went below the
    chat line, between it and the prompt, and the agent's next line then took the chat line's
    old row, above it (about 1 run in 4 right after pairing, where such lines come)."""
    term = Terminal(cols=40, rows=8, at_row=at_row)
    term.program(b"$ ")
    term.screen.feed(term.lane.draft("[cobrowse] chat> hi"))
    long = "[cobrowse] your terminal is visible to the agent (view only)"
    term.say(long)
    term.say("[cobrowse] the agent: hello")
    term.screen.feed(term.lane.draft("[cobrowse] chat> hi there"))
    rows = term.text()
    prompt = rows.index("$")
    assert rows[prompt - 4:prompt + 1] == [long[:40], long[40:], "[cobrowse] the agent: hello",
                                           "[cobrowse] chat> hi there", "$"], rows
    assert (term.screen.cursor().row, term.screen.cursor().col) == (prompt, 2)


@pytest.mark.parametrize("at_row", [3, 8])
def test_a_sent_chat_line_taller_than_a_row_takes_the_chat_lines_row(at_row: int) -> None:
    """The ``chat> …`` row stayed above a result that took two rows."""
    term = Terminal(cols=40, rows=8, at_row=at_row)
    term.program(b"$ ")
    term.screen.feed(term.lane.draft("[cobrowse] chat> " + "x" * 30))
    term.screen.feed(term.lane.draft(None))
    sent = "[cobrowse] you: " + "x" * 30
    term.say(sent)
    rows = term.text()
    prompt = rows.index("$")
    assert rows[prompt - 2:prompt] == [sent[:40], sent[40:]], rows
    assert not any("chat>" in row for row in rows), rows
    assert (term.screen.cursor().row, term.screen.cursor().col) == (prompt, 2)


def test_a_long_chat_line_shows_its_end_on_one_row() -> None:
    term = Terminal(cols=40, at_row=3)
    term.program(b"$ ")
    term.screen.feed(term.lane.draft("[cobrowse] chat> " + "word " * 10 + "end"))
    row = term.text()[2]
    assert row.startswith("…") and row.endswith("word end") and len(row) <= 39, row
    assert term.text()[3] == "$"


def test_over_a_full_screen_program_the_chat_line_takes_the_bottom_row_until_a_key() -> None:
    term = Terminal(cols=40, rows=8, at_row=1)
    term.program(b"\x1b[?1049h\x1b[H" + b"\r\n".join(b"less %d" % i for i in range(8)))
    term.screen.feed(term.lane.draft("[cobrowse] chat> ok"))
    assert term.text()[-1] == "[cobrowse] chat> ok"
    term.key(b"\r")  # the row comes back as the program left it
    assert term.text()[-1] == "less 7"

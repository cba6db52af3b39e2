"""Plain mode's "clear your screen, then share" (the resume review's ``c``): the clear goes to
the terminal through the notice lane, so the lane's copy of the screen is cleared as well."""

from __future__ import annotations

import pytest

from cobrowse.cli.customer import PlainNotices
from cobrowse.plain.notice_lane import NoticeLane
from cobrowse.policy.customer_events import ScreenCleared
from cobrowse.screen.emulator import Emulator


def test_the_clear_goes_where_plain_mode_writes_the_terminal() -> None:
    """It went to sys.stdout behind the lane's back: the lane still saw the rows above the
    prompt and put its next line that many rows below the prompt's new place."""
    notices = PlainNotices()
    written: list[bytes] = []
    notices.write = written.append
    notices(ScreenCleared())
    assert written == [ScreenCleared().clear.encode()]


def test_without_a_lane_the_clear_goes_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    PlainNotices()(ScreenCleared())
    assert capsys.readouterr().out == ScreenCleared().clear


def test_a_lane_told_of_the_clear_puts_the_next_line_above_the_prompt_at_the_top() -> None:
    screen, lane = Emulator(40, 8), NoticeLane(40, 8)
    screen.feed(b"old\r\n" * 5)
    lane.start()
    lane.keys(b"\x1b[6;1R")

    def out(data: bytes) -> None:
        screen.feed(data)
        screen.feed(lane.output(data))

    out(b"$ ")
    out(ScreenCleared().clear.encode())  # what _Lane.write does with PlainNotices.write's bytes
    out(b"$ ")
    screen.feed(lane.notice(["[cobrowse] sharing again"], urgent=False))
    assert [line.rstrip() for line in screen.lines()[:2]] == ["[cobrowse] sharing again", "$"]

"""Plain mode's notice lane follows the real terminal's cursor with a second emulator: a
flood skipped through (screen/skip.py) leaves it where feeding everything would."""

from cobrowse.plain.notice_lane import NoticeLane
from cobrowse.screen import Emulator


def test_the_lane_skips_a_flood_and_keeps_the_terminals_screen() -> None:
    lane = NoticeLane(80, 24)
    reference = Emulator(80, 24)
    flood = b"".join(b"\x1b[2m12:00:%02d\x1b[0m build step %d of the long log\r\n" % (i % 60, i) for i in range(20000))
    flood += b"\x1b[1;32mdone\x1b[0m\r\n$ "
    for i in range(0, len(flood), 65536):
        chunk = flood[i:i + 65536]
        assert lane.output(chunk) == b""
        reference.feed(chunk)
    assert lane._mirror.state() == reference.state()
    assert lane._skip.skipped_bytes > len(flood) // 2
    # a notice still goes above the line being typed
    out = lane.notice(["[cobrowse] hello"], urgent=False)
    assert b"[cobrowse] hello" in out

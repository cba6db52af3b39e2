"""When the agent's keys ask the customer for an echo ack (``m.Keys.want_ack``, issue 17): only
while the predictions wait for one, so plain typing costs no frame for an ack alone."""

from __future__ import annotations

from cobrowse.screen import Emulator
from cobrowse.screen.predict import Display, Predictor
from tests.screen.test_predict import Shell, Shouting, acked_warm, drawn, typed


def asks(p: Predictor, shell: Shell, keys: str, t: float) -> list[bool]:
    """Each key typed 30 ms apart (the shell gets it at once): whether it asked for an ack."""
    wanted = []
    for i, ch in enumerate(keys):
        p.key(ch, t + 0.03 * i)
        shell.feed(ch)
        wanted.append(p.wants_ack)
    return wanted


def test_typing_that_goes_as_predicted_never_asks() -> None:
    p, shell = Predictor(), Shell()
    p.screen(shell.state(), 0.0)  # (an older customer: no ack seen yet)
    assert asks(p, shell, "ls -l", 0.0) == [False] * 5
    p.screen(shell.state(), 0.3, ack=5)
    assert asks(p, shell, " /tmp", 0.4) == [False] * 5


def test_a_tab_and_the_keys_typed_behind_it_ask_until_a_frame_acks_the_tab() -> None:
    p, shell, t = acked_warm()
    assert asks(p, shell, " ec", t) == [False] * 3
    p.screen(shell.state(), t + 0.15, ack=5)
    t += 0.2
    p.key("\t", t)
    shell.feed("ho ")
    after_tab = shell.state()
    assert p.wants_ack  # a frame acking it is what resumes the predictions
    assert asks(p, shell, "he", t + 0.03) == [True, True]  # kept for that ack, and ask too
    p.screen(after_tab, t + 0.12, ack=6)  # the Tab acked: "he" predicted on its screen
    assert drawn(p) == "he"
    assert asks(p, shell, "llo", t + 0.13) == [False] * 3


def test_the_first_tab_asks_before_any_ack_was_seen() -> None:
    """A customer that acks only when asked has sent none before the first Tab: the Tab asks
    anyway, or the agent would never learn that acks come."""
    p, shell = Predictor(), Shell()
    p.screen(shell.state(), 0.0)
    t = typed(p, shell, "ls", 0.0)
    p.screen(shell.state(), t + 0.15)
    assert p.acked == 0
    assert asks(p, shell, "\t", t + 0.2) == [True]


def test_a_key_in_the_last_column_asks() -> None:
    p, shell = Predictor(), Shell(cols=10)
    p.screen(shell.state(), 0.0, ack=0)
    assert asks(p, shell, "abcdefgh", 0.0) == [False] * 7 + [True]  # "h" at column 9 of 10


def test_the_keys_after_a_wrong_guess_ask() -> None:
    """Keys guessed on after a wrong guess: their effect is unknown once it is found out, so
    the keys typed on ask until a frame acks them all."""
    p, shell = Predictor(), Shouting()
    p.screen(shell.state(), 0.0, ack=0)
    t = typed(p, shell, "ls", 0.0)
    p.screen(shell.state(), t := t + 0.15, ack=2)
    assert asks(p, shell, "q", t) == [False]  # guessed (wrongly: the shell echoes Q)
    after_q = shell.state()
    assert asks(p, shell, "uit", t + 0.01) == [False] * 3
    p.screen(after_q, t + 0.15, ack=3)  # the Q: contradicted, "uit" unknown
    assert asks(p, shell, "xy", t + 0.16) == [True, True]
    p.screen(shell.state(), t + 0.3, ack=8)
    assert asks(p, shell, "z", t + 0.31) == [False]


def test_screens_that_get_no_prediction_never_ask() -> None:
    """vim (the alternate screen) or a password prompt: an ack would resume nothing there."""
    vim = Emulator(40, 6)
    vim.feed(b"\x1b[?1049h~\r\n~")
    p = Predictor()
    p.screen(vim.state(), 0.0, ack=0)
    for i, ch in enumerate("ihello\x1b:wq\r"):
        p.key(ch, 0.03 * i)
        assert not p.wants_ack, ch
    prompt = Shell(prompt="Password: ")
    p = Predictor()
    p.screen(prompt.state(), 0.0, ack=0)
    assert asks(p, prompt, "hunter2\t", 0.0) == [False] * 8


def test_with_prediction_off_no_key_asks() -> None:
    p, shell = Predictor(display=Display.NEVER), Shell()
    p.screen(shell.state(), 0.0)
    assert asks(p, shell, "ab\tc\r", 0.0) == [False] * 5

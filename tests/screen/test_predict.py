"""Predictive local echo (cobrowse/screen/predict.py) against a real emulator and a line editor.

``Shell`` is a small readline: it takes keys as the customer's pty would deliver them and
writes the bytes a shell would echo into a real :class:`Emulator`; the tests hand the
predictor the screens that emulator produces, late, as a slow link would.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cobrowse.screen import Emulator, ScreenState
from cobrowse.screen.predict import Display, Overlay, PredictedCell, Predictor

SETTINGS = settings(max_examples=int(os.environ.get("COBROWSE_FUZZ_EXAMPLES", "150")), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
LEFT, RIGHT, BS = "\x1b[D", "\x1b[C", "\x7f"


class Shell:
    """A line editor with a prompt, echo on or off, on a real emulator."""

    def __init__(self, cols: int = 40, rows: int = 6, prompt: str = "$ ") -> None:
        self.emu = Emulator(cols, rows)
        self.prompt = prompt
        self.buf: list[str] = []
        self.pos = 0
        self.echo = True
        self.emu.feed(prompt.encode())

    def state(self) -> ScreenState:
        return self.emu.state()

    def _redraw(self) -> None:
        if self.echo:
            line = self.prompt + "".join(self.buf)
            self.emu.feed(f"\r{line}\x1b[K\r\x1b[{len(self.prompt) + self.pos}C".encode() if len(self.prompt) + self.pos
                          else f"\r{line}\x1b[K\r".encode())

    def feed(self, data: str) -> None:
        i = 0
        while i < len(data):
            for seq, move in ((LEFT, -1), (RIGHT, 1)):
                if data.startswith(seq, i):
                    self.pos = max(0, min(len(self.buf), self.pos + move))
                    i += len(seq)
                    self._redraw()
                    break
            else:
                ch = data[i]
                i += 1
                if ch == "\r":
                    self.emu.feed(b"\r\n")
                    self.buf, self.pos, self.echo = [], 0, True
                    self.emu.feed(self.prompt.encode())
                elif ch == BS:
                    if self.pos:
                        del self.buf[self.pos - 1]
                        self.pos -= 1
                        self._redraw()
                elif ch.isprintable():
                    self.buf.insert(self.pos, ch)
                    self.pos += 1
                    self._redraw()

    def say(self, text: str) -> None:
        """The program writes ``text`` (a new prompt, output...)."""
        self.emu.feed(text.encode())


def typed(p: Predictor, shell: Shell, keys: str, t: float) -> float:
    """The agent types ``keys`` (one predictor call each) 10 ms apart; the shell gets them at once."""
    for k in _split(keys):
        p.key(k, t)
        shell.feed(k)
        t += 0.01
    return t


def _split(keys: str) -> list[str]:
    out, i = [], 0
    while i < len(keys):
        n = 3 if keys.startswith("\x1b[", i) else 1
        out.append(keys[i:i + n])
        i += n
    return out


def warmed(display: Display = Display.ADAPTIVE) -> tuple[Predictor, Shell, float]:
    """A predictor that has seen one word confirmed at 150 ms: its next keys are shown."""
    p, shell = Predictor(display=display), Shell()
    p.screen(shell.state(), 0.0)
    t = typed(p, shell, "ls", 0.0)
    t += 0.15
    p.screen(shell.state(), t)
    assert p.pending == 0 and p.srtt is not None and p.srtt > 0.1
    return p, shell, t


def drawn(p: Predictor) -> str:
    """The predicted cells as text (what the agent sees underlined)."""
    o = p.overlay()
    return "".join(c.text for c in o.cells) if o else ""


def test_printable_keys_are_shown_at_once_then_confirmed_by_the_echo() -> None:
    p, shell, t = warmed()
    assert p.key(" -l", t)
    o = p.overlay()
    # the space over a blank cell looks the same: only the cells that differ are drawn
    assert o == Overlay((PredictedCell(0, 5, "-"), PredictedCell(0, 6, "l")), (7, 0))
    assert o.as_json() == {"cells": [[0, 5, "-"], [0, 6, "l"]], "cursor": [7, 0]}
    shell.feed(" -l")
    assert p.screen(shell.state(), t + 0.15)
    assert p.overlay() is None and p.pending == 0
    assert p.stats.mispredicted_shown == 0 and p.stats.confirmed == 5


def test_a_frame_that_shows_some_keys_confirms_those_and_keeps_the_rest() -> None:
    p, shell, t = warmed()
    p.key("abc", t)
    shell.feed("a")
    p.screen(shell.state(), t + 0.15)
    assert p.pending == 2 and drawn(p) == "bc"
    assert p.overlay().cursor == (7, 0)
    shell.feed("bc")
    p.screen(shell.state(), t + 0.2)
    assert p.overlay() is None and p.stats.mispredicted_shown == 0


def test_the_first_keys_of_a_session_are_tentative_until_the_screen_echoes_one() -> None:
    p, shell = Predictor(display=Display.ALWAYS), Shell()
    p.screen(shell.state(), 0.0)
    p.key("l", 0.0)
    assert p.overlay() is None and p.pending == 1  # predicted, not shown
    shell.feed("l")
    p.screen(shell.state(), 0.15)
    p.key("s", 0.2)
    assert drawn(p) == "s"


def test_adaptive_display_waits_for_a_slow_link_and_stays_off_on_a_fast_one() -> None:
    p, shell = Predictor(), Shell()
    p.screen(shell.state(), 0.0)
    t = 0.0
    for ch in "echo hi":
        p.key(ch, t)
        shell.feed(ch)
        p.screen(shell.state(), t + 0.002)  # 2 ms round trips
        t += 0.1
    p.key("x", t)
    assert not p.showing() and p.overlay() is None and p.stats.shown == 0
    shell.feed("x")
    for ch in "yz":  # now the link slows down: 200 ms
        p.screen(shell.state(), t + 0.2)
        t += 0.2
        p.key(ch, t)
        shell.feed(ch)
    assert p.showing()
    assert drawn(p) == "z"


def test_a_hidden_password_is_never_predicted() -> None:
    p, shell, t = warmed()
    t = typed(p, shell, "\r", t)  # the command runs; then it asks
    shell.say("Password: ")
    shell.echo = False
    p.screen(shell.state(), t + 0.15)
    t = typed(p, shell, "hunter2", t + 0.2)
    assert p.overlay() is None and p.pending == 0 and p.stats.predicted == 2  # "ls" only


def test_keys_into_a_program_that_does_not_echo_are_never_shown() -> None:
    """``read -s`` with no prompt: the first keys after Enter stay tentative and expire."""
    p, shell, t = warmed()
    t = typed(p, shell, "\r", t)
    shell.feed  # noqa: B018 - the program reads without echo from here on
    state_after_enter = shell.state()
    p.screen(state_after_enter, t + 0.15)
    t += 0.2
    for ch in "secret":
        p.key(ch, t)
        assert p.overlay() is None
        t += 0.1
        p.screen(state_after_enter, t)  # frames keep coming, nothing echoed
        p.tick(t)
    t += 2.0
    p.tick(t)
    assert p.pending == 0 and p.stats.mispredicted_shown == 0 and p.stats.shown == 0


def test_a_key_and_its_backspace_into_a_program_that_does_not_echo_prove_nothing() -> None:
    """The screen after "x", Backspace is the screen before them: whether or not they were
    echoed, that is no reason to start showing predictions."""
    p, shell, t = warmed()
    t = typed(p, shell, "\r", t)
    shell.echo = False
    p.screen(shell.state(), t := t + 0.15)
    p.key("x", t := t + 0.05)
    p.key(BS, t := t + 0.05)
    p.tick(t := t + 2.0)  # expired: the screen is as it was, so they are let go, unproven
    p.key("y", t := t + 1.0)
    assert p.overlay() is None


def test_alternate_screen_and_hidden_cursor_get_no_prediction() -> None:
    p, shell, t = warmed()
    shell.say("\x1b[?1049h\x1b[H")
    p.screen(shell.state(), t)
    p.key("ihello", t)
    assert p.overlay() is None and p.pending == 0
    shell.say("\x1b[?1049l\x1b[?25l")
    p.screen(shell.state(), t + 0.2)
    p.key("x", t + 0.3)
    assert p.pending == 0


def test_a_contradicted_prediction_is_taken_back_and_what_follows_is_tentative() -> None:
    p, shell, t = warmed()
    p.key("a", t)
    assert drawn(p) == "a"
    shell.feed("b")  # the program echoed something else (say, it upper-cases or completes)
    assert p.screen(shell.state(), t + 0.15)
    assert p.overlay() is None and p.stats.mispredicted_shown == 1
    p.key("c", t + 0.2)  # the effect of "a" is unknown for one RTO: nothing predicted
    shell.feed("c")
    assert p.pending == 0
    p.screen(shell.state(), t + 0.35)
    p.key("d", t + 0.9)
    assert p.overlay() is None and p.pending == 1  # tentative until the screen confirms one
    shell.feed("d")
    p.screen(shell.state(), t + 1.05)
    p.key("e", t + 1.1)
    assert drawn(p) == "e"


def test_three_shown_mispredictions_switch_the_line_off_until_enter() -> None:
    p, shell, t = warmed()
    for n in range(3):
        t += 1.0  # one RTO after the last contradiction
        p.key("x", t)  # tentative after a misprediction: confirmed by the echo
        shell.feed("x")
        p.screen(shell.state(), t := t + 0.15)
        p.key("y", t := t + 0.01)
        assert drawn(p) == "y"
        shell.feed("z")  # ... and the program shows something else
        p.screen(shell.state(), t := t + 0.15)
        assert p.stats.mispredicted_shown == n + 1
    p.key("q", t := t + 1.0)
    assert p.pending == 0  # off for this line
    shell.feed("q\r")
    p.key("\r", t)
    p.screen(shell.state(), t := t + 0.15)
    p.key("w", t := t + 1.0)
    assert p.pending == 1


def test_backspace_is_shown_but_never_erases_the_prompt() -> None:
    p, shell, t = warmed()  # "$ ls", the floor is column 2
    p.key(BS, t)
    o = p.overlay()
    assert o is not None and o.cells == (PredictedCell(0, 3, " "),) and o.cursor == (3, 0)
    p.key(BS, t + 0.01)
    assert p.overlay().cursor == (2, 0)
    p.key(BS, t + 0.02)  # at the prompt: not predicted, and what follows is tentative
    assert p.pending == 2
    shell.feed(BS * 3)
    p.screen(shell.state(), t + 0.2)
    assert p.overlay() is None and p.stats.mispredicted_shown == 0
    assert shell.state().lines()[0] == "$"


def test_typing_in_the_middle_of_a_line_inserts_as_readline_does() -> None:
    p, shell, t = warmed()
    t = typed(p, shell, LEFT, t)  # arrows start a tentative epoch
    p.screen(shell.state(), t := t + 0.15)
    p.key("x", t)
    assert p.overlay() is None  # tentative: nothing confirmed since the arrow
    shell.feed("x")
    p.screen(shell.state(), t := t + 0.15)  # "$ lxs"
    p.key("y", t := t + 0.01)
    assert p.overlay() == Overlay((PredictedCell(0, 4, "y"), PredictedCell(0, 5, "s")), (5, 0))
    shell.feed("y")
    p.screen(shell.state(), t + 0.15)
    assert shell.state().lines()[0] == "$ lxys" and p.overlay() is None and p.stats.mispredicted_shown == 0


def test_enter_after_shown_keys_is_not_a_misprediction_even_when_the_screen_scrolls() -> None:
    p, shell, t = warmed()
    for _ in range(8):  # down to the last row, so Enter scrolls
        t = typed(p, shell, "\r", t)
        p.screen(shell.state(), t := t + 0.15)
        t = typed(p, shell, "ab", t + 0.5)
        p.screen(shell.state(), t := t + 0.15)
    p.key("cd", t)
    assert drawn(p) == "cd"
    shell.feed("cd")
    t = typed(p, shell, "\r", t)
    shell.say("output\r\n$ ")
    p.screen(shell.state(), t + 0.15)  # one frame: the echo, Enter, output, a new prompt
    assert p.pending == 0 and p.stats.mispredicted_shown == 0


def test_keys_typed_before_the_next_prompt_arrives_wait_for_the_screen_to_settle() -> None:
    """Keys whose effect is unknown (typed after Enter, before its screen came back) are never
    guessed at: prediction resumes once no such key went out for one RTO."""
    p, shell, t = warmed()
    p.key("\r", t)
    shell.feed("\r")
    p.key("gi", t + 0.05)
    shell.feed("g")
    p.screen(shell.state(), t + 0.15)
    assert p.pending == 0 and p.overlay() is None
    shell.feed("i")
    p.screen(shell.state(), t + 0.2)
    p.key("t", t + 0.25)  # still within an RTO of "i"
    shell.feed("t")
    assert p.pending == 0
    p.screen(shell.state(), t + 0.4)
    assert p.tick(t + 0.8) is False
    p.key("s", t + 0.8)  # quiet for longer than the RTO: predicted on the screen as it is
    assert p.pending == 1 and p.overlay() is None  # tentative after Enter
    shell.feed("s")
    p.screen(shell.state(), t + 0.95)
    p.key("!", t + 1.0)
    assert p.overlay() == Overlay((PredictedCell(1, 6, "!"),), (7, 1))


def test_after_enter_the_next_prompt_makes_the_screen_certain_at_once() -> None:
    p, shell, t = warmed()
    t = typed(p, shell, "\r", t)
    p.screen(shell.state(), t := t + 0.15)  # the new prompt: the one unknown key has shown its effect
    p.key("c", t := t + 0.01)
    assert p.pending == 1 and p.overlay() is None  # tentative: the first key of a new line
    shell.feed("c")
    p.screen(shell.state(), t := t + 0.15)
    p.key("d", t := t + 0.01)
    assert p.overlay() == Overlay((PredictedCell(1, 3, "d"),), (4, 1))


def test_a_shown_prediction_the_screen_never_confirms_expires() -> None:
    p, shell, t = warmed()
    p.key("a", t)
    assert drawn(p) == "a"
    assert not p.tick(t + 0.5)
    assert p.tick(t + 1.5)
    assert p.overlay() is None and p.stats.mispredicted_shown == 1


def test_what_is_never_predicted() -> None:
    p, shell, t = warmed(Display.ALWAYS)
    for keys in ("\t", "\x1b[A", "\x1b[200~pasted\x1b[201~", "\x03", "漢", "e\u0301"):
        q, s, u = warmed(Display.ALWAYS)
        q.key(keys, u)
        assert q.overlay() is None, keys
    shell.say("\x1b[1;39H")  # column 38 of 40: one more fits, the last column does not
    p.screen(shell.state(), t)
    p.key("ab", t)
    assert drawn(p) == "a"


def test_display_never_and_screen_size_change() -> None:
    p, shell = Predictor(display=Display.NEVER), Shell()
    p.screen(shell.state(), 0.0)
    t = typed(p, shell, "ls", 0.0)
    p.screen(shell.state(), t + 0.15)
    assert not p.key("abc", t + 0.2) and p.overlay() is None and p.stats.predicted == 0
    q, shell, t = warmed()
    q.key("abc", t)
    assert drawn(q) == "abc"
    shell.emu.resize(50, 6)
    q.screen(shell.state(), t + 0.01)
    assert q.overlay() is None and q.pending == 0


@SETTINGS
@given(keys=st.lists(st.sampled_from(["a", "b", " ", "z", BS, LEFT, RIGHT, "\r"]), min_size=1, max_size=60),
       gaps=st.lists(st.sampled_from([0.03, 0.08, 0.15, 0.3]), min_size=60, max_size=60),
       delays=st.lists(st.sampled_from([0.1, 0.12, 0.15, 0.2]), min_size=60, max_size=60))
def test_against_an_echoing_line_editor_every_cell_shown_is_what_the_screen_then_shows(
        keys: list[str], gaps: list[float], delays: list[float]) -> None:
    """A typist and a link: key i goes out after ``gaps[i]``; the screen after it reaches
    the agent ``delays[i]`` later (in order). Whenever the agent's overlay shows cells, the
    shell's screen shows the same after some of the keys sent so far (a prefix: predictions
    after a tentative key wait for confirmation), cursor included."""
    p, shell = Predictor(display=Display.ALWAYS), Shell(cols=30, rows=5)
    p.screen(shell.state(), 0.0)
    events: list[tuple[float, int, object]] = []  # (time, order, key or state)
    after: list[ScreenState] = [shell.state()]
    t = arrive = 0.0
    for i, k in enumerate(keys):
        t += gaps[i]
        shell.feed(k)
        after.append(shell.state())
        arrive = max(arrive, t + delays[i])
        events += [(t, 2 * i, k), (arrive, 2 * i + 1, after[-1])]
    sent = 0
    for at, _, what in sorted(events, key=lambda e: (e[0], e[1])):
        if isinstance(what, str):
            p.key(what, at)
            sent += 1
        else:
            p.screen(what, at)
        o = p.overlay()
        if o is not None:  # what the agent sees is a screen the shell really shows, after some of the keys
            assert any(_shows(o, after[k]) for k in range(sent, -1, -1)), (o, after[sent].lines())


def _shows(o: Overlay, state: ScreenState) -> bool:
    lines = state.lines()
    return o.cursor == (state.cursor.col, state.cursor.row) and all(
        (lines[c.row] + " " * state.cols)[c.col] == c.text for c in o.cells)


def acked_warm() -> tuple[Predictor, Shell, float]:
    """``warmed`` with a customer that acks: its frames say how many keys messages they show."""
    p, shell = Predictor(), Shell()
    p.screen(shell.state(), 0.0, ack=0)
    t = typed(p, shell, "ls", 0.0)
    p.screen(shell.state(), t := t + 0.15, ack=2)
    assert p.pending == 0 and p.srtt is not None and p.srtt > 0.1
    return p, shell, t


def tab_then_five(p: Predictor, shell: Shell, t: float) -> tuple[ScreenState, float]:
    """`` ec``, Tab (the shell completes ``echo ``), then ``hello`` 30 ms a key; returns the
    screen right after the Tab (what a frame acking the Tab shows) and the time of the Tab."""
    t = typed(p, shell, " ec", t)
    p.screen(shell.state(), t + 0.15, ack=5)
    t += 0.2
    p.key("\t", t)
    shell.feed("ho ")  # the completion
    return shell.state(), t


def test_after_a_tab_the_keys_typed_on_are_predicted_as_soon_as_a_frame_acks_the_tab() -> None:
    """A fast typist after a Tab (qa10, issue 17): with the customer's echo acks, the keys
    typed on while the Tab's effect was unknown are predicted on the first frame that shows
    it, not after a pause of one round trip with no key."""
    p, shell, t = acked_warm()
    after_tab, t_tab = tab_then_five(p, shell, t)
    tab = 6  # keys messages: l, s, " ", e, c, Tab
    for i, ch in enumerate("hello"):
        p.key(ch, t_tab + 0.03 * (i + 1))
        shell.feed(ch)
        if i == 2:
            assert p.overlay() is None  # the Tab's effect is not known yet
            # the customer's frame 40 ms after the Tab, here half a round trip later
            assert p.screen(after_tab, t_tab + 0.115, ack=tab)
            assert drawn(p) == "hel"
    assert drawn(p) == "hello"  # the last two shown as they were typed
    o = p.overlay()
    assert o is not None and o.cursor == (len("$ ls echo hello"), 0)
    p.screen(shell.state(), t_tab + 0.3, ack=tab + 5)
    assert p.overlay() is None and p.pending == 0
    assert p.stats.mispredicted_shown == 0


def test_without_acks_the_keys_after_a_tab_wait_for_a_quiet_round_trip() -> None:
    """An older customer (no ack): today's rule, nothing guessed while keys keep going out."""
    p, shell, t = warmed()
    t = typed(p, shell, " ec", t)
    p.screen(shell.state(), t + 0.15)
    t += 0.2
    p.key("\t", t)
    shell.feed("ho ")
    after_tab = shell.state()
    for i, ch in enumerate("hello"):
        p.key(ch, t + 0.03 * (i + 1))
        shell.feed(ch)
        if i == 2:
            p.screen(after_tab, t + 0.115)
    assert p.overlay() is None


def test_a_frame_acking_some_keys_typed_after_the_tab_predicts_only_the_rest() -> None:
    p, shell, t = acked_warm()
    _, t_tab = tab_then_five(p, shell, t)
    for i, ch in enumerate("hello"):
        p.key(ch, t_tab + 0.03 * (i + 1))
        shell.feed(ch)
        if i == 1:
            after_he = shell.state()
    p.screen(after_he, t_tab + 0.2, ack=8)  # the Tab, "h" and "e" on screen
    assert drawn(p) == "llo" and p.pending == 3
    p.screen(shell.state(), t_tab + 0.3, ack=11)
    assert p.overlay() is None and p.stats.mispredicted_shown == 0


def test_acks_the_customer_cannot_have_are_ignored() -> None:
    """Ahead of the keys sent, backwards, or not an integer: not believed (the quiet rule holds)."""
    p, shell, t = acked_warm()
    after_tab, t_tab = tab_then_five(p, shell, t)
    for i, ch in enumerate("he"):
        p.key(ch, t_tab + 0.03 * (i + 1))
        shell.feed(ch)
    for bad in (99, 5, True, "6", 6.0, -1, None):
        p.screen(after_tab, t_tab + 0.1, ack=bad)
        assert p.overlay() is None, bad
    p.screen(after_tab, t_tab + 0.11, ack=6)
    assert drawn(p) == "he"


def test_a_lying_ack_shows_only_the_agents_own_keys_and_the_real_screen_replaces_them() -> None:
    """A customer acking the Tab on a screen without its completion: the guesses land in the
    wrong cells for a moment; what is drawn is still only what the agent typed, and the real
    screen takes it back."""
    p, shell, t = acked_warm()
    t = typed(p, shell, " ec", t)
    p.screen(shell.state(), t + 0.15, ack=5)
    before_tab = shell.state()
    t += 0.2
    p.key("\t", t)
    shell.feed("ho ")
    for i, ch in enumerate("hi"):
        p.key(ch, t + 0.03 * (i + 1))
        shell.feed(ch)
    p.screen(before_tab, t + 0.1, ack=6)  # a lie: the Tab did something
    o = p.overlay()
    assert o is not None and {c.text for c in o.cells} <= set("hi")
    p.screen(shell.state(), t + 0.3, ack=8)
    assert p.overlay() is None and p.pending == 0


def test_after_an_ack_of_a_key_that_may_change_the_echo_the_keys_typed_on_stay_tentative() -> None:
    """Enter (a new program may read without echo): the acked frame resumes predicting, but
    nothing is shown until the screen has echoed one of them, as after Enter without acks."""
    p, shell, t = acked_warm()
    p.key("\r", t := t + 0.05)
    shell.feed("\r")
    after_enter = shell.state()
    for i, ch in enumerate("pwd"):
        p.key(ch, t + 0.03 * (i + 1))
        shell.feed(ch)
    p.screen(after_enter, t + 0.12, ack=3)
    assert p.pending == 3 and p.overlay() is None
    p.screen(shell.state(), t + 0.3, ack=6)
    assert p.pending == 0 and p.stats.mispredicted_shown == 0
    p.key("x", t + 0.31)
    assert drawn(p) == "x"


class Shouting(Shell):
    """A line editor bound to echo q as Q (qa10's wrong guess)."""

    def feed(self, data: str) -> None:
        super().feed(data.replace("q", "Q"))


def test_after_a_wrong_guess_an_ack_resumes_predictions_tentatively() -> None:
    """The keys typed on after a contradiction wait for a frame acking every key sent before
    it (they were all guessed on a wrong screen), then are predicted, tentatively."""
    p, shell = Predictor(), Shouting()
    p.screen(shell.state(), 0.0, ack=0)
    t = typed(p, shell, "ls", 0.0)
    p.screen(shell.state(), t := t + 0.15, ack=2)
    p.key("q", t)
    shell.feed("q")
    after_q = shell.state()
    t = typed(p, shell, "uit", t + 0.01)
    assert drawn(p) == "quit"  # shown, and the q is wrong
    p.screen(after_q, t + 0.15, ack=3)  # the Q: all taken back
    assert p.overlay() is None and p.pending == 0 and p.stats.mispredicted_shown == 4
    for i, ch in enumerate("xyz"):
        p.key(ch, t + 0.16 + 0.03 * i)
        shell.feed(ch)
        if i == 0:
            upto_quit = shell.state()  # (the shell has "uitx" by now: an ack of 6 shows "uit" only)
    assert p.pending == 0  # kept, not guessed on a screen that may not show "uit" yet
    p.screen(upto_quit, t + 0.25, ack=7)
    assert p.pending == 2 and p.overlay() is None  # "yz" predicted on it; tentative after a wrong guess
    p.screen(shell.state(), t + 0.4, ack=9)
    assert p.pending == 0 and p.stats.mispredicted_shown == 4

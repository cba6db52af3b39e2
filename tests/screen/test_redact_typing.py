"""Redaction that wins against typing: the word at the cursor, the line under a password
prompt, the new labels, and what must stay readable (cobrowse/screen/secret_shapes.py)."""

from __future__ import annotations

import json

import pytest

from cobrowse.screen import Emulator, ScreenFrame, ScreenMirror, ScreenSender
from cobrowse.screen.redact import MASK_CHAR, Redactor
from cobrowse.screen.secret_shapes import is_password_prompt, typing_spans

TOKEN = "ghp_" + "Q7x" * 12


def masked(text: str, secret: str) -> str:
    return text.replace(secret, MASK_CHAR * len(secret))


def frames_while_typing(prefix: str, typed: str, cols: int = 60, rows: int = 6) -> list[list[str]]:
    """The agent's screen (its lines) after each key of ``typed``, typed after ``prefix``."""
    sender, mirror = ScreenSender(cols, rows, fps=1000.0, redactor=Redactor()), ScreenMirror()
    sender.feed(prefix.encode())
    out = []
    for k, ch in enumerate(typed, 1):
        sender.feed(ch.encode())
        frame = sender.poll(float(k))
        if frame is not None:
            mirror.apply(ScreenFrame.from_dict(json.loads(json.dumps(frame.to_dict()))))
        assert mirror.state is not None
        out.append(mirror.state.lines())
    return out


def test_a_token_prefix_masks_the_word_being_typed_at_once() -> None:
    frames = frames_while_typing("$ echo ", TOKEN)
    assert frames[2][0] == "$ echo ghp"  # not known to be a token yet
    for k, lines in enumerate(frames[3:], 4):
        assert lines[0] == "$ echo " + MASK_CHAR * k  # "ghp_" and everything after it


@pytest.mark.parametrize("prefix, word", [
    ("$ export AWS_ACCESS_KEY_ID=", "AKIAQ"), ("$ curl -H 'x: ", "eyJhbGciOi"), ("$ echo ", "xoxb-12"),
    ("$ ", "sk_live_x"), ("$ key=", "AIzaSyA"), ("$ ", "npm_AbC"), ("$ ", "pypi-AgE"), ("$ ", "glpat-x"),
    ("$ git clone https://bob:", "hunter"), ("Authorization: Bearer ", "abc"), ("card: ", "4111 111"),
])
def test_the_start_of_a_secret_at_the_cursor_is_masked(prefix: str, word: str) -> None:
    lines = frames_while_typing(prefix, word)[-1]
    assert word not in lines[0] and MASK_CHAR in lines[0]


def test_only_the_word_at_the_cursor_is_eager() -> None:
    """A prefix alone is not a secret once the word is finished: "npm_config_cache" is
    masked while it is typed (it could be a token) and readable once the cursor moved on;
    "ghp_short" in output stays readable; a completed token stays masked."""
    sender, mirror = ScreenSender(100, 4, fps=1000.0, redactor=Redactor()), ScreenMirror()
    sender.feed(b"$ echo npm_config_cache")
    mirror.apply(sender.poll(0.0))
    assert mirror.state is not None and "npm_" not in mirror.state.lines()[0]
    sender.feed(b" ghp_short " + TOKEN.encode() + b" done")
    mirror.apply(sender.poll(1.0))
    assert mirror.state.lines()[0] == masked("$ echo npm_config_cache ghp_short " + TOKEN + " done", TOKEN)


def test_moving_the_cursor_redacts_again() -> None:
    """A cursor move alone (no row changed) is enough to recompute the masks."""
    sender, mirror = ScreenSender(40, 3, fps=1000.0, redactor=Redactor()), ScreenMirror()
    sender.feed(b"$ npm_config_x")
    mirror.apply(sender.poll(0.0))
    assert mirror.state is not None and "npm_" not in mirror.state.lines()[0]
    sender.feed(b"\x1b[3;1H")  # the cursor leaves; the row is unchanged
    mirror.apply(sender.poll(1.0))
    assert mirror.state.lines()[0] == "$ npm_config_x"  # no npm token looks like that


@pytest.mark.parametrize("typed", ["ghp_Tq7Zk2", "AKIAQXY", "eyJhbGciOiJ", "npm_Ab3", "https://bob:hunt",
                                   "DB_PASS=hun", "4111 1111 1"])
def test_a_half_typed_secret_stays_masked_when_the_cursor_leaves(typed: str) -> None:
    """Back to fix a typo earlier on the line, or away to another pane: what was masked at
    the cursor stays masked while it stands on the screen; typed on, it is judged again."""
    sender, mirror = ScreenSender(60, 3, fps=1000.0, redactor=Redactor()), ScreenMirror()
    sender.feed(b"$ echo " + typed.encode())
    mirror.apply(sender.poll(0.0))
    sender.feed(b"\x1b[1;3H")  # the cursor goes back to "echo"
    mirror.apply(sender.poll(1.0))
    assert mirror.state is not None
    line = mirror.state.lines()[0]
    assert line.startswith("$ echo ") and typed[-3:] not in line and MASK_CHAR in line
    sender.feed(b"\x1b[2J\x1b[H$ ")  # gone from the screen: forgotten
    mirror.apply(sender.poll(2.0))
    sender.feed(b"echo x" + typed[-3:].encode() + b" \r\n")
    mirror.apply(sender.poll(3.0))
    assert mirror.state.lines()[0] == "$ echo x" + typed[-3:]


def test_typing_spans_finds_the_word_on_either_side_of_the_cursor() -> None:
    line = "x ghp_abcdef y"
    assert typing_spans(line, 7) == [(2, 12)]  # inside the word (arrow keys, autosuggestion)
    assert typing_spans(line, 2) == [(2, 12)]  # at its start
    assert typing_spans(line, 13) == []  # on another word
    assert typing_spans('T="ghp_ab"', 10) == [(3, 9)]  # quotes are not part of it
    assert typing_spans("card 4111 11", 12) == []  # six digits: an issuer, not yet a number
    assert typing_spans("card 4111 111", 13) == [(5, 13)]
    # a wrong key after a group's dash: the dash goes with the digits (it tells the grouping)
    assert typing_spans("card 5703-2547-#", 16) == [(5, 15)]


@pytest.mark.parametrize("line, secret", [
    ("export DB_PASS=hunter2xyz", "hunter2xyz"),
    ("export X_PWD=hunter2xyz", "hunter2xyz"),
    ("PGPASSWORD=hunter2xyz psql", "hunter2xyz"),
    ("REDIS_PASSWD='a b c'", "a b c"),
    ("CI_JOB_TOKEN=abc123xyz", "abc123xyz"),
    ("STRIPE_KEY=abc123xyz", "abc123xyz"),
    ('"SecretAccessKey": "abc/123+xyz"', "abc/123+xyz"),
    ("dbPassword: hunter2xyz", "hunter2xyz"),
    ("curl -u bob:hunter2xyz https://x", "hunter2xyz"),
    ("curl --user=bob:hunter2xyz https://x", "hunter2xyz"),
    ("psql --password hunter2xyz -h db", "hunter2xyz"),
    ("tool --db-password=hunter2xyz", "hunter2xyz"),
    ("mysql -u root -p'hunter 2' app", "hunter 2"),
    ("mysql -u root -phunter2xyz app", "hunter2xyz"),
    ("sshpass -p hunter2xyz ssh host", "hunter2xyz"),
    ("openssl rsa -passin pass:hunter2xyz -in k", "hunter2xyz"),
    ("redis://:hunter2xyz@cache:6379", "hunter2xyz"),
    ("amqp://guest:hunter2xyz@mq/", "hunter2xyz"),
    ("[sudo] password for joe: ****", "****"),
    ("Pwd=hunter2xyz;Server=db", "hunter2xyz"),
])
def test_new_labels_mask_the_value(line: str, secret: str) -> None:
    assert Redactor().mask(line) == masked(line, secret)


@pytest.mark.parametrize("line", [
    "PWD=/home/joe/src", "OLDPWD=/home/joe", "passwd:         files systemd", "passwd: password updated successfully",
    "PASS: t/basic.test", "docker run -u 1000:1000 img", "rsync -avu host:/srv/data .", "git push -u origin main:main",
    "docker login -u joe --password-stdin", "mysql --no-password app", "sort_key=name", "primaryKey: id",
    "max_tokens=1024", "password_min_length: 12", "DB_PASS=${DB_PASS}", "token: {token}", "password: <your password>",
    "def revoke(token: str) -> None:", "    db_password: str = Field(default='')", "token = secrets.token_urlsafe(32)",
    "mkdir -p build", "ssh -p 2222 host", "http://example.com:8080/x", "ghp_short",
])
def test_ordinary_lines_near_the_new_labels_stay_readable(line: str) -> None:
    assert Redactor().mask(line) == line


def screen(lines: list[str], cols: int = 60, rows: int = 8) -> list[str]:
    emu = Emulator(cols, rows)
    emu.feed("\r\n".join(lines).encode())
    return Redactor().redact_state(emu.state(), emu.rows_above(8)).lines()


@pytest.mark.parametrize("prompt", ["Password:", "[sudo] password for joe:", "Enter passphrase:",
                                    "joe@host's password: ", "Password (again):", "Enter PIN:"])
def test_the_line_under_a_password_prompt_is_masked(prompt: str) -> None:
    assert is_password_prompt(prompt)
    lines = screen(["$ login", prompt, "hunter2 xyz", "$ "])
    assert lines[2] == MASK_CHAR * len("hunter2 xyz") and lines[3] == "$"


def test_a_prompt_under_a_prompt_is_not_an_answer() -> None:
    lines = screen(["Current password:", "New password:", "Retype new password:", "passwd: updated"])
    assert lines[:3] == ["Current password:", "New password:", "Retype new password:"]
    assert lines[3] == MASK_CHAR * len("passwd: updated")  # the line a password would be on


def test_a_prompt_scrolled_off_above_still_masks_the_answer() -> None:
    lines = screen(["x"] * 10 + ["Password:", "hunter2xyz", "a", "b", "c", "d", "e", "f"], rows=7)
    assert lines[0] == MASK_CHAR * 10


@pytest.mark.parametrize("line", ["check_password(user, password):", "password_hash:", "Passwords:", "sudo: 3 incorrect password attempts"])
def test_lines_that_only_mention_passwords_are_not_prompts(line: str) -> None:
    assert not is_password_prompt(line)


def test_a_key_pasted_into_a_heredoc_is_masked_line_by_line() -> None:
    body = ["b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW", "QyNTUxOQAAACBDYW5hcnk"]
    lines = screen(["$ cat > key <<EOF", "> -----BEGIN OPENSSH PRIVATE KEY-----", *("> " + b for b in body)], cols=80)
    assert lines[2] == MASK_CHAR * (2 + len(body[0])) and lines[3] == MASK_CHAR * (2 + len(body[1]))


def test_the_last_line_of_a_key_under_a_blob_is_masked_before_its_end_marker() -> None:
    blob = "QyNTUxOQAAACBDYW5hcnlDYW5hcnlDYW5hcnlDYW5hcnlDYW5hcnkAAAAAAAAAAAAAAA"
    lines = screen([blob, "Q2FuYXJ5Cg=="], cols=80)
    assert lines == [MASK_CHAR * len(blob), MASK_CHAR * 12] + [""] * 6


def test_the_cursor_is_found_after_wide_characters() -> None:
    lines = frames_while_typing("$ echo 秘密 ", "ghp_ab")[-1]
    assert lines[0] == "$ echo 秘密 " + MASK_CHAR * 6


@pytest.mark.parametrize("line", [
    "mysql " * 700, "--a-" * 1000, "-u a:" * 800, "password for " * 300, "DB_PASS=" * 500, "://:" * 1000,
    "password = " + "a" * 4000, "token=" * 700, "dbPassword:" * 350, "1-" * 2000, "KEY=" * 1000, "-p'" * 1300,
    "Password:" * 400, "_pass=" * 600, "password: str" + " " * 3980 + "=",
])
def test_hostile_lines_do_not_run_out_of_time(line: str) -> None:
    """The new shapes are linear: a 4,000-character line of near-misses is matched within the
    time limit (running out would mask the line whole: fail closed, but a sign of a bad
    pattern), and the word at a cursor anywhere on it too."""
    out = Redactor().mask(line)
    assert len(out) == len(line) and out.strip(MASK_CHAR)
    for offset in (0, len(line) // 2, len(line)):
        assert all(0 <= s <= e <= len(line) for s, e in typing_spans(line, offset))


def test_step_patterns_never_see_the_answer_to_a_password_prompt() -> None:
    from cobrowse.screen.redact import MASK_CHAR, LineRedactor, Redactor

    lines = LineRedactor(Redactor()).feed(["$ sudo -k true", "[sudo] password for joe:", "hunter2-echoed", "done"])
    assert lines[2] == MASK_CHAR * len("hunter2-echoed")
    assert lines[0] == "$ sudo -k true" and lines[3] == "done"
    again = LineRedactor(Redactor())
    assert again.feed(["Password:"]) == ["Password:"] and again.feed(["s3cret"]) == [MASK_CHAR * 6]  # across bursts

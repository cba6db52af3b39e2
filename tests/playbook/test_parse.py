"""The Markdown playbook format: good files, and every error at the right line."""

from __future__ import annotations

import textwrap
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cobrowse.errors import LocalError
from cobrowse.playbook import (
    MAX_STEPS,
    Playbook,
    PlaybookError,
    Step,
    load_playbook,
    parse_playbook,
    playbook_from_dict,
    playbook_to_dict,
)

GUIDE = textwrap.dedent(
    """\
    <!-- owner: support tooling -->
    # Collect diagnostics

    Gathers what support needs.
    Nothing is changed.

    ## Check the CLI version

    Run the command below; the version is printed.

    ```sh
    acme --version
    ```

    expect: `acme \\d+\\.\\d+`
    fail: `(?i)command not found`

    ## Check the clock ##
    command: `date -u`
    Compare it with your phone.

    ### A sub heading is body text

    ```text
    ## not a step: inside a code block
    expect: not a key either
    ```

    ## Tell the agent
    Done.
    """
)


def parse(text: str) -> Playbook:
    return parse_playbook(textwrap.dedent(text), "guide.md")


def error(text: str) -> PlaybookError:
    with pytest.raises(PlaybookError) as info:
        parse(text)
    return info.value


def test_a_complete_guide() -> None:
    pb = parse_playbook(GUIDE, "guide.md")
    assert pb.title == "Collect diagnostics"
    assert pb.description == "Gathers what support needs.\nNothing is changed."
    assert pb.source == "guide.md"
    assert [s.title for s in pb.steps] == ["Check the CLI version", "Check the clock", "Tell the agent"]
    first, second, third = pb.steps
    assert first == Step(
        "Check the CLI version",
        "Run the command below; the version is printed.",
        "acme --version",
        r"acme \d+\.\d+",
        "(?i)command not found",
    )
    assert second.command == "date -u"
    assert second.expect is None and second.fail is None
    assert second.body.startswith("Compare it with your phone.\n\n### A sub heading is body text")
    assert "## not a step: inside a code block\nexpect: not a key either\n```" in second.body
    assert third == Step("Tell the agent", "Done.")


def test_crlf_bom_and_plain_values() -> None:
    text = "\ufeff# T\r\n\r\n## S\r\nexpect: ok \\d+\r\ncommand: $ echo hi\r\n"
    pb = parse_playbook(text)
    assert pb.steps[0] == Step("S", "", "echo hi", r"ok \d+")
    assert pb.source == "<inline>"


def test_double_backtick_values_and_prompt_stripping() -> None:
    pb = parse(
        """\
        # T
        ## S
        ```bash
        $ printf '%s\\n' a \\
            b
        ```
        expect: `` a`b ``
        """
    )
    assert pb.steps[0].command == "printf '%s\\n' a b"
    assert pb.steps[0].expect == "a`b"


def test_other_code_blocks_stay_in_the_body() -> None:
    pb = parse(
        """\
        # T
        ## S
        ```console
        $ acme --version
        acme 1.2
        ```
        ~~~
        plain
        ~~~
        ```sh
        acme --version
        ```
        """
    )
    step = pb.steps[0]
    assert step.command == "acme --version"
    assert step.body == "```console\n$ acme --version\nacme 1.2\n```\n~~~\nplain\n~~~"


def test_removed_lines_do_not_leave_double_blank_lines() -> None:
    pb = parse(
        """\
        # T
        ## S
        First.

        expect: `x`

        Second.
        """
    )
    assert pb.steps[0].body == "First.\n\nSecond."


def test_prose_with_a_colon_is_not_a_key() -> None:
    pb = parse(
        """\
        # T
        ## S
        Note: this is prose.
        Output: `ok` is what you should see.
        Output: `ok`
        """
    )
    assert pb.steps[0].body.count("\n") == 2
    assert pb.steps[0].expect is None


def test_a_shell_block_in_the_description_is_text() -> None:
    pb = parse(
        """\
        # T
        You need the CLI:
        ```sh
        brew install acme
        ```
        ## S
        """
    )
    assert "brew install acme" in pb.description
    assert pb.steps[0].command is None


def test_error_str_has_file_and_line() -> None:
    exc = error(
        """\
        # T
        ## S
        expect: `(unclosed`
        """
    )
    assert isinstance(exc, LocalError)
    assert (exc.source, exc.line) == ("guide.md", 3)
    assert exc.message.startswith("expect: invalid regex (missing )")
    assert str(exc) == f"guide.md:3: {exc.message}"


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("", None, "no title"),
        ("\n\n<!-- just a comment -->\n", None, "no title"),
        ("Some text\n# T\n## S\n", 1, "starts with its title"),
        ("\n## S\n", 2, "starts with its title"),
        ("#Title\n## S\n", 1, "starts with its title: a line `# Title` (a space must follow the #)"),
        ("# T\n## S\n##Other\n", 3, "not a step heading: put a space after the ##"),
        ("#\n## S\n", 1, "title: the title is empty"),
        ("# T\nJust a description.\n", 1, "no steps"),
        ("# T\n## S\n# Another\n", 3, "a second `# ` title (the title is on line 1)"),
        ("# T\n## S\n##\n", 3, "a step heading without a title"),
        ("# T\n## S\n## Other\n## s  \n", 4, "duplicate step title 's' (also on line 2)"),
        ("# T\n## " + "x" * 201 + "\n", 2, "step title: the title is 201 characters long; the limit is 200"),
        ("# T\n## S\n```sh\na\n```\n```bash\nb\n```\n", 6, "more than one command in step 'S' (the first is on line 3)"),
        ("# T\n## S\ncommand: `a`\n```sh\nb\n```\n", 4, "more than one command"),
        ("# T\n## S\n```sh\na\n```\ncommand: `b`\n", 6, "a command given twice in step 'S' (first on line 3)"),
        ("# T\n## S\nexpect: `a`\nexpect: `b`\n", 4, "`expect:` given twice in step 'S' (first on line 3)"),
        ("# T\n## S\n```sh\na\nb\n```\n", 3, "a command block holds one command, this one has 2"),
        ("# T\n## S\n```sh\n\n```\n", 3, "this command block is empty"),
        ("# T\n## S\n```sh\na\n", 3, "this ``` block is never closed"),
        ("# T\n## S\n~~~~\na\n~~~\n", 3, "this ~~~ block is never closed: add a line ~~~~"),
        ("# T\n<!-- note\n## S\n", 2, "this <!-- comment is never closed"),
        ("# T\n## S\nexpect: `a(`\n", 3, "expect: invalid regex (missing )"),
        ("# T\n## S\nfail: `[z-a]`\n", 3, "fail: invalid regex (bad character range"),
        ("# T\n## S\nexpect: `" + "a" * 501 + "`\n", 3, "expect: the pattern is 501 characters long; the limit is 500"),
        ("# T\n## S\nexpect:\n", 3, "`expect:` has no value"),
        ("# T\n## S\nexpect: `a` or `b`\n", 3, "`expect:` expects one code span"),
        ("# T\n## S\ncommand: ``\n", 3, "`command:` expects one code span"),
        ("# T\nexpect: `a`\n## S\n", 2, "`expect:` belongs to a step"),
        ("# T\n## S\nexpekt: `a`\n", 3, "unknown key `expekt:` (the keys are `command:`, `expect:` and `fail:`); did you mean `expect:`?"),
        ("# T\n## S\nsuccess: `a`\n", 3, "did you mean `expect:`?"),
        ("# T\n## S\nrun: `a`\n", 3, "did you mean `command:`?"),
        ("# T\n## S\nnote: `a`\n", 3, "unknown key `note:`"),
        ("# T\n## S\ntext \x1b[31m\n", 3, "a control character (U+001B)"),
        ("# T\n## S\n" + "x" * 20481 + "\n", 2, "step 'S': the explanation is 20481 bytes long; the limit is 20480"),
        ("# T\n" + "x" * 20481 + "\n## S\n", 1, "the description is 20481 bytes long"),
    ],
)
def test_errors(text: str, line: int | None, words: str) -> None:
    with pytest.raises(PlaybookError) as info:
        parse_playbook(text, "guide.md")
    exc = info.value
    assert words in exc.message
    assert exc.line == line
    assert exc.source == "guide.md"
    assert str(exc) == (f"guide.md:{line}: {exc.message}" if line else f"guide.md: {exc.message}")


def test_too_many_steps() -> None:
    text = "# T\n" + "".join(f"## Step {i}\n" for i in range(MAX_STEPS + 1))
    with pytest.raises(PlaybookError) as info:
        parse_playbook(text)
    assert info.value.line == MAX_STEPS + 2
    assert "too many steps: the limit is 200" in info.value.message
    assert len(parse_playbook("# T\n" + "".join(f"## Step {i}\n" for i in range(MAX_STEPS))).steps) == MAX_STEPS


def test_load_playbook(tmp_path) -> None:
    path = tmp_path / "guide.md"
    path.write_text(GUIDE, encoding="utf-8")
    pb = load_playbook(path)
    assert pb.source == str(path)
    assert len(pb.steps) == 3


def test_load_playbook_file_errors(tmp_path) -> None:
    with pytest.raises(PlaybookError, match="no such file") as info:
        load_playbook(tmp_path / "missing.md")
    assert info.value.source == str(tmp_path / "missing.md") and info.value.line is None
    with pytest.raises(PlaybookError, match="is a folder"):
        load_playbook(tmp_path)
    latin = tmp_path / "latin.md"
    latin.write_bytes(b"# T\n## S\ncaf\xe9\n")
    with pytest.raises(PlaybookError, match="not UTF-8") as info:
        load_playbook(latin)
    assert info.value.line == 3


FRAGMENTS = [
    "# Title\n", "## Step\n", "## Other\n", "### Sub\n", "text\n", "\n", "```sh\n", "```\n", "~~~\n",
    "echo hi\n", "a \\\n", "expect: `ok`\n", "fail: `(`\n", "command: `ls`\n", "expekt: `x`\n",
    "<!--\n", "-->\n", "<!-- c -->\n", "Note: `x`\n", "expect:\n", "\x1b", "é", "\r\n", "#\n",
]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=30) | st.lists(st.text(max_size=20), max_size=5))
def test_any_text_parses_or_raises_playbook_error(parts: list[str]) -> None:
    try:
        pb = parse_playbook("".join(parts), "fuzz.md")
    except PlaybookError as exc:
        assert exc.source == "fuzz.md"
        return
    assert pb.steps and pb.title
    assert playbook_from_dict(playbook_to_dict(pb)) == replace(pb, source=None)  # a valid file is a valid dict

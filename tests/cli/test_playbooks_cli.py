"""`cobrowse playbooks list | search` as a person (or an integration) runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def cobrowse(*args: str, env: dict[str, str] | None = None, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "COBROWSE_CONFIG": os.devnull, **(env or {})}
    if "COBROWSE_PLAYBOOKS" not in (env or {}):
        full.pop("COBROWSE_PLAYBOOKS", None)
    return subprocess.run([sys.executable, "-m", "cobrowse", *args], capture_output=True, text=True, timeout=60,
                          env=full, cwd=cwd)


@pytest.fixture
def data(tmp_path: Path) -> dict[str, str]:
    return {"COBROWSE_DATA_DIR": str(tmp_path / "data")}


def test_list_shows_the_samples_as_json(data: dict[str, str]) -> None:
    out = cobrowse("playbooks", "list", "--json", env=data)
    assert out.returncode == 0, out.stderr
    listed = {e["name"]: e for e in json.loads(out.stdout)}
    assert {"fix-git-push", "collect-diagnostics", "rotate-api-key"} <= set(listed)
    assert all(e["valid"] and e["steps"] >= 2 and Path(e["path"]).is_file() for e in listed.values())


def test_search_ranks_by_relevance_and_limits(data: dict[str, str]) -> None:
    out = cobrowse("playbooks", "search", "git push rejected non-fast-forward", "--json", "--limit", "2", env=data)
    assert out.returncode == 0, out.stderr
    found = json.loads(out.stdout)
    assert 1 <= len(found) <= 2 and found[0]["name"] == "fix-git-push"
    assert set(found[0]) >= {"name", "title", "path", "score"} and 0 < found[0]["score"] < 1
    human = cobrowse("playbooks", "search", "api key", env=data)
    assert human.returncode == 0 and human.stdout.splitlines()[0].split()[1] == "rotate-api-key"


def test_own_folders_come_first_from_flag_env_and_data_dir(tmp_path: Path, data: dict[str, str]) -> None:
    team = tmp_path / "team"
    team.mkdir()
    (team / "fix-git-push.md").write_text("# Team push fix\n## Ask the team\n")
    out = cobrowse("playbooks", "list", "--json", "--playbooks", str(team), env=data)
    assert {e["name"]: e["title"] for e in json.loads(out.stdout)}["fix-git-push"] == "Team push fix"
    out = cobrowse("playbooks", "list", "--json", env={**data, "COBROWSE_PLAYBOOKS": f"{tmp_path / 'none'}:{team}"})
    assert {e["name"]: e["title"] for e in json.loads(out.stdout)}["fix-git-push"] == "Team push fix"
    own = Path(data["COBROWSE_DATA_DIR"]) / "playbooks"
    own.mkdir(parents=True)
    (own / "printer.md").write_text("# Unjam the printer\n## Open the tray\n")
    out = cobrowse("playbooks", "search", "printer jam", "--json", env=data)
    assert json.loads(out.stdout)[0]["name"] == "printer"


def test_bad_input_is_a_usage_error(data: dict[str, str]) -> None:
    out = cobrowse("playbooks", "search", "x", "--limit", "0", env=data)
    assert out.returncode == 2 and "--limit" in out.stderr
    out = cobrowse("playbooks", env=data)
    assert out.returncode == 2 and "list" in out.stderr
    out = cobrowse("guide", "no-such-playbook", "--plain", env=data)
    assert out.returncode == 2 and "no playbook called 'no-such-playbook'" in out.stderr


def test_the_wheel_carries_the_samples(tmp_path: Path) -> None:
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
                            "-w", str(tmp_path), str(ROOT)], capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr
    (wheel,) = tmp_path.glob("cobrowse-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert {"cobrowse/playbook/samples/fix-git-push.md", "cobrowse/playbook/samples/rotate-api-key.md"} <= set(names)


def test_suggest_ranks_the_library_against_a_screen_on_stdin(data: dict[str, str]) -> None:
    screen = "alice@laptop:~$ ./backup.sh\nbash: ./backup.sh: Permission denied\nalice@laptop:~$\n"
    out = subprocess.run([sys.executable, "-m", "cobrowse", "playbooks", "suggest", "--json", "--limit", "2"], input=screen,
                         capture_output=True, text=True, env={**os.environ, **data}, timeout=30)
    assert out.returncode == 0, out.stderr
    found = json.loads(out.stdout)
    assert found[0]["name"] == "fix-permission-denied" and len(found) <= 2


def test_search_takes_the_words_unquoted(data: dict[str, str]) -> None:
    """`cobrowse playbooks search git push rejected` (as people type it) was a usage error:
    "unrecognized arguments: push rejected"."""
    out = cobrowse("playbooks", "search", "git", "push", "rejected", "--json", "--limit", "1", env=data)
    assert out.returncode == 0, out.stderr
    quoted = cobrowse("playbooks", "search", "git push rejected", "--json", "--limit", "1", env=data)
    assert json.loads(out.stdout) == json.loads(quoted.stdout)
    assert json.loads(out.stdout)[0]["name"] == "fix-git-push"


@pytest.mark.parametrize("args", [("playbooks", "list", "--json"), ("playbooks", "list"), ("completion", "bash")])
def test_a_reader_that_leaves_early_is_no_error(args: tuple[str, ...], data: dict[str, str]) -> None:
    """``cobrowse playbooks list --json | head``: the reader closes the pipe before the listing
    is written. A BrokenPipeError traceback came on stderr; now nothing, and the shell's status
    for SIGPIPE (141), as Unix tools end."""
    env = {**os.environ, "COBROWSE_CONFIG": os.devnull, **data}
    env.pop("COBROWSE_PLAYBOOKS", None)
    proc = subprocess.Popen([sys.executable, "-m", "cobrowse", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env, cwd=ROOT)
    assert proc.stdout is not None
    proc.stdout.close()  # before the interpreter has even started: every write meets a closed pipe
    _, err = proc.communicate(timeout=60)
    assert b"Traceback" not in err and b"BrokenPipe" not in err, err.decode()
    assert proc.returncode == 141


def test_a_missing_or_wrong_playbook_folder_is_named(tmp_path: Path, data: dict[str, str]) -> None:
    """A mistyped folder was silently left out: the samples listed, nothing said."""
    afile = tmp_path / "one.md"
    afile.write_text("# One\n")
    for folder, what in ((tmp_path / "nope", "does not exist"), (afile, "is not a folder")):
        for args, env in ((("--playbooks", str(folder)), data), ((), {**data, "COBROWSE_PLAYBOOKS": str(folder)})):
            out = cobrowse("playbooks", "list", *args, env=env)
            assert out.returncode == 0 and "fix-git-push" in out.stdout  # the rest of the library still listed
            assert f"the playbook folder {folder} {what}" in out.stderr and "--playbooks" in out.stderr
    out = cobrowse("playbooks", "list", "--playbooks", str(tmp_path), env=data)
    assert out.stderr == ""

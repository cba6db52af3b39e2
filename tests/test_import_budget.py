"""The customer's join imports only what its first screen needs (issue 17: join → first screen).

Start-up and imports are most of a join's time (bench/join_latency.py, ``connect``), and an
import added at the top of a module on the join path costs every customer silently. These
tests hold the budget by module NAMES, not time (no timed assertions): a fresh interpreter
imports what ``cobrowse join`` imports before its first packet, and none of the modules
below may be among them. Moving one of them onto the join path on purpose means moving it
out of this list, in review.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: What `cobrowse join` imports before it connects: the CLI's lean parser, the customer's
#: commands and session (cobrowse/cli/main.py runs these for `join` and `share`, after
#: cobrowse.cli.lean_imports' shims).
JOIN_PATH = ("from cobrowse.cli import lean_imports; lean_imports.install(); "
             "from cobrowse.cli.main import build_parser; build_parser('join'); "
             "import cobrowse.cli.customer, cobrowse.cli.commands, cobrowse.io.customer_session")

#: Never on the join path: the agent's console and WebRTC stack, the relay, the agent's
#: records, and what only later features or other commands use.
NEVER = (
    "aiortc", "av", "numpy", "textual", "rich", "sqlite3", "_sqlite3", "statistics",
    "relay", "tui",
    "cobrowse.io.history", "cobrowse.io.webhook", "cobrowse.io.agent", "cobrowse.io.headless",
    "cobrowse.policy.agent", "cobrowse.policy.agent_events", "cobrowse.policy.agent_commands",
    "cobrowse.cli.agent", "cobrowse.cli.playbooks", "cobrowse.cli.records", "cobrowse.cli.org",
    "cobrowse.helpdesk", "cobrowse.queue",
    # the playbook file format and library: a joined customer gets playbooks as dicts
    "cobrowse.playbook.parse", "cobrowse.playbook.library", "cobrowse.playbook.catalogue",
    "cobrowse.playbook.suggest",
    # websockets' version module imports it, unused in a release (cobrowse.cli.lean_imports)
    "importlib.metadata", "zipfile", "csv",
    # the translation catalogues' loader: English (the default) loads none (cobrowse.i18n.catalogues)
    "importlib.resources",
    # websockets.proxy's urllib.request (http.client, email), loaded when websockets looks a proxy
    # up itself (cobrowse.cli.lean_imports); the TOML parser for an empty or absent config file
    "urllib.request", "http.client", "email", "tomllib",
    # the config and data folders' names (cobrowse.io.datadir answers the usual Linux case itself)
    "platformdirs",
    # the code prompt (`cobrowse join` without a code) and its line editor
    "cobrowse.cli.code_prompt", "cobrowse.cli.code_entry",
    # the regex engine (~7 ms): loaded when the first pattern compiles (a needle on screen, a
    # --redact pattern, an agent's pattern, a playbook), never by the imports (join7)
    "regex",
    # uuid's one platform.system() call at import (websockets' connection ids): cobrowse.cli.lean_imports
    "platform",
    # argparse's formatters import it for the terminal's width (cobrowse.cli.help_format answers it)
    "shutil", "bz2", "lzma",
)


def imported_by(code: str) -> set[str]:
    env = {**os.environ, "COBROWSE_CONFIG": os.devnull}
    out = subprocess.run([sys.executable, "-c", f"{code}; import sys, json; print(json.dumps(sorted(sys.modules)))"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=True)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def offenders(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == n or m.startswith(n + ".") for n in NEVER))


def test_join_path_imports_none_of_the_later_modules() -> None:
    modules = imported_by(JOIN_PATH)
    assert "cobrowse.io.customer_session" in modules  # the probe did import the join path
    assert offenders(modules) == []


def test_join_help_imports_none_of_them_either() -> None:
    code = ("import sys; sys.argv = ['cobrowse', 'join', '--help']\n"
            "from cobrowse.cli.main import main\n"
            "try:\n    main()\nexcept SystemExit:\n    pass")
    env = {**os.environ, "COBROWSE_CONFIG": os.devnull}
    script = f"{code}\nimport json\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=60, check=True)
    modules = set(json.loads(out.stdout.strip().splitlines()[-1]))
    assert "usage: cobrowse join" in out.stdout
    assert offenders(modules) == []
    assert "cobrowse.io.preconnect" not in modules  # no early connection to the relay for the help (join7)


#: What no ``--help`` or ``--version`` needs: the relay itself, the playbook and signature code,
#: redaction and the config loader (these once took ``cobrowse --help`` and ``--version`` from
#: ~0.05 s to ~0.5 s: the parsers came from the modules that run the commands).
NOT_FOR_HELP = ("relay.cli", "relay.server", "relay.config", "cobrowse.cli.playbooks", "cobrowse.cli.config",
                "cobrowse.screen", "cobrowse.trust", "cobrowse.playbook", "asyncio", "textual", "regex")


def help_modules(*argv: str) -> tuple[str, set[str]]:
    code = (f"import sys; sys.argv = ['cobrowse', *{list(argv)!r}]\n"
            "from cobrowse.cli.main import main\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "import json\nprint(json.dumps(sorted(sys.modules)))")
    env = {**os.environ, "COBROWSE_CONFIG": os.devnull}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=60, check=True)
    return out.stdout, set(json.loads(out.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize("argv, shown", [
    (("--help",), "usage: cobrowse"), (("--version",), "cobrowse "), (("relay", "--help"), "usage: cobrowse relay"),
    (("playbooks", "--help"), "usage: cobrowse playbooks"), (("agent", "--help"), "usage: cobrowse agent"),
])
def test_help_and_version_load_no_command(argv: tuple[str, ...], shown: str) -> None:
    text, modules = help_modules(*argv)
    assert shown in text
    assert sorted(m for m in modules if any(m == n or m.startswith(n + ".") for n in NOT_FOR_HELP)) == []


#: What the join's class creation and module-level regexes may cost (join7). dataclasses compiles a
#: class's methods with ``exec`` (~0.3-0.45 ms a class; ``cobrowse.wire.frozen``'s ``@frozen`` and
#: ``@mutable`` do not): only these classes on the join path may still be made so (the screen's,
#: whose ``slots`` or ``eq=False`` the closures do not cover).
DATACLASS_EXEC_ALLOWED = {"cobrowse.screen.budget", "cobrowse.screen.diff", "cobrowse.screen.secret_shapes",
                          "cobrowse.screen.state"}
#: Modules whose patterns compile on first use: none of them may compile one while the join imports.
LAZY_PATTERNS = ("cobrowse.i18n.ends", "cobrowse.playbook.model", "cobrowse.plain.keys_config")

PROBE_CLASSES = """
import dataclasses, re, sys
execs, compiles = set(), set()
create_fn = dataclasses._create_fn
def counting(*args, **kwargs):
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_name != "_process_class":
        frame = frame.f_back
    if frame is not None:
        cls = frame.f_locals["cls"]
        execs.add(f"{cls.__module__}:{cls.__qualname__}")
    return create_fn(*args, **kwargs)
dataclasses._create_fn = counting
compile_re = re.compile
def compiling(pattern, flags=0):
    compiles.add(sys._getframe(1).f_globals.get("__name__", "?"))
    return compile_re(pattern, flags)
re.compile = compiling
"""


def test_join_path_classes_and_patterns_stay_cheap() -> None:
    env = {**os.environ, "COBROWSE_CONFIG": os.devnull}
    script = (f"{PROBE_CLASSES}\n{JOIN_PATH}\nimport json\n"
              "print(json.dumps({'execs': sorted(execs), 'compiles': sorted(compiles)}))")
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=60, check=True)
    found = json.loads(out.stdout.strip().splitlines()[-1])
    ours = [c for c in found["execs"] if c.startswith("cobrowse.")]
    assert any(c.startswith("cobrowse.screen.") for c in ours)  # the probe did see dataclasses at work
    assert [c for c in ours if c.split(":")[0] not in DATACLASS_EXEC_ALLOWED] == []
    assert "cobrowse.screen.mode_tracker" in found["compiles"]  # and the patterns compiled at import
    assert [m for m in found["compiles"] if m in LAZY_PATTERNS] == []


def test_no_redaction_pattern_no_regex_engine() -> None:
    """The settings check the customer's own patterns (none, usually) without loading ``regex``;
    one pattern loads it and is checked as before."""
    code = ("import sys\nfrom cobrowse.cli.config import redact_patterns\nfrom cobrowse.errors import ConfigError\n"
            "assert redact_patterns({}, None) == ()\nbefore = 'regex' in sys.modules\n"
            "try:\n    redact_patterns({}, ['(unclosed'])\nexcept ConfigError as exc:\n    refused = 'not a valid regex' in str(exc)\n"
            "print(before, refused, 'regex' in sys.modules)")
    env = {**os.environ, "COBROWSE_CONFIG": os.devnull}
    env.pop("COBROWSE_REDACT", None)
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
                         check=True)
    assert out.stdout.split() == ["False", "True", "True"]


#: What `cobrowse join CODE` imports before its claim leaves (cobrowse.cli.early_claim's
#: ``_start``: settings, trust files, the link and the handshake); the rest loads while the
#: relay and the agent answer.
BEFORE_CLAIM = ("from cobrowse.cli import lean_imports; lean_imports.install(); "
                "from cobrowse.cli.main import build_parser; build_parser('join'); "
                "import cobrowse.cli.early_claim, cobrowse.cli.config, cobrowse.cli.org, cobrowse.io.joining, "
                "cobrowse.io.link, cobrowse.wire.code")

#: Not before the claim (join9): the screen and redaction, the pty, the customer's runtime,
#: policy and plain front end, and the libraries only they use.
AFTER_CLAIM = ("cobrowse.screen", "cobrowse.io.pty", "cobrowse.io.customer", "cobrowse.io.customer_session",
               "cobrowse.io.runtime", "cobrowse.policy.customer", "cobrowse.plain.notice_lane", "cobrowse.cli.customer",
               "cobrowse.cli.commands", "cobrowse.audit", "cobrowse.playbook", "avt", "ahocorasick_rs", "termios")


def test_what_the_claim_waits_for_leaves_the_screen_and_the_session_for_later() -> None:
    modules = imported_by(BEFORE_CLAIM)
    assert "cobrowse.io.joining" in modules and "spake2" in modules  # the probe did import the claim's path
    assert sorted(m for m in modules if any(m == n or m.startswith(n + ".") for n in AFTER_CLAIM)) == []
    assert offenders(modules) == ["cobrowse.cli.org"]  # trust files are read before any claim (cli.org's loader)

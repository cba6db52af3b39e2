"""``uuid`` under cobrowse.cli.lean_imports: the same module without ``platform`` at its import
(join7: ~2.4 ms of the join's start-up), and ``platform`` itself whole when asked for later."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

#: What uuid decided at import, and what it makes; then platform as code imports it afterwards.
PROBE = """
import json, os, sys
{install}
import uuid
loaded = "platform" in sys.modules
made = [uuid.uuid4().version, uuid.uuid1().version, str(uuid.UUID(int=7)), uuid.uuid5(uuid.NAMESPACE_DNS, "x").hex]
state = [uuid._LINUX, uuid._AIX, sorted(f.__name__ for f in uuid._OS_GETTERS), uuid.getnode() == uuid.getnode()]
import platform
later = [platform.system(), platform.python_version(), platform.machine(), hasattr(platform, "libc_ver")]
through = [uuid.platform.system(), uuid.platform.python_version()]
print(json.dumps({{"loaded": loaded, "made": made, "state": state, "later": later, "through": through,
                  "real": type(sys.modules["platform"]).__name__, "uname": os.uname().sysname}}))
"""


def probe(install: str) -> dict[str, object]:
    out = subprocess.run([sys.executable, "-c", PROBE.format(install=install)], cwd=ROOT, env=dict(os.environ),
                         capture_output=True, text=True, timeout=60, check=True)
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the shim applies on Linux only")
def test_uuid_without_platform_is_the_same_uuid() -> None:
    plain = probe("")
    lean = probe("from cobrowse.cli import lean_imports; lean_imports.install()")
    assert plain["loaded"] is True and lean["loaded"] is False  # the shim kept platform out
    made_plain, made_lean = plain["made"], lean["made"]
    assert isinstance(made_plain, list) and isinstance(made_lean, list)
    assert made_plain[:2] == made_lean[:2] == [4, 1] and made_plain[2:] == made_lean[2:]
    assert plain["state"] == lean["state"] and lean["state"][0] is True  # type: ignore[index]
    assert plain["later"] == lean["later"] and lean["later"][0] == lean["uname"]  # type: ignore[index]
    assert lean["through"] == plain["through"] and lean["real"] == "module"  # the real platform afterwards


def test_platform_loaded_first_is_left_alone() -> None:
    code = ("import platform, sys\nfrom cobrowse.cli import lean_imports; lean_imports.install()\nimport uuid\n"
            "print(uuid.platform is platform is sys.modules['platform'])")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "True"

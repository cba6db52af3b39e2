"""The image's lock file (deploy/relay.lock) pins what pyproject.toml asks for, with hashes."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]


def pins() -> dict[str, str]:
    text = (ROOT / "deploy" / "relay.lock").read_text()
    found = {canonicalize_name(m[1]): m[2] for m in re.finditer(r"^([A-Za-z0-9_.-]+)==(\S+) \\$", text, re.M)}
    assert found, "no pins in deploy/relay.lock"
    return found


def test_every_base_and_relay_dependency_is_pinned_within_its_range() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = [Requirement(r) for r in [*project["dependencies"], *project["optional-dependencies"]["relay"]]]
    pinned = pins()
    for requirement in wanted:
        name = canonicalize_name(requirement.name)
        assert name in pinned, f"{name} is not in deploy/relay.lock: regenerate it (docs/relay.md, Docker)"
        assert requirement.specifier.contains(pinned[name], prereleases=True), (
            f"deploy/relay.lock pins {name}=={pinned[name]}, outside {requirement.specifier}: regenerate it")


def test_every_pin_has_a_hash_and_nothing_points_at_this_machine() -> None:
    text = (ROOT / "deploy" / "relay.lock").read_text()
    lines = text.splitlines()
    starts = [i for i, line in enumerate(lines) if re.match(r"^[A-Za-z0-9_.-]+==\S+ \\$", line)]
    assert starts and all("--hash=sha256:" in lines[i + 1] for i in starts)
    assert "file://" not in text and "--find-links" not in text and "--index-url" not in text

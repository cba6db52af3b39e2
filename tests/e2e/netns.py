"""Network namespaces for tests: separate hosts on one machine, joined by veth pairs, with
the firewall rules a test needs. Only what the test creates is touched; everything is
deleted on close."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid


def unavailable() -> str | None:
    """Why namespaces cannot be used here, or None."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    for tool in ("ip", "nft"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (iproute2 / nftables)"
    probe = f"cbprobe{uuid.uuid4().hex[:6]}"
    made = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if made.returncode != 0:
        return f"cannot create a network namespace here: {made.stderr.strip()}"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return None


class Hosts:
    """Named namespaces; ``link(a, b, net)`` joins two with a veth pair on 10.x.y.0/24."""

    def __init__(self) -> None:
        self.tag = uuid.uuid4().hex[:5]
        self.names: dict[str, str] = {}

    def ns(self, host: str) -> str:
        if host not in self.names:
            name = f"cb{self.tag}{host}"
            self._run("ip", "netns", "add", name)
            self.names[host] = name
            self.exec(host, "ip", "link", "set", "lo", "up")
        return self.names[host]

    def link(self, a: str, b: str, subnet: str) -> tuple[str, str]:
        """Join hosts a and b on ``subnet`` (like "10.201.1"): a gets .1, b gets .2."""
        ifa, ifb = f"v{self.tag}{a}{b}"[:15], f"v{self.tag}{b}{a}"[:15]
        self._run("ip", "link", "add", ifa, "netns", self.ns(a), "type", "veth", "peer", "name", ifb,
                  "netns", self.ns(b))
        for host, ifname, addr in ((a, ifa, f"{subnet}.1"), (b, ifb, f"{subnet}.2")):
            self.exec(host, "ip", "addr", "add", f"{addr}/24", "dev", ifname)
            self.exec(host, "ip", "link", "set", ifname, "up")
        return f"{subnet}.1", f"{subnet}.2"

    def exec(self, host: str, *args: str) -> subprocess.CompletedProcess[str]:
        return self._run("ip", "netns", "exec", self.ns(host), *args)

    def prefix(self, host: str) -> list[str]:
        """The argv prefix that runs a program on ``host``."""
        return ["ip", "netns", "exec", self.ns(host)]

    def close(self) -> None:
        for name in self.names.values():
            subprocess.run(["ip", "netns", "del", name], capture_output=True)
        self.names.clear()

    @staticmethod
    def _run(*args: str) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(args, capture_output=True, text=True, timeout=20)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(args)}: {result.stderr.strip()}")
        return result

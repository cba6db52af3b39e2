"""cobrowse.cli.lean_imports: websockets and spake2 loaded without what they build at import
and we never use, giving the same bytes on the wire.

The pairing handshake runs with the shims on one side and the unshimmed libraries on the
other, both ways, in separate interpreters (the shims act at import, so one process cannot
hold both): the SPAKE2 messages, the confirmations, the keys and the words compared are the
same bytes as two unshimmed sides produce.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

LEAN = "from cobrowse.cli import lean_imports; lean_imports.install()\n"

#: One side of a pairing with fixed randomness: argv = role, seed, then the peer's frames so far
#: (hex). Prints the frames this side sends after them and, once confirmed, its keys and words.
SIDE = """
import hashlib, json, sys
from cobrowse.crypto.handshake import Handshake
from cobrowse.wire.code import parse_code

role, seed, peer = sys.argv[1], sys.argv[2].encode(), [bytes.fromhex(f) for f in sys.argv[3:]]
counter = [0]

def entropy(n):
    out = b""
    while len(out) < n:
        counter[0] += 1
        out += hashlib.sha256(seed + counter[0].to_bytes(4, "big")).digest()
    return out[:n]

side = Handshake(role, parse_code("42-7193-0518"), entropy)
sent = side.data_to_send()
for frame in peer:
    side.receive_data(frame)
    sent += side.data_to_send()
done = side.events_received()
result = {"sent": [f.hex() for f in sent], "modules": sorted(sys.modules)}
if done:
    keys = done[0].keys
    result.update(sas=done[0].sas, keys=[k.hex() for k in (keys.agent_to_customer, keys.customer_to_agent,
                                                           keys.confirm, keys.sas, keys.binding)])
print(json.dumps(result))
"""


def run(code: str, *args: str) -> dict[str, object]:
    env = {**os.environ, "COBROWSE_CONFIG": os.devnull}
    out = subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=60, check=True)
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def pair(agent_lean: bool, customer_lean: bool) -> tuple[dict[str, object], dict[str, object]]:
    """A whole pairing, the frames carried between two interpreters per side."""
    agent_code = (LEAN if agent_lean else "") + SIDE
    customer_code = (LEAN if customer_lean else "") + SIDE
    agent_pake = run(agent_code, "agent", "a")["sent"]
    customer_pake = run(customer_code, "customer", "c")["sent"]
    assert isinstance(agent_pake, list) and isinstance(customer_pake, list) and len(agent_pake) == 1
    agent_to_confirm = run(agent_code, "agent", "a", customer_pake[0])["sent"]
    customer_to_confirm = run(customer_code, "customer", "c", agent_pake[0])["sent"]
    assert isinstance(agent_to_confirm, list) and isinstance(customer_to_confirm, list)
    agent = run(agent_code, "agent", "a", customer_pake[0], customer_to_confirm[1])
    customer = run(customer_code, "customer", "c", agent_pake[0], agent_to_confirm[1])
    return agent, customer


def wire(side: dict[str, object]) -> dict[str, object]:
    return {k: v for k, v in side.items() if k != "modules"}


def test_the_handshake_is_the_same_bytes_with_the_shims_on_either_side() -> None:
    plain_agent, plain_customer = pair(False, False)
    assert plain_agent["sas"] == plain_customer["sas"] and plain_agent["keys"] == plain_customer["keys"]
    assert "spake2.parameters.i3072" not in plain_agent["modules"]  # type: ignore[operator]
    for agent_lean, customer_lean in ((True, False), (False, True), (True, True)):
        agent, customer = pair(agent_lean, customer_lean)
        assert wire(agent) == wire(plain_agent)
        assert wire(customer) == wire(plain_customer)


def test_the_libraries_are_whole_behind_the_shims() -> None:
    code = LEAN + """
import json, sys
import websockets, websockets.asyncio.client, spake2
from websockets.version import tag, version, commit, released
shimmed = "importlib.metadata" not in sys.modules
import spake2.groups as groups
built_lazily = "I3072" not in vars(groups)
from spake2.parameters.all import Params1024, Params2048, Params3072
from spake2.parameters.ed25519 import ParamsEd25519
from spake2 import SPAKE2_A, SPAKE2_B
points_lazily = not {"M", "N", "S"} & set(vars(ParamsEd25519))
points = [getattr(ParamsEd25519, n).to_bytes().hex() for n in "MNS"]
a = SPAKE2_A(b"pw", entropy_f=lambda n: b"\x01" * n)
b = SPAKE2_B(b"pw", entropy_f=lambda n: b"\x02" * n)
ma, mb = a.start(), b.start()
print(json.dumps({"version": [websockets.__version__, tag, version, commit, released], "shimmed": shimmed,
                  "lazy": [built_lazily, points_lazily], "points": points, "asymmetric": [ma.hex(), mb.hex(),
                  a.finish(mb).hex(), b.finish(ma).hex()],
                  "q": [hex(p.group.q) for p in (Params1024, Params2048, Params3072)], "p3072": hex(groups.I3072.p)}))
"""
    lean = run(code)
    real = run(code.replace(LEAN, ""))
    assert lean["shimmed"] and lean["lazy"] == [True, True]  # the shims did act
    assert not real["shimmed"] and real["lazy"] == [False, False]
    assert lean["version"] == real["version"]
    assert lean["points"] == real["points"] and lean["asymmetric"] == real["asymmetric"]
    assert lean["q"] == real["q"] and lean["p3072"] == real["p3072"]


def test_websockets_looks_proxies_up_the_same_behind_the_shim() -> None:
    code = LEAN + """
import json, os, sys
import websockets.asyncio.client
lazy = "urllib.request" not in sys.modules and "http.client" not in sys.modules
from websockets.proxy import get_proxy, parse_proxy, prepare_connect_request
from websockets.uri import parse_uri
seen = []
for env in ({}, {"https_proxy": "http://user:pw@proxy.example:3128", "no_proxy": "skip.example"},
            {"http_proxy": "socks5h://proxy.example:1080"}, {"all_proxy": "http://all.example:8080"}):
    for key in ("https_proxy", "http_proxy", "all_proxy", "no_proxy", "HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY"):
        os.environ.pop(key, None)
    os.environ.update(env)
    for url in ("ws://relay.example/", "wss://relay.example:8443/x", "wss://skip.example/"):
        found = get_proxy(parse_uri(url))
        seen.append(found)
        if found is not None and found.startswith("http"):
            seen.append(prepare_connect_request(parse_proxy(found), parse_uri(url)).hex())
print(json.dumps({"lazy": lazy, "seen": seen}))
"""
    lean = run(code)
    real = run(code.replace(LEAN, ""))
    assert lean["lazy"] and not real["lazy"]
    assert lean["seen"] == real["seen"]
    assert "http://user:pw@proxy.example:3128" in lean["seen"]  # the cases did look proxies up


def test_cobrowse_installs_them_before_anything_imports() -> None:
    code = ("import sys; sys.argv = ['cobrowse', '--version']\n"
            "from cobrowse.cli.main import main\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "import json; from cobrowse.cli import lean_imports\n"
            "print(json.dumps({'installed': sum(isinstance(f, lean_imports._LeanFinder) for f in sys.meta_path)}))")
    assert run(code)["installed"] == 1

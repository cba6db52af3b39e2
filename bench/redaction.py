"""The cost of redaction on the customer's side: ScreenSender polls with and without it.

Same realistic output as bench/emulator.py (coloured ``ls -lR``, compiler diagnostics,
test progress, progress bars) at 120x40, plus a variant with a secret (an AWS key, a
``password:`` line, a card number, a JWT, a private-key block) every ~40 lines, so masks
are really built. Measured, redaction off (``ScreenSender(redactor=None)``) vs on (what
ships: ``CustomerRuntime`` always redacts):

* ``full_poll_ms``: median cost of one poll after a burst of output scrolled the whole
  screen (every row new: the worst case, what a flood costs per frame);
* ``echo_poll_ms``: median cost of one poll after a single key's echo (one row changed);
* ``cpu_ratio``: feeding the whole stream and polling after every 40 chunks (4 KiB each),
  total CPU with redaction over without.

Progress goes to stderr; the last stdout line is JSON.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from emulator import CHUNK, COLS, ROWS, chunks_of, generate, log  # noqa: E402

from cobrowse.screen import ScreenSender  # noqa: E402
from cobrowse.screen.redact import Redactor  # noqa: E402

TOTAL = 2_000_000
SECRETS = [
    "export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE",
    "password: hunter2xyz",
    "card on file: 4111 1111 1111 1111",
    "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    "-----BEGIN OPENSSH PRIVATE KEY-----\r\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\r\n"
    "QyNTUxOQAAACBDYW5hcnlDYW5hcnlDYW5hcnlDYW5hcnlDYW5hcnkAAAAAAAAAAAAAAA\r\n-----END OPENSSH PRIVATE KEY-----",
]


def with_secrets(data: bytes, seed: int = 7) -> bytes:
    rng = random.Random(seed)
    lines = data.split(b"\r\n")
    out = []
    for i, line in enumerate(lines):
        out.append(line)
        if i % 40 == 39:
            out.append(rng.choice(SECRETS).encode())
    return b"\r\n".join(out)


def sender(redact: bool) -> ScreenSender:
    return ScreenSender(COLS, ROWS, redactor=Redactor() if redact else None)


def full_poll_ms(chunks: list[bytes], redact: bool) -> float:
    s = sender(redact)
    s.poll(0.0)
    times = []
    now = 0.0
    for k in range(0, len(chunks), 40):
        for c in chunks[k:k + 40]:
            s.feed(c)
        now += 1.0
        t = time.perf_counter()
        s.poll(now)
        times.append(time.perf_counter() - t)
    times.sort()
    return times[len(times) // 2] * 1000


def echo_poll_ms(chunks: list[bytes], redact: bool) -> float:
    s = sender(redact)
    for c in chunks[:200]:
        s.feed(c)
    s.poll(0.0)
    times = []
    now = 0.0
    for k in range(2000):
        s.feed(b"x" if k % 60 else b"\r\n$ ")
        now += 1.0
        t = time.perf_counter()
        s.poll(now)
        times.append(time.perf_counter() - t)
    times.sort()
    return times[len(times) // 2] * 1000


def total_cpu_s(chunks: list[bytes], redact: bool) -> float:
    s = sender(redact)
    now = 0.0
    t = time.process_time()
    for k, c in enumerate(chunks):
        s.feed(c)
        if k % 40 == 39:
            now += 1.0
            s.poll(now)
    s.poll(now + 1.0)
    return time.process_time() - t


def best(fn, *args, repeats: int = 3) -> float:
    return min(fn(*args) for _ in range(repeats))


def main() -> None:
    plain = generate(TOTAL)
    secret = with_secrets(plain)
    out: dict[str, object] = {"screen": f"{COLS}x{ROWS}", "bytes": len(plain), "chunk": CHUNK}
    for name, data in (("plain", plain), ("with_secrets", secret)):
        chunks = chunks_of(data, CHUNK)
        log(f"{name}: {len(data)} bytes")
        off_full, on_full = best(full_poll_ms, chunks, False), best(full_poll_ms, chunks, True)
        off_echo, on_echo = best(echo_poll_ms, chunks, False), best(echo_poll_ms, chunks, True)
        off_cpu, on_cpu = best(total_cpu_s, chunks, False), best(total_cpu_s, chunks, True)
        out[name] = {
            "full_poll_ms": {"off": round(off_full, 3), "on": round(on_full, 3)},
            "echo_poll_ms": {"off": round(off_echo, 4), "on": round(on_echo, 4)},
            "cpu_s": {"off": round(off_cpu, 3), "on": round(on_cpu, 3)},
            "cpu_ratio": round(on_cpu / off_cpu, 3),
            "redaction_ms_per_s_at_30fps": round((on_full - off_full) * 30, 1),
        }
        log(json.dumps(out[name]))
    print(json.dumps(out))


if __name__ == "__main__":
    main()

"""A key's path on one clock: `bench/key_latency.py --trace` starts the agent and the
customer through this file instead of `python -m cobrowse`.

    python bench/key_trace.py TRACE_FILE agent --headless ...   (what key_latency does)

Before cobrowse starts, it wraps the functions a key goes through (the event loop's socket
and pipe reads and writes, os.read/os.write, the session's seal and open, the message
encoding, the agent's command and event paths, the customer's message and frame paths)
so each records ``time.perf_counter_ns()`` — CLOCK_MONOTONIC, one clock for every process on
the machine — as it starts (``name``) and ends (``name/``). On SIGUSR1 the records go to
TRACE_FILE as JSON lines and are cleared. ``install()`` does the same in key_latency's own
process (the relay). ``stages()`` lines the records up with each key's window.

A wrapper costs about a microsecond; production code is untouched (nothing of this is
imported by cobrowse).
"""

from __future__ import annotations

import bisect
import functools
import inspect
import json
import os
import signal
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]

RECORDS: list[tuple[str, int]] = []
_now = time.perf_counter_ns
_busy = [False]  # a wrapper inside a wrapper of the same process records only the outer os.* call


def _wrap(owner: Any, attr: str, name: str, *, exit_too: bool = True) -> None:
    original = getattr(owner, attr)
    records = RECORDS
    if inspect.iscoroutinefunction(original):
        @functools.wraps(original)
        async def awrapped(*args: Any, **kwargs: Any) -> Any:
            records.append((name, _now()))
            try:
                return await original(*args, **kwargs)
            finally:
                records.append((name + "/", _now()))
        setattr(owner, attr, awrapped)
        return

    @functools.wraps(original)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        records.append((name, _now()))
        try:
            return original(*args, **kwargs)
        finally:
            if exit_too:
                records.append((name + "/", _now()))
    setattr(owner, attr, wrapped)


def _wrap_fd(owner: Any, attr: str, name: str) -> None:
    """os.read / os.write: the fd in the name (the pty, stdout, a pipe)."""
    original = getattr(owner, attr)
    records = RECORDS

    def wrapped(fd: int, *args: Any) -> Any:
        records.append((f"{name}({fd})", _now()))
        try:
            return original(fd, *args)
        finally:
            records.append((f"{name}({fd})/", _now()))
    setattr(owner, attr, wrapped)


def install_loop() -> None:
    from asyncio import selector_events, unix_events
    sockets: Any = getattr(selector_events, "_SelectorSocketTransport")  # private: a diagnostic only
    _wrap(sockets, "_read_ready", "sock.read_ready")
    _wrap(sockets, "write", "sock.write")
    _wrap(getattr(unix_events, "_UnixReadPipeTransport"), "_read_ready", "pipe.read_ready")
    _wrap(getattr(unix_events, "_UnixWritePipeTransport"), "write", "pipe.write")


def install_cobrowse() -> None:
    from cobrowse.io import agent, customer, headless, runtime
    from cobrowse.protocol import messages, session
    _wrap_fd(os, "read", "os.read")
    _wrap_fd(os, "write", "os.write")
    _wrap(session.Session, "send", "Session.send")
    _wrap(session.Session, "receive_data", "Session.receive_data")
    _wrap(messages, "encode", "messages.encode")
    _wrap(messages, "decode", "messages.decode")
    _wrap(runtime.SessionRuntime, "_handle", "runtime._handle")
    _wrap(runtime.SessionRuntime, "flush", "runtime.flush")
    _wrap(runtime.SessionRuntime, "wake_at", "runtime.wake_at")
    _wrap(runtime.SessionRuntime, "wake", "runtime.wake")
    _wrap(session.Session, "tick", "Session.tick")
    _wrap(headless, "parsed", "headless.parsed")
    _wrap(headless.JsonLines, "__call__", "JsonLines")
    _wrap(headless, "json_line", "json_line")
    _wrap(agent.AgentRuntime, "command", "Agent.command")
    _wrap(agent.AgentRuntime, "on_message", "Agent.on_message")
    _wrap(customer.CustomerRuntime, "on_message", "Customer.on_message")
    _wrap(customer.CustomerRuntime, "program_output", "Customer.program_output")
    _wrap(customer.CustomerRuntime, "_send_frame", "Customer._send_frame")
    _wrap(customer.CustomerRuntime, "on_tick", "Customer.on_tick")
    from cobrowse.screen import sync
    _wrap(sync.ScreenSender, "poll", "ScreenSender.poll")
    _wrap(sync.ScreenMirror, "apply_dict", "ScreenMirror.apply_dict")
    from cobrowse.io import local_echo, receipts
    from cobrowse.policy import agent as agent_policy, customer as customer_policy
    _wrap(local_echo.LocalEcho, "screen", "LocalEcho.screen")
    _wrap(local_echo.LocalEcho, "keys", "LocalEcho.keys")
    _wrap(receipts.AuditTrail, "__call__", "AuditTrail")
    _wrap(receipts.AuditTrail, "action", "AuditTrail.action")
    _wrap(customer_policy.CustomerPolicy, "message", "CustomerPolicy.message")
    _wrap(agent_policy.AgentPolicy, "receive", "AgentPolicy.receive")
    _wrap(agent_policy.AgentPolicy, "command", "AgentPolicy.command")
    _wrap(agent.AgentRuntime, "carry_out", "Agent.carry_out")
    _wrap(headless, "as_json", "as_json")
    _wrap(customer.CustomerRuntime, "_apply", "Customer._apply")


def dump_to(path: str) -> Callable[[int, Any], None]:
    def dump(signum: int, frame: Any) -> None:
        taken = RECORDS[:]
        del RECORDS[:len(taken)]
        with open(path, "a") as out:
            out.write(json.dumps(taken) + "\n")
    return dump


def install(trace_file: str | None = None) -> None:
    install_loop()
    if trace_file is not None:
        signal.signal(signal.SIGUSR1, dump_to(trace_file))


def load(path: str) -> list[tuple[str, int]]:
    out: list[tuple[str, int]] = []
    for line in Path(path).read_text().splitlines():
        out.extend((n, t) for n, t in json.loads(line))
    return out


def stages(keys: list[tuple[int, int]], traces: dict[str, list[tuple[str, int]]]) -> dict[str, Any]:
    """For each process and each record name: the median of its first occurrence in each
    key's window (µs after the key was written to the agent's stdin) and how many keys saw it;
    for start/end pairs, the median time inside (µs)."""
    table: dict[str, Any] = {}
    for proc, records in traces.items():
        records = sorted(records, key=lambda r: r[1])
        times = [t for _, t in records]
        firsts: dict[str, list[float]] = {}
        inside: dict[str, list[float]] = {}
        for start, end in keys:
            i = bisect.bisect_left(times, start)
            j = bisect.bisect_right(times, end)
            seen: dict[str, int] = {}
            opened: dict[str, int] = {}
            for name, t in records[i:j]:
                if name.endswith("/"):
                    base = name[:-1]
                    if base in opened:
                        inside.setdefault(base, []).append((t - opened.pop(base)) / 1000)
                    continue
                opened[name] = t
                if name not in seen:
                    seen[name] = t
                    firsts.setdefault(name, []).append((t - start) / 1000)
        rows = []
        for name, offsets in firsts.items():
            spent = inside.get(name, [])
            rows.append({"stage": name, "at_us": round(statistics.median(offsets), 1), "keys": len(offsets),
                         "inside_us": round(statistics.median(spent), 1) if spent else None,
                         "calls_per_key": round(len(spent) / len(keys), 2) if spent else None})
        table[proc] = sorted(rows, key=lambda r: r["at_us"])
    return table


def main() -> None:
    trace_file, *args = sys.argv[1:]
    sys.path.insert(0, str(ROOT))
    sys.argv = ["cobrowse", *args]
    install(trace_file)
    install_cobrowse()
    import runpy
    runpy.run_module("cobrowse", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()

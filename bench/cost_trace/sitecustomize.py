"""Per-step CPU of the customer in a real `bench/cost.py` run (thread CPU time, not py-spy samples).

    PYTHONPATH=bench/cost_trace COST_TRACE=/tmp/tr python bench/cost.py --rates 10k --seconds 10 --no-tmux

A ``sitecustomize`` loaded only by a ``cobrowse join`` process when COST_TRACE is set: it wraps
the functions of the frame and pty-read paths listed in ``targets`` (calls counted, thread CPU
time summed; nested calls are counted in both) and writes ``COST_TRACE.<pid>.json`` at exit:
``{"Class.method": [calls, ns], "_process": [1, ns of the whole process]}``. Per-call costs in
the real process are 2-30x the hot in-process figures of bench/frame_cost.py (caches are cold
between two frames 67 ms apart on a shared machine): measure changes here, not only there.
Each wrapper adds ~1-2 µs (two clock reads). Production code is untouched. Also counted:
``EpollSelector.select`` (the loop's wake-ups; ``select:no_events``: those for timers alone)
and the cyclic collector's passes (``gc:genN``); with COST_TRACE_CALLBACKS=1 every callback
the loop runs, by name (``cb:timer:...``, ``cb:soon:...``; a task's step by its coroutine).
An async target's time includes whatever the loop ran while it was suspended.
"""
import os
import sys

TARGETS = [  # (module, class or None, function, is it a coroutine function)
    ("cobrowse.io.customer", "CustomerRuntime", "_send_frame", True),
    ("cobrowse.io.customer", "CustomerRuntime", "on_tick", True),
    ("cobrowse.io.runtime", "SessionRuntime", "flush", True),
    ("cobrowse.io.runtime", "SessionRuntime", "_handle", True),
    ("cobrowse.io.link", "RelayLink", "send", True),
    ("cobrowse.screen.sync", "ScreenSender", "poll", False),
    ("cobrowse.screen.sync", "ScreenSender", "feed", False),
    ("cobrowse.screen.sync", "ScreenSender", "_diff_rows", False),
    ("cobrowse.screen.sync", "ScreenFrame", "to_dict", False),
    ("cobrowse.screen.redact", "Redactor", "redact_rows", False),
    ("cobrowse.screen.emulator", "Emulator", "rows", False),
    ("cobrowse.screen.emulator", "Emulator", "context_above", False),
    ("cobrowse.protocol.session", "Session", "send", False),
    ("cobrowse.protocol.session", "Session", "receive_data", False),
    ("cobrowse.protocol.messages", None, "encode", False),
    ("cobrowse.crypto.channel", "SecureChannel", "seal", False),
    ("cobrowse.io.pty_process", "PtyProcess", "_read_ready", False),
    ("cobrowse.io.pty_terminal", "LocalTerminal", "write", False),
    ("cobrowse.io.customer", "CustomerRuntime", "program_output", False),
    ("cobrowse.io.customer", "CustomerRuntime", "_output_fed", False),
    ("cobrowse.io.output_feed", "OutputFeed", "_feed_step", False),
    ("cobrowse.io.output_feed", "OutputFeed", "_feed_deferred", False),
    ("cobrowse.screen.emulator", "Emulator", "fetch", False),
    ("cobrowse.screen.emulator", "Emulator", "_feed_str", False),
    ("cobrowse.screen.above", "ScrolledOff", "feed", False),
    ("cobrowse.screen.above", None, "find_move", False),
    ("cobrowse.screen.redact", "Redactor", "_line_spans", False),
    ("cobrowse.screen.emulator", "Emulator", "feed", False),
    ("cobrowse.screen.skip", "SkipAhead", "shorten", False),
    ("cobrowse.screen.mode_tracker", "ModeTracker", "track", False),
    ("cobrowse.screen.prefilter", "StreamFilter", "wants", False),
    ("cobrowse.screen.prefilter", "StreamFilter", "hold_partial", False),
    ("cobrowse.screen.above", "ScrolledOff", "_tail", False),
    ("cobrowse.io.output_feed", "OutputFeed", "_defer_feed", False),
    ("cobrowse.io.output_feed", "OutputFeed", "queue", False),
    ("cobrowse.plain.notice_lane", "NoticeLane", "output", False),  # plain mode on a terminal (--tty)
    ("cobrowse.io.pty_passthrough", "Passthrough", "_on_output", False),
    # the loop's wake-ups and the callbacks they run (counts; each adds the wrapper's ~1-2 us)
    ("selectors", "EpollSelector", "select", False),
    ("asyncio.events", "Handle", "_run", False),
]


def _install(out: str) -> None:
    import atexit
    import builtins
    import json
    import time

    acc: dict[str, list[int]] = {}
    clock = time.thread_time_ns

    def count(key: str, started: int) -> None:
        entry = acc.setdefault(key, [0, 0])
        entry[0] += 1
        entry[1] += clock() - started

    def wrap(key, fn, is_async):
        if is_async:
            async def timed_async(*a, **k):
                started = clock()
                try:
                    return await fn(*a, **k)
                finally:
                    count(key, started)
            return timed_async

        if key == "Handle._run" and os.environ.get("COST_TRACE_CALLBACKS"):
            def running(self, *a, **k):  # by callback (a task's step by its coroutine)
                started = clock()
                try:
                    return fn(self, *a, **k)
                finally:
                    count(key, started)
                    cb = self._callback
                    owner = getattr(cb, "__self__", None)
                    coro = owner.get_coro() if hasattr(owner, "get_coro") else None
                    name = getattr(coro, "__qualname__", None) or getattr(cb, "__qualname__", repr(cb))
                    kind = "timer" if hasattr(self, "when") else "soon"
                    count(f"cb:{kind}:{name}", started)
            return running

        if key == "EpollSelector.select":
            def selecting(*a, **k):
                started = clock()
                events = fn(*a, **k)
                count(key, started)
                if not events:  # a wake-up for timers alone
                    count("select:no_events", clock())
                return events
            return selecting

        def timed(*a, **k):
            started = clock()
            try:
                return fn(*a, **k)
            finally:
                count(key, started)
        return timed

    done: set[tuple[str, str | None, str]] = set()

    def patch(modname: str) -> None:
        mod = sys.modules.get(modname)
        if mod is None:
            return
        for mn, cls, name, is_async in TARGETS:
            if mn != modname or (mn, cls, name) in done:
                continue
            owner = getattr(mod, cls, None) if cls else mod
            fn = getattr(owner, name, None) if owner is not None else None
            if fn is None:
                continue
            setattr(owner, name, wrap(f"{cls}.{name}" if cls else name, fn, is_async))
            done.add((mn, cls, name))

    original_import = builtins.__import__

    def importing(name, globals=None, locals=None, fromlist=(), level=0):
        module = original_import(name, globals, locals, fromlist, level)
        if len(done) < len(TARGETS):
            for mn, *_ in TARGETS:
                patch(mn)
        return module

    builtins.__import__ = importing

    import gc

    gc_started = [0]

    def collecting(phase: str, info: dict) -> None:  # the cyclic collector's passes, by generation
        if phase == "start":
            gc_started[0] = clock()
        else:
            count(f"gc:gen{info['generation']}", gc_started[0])

    gc.callbacks.append(collecting)
    process_start = time.process_time_ns()

    def dump() -> None:
        acc["_process"] = [1, time.process_time_ns() - process_start]
        with open(f"{out}.{os.getpid()}.json", "w") as f:
            json.dump(acc, f)

    atexit.register(dump)


if os.environ.get("COST_TRACE") and "join" in sys.argv:
    _install(os.environ["COST_TRACE"])

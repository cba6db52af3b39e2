"""Latency a person feels over a real (emulated) network, cobrowse beside tmux, in one run.

    sudo python bench/latency.py [--rtt 150] [--loss 0.01] [--keys 240] [--flood-mb 20]

The network (bench/netlink.py): two network namespaces, the customer's and the agent's,
joined by a veth pair with ``tc netem`` delay RTT/2 and the loss each way; where the kernel
has no netem, the same namespaces with a userspace shaper on the agent's side; where
namespaces are unavailable, loopback with that shaper. ``link``, ``link_notes`` say which.

Where things run: the relay in the customer's namespace (so the agent's whole path to the
customer crosses the link once each way: one RTT per key, as with a relay near the
customer), the customer (``cobrowse join --command "bash --norc --noprofile"``, plain mode,
80x24) beside it, the headless agent in the agent's namespace. WebRTC is off
(``COBROWSE_DIRECT=0``): every frame takes the relay, over the link.

The baseline, tmux over the same link: a tmux server in the customer's namespace runs the
same bash; ``bench/netlink.py bridge`` serves a pty running ``tmux attach`` on TCP (the
role ssh plays when an agent runs ``ssh host -t tmux attach``, without its crypto); the
agent side is ``bench/netlink.py pipe`` in the agent's namespace, its bytes fed to
cobrowse's own emulator here, which is the agent's screen.

Figures (``*_ms`` are milliseconds, CLOCK_MONOTONIC, which all namespaces share):

``key_echo_p50_ms`` / ``_p99``  a typist (``--gap`` 80 ms ± 30) types lines of words into
    bash; per key, from writing ``{"cmd": "keys"}`` to the agent's stdin to the first
    ``screen`` event whose text shows the key at its cell (the customer's echo);
``predicted_under_5ms``  share of those keys shown within 5 ms, by the echo or by the
    event's ``predicted`` cells (predictive local echo: cobrowse/screen/predict.py);
``mispredicted_shown``  predicted cells the agent saw that the customer's screen then did
    not show, per key typed (including a phase typing into ``read -s``, where nothing echoes);
``after_tab_under_5ms``  the same share for keys typed on right after an unpredictable key:
    ``--tab-rounds`` times, ``: /us`` then Tab (bash completes ``/usr/``) then ``share/`` at
    the typist's pace (``after_tab_shown_p50_ms`` beside it; ``after_tab_keys``: how many);
    without echo acks (m.Screen.ack) the predictor waits for a pause of one round trip;
``tmux_key_echo_p50_ms``  the same keys through the tmux client;
``flood_last_screen_ms``  a program writes ``--flood-mb`` MB then a marker line; from its
    last write to the agent's first screen showing the marker (``tmux_...``: the same);
``join_ms_p50``  spawning ``cobrowse join`` to the agent's first ``screen`` event;
``view_lag_1mbps_ms``  a program writes timestamped lines at 1 MB/s for a few seconds; per
    agent screen update, now minus the newest timestamp shown (p50; ``tmux_...``: the same);
    ``view_lag_1mbps_over_link_ms`` (and tmux's) is that minus the link's one-way delay
    (RTT / 2), which no viewer can beat: the target of 50 ms applies to this part;
``customer_cpu_pct_100kbps``  the customer process's CPU (user+system, /proc) while a
    program scrolls 100 KB/s, ``tmux_cpu_pct_100kbps`` the tmux server's plus the attached
    client's (both run on the customer's machine in the ssh+tmux setup);
``app_speed_ratio``  the customer app's own-output speed while shared ÷ the same program's
    into a bare pty (bench/app_speed.py, run after the rest on 127.0.0.1: it is local to the
    customer and does not depend on the link; ``app_mb_per_s``, ``bare_mb_per_s`` beside it;
    ``--app-mb``, ``--app-rounds``; ``--no-app`` leaves it null).
Progress on stderr; the last stdout line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from netlink import Link, free_port  # noqa: E402
from latency_sides import NETLINK, PY, Cobrowse, Proc, Side, Tmux, View, cpu_seconds, log, pct  # noqa: E402


WORDS = ("the quick brown fox jumps over a lazy dog while seven wizards box "
         "jovial quirky pumas and vexed nymphs grab big jugs of milk").split()
MARK = re.compile(r"lag (\d+\.\d+)")


# ---------------------------------------------------------------- phases

async def clear(side: Side) -> None:
    """Clear the screen and wait until the agent sees it (a marker line, then the prompt)."""
    side.send("clear; echo CLEARED-$((6*7))\r")
    await side.view.until(lambda: side.view.cursor == (1, 2) and side.view.lines[0] == "CLEARED-42", "a cleared screen")


async def type_keys(side: Side, n: int, gap: float, seed: int) -> dict[str, Any]:
    """Type ``n`` keys as lines of words; per key the time to echo and to being shown."""
    rng = random.Random(seed)
    view = side.view
    echo: list[float] = []
    shown: list[float] = []
    seen_pred: set[tuple[int, int, str]] = set()
    wrong = 0
    typed = 0
    while typed < n:
        row = view.cursor[0]
        words: list[str] = [":"]
        while len(" ".join(words)) < 40:
            words.append(rng.choice(WORDS))
        line = " ".join(words)[: 2 + min(44, n - typed + 1)]
        if len(line) < 3:
            break
        keys = [(row, 2 + i, ch, ) for i, ch in enumerate(line)]
        sent: dict[int, float] = {}
        got_echo: dict[int, float] = {}
        got_shown: dict[int, float] = {}

        def watch(at: float) -> None:
            cells = {(r, c): t for r, c, t in view.predicted}
            seen_pred.update((r, c, t) for r, c, t in view.predicted if r == row)
            for i in sent:
                if i in got_echo:
                    continue
                r, c, ch = keys[i]
                if view.cell(r, c) == ch and (view.cursor[0] > r or view.cursor[1] > c):
                    got_echo[i] = at
                    got_shown.setdefault(i, at)
                elif cells.get((r, c)) == ch:
                    got_shown.setdefault(i, at)
                elif ch == " " and view.cell(r, c) == " " and (pc := view.predicted_cursor) and pc[0] == r and pc[1] > c:
                    got_shown.setdefault(i, at)  # a space over a blank: the predicted cursor moved past it

        view.watchers.append(watch)
        try:
            for i, (_, _, ch) in enumerate(keys):
                await asyncio.sleep(max(0.0, gap + rng.uniform(-0.03, 0.03)))
                sent[i] = time.monotonic()
                side.send(ch)
            await view.until(lambda: len(got_echo) == len(keys), f"the echo of line {line!r}")
        finally:
            view.watchers.remove(watch)
        for r, c, t in seen_pred:
            if view.cell(r, c) != t:
                wrong += 1
        seen_pred.clear()
        if line.startswith(": "):
            for i in range(1, len(keys)):  # the ':' that starts a line waits on the prompt: not timed
                echo.append((got_echo[i] - sent[i]) * 1000)
                shown.append((got_shown[i] - sent[i]) * 1000)
        typed += len(keys) - 1
        side.send("\r")
        await view.until(lambda: view.cursor == (row + 1, 2), "the next prompt")
    return {"echo": echo, "shown": shown, "wrong": wrong, "typed": typed}


async def after_tab(side: Side, rounds: int, gap: float, seed: int, text: str = "share/") -> dict[str, Any]:
    """Per key typed on after a Tab (unpredictable: bash completes ``/us`` to ``/usr/``), the
    time until it is shown (echoed or predicted at its cell)."""
    rng = random.Random(seed)
    view = side.view
    shown: list[float] = []
    wrong = 0
    for _ in range(rounds):
        row = view.cursor[0]
        for ch in ": /us":
            await asyncio.sleep(gap)
            side.send(ch)
        await view.until(lambda: view.lines[row].endswith(": /us") and view.cursor == (row, 7), "the echo of ': /us'")
        sent: dict[int, float] = {}
        got: dict[int, float] = {}
        seen_pred: set[tuple[int, int, str]] = set()

        def watch(at: float) -> None:
            cells = {(r, c): t for r, c, t in view.predicted}
            seen_pred.update((r, c, t) for r, c, t in view.predicted if r == row)
            for i in sent:
                c = 9 + i  # "$ : /usr/" then the keys
                if i not in got and (cells.get((row, c)) == text[i] or view.cell(row, c) == text[i]):
                    got[i] = at

        view.watchers.append(watch)
        try:
            await asyncio.sleep(gap)
            side.send("\t")
            for i, ch in enumerate(text):
                await asyncio.sleep(max(0.0, gap + rng.uniform(-0.03, 0.03)))
                sent[i] = time.monotonic()
                side.send(ch)
            await view.until(lambda: view.lines[row].endswith(": /usr/" + text), "the echo after the Tab")
            await view.until(lambda: len(got) == len(text), "every key after the Tab shown")
        finally:
            view.watchers.remove(watch)
        wrong += sum(1 for r, c, t in seen_pred if view.cell(r, c) != t)
        shown.extend((got[i] - sent[i]) * 1000 for i in range(len(text)))
        side.send("\r")
        await view.until(lambda: view.cursor == (row + 1, 2), "the next prompt")
    return {"shown": shown, "wrong": wrong}


async def no_echo(side: Side, gap: float, keys: int = 12) -> dict[str, int]:
    """Type into ``read -s``: nothing echoes, so any predicted cell the agent saw was wrong."""
    view = side.view
    side.send("read -s -p 'Password: ' pw\r")
    await view.until(lambda: view.cursor[1] == len("Password: ") and view.lines[view.cursor[0]].startswith("Password:"),
                     "the password prompt")
    seen: set[tuple[int, int, str]] = set()

    def watch(at: float) -> None:
        seen.update(view.predicted)

    view.watchers.append(watch)
    try:
        for ch in "hunter2sesame"[:keys]:
            await asyncio.sleep(gap)
            side.send(ch)
        await asyncio.sleep(1.5)
        side.send("\r")
        # read -s echoes no newline either: bash's prompt follows on the same row
        await view.until(lambda: view.lines[view.cursor[0]].endswith("$"), "the prompt after read -s")
    finally:
        view.watchers.remove(watch)
    return {"wrong": len(seen), "typed": keys}


async def flood(side: Side, mb: int, tag: str) -> float:
    stamp = Path(f"/tmp/latbench-{os.getpid()}-{tag}.t")
    stamp.unlink(missing_ok=True)
    reps = max(1, mb * 1_000_000 // 250_000)
    side.send(f"python3 -c \"import sys,time;o=sys.stdout.buffer;l=b''.join(b'%07d lorem ipsum dolor sit amet, "
              f"consectetur adipiscing elit\\n'%i for i in range(4000));[o.write(l) for _ in range({reps})];o.flush();"
              f"open('{stamp}','w').write(repr(time.monotonic()));print('FLOOD'+'-END',flush=True)\"\r")
    seen = await first_at(side.view, lambda: any(line == "FLOOD-END" for line in side.view.lines), "the flood's end marker", 180)
    try:
        return round((seen - float(stamp.read_text())) * 1000, 1)
    finally:
        stamp.unlink(missing_ok=True)
        await side.view.until(lambda: side.view.lines[side.view.cursor[0]].startswith("$"), "the prompt after the flood")


async def first_at(view: View, check: Callable[[], bool], what: str, timeout: float) -> float:
    """The arrival time of the first screen update for which ``check()`` holds."""
    hits: list[float] = []

    def watch(at: float) -> None:
        if not hits and check():
            hits.append(at)

    view.watchers.append(watch)
    try:
        await view.until(lambda: bool(hits), what, timeout)
    finally:
        view.watchers.remove(watch)
    return hits[0]


def writer(rate: int, seconds: float, stamps: bool) -> str:
    """A shell command writing ``rate`` bytes/s of 100-byte lines for ``seconds``. Each line
    carries its own number: repeated lines would leave the screen unchanged from one slice to
    the next, and a screen that does not change sends no frames (the CPU figure measured only
    the passthrough and the emulator until 2026-12-06's evening)."""
    per = max(1, rate // 100 // 100)  # lines per 10 ms slice
    return ("python3 -c \"import sys,time;o=sys.stdout;t=time.monotonic();e=t+%g;c=0\n"
            "while time.monotonic()<e:\n"
            " n=time.monotonic();o.write(''.join(('lag %%.4f ' %% n if %s else 'log ')+'x'*80+' %%d\\n' %% (c+i) for i in range(%d)));o.flush()\n"
            " c+=%d;t+=0.01;time.sleep(max(0,t-time.monotonic()))\";echo WRITER-DONE\r") % (seconds, stamps, per, per)


async def view_lag(side: Side, seconds: float = 4.0) -> float | None:
    view = side.view
    lags: list[float] = []
    start = time.monotonic() + 1.0

    def watch(at: float) -> None:
        if at < start:
            return
        marks = [float(m.group(1)) for line in view.lines for m in [MARK.search(line)] if m]
        if marks:
            lags.append((at - max(marks)) * 1000)

    view.watchers.append(watch)
    try:
        side.send(writer(1_000_000, seconds, True))
        await view.until(lambda: any(line == "WRITER-DONE" for line in view.lines), "the writer's end", seconds + 60)
    finally:
        view.watchers.remove(watch)
    await clear(side)
    return pct(lags, 0.5)


async def cpu(side: Side, seconds: float = 5.0) -> float:
    pids = side.cpu_pids()
    side.send(writer(100_000, seconds + 1, False))
    await asyncio.sleep(0.5)
    t0, c0 = time.monotonic(), sum(cpu_seconds(p) for p in pids)
    await asyncio.sleep(seconds)
    t1, c1 = time.monotonic(), sum(cpu_seconds(p) for p in pids)
    await side.view.until(lambda: any(line == "WRITER-DONE" for line in side.view.lines), "the writer's end", 60)
    await clear(side)
    return round(100 * (c1 - c0) / (t1 - t0), 1)


# ---------------------------------------------------------------- the run

async def run(args: argparse.Namespace, link: Link) -> dict[str, Any]:
    out: dict[str, Any] = {"rtt_ms": args.rtt, "loss": args.loss, "link": link.mode, "link_detail": link.describe(),
                           "relay_runs": "customer namespace (the agent reaches it across the link)",
                           "webrtc": "off (COBROWSE_DIRECT=0): every frame through the relay",
                           "baseline": "tmux server + `tmux attach` in a pty served over TCP from the customer's namespace "
                                       "(ssh's role, without crypto); the agent side's bytes fed to cobrowse's emulator",
                           "notes": list(link.notes)}
    procs: list[Any] = []
    relay_port, bridge_port = (free_port(), free_port())
    cust_url = f"ws://127.0.0.1:{relay_port}"
    if link.shaped:
        s_relay, s_bridge = free_port(), free_port()
        shaper = await Proc("shaper", link.wrap("agent", [PY, str(NETLINK), "shaper", str(args.rtt / 2000), str(args.loss),
                                                          str(args.seed), f"{s_relay}:{link.cust_addr}:{relay_port}",
                                                          f"{s_bridge}:{link.cust_addr}:{bridge_port}"]),
                            lambda at, line: None).start()
        procs.append(shaper)
        agent_url, bridge_reach = f"ws://127.0.0.1:{s_relay}", ("127.0.0.1", s_bridge)
    else:
        agent_url, bridge_reach = f"ws://{link.cust_addr}:{relay_port}", (link.cust_addr, bridge_port)
    relay = await Proc("relay", link.wrap("cust", [PY, "-m", "cobrowse", "relay", "--host",
                                                   "0.0.0.0" if link.cust_ns else "127.0.0.1", "--port", str(relay_port)])).start()
    procs.append(relay)
    await relay.wait_err("listening on")
    try:
        joins = []
        for i in range(args.joins - 1):
            cb = Cobrowse(link, agent_url, cust_url)
            try:
                joins.append(await cb.join(control=False))
            finally:
                await cb.stop()
            log(f"join {i + 1}: {joins[-1]:.0f} ms")
        cb = Cobrowse(link, agent_url, cust_url)
        procs.append(cb)
        joins.append(await cb.join(control=True))
        out["join_ms_p50"] = round(statistics.median(joins), 1)
        out["join_ms"] = [round(j, 1) for j in joins]
        log(f"joins: {out['join_ms']} ms; control granted")
        await clear(cb)
        k = await type_keys(cb, args.keys, args.gap, args.seed)
        log(f"cobrowse keys: echo p50 {pct(k['echo'], 0.5)} ms, shown p50 {pct(k['shown'], 0.5)} ms")
        tab = await after_tab(cb, args.tab_rounds, args.gap, args.seed) if args.tab_rounds else {"shown": [], "wrong": 0}
        await clear(cb)
        ne = await no_echo(cb, args.gap)
        predicting = any(e.get("predicted") for _, e in cb.events if e.get("event") == "screen")
        out["key_echo_p50_ms"] = pct(k["echo"], 0.5)
        out["key_echo_p99_ms"] = pct(k["echo"], 0.99)
        out["shown_p50_ms"] = pct(k["shown"], 0.5)
        out["keys_timed"] = len(k["echo"])
        if predicting:
            out["predicted_under_5ms"] = round(sum(1 for s in k["shown"] if s <= 5.0) / len(k["shown"]), 3)
            out["mispredicted_shown"] = round((k["wrong"] + ne["wrong"]) / (k["typed"] + ne["typed"]), 4)
            out["mispredicted_cells"] = {"typing": k["wrong"], "read_s": ne["wrong"], "after_tab": tab["wrong"]}
            if tab["shown"]:
                out["after_tab_under_5ms"] = round(sum(1 for s in tab["shown"] if s <= 5.0) / len(tab["shown"]), 3)
                out["after_tab_shown_p50_ms"] = pct(tab["shown"], 0.5)
                out["after_tab_keys"] = len(tab["shown"])
        else:
            out["predicted_under_5ms"] = out["mispredicted_shown"] = None
            out["notes"].append("the agent showed no predicted cells (no predictive echo in this build, or it "
                                "stayed off): predicted_under_5ms and mispredicted_shown are null")
            if cb.agent is not None and cb.agent.err:
                log("agent stderr: " + " | ".join(cb.agent.err[-8:]))
        if args.typing_only:
            return out
        await clear(cb)
        out["flood_last_screen_ms"] = await flood(cb, args.flood_mb, "cb")
        log(f"cobrowse flood: last screen {out['flood_last_screen_ms']} ms after the last write")
        await clear(cb)
        out["view_lag_1mbps_ms"] = await view_lag(cb)
        log(f"cobrowse view lag at 1 MB/s: {out['view_lag_1mbps_ms']} ms")
        out["customer_cpu_pct_100kbps"] = await cpu(cb)
        log(f"cobrowse customer CPU at 100 KB/s: {out['customer_cpu_pct_100kbps']} %")
        await cb.stop()
        procs.remove(cb)

        tm = Tmux(link, bridge_port, bridge_reach)
        procs.append(tm)
        await tm.start()
        await clear(tm)
        t = await type_keys(tm, args.keys, args.gap, args.seed)
        out["tmux_key_echo_p50_ms"] = pct(t["echo"], 0.5)
        out["tmux_key_echo_p99_ms"] = pct(t["echo"], 0.99)
        log(f"tmux keys: echo p50 {out['tmux_key_echo_p50_ms']} ms")
        await clear(tm)
        out["tmux_flood_last_screen_ms"] = await flood(tm, args.flood_mb, "tmux")
        log(f"tmux flood: last screen {out['tmux_flood_last_screen_ms']} ms")
        await clear(tm)
        out["tmux_view_lag_1mbps_ms"] = await view_lag(tm)
        out["tmux_cpu_pct_100kbps"] = await cpu(tm)
        log(f"tmux: view lag {out['tmux_view_lag_1mbps_ms']} ms, CPU {out['tmux_cpu_pct_100kbps']} %")
    finally:
        for p in reversed(procs):
            await p.stop()
    if out.get("view_lag_1mbps_ms") is not None:
        # The link's one-way delay is in every view's lag (tmux's too): a lag of 50 ms at
        # 150 ms RTT cannot be had by anything; what the product adds is the lag over it.
        one_way = args.rtt / 2
        out["view_lag_1mbps_over_link_ms"] = round(out["view_lag_1mbps_ms"] - one_way, 1)
        if out.get("tmux_view_lag_1mbps_ms") is not None:
            out["tmux_view_lag_1mbps_over_link_ms"] = round(out["tmux_view_lag_1mbps_ms"] - one_way, 1)
    return out


async def app_speed(args: argparse.Namespace) -> dict[str, Any]:
    """The customer app's own-output speed ÷ bare (bench/app_speed.py), on loopback."""
    from app_speed import app_speed_on_loopback

    return await app_speed_on_loopback(args.app_mb, args.app_rounds)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rtt", type=float, default=150.0, help="round trip time in ms (default 150)")
    ap.add_argument("--loss", type=float, default=0.01, help="packet loss each way, 0..1 (default 0.01)")
    ap.add_argument("--keys", type=int, default=240, help="keys typed per side (default 240)")
    ap.add_argument("--gap", type=float, default=0.08, help="mean pause between keys in s (default 0.08, ± 0.03)")
    ap.add_argument("--tab-rounds", type=int, default=8, help="rounds of typing on after a Tab (default 8; 0: none)")
    ap.add_argument("--typing-only", action="store_true", help="only the typing phases (no flood, view lag, CPU, tmux, app)")
    ap.add_argument("--flood-mb", type=int, default=20)
    ap.add_argument("--joins", type=int, default=3, help="joins timed (the last one is the measured session)")
    ap.add_argument("--seed", type=int, default=17)
    ap.add_argument("--loopback", action="store_true", help="skip the namespaces (userspace shaper on 127.0.0.1)")
    ap.add_argument("--app-mb", type=float, default=20, help="MB the program in the customer app writes per round")
    ap.add_argument("--app-rounds", type=int, default=5, help="rounds of the app's own-output speed (and bare)")
    ap.add_argument("--no-app", action="store_true", help="skip the app's own-output speed (app_speed_ratio null)")
    args = ap.parse_args()
    start = time.monotonic()
    link = Link(args.rtt, args.loss)
    if args.loopback:
        link.notes.append("--loopback: namespaces not tried")
    else:
        link.setup()
    log(f"link: {link.describe()}")
    try:
        out = asyncio.run(run(args, link))
    finally:
        link.teardown()
    if args.typing_only:
        out["notes"].append("--typing-only: the typing phases only")
    elif args.no_app:
        out["app_speed_ratio"] = None
        out["notes"].append("--no-app: app_speed_ratio not measured")
    else:
        log("the customer app's own-output speed (loopback, bench/app_speed.py) ...")
        out.update(asyncio.run(app_speed(args)))
        log(f"app speed ratio {out['app_speed_ratio']} ({out['app_mb_per_s']} vs bare {out['bare_mb_per_s']} MB/s)")
    out["machine"] = f"{platform.machine()} {os.cpu_count()} cpu, Python {platform.python_version()}, kernel {platform.release()}"
    out["elapsed_s"] = round(time.monotonic() - start, 1)
    print(json.dumps(out))


if __name__ == "__main__":
    main()

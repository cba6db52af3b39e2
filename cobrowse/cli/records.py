"""What cobrowse keeps on this machine, shown: `cobrowse agent history|stats`, `cobrowse
recordings list|play`, `cobrowse receipts list|verify`."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import TextIO

from cobrowse.audit.cast import parse_cast, schedule
from cobrowse.audit.receipt import verify
from cobrowse.audit.stats import compute, format_history, format_stats
from cobrowse.io.datadir import data_dir
from cobrowse.io.history import HistoryError
from cobrowse.io.keeping import recordings_dir, saved_sessions
from cobrowse.io.recorder import find_recording, list_recordings


def run(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    try:
        if args.command_name == "agent":
            return _history(args, out) if args.agent_view == "history" else _stats(args, out)
        if args.command_name == "recordings":
            return _list_recordings(args, out) if args.recordings_cmd == "list" else _play(args, out)
        if args.receipts_cmd == "list":
            folder = data_dir() / "receipts"
            files = sorted(folder.glob("*.jsonl"), reverse=True) if folder.is_dir() else []
            print("\n".join(str(f) for f in files) if files else f"no receipts in {folder}", file=out)
            return 0
        return _verify(args, out)
    except HistoryError as exc:
        print(f"cobrowse: {exc} (if the file is damaged, move it aside: the next session starts a new history)",
              file=sys.stderr)
        return 2
    except (FileNotFoundError, ValueError, OSError) as exc:
        print(f"cobrowse: {exc}", file=sys.stderr)
        return 2


def _history(args: argparse.Namespace, out: TextIO) -> int:
    if args.limit < 0:
        raise ValueError("--limit must be 0 (all) or more")
    records = saved_sessions(args.limit or None)
    if args.json:
        for record in records:
            print(json.dumps(record.to_json(), ensure_ascii=False), file=out)
    else:
        print("\n".join(format_history(records)), file=out)
    return 0


def _stats(args: argparse.Namespace, out: TextIO) -> int:
    records = saved_sessions()
    if args.days > 0:
        since = time.time() - args.days * 86400
        records = [r for r in records if r.started >= since]
    stats = compute(records)
    print(json.dumps(stats.to_json(), ensure_ascii=False) if args.json else "\n".join(format_stats(stats)), file=out)
    return 0


def _list_recordings(args: argparse.Namespace, out: TextIO) -> int:
    found = list_recordings(recordings_dir())
    if args.json:
        for item in found:
            print(json.dumps(item, ensure_ascii=False), file=out)
    elif not found:
        print(f"no recordings in {recordings_dir()}", file=out)
    else:
        for item in found:
            extra = item.get("note") or f"{item.get('duration_s', 0):>8.1f}s  {item.get('customer') or '-'}  ({item.get('events', 0)} notes)"
            print(f"{item['id']}  {item.get('started') or ''}  {extra}", file=out)
    return 0


def _play(args: argparse.Namespace, out: TextIO) -> int:
    if not args.speed > 0:
        raise ValueError("--speed must be more than 0")
    path = find_recording(recordings_dir(), args.id)
    head, events = parse_cast(path.read_text(encoding="utf-8"))
    tty = out.isatty()
    if tty:
        out.write("\x1b[?1049h\x1b[H\x1b[2J")
    try:
        for delay, kind, data in schedule(events, args.speed, args.idle_limit):
            if delay > 0:
                out.flush()
                time.sleep(delay)
            if kind == "o":
                out.write(data)
        out.flush()
        if tty:
            out.write("\r\n[cobrowse] end of recording: press Enter")
            out.flush()
            sys.stdin.readline()
    except KeyboardInterrupt:
        pass
    finally:
        if tty:
            out.write("\x1b[0m\x1b[?25h\x1b[?1049l")
            out.flush()
    return 0


def _verify(args: argparse.Namespace, out: TextIO) -> int:
    path = Path(args.file)
    if not path.is_file():
        what = "is a folder, not a receipt" if path.is_dir() else "does not exist"
        print(f"cobrowse: {args.file} {what}: `cobrowse receipts list` shows the receipts kept on this machine",
              file=sys.stderr)
        return 2
    verdict = verify(path.read_bytes())
    if verdict.ok:
        print(f"OK: {verdict.entries} entries, the chain is intact; head {verdict.head}", file=out)
        if verdict.last_event != "ended":  # a chain cut after any line is intact up to the cut
            print(f"note: the last entry is '{verdict.last_event}', not the session's end: the session was still "
                  "running, or the receipt was cut short. Compare the head above with the one printed when the "
                  "session ended", file=out)
        return 0
    print(f"TAMPERED or damaged: {verdict.problem} ({verdict.entries} entries verified before it)", file=out)
    return 1

#!/usr/bin/env python3
"""Anchor benchmark: store events the way OpenHands 0.50's local file store does.

For every event, OpenHands 0.50 (EventStream.add_event with LocalFileStore)
  - makes sure the directory exists (os.makedirs(..., exist_ok=True)),
  - writes the event JSON to its own file sessions/<sid>/events/<id>.json
    (open, write, close; no fsync),
  - and after every 25th event writes a cache page
    sessions/<sid>/event_cache/<start>-<end>.json holding those 25 events.

This script does the same file operations for ~400-byte events, with one
thread per conversation, and prints one line per run:

  openhands-layout conversations=1 events=10000 fsync=no seconds=0.812 events/s=12315

The event JSON is built before timing starts, so only storage is measured
(OpenHands also spends time serialising, which is not counted here). --fsync
adds an fsync of every file before close: the durability gohands gives, which
OpenHands does not. Standard library only.
"""

import argparse
import os
import shutil
import sys
import tempfile
import threading
import time

CACHE_SIZE = 25  # EventStream.cache_size in OpenHands 0.50


def event_json(i: int) -> str:
    """A ~400-byte event shaped like an OpenHands CmdRunAction."""
    return (
        '{"id":%d,"timestamp":"2025-01-01T00:00:00.000000","source":"agent",'
        '"message":"Running command: ls -la","action":"run","args":{"command":'
        '"ls -la /workspace","is_input":false,"thought":"%s","blocking":false,'
        '"hidden":false,"confirmation_state":"confirmed"}}' % (i, "x" * 220)
    )


def write(path: str, contents: str, fsync: bool) -> None:
    """LocalFileStore.write, plus an optional fsync."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(contents)
        if fsync:
            f.flush()
            os.fsync(f.fileno())


def conversation(root: str, sid: str, events: list, fsync: bool, start: threading.Barrier) -> None:
    conv = os.path.join(root, "sessions", sid)
    page = []
    start.wait()
    for i, data in enumerate(events):
        write(os.path.join(conv, "events", "%d.json" % i), data, fsync)
        page.append(data)
        if len(page) == CACHE_SIZE:
            first = i + 1 - CACHE_SIZE
            name = "%d-%d.json" % (first, first + CACHE_SIZE)
            write(os.path.join(conv, "event_cache", name), "[" + ", ".join(page) + "]", fsync)
            page = []


def run(base: str, conversations: int, total: int, fsync: bool) -> float:
    root = tempfile.mkdtemp(prefix="openhands-layout-", dir=base)
    try:
        per = total // conversations
        events = [event_json(i) for i in range(per)]
        start = threading.Barrier(conversations + 1)
        threads = [
            threading.Thread(target=conversation, args=(root, "conv%03d" % c, events, fsync, start))
            for c in range(conversations)
        ]
        for t in threads:
            t.start()
        start.wait()
        t0 = time.perf_counter()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - t0
    finally:
        shutil.rmtree(root, ignore_errors=True)
    n = per * conversations
    rate = n / elapsed
    print(
        "openhands-layout conversations=%d events=%d fsync=%s seconds=%.3f events/s=%.0f"
        % (conversations, n, "yes" if fsync else "no", elapsed, rate),
        flush=True,
    )
    return rate


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--events", type=int, default=10000, help="total events per run (split across conversations)")
    p.add_argument("--conversations", default="1,64", help="comma-separated conversation counts, one run each")
    p.add_argument("--fsync", action="store_true", help="fsync every file before closing it")
    p.add_argument("--dir", default=None, help="directory to write under (default: the system temp dir)")
    args = p.parse_args()
    base = args.dir or tempfile.gettempdir()
    os.makedirs(base, exist_ok=True)
    for c in args.conversations.split(","):
        run(base, int(c), args.events, args.fsync)
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env bash
# Compares gohands' event log with OpenHands 0.50's one-file-per-event layout.
#
# Runs the Go event log benchmark and bench/openhands_layout.py back to back,
# on the same disk and the same number of ~400-byte events, and prints the
# ratio gohands/OpenHands for each case. gohands acknowledges an event only
# after fdatasync; OpenHands never syncs, so the table shows both the
# unsynced OpenHands layout (what it does) and the layout with an fsync per
# file (what durability would cost it), plus gohands without fdatasync.
#
# Usage: bench/eventlog.sh            (EVENTS=5000 events per case by default)
#        EVENTS=20000 BENCH_DIR=/data bench/eventlog.sh
set -euo pipefail

cd "$(dirname "$0")/.."
events=${EVENTS:-5000}
work=$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/eventlog-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

echo "== gohands eventlog ($events events per case; $(nproc) cores; dir $work)"
# Go's b.TempDir writes under TMPDIR, so both sides use the same filesystem.
TMPDIR=$work go test -run='^$' -bench='^BenchmarkAppend(Durable|NoSync)$' \
	-benchtime="${events}x" -count=1 ./internal/storage/eventlog/ | tee "$work/go.txt"

echo "== OpenHands 0.50 layout"
python3 bench/openhands_layout.py --events "$events" --conversations 1,64 --dir "$work" | tee "$work/oh.txt"
python3 bench/openhands_layout.py --events "$events" --conversations 1,64 --fsync --dir "$work" | tee -a "$work/oh.txt"

echo "== ratio gohands/OpenHands (events/s)"
python3 - "$work/go.txt" "$work/oh.txt" <<'EOF'
import re, sys

go = {}
for line in open(sys.argv[1]):
    m = re.match(r"Benchmark(AppendDurable|AppendNoSync)/logs=(\d+)/writers=(\d+)\S*\s.*?([\d.]+) events/s", line)
    if m:
        go[(m.group(1), int(m.group(2)), int(m.group(3)))] = float(m.group(4))
oh = {}
for line in open(sys.argv[2]):
    m = re.match(r"openhands-layout conversations=(\d+) .*fsync=(\w+) .*events/s=([\d.]+)", line)
    if m:
        oh[(int(m.group(1)), m.group(2))] = float(m.group(3))

rows = [
    ("AppendDurable", 1, 1), ("AppendDurable", 1, 64),
    ("AppendDurable", 64, 1), ("AppendDurable", 64, 4),
    ("AppendNoSync", 1, 1), ("AppendNoSync", 64, 1),
]
print("%-34s %12s | %14s %7s | %14s %7s" % ("gohands case (vs N conversations)", "gohands ev/s",
                                           "OH no-fsync", "ratio", "OH fsync", "ratio"))
for bench, logs, writers in rows:
    g = go.get((bench, logs, writers))
    if g is None:
        continue
    cells = []
    for fs in ("no", "yes"):
        o = oh.get((logs, fs))
        cells += ["%14.0f" % o, "%6.1fx" % (g / o)] if o else ["%14s" % "-", "%7s" % "-"]
    print("%-34s %12.0f | %s %s | %s %s" % ("%s logs=%d writers=%d" % (bench, logs, writers), g, *cells))
EOF

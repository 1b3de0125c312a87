#!/usr/bin/env bash
# Socket.IO fan-out: gohands against the reference node socket.io 4 server, in the same run.
#
# Builds bench/socketio/server (gohands' real Socket.IO binding with events-only sessions: every
# user message is appended durably to its conversation's event log, then fanned out) and runs the
# same load (bench/socketio/load.js) against it and against bench/socketio/reference.js (node's
# socket.io doing the join and the fan-out, without persistence): CLIENTS clients over ROOMS
# conversations, one message per conversation every INTERVAL ms for DURATION s after WARMUP s.
# Then RSS per idle attached conversation: IDLE conversations with one idle client each, on a
# fresh server of each kind. Prints one JSON line per measurement and a table with the ratios.
#
# Needs node 18+ and `npm ci --prefix test/node`. Not part of "make test".
#
# Usage: bench/socketio/run.sh      (CLIENTS=1000 ROOMS=100 INTERVAL=20 WARMUP=5 DURATION=20
#                                    PROCS=2 IDLE=500 ROUNDS=1 by default; IDLE=0 skips it;
#                                    QUIET=10 QUIET_WAIT=300: see machine below;
#                                    GOHANDS_FLAGS="-cpuprofile FILE" profiles the gohands server)
#        ROUNDS=3 DURATION=30 bench/socketio/run.sh
set -euo pipefail

cd "$(dirname "$0")/../.."
clients=${CLIENTS:-1000}
rooms=${ROOMS:-100}
interval=${INTERVAL:-20}
warmup=${WARMUP:-5}
duration=${DURATION:-20}
procs=${PROCS:-2}
idle=${IDLE:-500}
rounds=${ROUNDS:-1}

export NODE_PATH=$PWD/test/node/node_modules
if [ ! -f "$NODE_PATH/socket.io/package.json" ] || [ ! -f "$NODE_PATH/socket.io-client/package.json" ]; then
	echo "socket.io is not installed in $NODE_PATH: run \`npm ci --prefix test/node\`" >&2
	exit 1
fi
work=$(mktemp -d)
server_pid=
cleanup() {
	if [ -n "$server_pid" ]; then kill -TERM "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
	rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/gohands-bench" ./bench/socketio/server
convs=$(( rooms > idle ? rooms : idle ))

# start KIND: starts a server, sets server_pid and server_port.
start() {
	: >"$work/hello"
	case $1 in
	gohands) "$work/gohands-bench" -conversations "$convs" -dir "$work" ${GOHANDS_FLAGS:-} >"$work/hello" 2>>"$work/server.log" & ;;
	node) node bench/socketio/reference.js 0 >"$work/hello" 2>>"$work/server.log" & ;;
	esac
	server_pid=$!
	for _ in $(seq 300); do
		if grep -q '"port"' "$work/hello"; then break; fi
		sleep 0.1
	done
	server_port=$(sed -n 's/.*"port":\([0-9]*\).*/\1/p' "$work/hello")
	if [ -z "$server_port" ]; then
		echo "the $1 server did not start:" >&2
		cat "$work/server.log" >&2
		exit 1
	fi
}

stop() {
	kill -TERM "$server_pid"
	wait "$server_pid" || true
	server_pid=
}

load() { # label, load.js flags…
	local label=$1
	shift
	node bench/socketio/load.js --url "http://127.0.0.1:$server_port" --server-pid "$server_pid" --label "$label" "$@" |
		tee -a "$work/results.jsonl"
}

# machine waits (up to QUIET_WAIT s, default 300) until the CPU pressure's 10 s average is below
# QUIET percent (default 10): on a shared machine another job's burst would otherwise be measured
# as the server's latency. Then it prints the load.
machine() {
	if [ -r /proc/pressure/cpu ]; then
		local waited=0
		while [ "$waited" -lt "${QUIET_WAIT:-300}" ] &&
			awk -v q="${QUIET:-10}" '{ split($2, a, "="); exit !(a[2] >= q) }' /proc/pressure/cpu; do
			sleep 5
			waited=$((waited + 5))
		done
	fi
	echo "== $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg)$(
		[ -r /proc/pressure/cpu ] && echo "; cpu pressure $(head -1 /proc/pressure/cpu | cut -d' ' -f2-3)")"
}

echo "== fan-out: $clients clients, $rooms conversations, a message per conversation every $interval ms," \
	"${warmup} s warm-up, ${duration} s measured, clients in $procs node process(es)"
for round in $(seq "$rounds"); do
	for kind in gohands node; do
		machine
		start "$kind"
		load "$kind" --clients "$clients" --rooms "$rooms" --interval "$interval" --warmup "$warmup" \
			--duration "$duration" --procs "$procs"
		stop
	done
done

if [ "$idle" -gt 0 ]; then
	echo "== RSS per idle attached conversation: $idle conversations, one idle client each"
	for kind in gohands node; do
		machine
		start "$kind"
		load "$kind" --idle "$idle" --procs "$procs"
		stop
	done
fi

node - "$work/results.jsonl" <<'EOF'
const lines = require("fs").readFileSync(process.argv[2], "utf8").trim().split("\n").map(JSON.parse);
const fan = lines.filter((r) => r.mode === "fanout"), idle = lines.filter((r) => r.mode === "idle");
const fmt = (v, d = 0) => (v == null ? "-" : Number(v).toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d }));
const ratio = (a, b) => (a == null || !b ? "-" : (a / b).toFixed(2) + "x");
const rows = [
  ["offered deliveries/s", (r) => r.offeredPerSec, 0],
  ["deliveries/s (during the send window)", (r) => r.deliveriesPerSec, 0],
  ["lost deliveries", (r) => r.lost, 0],
  ["latency p50 (ms)", (r) => r.latencyMs.p50, 2],
  ["latency p99 (ms)", (r) => r.latencyMs.p99, 2],
  ["latency max (ms)", (r) => r.latencyMs.max, 1],
  ["server RSS max (MB)", (r) => r.serverRSSKB.max / 1024, 1],
  ["server CPU (cores)", (r) => r.serverCores, 2],
  ["client CPU (cores)", (r) => r.clientCores, 2],
  ["client loop delay p99 (ms)", (r) => r.clientLoopDelayMs.p99, 1],
  ["machine idle (cores)", (r) => r.machineCores.idle, 2],
  ["machine irq + steal (cores)", (r) => r.machineCores.irq + r.machineCores.steal, 2],
  ["connect all (ms)", (r) => r.connect.wallMs, 0],
];
const line = (cells) => console.log("| " + cells.join(" | ") + " |");
for (let i = 0; i + 1 < fan.length; i += 2) {
  const g = fan[i], n = fan[i + 1];
  console.log(`\nround ${i / 2 + 1}`);
  line(["measure", "gohands", "node socket.io", "gohands/node"]);
  line(["---", "---:", "---:", "---:"]);
  for (const [name, get, d] of rows) line([name, fmt(get(g), d), fmt(get(n), d), ratio(get(g), get(n))]);
}
if (idle.length === 2) {
  const [g, n] = idle;
  console.log("");
  line(["RSS per idle attached conversation (KB)", fmt(g.rssPerConversationKB), fmt(n.rssPerConversationKB),
    ratio(g.rssPerConversationKB, n.rssPerConversationKB)]);
}
EOF

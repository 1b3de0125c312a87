#!/usr/bin/env bash
# Docker sandbox benchmarks: start-to-ready against a bare `docker run --rm IMAGE true` (same run,
# same image, interleaved), the round trip of `echo hi` through the unix socket, and 20 sandboxes
# started at once. Needs a running Docker engine; builds the test image if it is missing. The
# benchmark binary builds the static gohands binary it injects (CGO_ENABLED=0), as the tests do.
#
# Usage: bench/sandbox.sh            (STARTS=20 start/bare pairs, ECHOES=1000, ROUNDS=3 by default)
set -euo pipefail

cd "$(dirname "$0")/.."
starts=${STARTS:-20}
echoes=${ECHOES:-1000}
rounds=${ROUNDS:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

bash testdata/sandbox-image/build.sh
go test -c -o "$work/sandbox.test" ./internal/sandbox/
echo "== engine: $(docker version --format 'server {{.Server.Version}}, API {{.Server.APIVersion}}'); $(nproc) cores"

bench() { # name iterations
	"$work/sandbox.test" -test.run='^$' -test.bench="^$1\$" -test.benchtime="$2x" -test.count=1 |
		grep -Ev '^(goos|goarch|pkg|cpu|PASS$)|INFO'
}
echo "== start to ready vs docker run --rm --network none gohands-test-sandbox:latest true ($starts pairs)"
bench BenchmarkDockerStartReady "$starts" | tee "$work/start.txt"
echo "== echo hi round trip ($echoes actions)"
bench BenchmarkDockerEchoRoundTrip "$echoes"
echo "== GET /alive round trip, the transport alone ($echoes requests)"
bench BenchmarkDockerSocketRoundTrip "$echoes"
echo "== 20 sandboxes started at once ($rounds rounds)"
bench BenchmarkDockerConcurrentStarts20 "$rounds"

awk '{ for (i = 2; i < NF; i++) { if ($(i+1) == "ready-p50-ms") r = $i; if ($(i+1) == "bare-p50-ms") b = $i } }
	END { if (b > 0) printf "== ready p50 %.1f ms / bare docker run p50 %.1f ms = %.2fx (target <= 1.2x)\n", r, b, r / b }' "$work/start.txt"

#!/usr/bin/env bash
# Writes a large execution trace for goscope's benchmarks (never committed).
#
# Usage: testdata/bench/make-large-trace.sh OUT [SECONDS [GOMAXPROCS [SCALE]]]
#
# Builds testdata/bench/busy with Go 1.27 (installed from PyPI if missing; see
# testdata/go-toolchain.sh) and runs it for SECONDS (default 5) with
# GOMAXPROCS (default 4); SCALE (default 1) multiplies the number of goroutines
# of each kind (10 gives about 1,000). On a 2-core machine 5 s gives roughly
# 65-85 MB; the size scales with the speed of the machine.
set -euo pipefail

if [ $# -lt 1 ] || [ $# -gt 4 ]; then
	sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
	exit 2
fi
out="$1"
seconds="${2:-5}"
procs="${3:-4}"
scale="${4:-1}"

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../go-toolchain.sh
source "$here/../go-toolchain.sh"
go="$(go_for 127 1.27.3)"

export GOTOOLCHAIN=local GOPROXY=off GOFLAGS=-mod=mod GOWORK=off GO111MODULE=on
unset GOMAXPROCS GODEBUG GOGC GOEXPERIMENT || true

bin="$(mktemp -d)/busy"
trap 'rm -rf "$(dirname "$bin")"' EXIT
(cd "$here" && "$go" build -trimpath -o "$bin" ./busy)
"$bin" "$out" "$seconds" "$procs" "$scale"
echo "$out: $(stat -c %s "$out") bytes ($seconds s, GOMAXPROCS $procs, scale $scale)"

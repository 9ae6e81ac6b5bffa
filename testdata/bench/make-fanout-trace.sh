#!/usr/bin/env bash
# Writes a trace with many short-lived goroutines for goscope's benchmarks (never
# committed): the goroutine table and lanes with ~100,000 goroutines.
#
# Usage: testdata/bench/make-fanout-trace.sh OUT [GOROUTINES]
#
# Builds testdata/bench/fanout with Go 1.27 (installed from PyPI if missing; see
# testdata/go-toolchain.sh) and runs it; GOROUTINES defaults to 100000.
set -euo pipefail

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
	sed -n '2,8p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
	exit 2
fi
out="$1"
count="${2:-100000}"

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../go-toolchain.sh
source "$here/../go-toolchain.sh"
go="$(go_for 127 1.27.3)"

export GOTOOLCHAIN=local GOPROXY=off GOFLAGS=-mod=mod GOWORK=off GO111MODULE=on
unset GOMAXPROCS GODEBUG GOGC GOEXPERIMENT || true

bin="$(mktemp -d)/fanout"
trap 'rm -rf "$(dirname "$bin")"' EXIT
(cd "$here" && "$go" build -trimpath -o "$bin" ./fanout)
"$bin" "$out" "$count"
echo "$out: $(stat -c %s "$out") bytes ($count goroutines)"

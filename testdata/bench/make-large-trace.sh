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
#
# GOSCOPE_BENCH_GO=121 builds with Go 1.21.13 instead, for a v1 trace (from a
# copy of the module whose go.mod says go 1.21).
set -euo pipefail

if [ $# -lt 1 ] || [ $# -gt 4 ]; then
	sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
	exit 2
fi
out="$1"
seconds="${2:-5}"
procs="${3:-4}"
scale="${4:-1}"

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../go-toolchain.sh
source "$here/../go-toolchain.sh"
case "${GOSCOPE_BENCH_GO:-127}" in
127) go="$(go_for 127 1.27.3)" ;;
121) go="$(go_for 121 1.21.13)" ;;
*)
	echo "GOSCOPE_BENCH_GO must be 127 or 121" >&2
	exit 2
	;;
esac

export GOTOOLCHAIN=local GOPROXY=off GOFLAGS=-mod=mod GOWORK=off GO111MODULE=on
unset GOMAXPROCS GODEBUG GOGC GOEXPERIMENT || true

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
bin="$tmp/busy"
srcdir="$here"
if [ "${GOSCOPE_BENCH_GO:-127}" = 121 ]; then
	srcdir="$tmp/src"
	mkdir -p "$srcdir"
	cp -r "$here/go.mod" "$here/busy" "$srcdir/"
	sed -i 's/^go 1\.[0-9.]*$/go 1.21/' "$srcdir/go.mod"
fi
(cd "$srcdir" && "$go" build -trimpath -o "$bin" ./busy)
"$bin" "$out" "$seconds" "$procs" "$scale"
echo "$out: $(stat -c %s "$out") bytes ($seconds s, GOMAXPROCS $procs, scale $scale)"

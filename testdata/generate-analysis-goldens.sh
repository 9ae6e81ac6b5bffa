#!/usr/bin/env bash
# Regenerates the analysis goldens that tests/analysis.rs checks goscope against.
# Every number in them comes from Go 1.27's own `go tool trace`:
#
#   golden/analysis/<trace>.<kind>.txt   kind = net, sync, syscall, sched:
#       `go tool trace -pprof=KIND` read back with `go tool pprof -raw`.
#   golden/analysis/<trace>.goroutines.txt
#       the goroutine analysis pages (/goroutines, /goroutine?name=...) served by
#       `go tool trace -http=127.0.0.1:0`, scraped once (loopback only).
#   golden/analysis/<trace>.mmu.txt
#       the MMU plot (/mmu?mode=plot) and worst windows (/mmu?mode=details)
#       for a few flag sets, from the same server.
#
# Usage:
#   testdata/generate-analysis-goldens.sh [TRACE...]
#
#   TRACE...   trace files (default: every testdata/traces/*.trace)
#
# Environment: as testdata/generate.sh (GOSCOPE_GO127, GOSCOPE_GO_DIR). Needs
# python3 and curl. The traces are not touched; regenerate these goldens
# whenever the traces are regenerated.
#
# Golden formats (tab-separated; lines starting with # are comments):
#   <kind>.txt:        total COUNT DELAY_NS
#                      sample COUNT DELAY_NS PC,PC,... FUNC;FUNC;...   (leaf first)
#   goroutines.txt:    group NAME COUNT EXEC_NS
#                      g ID NAME TOTAL_NS STAT=NS...      (Go's non-overlapping stats;
#                                                          zeros left out)
#                      range ID NAME RANGE=NS...          (Go's special ranges)
#   mmu.txt:           flags FLAGS                        (applies to the lines below)
#                      curve WINDOW_NS MMU
#                      worst WINDOW_NS TIME_NS UTIL
#                      error MESSAGE                      (Go failed for these flags)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="$here/golden/analysis"
max_goldens_total=$((2 * 1024 * 1024))

# shellcheck source=go-toolchain.sh
source "$here/go-toolchain.sh"
go="$(go_for 127 1.27.3)"
export GOTOOLCHAIN=local GOPROXY=off
# The trace tool's binary, run directly so that the server is our own child.
tracetool="$("$go" tool -n trace)"

traces=("$@")
if [ ${#traces[@]} -eq 0 ]; then
	traces=("$here"/traces/*.trace)
fi

mkdir -p "$out"
work="$(mktemp -d "${TMPDIR:-/tmp}/goscope-analysis-goldens.XXXXXX")"
server_pid=""
cleanup() {
	if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi
	rm -rf "$work"
}
trap cleanup EXIT

# raw_to_golden: `go tool pprof -raw` on stdin → the <kind>.txt form on stdout.
raw_to_golden() {
	python3 -c '
import sys
samples, locs, section = [], {}, None
for line in sys.stdin:
    s = line.strip()
    if s in ("Samples:", "Locations", "Mappings"):
        section = s
        continue
    if section == "Samples:" and ":" in s and s[0].isdigit():
        vals, ids = s.split(":", 1)
        count, ns = (int(v) for v in vals.split())
        samples.append((count, ns, [int(i) for i in ids.split()]))
    elif section == "Locations" and s and s.split(":")[0].isdigit():
        lid, rest = s.split(":", 1)
        parts = rest.split()
        # "0xADDR M=1 FUNC FILE:LINE:COL s=0"
        locs[int(lid)] = (parts[0], parts[2] if len(parts) > 2 else "?")
print("total\t%d\t%d" % (sum(c for c, _, _ in samples), sum(n for _, n, _ in samples)))
for count, ns, ids in sorted(samples, key=lambda s: (-s[1], -s[0], ",".join(locs[i][0] for i in s[2]))):
    pcs = ",".join(locs[i][0] for i in ids)
    funcs = ";".join(locs[i][1] for i in ids)
    print("sample\t%d\t%d\t%s\t%s" % (count, ns, pcs, funcs))
'
}

# scrape BASE_URL: the goroutine pages and MMU endpoints → two files.
scrape() {
	python3 - "$1" "$2" "$3" <<'PY'
import html, json, re, sys, urllib.parse, urllib.request

base, gor_out, mmu_out = sys.argv[1:4]

def get(path):
    with urllib.request.urlopen(base + path, timeout=120) as r:
        return r.read().decode("utf-8")

UNITS = {"ns": 1, "us": 1_000, "µs": 1_000, "μs": 1_000, "ms": 1_000_000,
         "s": 1_000_000_000, "m": 60_000_000_000, "h": 3_600_000_000_000}

def ns_from_go_duration(s):
    # time.Duration.String(): "0s", "1h2m3.5s", "16.489472ms", "98.432µs", "500ns".
    s = s.strip()
    neg = s.startswith("-")
    if neg:
        s = s[1:]
    if s == "0s":
        return 0
    total = 0
    for num, unit in re.findall(r"([0-9.]+)(ns|us|µs|μs|ms|s|m|h)", s):
        whole, _, frac = num.partition(".")
        scale = UNITS[unit]
        v = int(whole) * scale
        if frac:
            v += int(frac) * scale // 10 ** len(frac)
        total += v
    return -total if neg else total

lines = ["# Go 1.27 go tool trace: /goroutines and /goroutine?name=... pages"]
groups = re.findall(
    r'<a href="/goroutine\?name=([^"]*)">.*?</a></code></td>\s*<td>(\d+)</td>\s*<td>([^<]*)</td>',
    get("/goroutines"), re.S)
for href, n, exec_time in groups:
    name = urllib.parse.unquote(html.unescape(href))
    lines.append("group\t%s\t%s\t%d" % (name, n, ns_from_go_duration(exec_time)))
for href, _, _ in groups:
    name = urllib.parse.unquote(html.unescape(href))
    page = get("/goroutine?name=" + urllib.parse.quote(name, safe=""))
    breakdown, _, ranges = page.partition('<h3 id="ranges">')
    table = breakdown.split('<table class="details">', 1)[1]
    cols = [html.unescape(c).strip() for c in
            re.findall(r"<th class=\"link\" onclick=\"reloadTable\('sortby', '[^']*'\)\"[^>]*>([^<]*)</th>", table)]
    cols = cols[1:]  # the first sortable column is "Total"
    for row in re.findall(r"<tr>(.*?)</tr>", table, re.S)[1:]:
        gid = re.search(r'/trace\?goid=(\d+)', row).group(1)
        cells = [c.strip() for c in re.findall(r"<td>([^<]*)</td>", row)]
        cells = [c for c in cells if c]
        total, stats = cells[0], cells[1:]
        assert len(stats) == len(cols), (name, gid, cols, stats)
        fields = ["%s=%d" % (c, ns_from_go_duration(v)) for c, v in zip(cols, stats)
                  if ns_from_go_duration(v) != 0]
        lines.append("\t".join(["g", gid, name, str(ns_from_go_duration(total))] + fields))
    rtable = ranges.split('<table class="details">', 1)[1]
    rcols = [html.unescape(c).strip() for c in re.findall(r"<th[^>]*>([^<]*)</th>", rtable)][2:]
    for row in re.findall(r"<tr>(.*?)</tr>", rtable, re.S)[1:]:
        gid = re.search(r'/trace\?goid=(\d+)', row).group(1)
        cells = [c.strip() for c in re.findall(r"<td>([^<]*)</td>", row)]
        cells = [c for c in cells if c][1:]
        fields = ["%s=%d" % (c, ns_from_go_duration(v)) for c, v in zip(rcols, cells)]
        lines.append("\t".join(["range", gid, name] + fields))
open(gor_out, "w").write("\n".join(lines) + "\n")

# MMU: the UI's default flags, with sweep, per-P, and nothing.
flag_sets = ["stw|background|assist", "stw|background|assist|sweep",
             "perProc|stw|background|assist|sweep", ""]
windows_ns = [100_000, 1_000_000, 10_000_000]
lines = ["# Go 1.27 go tool trace: /mmu?mode=plot and /mmu?mode=details (10 worst windows)"]
for flags in flag_sets:
    q = urllib.parse.quote(flags, safe="")
    lines.append("flags\t%s" % flags)
    try:
        plot = json.loads(get("/mmu?mode=plot&flags=" + q))
    except Exception as e:  # Go's MMU panics on some traces (golang/go#74146).
        lines.append("error\t%s" % str(e).replace("\t", " "))
        continue
    for window, mmu in plot["curve"]:
        lines.append("curve\t%d\t%r" % (int(window), float(mmu)))
    for w in windows_ns:
        try:
            worst = json.loads(get("/mmu?mode=details&flags=%s&window=%d" % (q, w)))
        except Exception as e:
            lines.append("error\t%s" % str(e).replace("\t", " "))
            continue
        for ex in worst or []:
            lines.append("worst\t%d\t%d\t%r" % (w, ex["Time"], float(ex["MutatorUtil"])))
open(mmu_out, "w").write("\n".join(lines) + "\n")
PY
}

for t in "${traces[@]}"; do
	name="$(basename "$t" .trace)"
	for kind in net sync syscall sched; do
		"$tracetool" -pprof="$kind" "$t" >"$work/$name.$kind.pb"
		{
			echo "# Go 1.27: go tool trace -pprof=$kind $name.trace | go tool pprof -raw"
			"$go" tool pprof -raw -symbolize=none "$work/$name.$kind.pb" 2>/dev/null | raw_to_golden
		} >"$out/$name.$kind.txt"
	done

	log="$work/$name.server.log"
	BROWSER=/bin/true "$tracetool" -http=127.0.0.1:0 "$t" >"$log" 2>&1 &
	server_pid=$!
	url=""
	for _ in $(seq 1 600); do
		url="$(grep -o 'listening on http://127\.0\.0\.1:[0-9]*' "$log" | sed 's/listening on //' || true)"
		[ -n "$url" ] && break
		if ! kill -0 "$server_pid" 2>/dev/null; then
			cat "$log" >&2
			exit 1
		fi
		sleep 0.1
	done
	[ -n "$url" ] || { echo "no server address for $t" >&2; exit 1; }
	scrape "$url" "$out/$name.goroutines.txt" "$out/$name.mmu.txt"
	kill "$server_pid"
	wait "$server_pid" 2>/dev/null || true
	server_pid=""
	printf '%-32s %s goroutines, %s\n' "$name" \
		"$(grep -c '^g	' "$out/$name.goroutines.txt")" \
		"$(grep -h '^total' "$out/$name".{net,sync,syscall,sched}.txt | awk '{s += $3} END {print s " ns profiled"}')"
done

total=$(cat "$out"/* | wc -c)
echo "analysis goldens total $total bytes (max $max_goldens_total)"
[ "$total" -le "$max_goldens_total" ] || { echo "analysis goldens over budget" >&2; exit 1; }

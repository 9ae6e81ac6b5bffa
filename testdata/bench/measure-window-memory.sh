#!/usr/bin/env bash
# The viewer's memory while detail is shown: opens TRACE in a real window (an X display in
# $DISPLAY, e.g. Xvfb), waits for the whole overview, zooms in at the window's middle by
# holding W for 0.5 s seven times, 2 s apart (xdotool), and prints the peak RSS (VmHWM)
# after the load and after the zooms, the RSS at the end, and the windows built.
# ZOOMS (default 7) sets how many times W is held, so that traces of different lengths can
# be zoomed to views of about the same width; PANS (default 0) then holds D for 0.5 s that
# many times, 2 s apart, so that windows are built one after another and kept.
# Usage: [ZOOMS=N] [PANS=N] measure-window-memory.sh GOSCOPE_BINARY TRACE
set -euo pipefail
bin=$1
trace=$2
log=$(mktemp)
GOSCOPE_LOG_LOAD=1 "$bin" "$trace" >"$log" 2>&1 &
pid=$!
for _ in $(seq 1 600); do grep -q "loaded after" "$log" && break; sleep 0.1; done
sleep 1
hwm_loaded=$(awk '/VmHWM/ {print $2}' /proc/$pid/status)
win=$(xdotool search --pid $pid | tail -1)
xdotool windowfocus --sync "$win" 2>/dev/null || true
xdotool mousemove --window "$win" 700 400 click 1
for _ in $(seq 1 "${ZOOMS:-7}"); do
  xdotool keydown --window "$win" w
  sleep 0.5
  xdotool keyup --window "$win" w
  sleep 2
done
for _ in $(seq 1 "${PANS:-0}"); do
  xdotool keydown --window "$win" d
  sleep 0.5
  xdotool keyup --window "$win" d
  sleep 2
done
sleep 3
hwm=$(awk '/VmHWM/ {print $2}' /proc/$pid/status)
rss=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)
kill $pid
wait $pid 2>/dev/null || true
echo "VmHWM after the load: ${hwm_loaded} kB; after the zooms: ${hwm} kB; VmRSS at the end: ${rss} kB"
grep "window of" "$log" || echo "no window built"
rm -f "$log"

#!/usr/bin/env bash
# Soak: a multi-threaded, allocation-heavy program (bench/soak.c) under
# memtrack-load for SECONDS, report-only and then streaming (-o /dev/null),
# with memtrack-load's RSS sampled every 5 seconds. Checks that:
#   - its RSS stays flat after warm-up (the first tenth of the run, 10 s at
#     least): within 10% and 2 MB of what it was then;
#   - nothing is dropped at the default sizes, at the rate the program
#     runs flat out (what make bench's two-thread rows measure);
#   - the final accounting equals the program's own counts: allocations,
#     frees, bytes allocated, live blocks and bytes at exit (only the
#     program's sizes are counted: --min-size 5000 --max-size 5999).
# Not a test (it runs for 20 minutes by default); root.
#
#   bench/soak.sh [SECONDS [THREADS]]       default 600 2
#   SOAK_MODES="streaming" bench/soak.sh    one of the two runs only
#   SOAK_RATE=125000 bench/soak.sh          allocator calls a second, all threads
#                                           together (default: flat out)
set -u

BUILD=${BUILD:-build}
SECS=${1:-600}
THREADS=${2:-2}
LOAD=$BUILD/memtrack-load
SOAK=$BUILD/bench/soak
T=$(mktemp -d /tmp/memtrack-soak.XXXXXX)
trap 'rm -rf "$T"' EXIT
status=0

[ -x "$LOAD" ] && [ -x "$SOAK" ] || { echo "soak: run make (and make $SOAK) first" >&2; exit 2; }
command -v jq >/dev/null || { echo "soak: needs jq" >&2; exit 2; }

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }

# mode label, memtrack-load options...
soak() {
	local label=$1 pid samples=() warm end rss max_after=0 at_warm=0 t=0
	shift
	"$LOAD" --min-size 5000 --max-size 5999 --json "$@" -- "$SOAK" "$THREADS" "$SECS" ${SOAK_RATE:-} \
		>"$T/own.json" 2>"$T/err" &
	pid=$!
	warm=$((SECS / 10 > 10 ? SECS / 10 : 10)) # start-up (tables, probes) is over by then
	while kill -0 "$pid" 2>/dev/null; do
		rss=$(rss_kb "$pid")
		if [ -n "$rss" ]; then
			samples+=("$rss")
			[ "$t" -le "$warm" ] && at_warm=$rss
			[ "$t" -gt "$warm" ] && [ "$rss" -gt "$max_after" ] && max_after=$rss
		fi
		sleep 2
		t=$((t + 2))
	done
	wait "$pid" || { echo "soak: $label: memtrack-load failed:" >&2; cat "$T/err" >&2; status=1; return; }
	local sum own
	sum=$(grep '^{"report":"summary"' "$T/err")
	own=$(cat "$T/own.json")
	jq -rn --argjson s "$sum" --argjson o "$own" --arg name "$label" --arg secs "$SECS" \
		--arg warm "$at_warm" --arg max "$max_after" --arg peak "$(printf '%s\n' "${samples[@]}" | sort -n | tail -1)" '
		($s.processes | map(select(.comm == "soak")) | .[0]) as $p |
		{ allocs: ($p.allocs == $o.allocs), frees: ($p.frees - $p.unknown_frees == $o.frees),
		  bytes: ($p.alloc_bytes == $o.alloc_bytes), live: ($p.live_blocks == $o.live_blocks
		  and $p.live_bytes == $o.live_bytes) } as $eq |
		"\($name): \($secs) s, \($o.allocs + $o.frees) allocator events (\((($o.allocs + $o.frees) / ($secs | tonumber)) | floor)/s), dropped \($s.dropped)",
		"  memtrack-load RSS: peak \(($peak | tonumber) / 1024 | floor) MB; after warm-up \(($warm | tonumber) / 1024 | floor) MB, at most \(($max | tonumber) / 1024 | floor) MB later (\(if ($max | tonumber) > ($warm | tonumber) * 1.1 + 2048 then "GROWS" else "flat" end))",
		"  accounting against the program: allocs \($p.allocs)/\($o.allocs), frees \($p.frees - $p.unknown_frees)/\($o.frees) (+\($p.unknown_frees) unknown: glibc'"'"'s own at thread exit), bytes \($p.alloc_bytes)/\($o.alloc_bytes), live \($p.live_blocks) blocks \($p.live_bytes) B/\($o.live_blocks) \($o.live_bytes) B: \(if ($eq | all) then "equal" else "DIFFERENT \($eq)" end)"' \
		|| status=1
	jq -en --argjson s "$sum" --argjson o "$own" '
		($s.processes | map(select(.comm == "soak")) | .[0]) as $p |
		$s.dropped == 0 and $p.allocs == $o.allocs and $p.frees - $p.unknown_frees == $o.frees
		and $p.alloc_bytes == $o.alloc_bytes and $p.live_blocks == $o.live_blocks
		and $p.live_bytes == $o.live_bytes' >/dev/null || status=1
	[ "$max_after" -gt $((at_warm * 11 / 10 + 2048)) ] && status=1
}

echo "memtrack soak, $(date -u '+%Y-%m-%d %H:%M UTC'), kernel $(uname -r), $THREADS threads," \
	"${SOAK_RATE:-flat out} calls/s"
for mode in ${SOAK_MODES:-report-only streaming}; do
	case $mode in
	report-only) soak "report-only" ;;
	streaming) soak "streaming (-o /dev/null)" -o /dev/null ;;
	*) echo "soak: unknown mode '$mode' (report-only, streaming)" >&2; exit 2 ;;
	esac
done
[ "$status" -eq 0 ] && echo "soak: passed" || echo "soak: FAILED"
exit "$status"

#!/usr/bin/env bash
# How long the offline reports take on a big trace (issue 4's target: one
# million events with 10,000 distinct stacks symbolized in under 5 s).
# bench/synth_trace writes the trace once (not timed): real objects, real
# function addresses in every frame. Each report is timed against reading
# the same trace for the summary alone (no stack is named), in one run:
# best of REPS, and the ratio says what naming the stacks adds.
#
#   bench/symbolize.sh          (make bench builds what it needs, then runs this)
#   EVENTS=2000000 STACKS=20000 REPS=5 bench/symbolize.sh
#
# Not a test: the seconds move with the machine's load.
set -eu

BUILD=${BUILD:-build}
EVENTS=${EVENTS:-1000000}
STACKS=${STACKS:-10000}
REPS=${REPS:-3}
REPORT=$BUILD/memtrack-report
TARGET=5

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$BUILD/bench/synth_trace" "$EVENTS" "$STACKS" >"$dir/trace.jsonl"

seconds() { # command... -> wall seconds, best of REPS
	local best="" s e
	for ((i = 0; i < REPS; i++)); do
		s=$(date +%s.%N)
		"$@" >/dev/null 2>&1
		e=$(date +%s.%N)
		best=$(awk -v b="$best" -v t="$(awk -v s="$s" -v e="$e" 'BEGIN { print e - s }')" \
			'BEGIN { print (b == "" || t < b) ? t : b }')
	done
	echo "$best"
}

T=$dir/trace.jsonl
base=$(seconds "$REPORT" "$T")
echo "memtrack-report on $EVENTS events, $STACKS stacks ($(du -h "$T" | cut -f1) of JSONL), best of $REPS:"
printf '%-46s %8s %8s %s\n' "report" "seconds" "x base" "target"
printf '%-46s %8.2f %8.2f\n' "summary only (reads all, names nothing)" "$base" 1
while IFS='|' read -r what args; do
	# shellcheck disable=SC2086 # args are words
	t=$(seconds "$REPORT" --no-summary $args "$T")
	awk -v w="$what" -v t="$t" -v b="$base" -v g="$TARGET" 'BEGIN {
		printf "%-46s %8.2f %8.2f %s\n", w, t, t / b, t < g ? "under " g " s" : "OVER " g " s"
	}'
done <<EOF
--leaks, every stack named|--leaks --top 1000000
folded stacks of allocated bytes|--folded-alloc $dir/alloc.folded
pprof profile|--pprof $dir/heap.pb.gz
all of them at once|--leaks --folded-alloc $dir/a.folded --folded $dir/l.folded --pprof $dir/p.pb.gz
EOF

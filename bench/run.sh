#!/usr/bin/env bash
# The cost of tracing a malloc/free pair (SPEC.md section 6), every way
# memtrack offers, measured side by side in one run and reported as ratios
# to the untraced program: alternate the modes, REPS times, take medians.
# memtrack-load without -o is a report-only run (the kernel keeps the
# totals); with -o every event crosses to user space: both are measured.
#
#   bench/run.sh            (make bench builds what it needs, then runs this)
#   REPS=9 FAST=5000000 SLOW=50000 bench/run.sh
#
# Needs root for the traced modes. Not a test: on a busy machine the
# numbers move; the ratios are what to read.
set -eu
# shellcheck source=bench/stats.sh
. "$(dirname "$0")/stats.sh"

BUILD=${BUILD:-build}
REPS=${REPS:-5}
FAST=${FAST:-5000000} # pairs when nothing traps
SLOW=${SLOW:-20000}   # pairs when every call traps into the kernel
LOOP=$BUILD/bench/alloc_loop
SHIM=$(realpath "$BUILD/libmemtrack-usdt.so")
SHIM_NOP1=$(realpath "$BUILD/bench/libmemtrack-usdt-nop1.so")
LOAD=$BUILD/memtrack-load
CPU=${CPU:-1} # the program on one CPU; the tracer's reader is free to use the other

run() { # mode -> ns per pair
	case $1 in
	base) "$LOOP" "$FAST" "$CPU" ;;
	idle) LD_PRELOAD=$SHIM "$LOOP" "$FAST" "$CPU" ;;
	# the probes' own cost: no stacks (taking one costs more than the probe)
	usdt5) "$LOAD" --stack-depth 0 --source usdt -- "$LOOP" "$SLOW" "$CPU" 2>/dev/null ;;
	usdt1) MEMTRACK_USDT_SHIM=$SHIM_NOP1 "$LOAD" --stack-depth 0 --source usdt -- \
		"$LOOP" "$SLOW" "$CPU" 2>/dev/null ;;
	uprobe) "$LOAD" --stack-depth 0 -- "$LOOP" "$SLOW" "$CPU" 2>/dev/null ;;
	esac
}

modes="base idle usdt5 usdt1 uprobe"
declare -A samples
for ((i = 0; i < REPS; i++)); do
	for m in $modes; do
		samples[$m]+="$(run "$m") "
	done
done

declare -A med
for m in $modes; do
	med[$m]=$(median <<<"${samples[$m]}")
done

describe() {
	case $1 in
	base) echo "no shim, untraced" ;;
	idle) echo "libmemtrack-usdt.so preloaded, nobody listening" ;;
	usdt5) echo "shim + memtrack-load --source usdt (5-byte nop)" ;;
	usdt1) echo "shim + memtrack-load --source usdt (1-byte nop)" ;;
	uprobe) echo "memtrack-load, uprobe source" ;;
	esac
}

echo "malloc(16..4096) + free, ns per pair, the program's own clock, no stacks:"
echo "median of $REPS runs (${FAST} or ${SLOW} pairs each)"
printf '%-50s %10s %10s\n' "mode" "ns/pair" "x base"
for m in $modes; do
	printf '%-50s %10.1f %10.2f\n' "$(describe "$m")" "${med[$m]}" \
		"$(awk -v a="${med[$m]}" -v b="${med[base]}" 'BEGIN { print a / b }')"
done
echo
awk -v i="${med[idle]}" -v b="${med[base]}" -v u5="${med[usdt5]}" -v u1="${med[usdt1]}" \
	-v up="${med[uprobe]}" 'BEGIN {
	printf "shim idle / no shim:               %.2fx  (target at most 1.10x)\n", i / b
	# issue 3 asked for 5x when a uprobe pair cost 12 us; on emulated instructions it costs ~2.6 us
	printf "uprobe pair / USDT pair (5-byte):   %.1fx  (the USDT source is still the cheaper)\n", up / u5
	printf "1-byte nop / 5-byte nop probe pair: %.1fx\n", u1 / u5
}'

# Report-only against streaming, as users run them (with stacks). The
# program's own clock misses the tracer's reader, which runs on the other
# CPU: count every CPU second of the program and memtrack-load together,
# for SLOW pairs minus for one pair (start-up, BPF load and reports cancel
# out).
cpu() { # command... -> CPU seconds of it and its children
	local TIMEFORMAT="%U %S" t
	t=$({ time "$@" >/dev/null 2>&1; } 2>&1)
	awk '{ print $1 + $2 }' <<<"$t"
}
cpu_per_pair() { # pairs, memtrack-load options... -> CPU ns per pair
	local pairs=$1 n one
	shift
	n=$(cpu "$LOAD" "$@" -- "$LOOP" "$pairs" "$CPU")
	one=$(cpu "$LOAD" "$@" -- "$LOOP" 1 "$CPU")
	awk -v n="$n" -v o="$one" -v p="$pairs" 'BEGIN { print (n - o) / p * 1e9 }'
}
declare -A cpus
for ((i = 0; i < REPS; i++)); do
	# enough pairs that the traced part outweighs start-up: USDT calls are cheaper
	cpus[up]+="$(cpu_per_pair $((SLOW * 2))) "
	cpus[upj]+="$(cpu_per_pair $((SLOW * 2)) -o /dev/null) "
	cpus[u5]+="$(cpu_per_pair $((SLOW * 10)) --source usdt) "
	cpus[u5j]+="$(cpu_per_pair $((SLOW * 10)) --source usdt -o /dev/null) "
done
for k in up upj u5 u5j; do
	cpus[$k]=$(median <<<"${cpus[$k]}")
done
echo
echo "CPU per traced pair with stacks, program and memtrack-load together (median of $REPS):"
printf '%-50s %10s\n' "mode" "ns/pair"
printf '%-50s %10.0f\n' "uprobe, report-only" "${cpus[up]}" "uprobe, streaming JSONL (-o)" "${cpus[upj]}" \
	"USDT, report-only" "${cpus[u5]}" "USDT, streaming JSONL (-o)" "${cpus[u5j]}"
awk -v a="${cpus[up]}" -v b="${cpus[upj]}" -v c="${cpus[u5]}" -v d="${cpus[u5j]}" 'BEGIN {
	printf "streaming / report-only CPU, uprobe: %.2fx  (target more than 1x)\n", b / a
	printf "streaming / report-only CPU, USDT:   %.2fx  (target more than 1x)\n", d / c
}'

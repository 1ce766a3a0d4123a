#!/usr/bin/env bash
# The cost of tracing a malloc/free pair (SPEC.md section 6), every way
# memtrack offers, measured side by side in one run and reported as ratios
# to the untraced program: alternate the modes, REPS times, take medians.
#
#   bench/run.sh            (make bench builds what it needs, then runs this)
#   REPS=9 FAST=5000000 SLOW=50000 bench/run.sh
#
# Needs root for the traced modes. Not a test: on a busy machine the
# numbers move; the ratios are what to read.
set -eu

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
	usdt5) "$LOAD" --source usdt -- "$LOOP" "$SLOW" "$CPU" 2>/dev/null ;;
	usdt1) MEMTRACK_USDT_SHIM=$SHIM_NOP1 "$LOAD" --source usdt -- "$LOOP" "$SLOW" "$CPU" 2>/dev/null ;;
	uprobe) "$LOAD" -- "$LOOP" "$SLOW" "$CPU" 2>/dev/null ;;
	esac
}

modes="base idle usdt5 usdt1 uprobe"
declare -A samples
for ((i = 0; i < REPS; i++)); do
	for m in $modes; do
		samples[$m]+="$(run "$m") "
	done
done

median() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
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

echo "malloc(16..4096) + free, ns per pair: median of $REPS runs (${FAST} or ${SLOW} pairs each)"
printf '%-50s %10s %10s\n' "mode" "ns/pair" "x base"
for m in $modes; do
	printf '%-50s %10.1f %10.2f\n' "$(describe "$m")" "${med[$m]}" \
		"$(awk -v a="${med[$m]}" -v b="${med[base]}" 'BEGIN { print a / b }')"
done
echo
awk -v i="${med[idle]}" -v b="${med[base]}" -v u5="${med[usdt5]}" -v u1="${med[usdt1]}" \
	-v up="${med[uprobe]}" 'BEGIN {
	printf "shim idle / no shim:               %.2fx  (target at most 1.10x)\n", i / b
	printf "uprobe pair / USDT pair (5-byte):   %.1fx  (target at least 5x)\n", up / u5
	printf "1-byte nop / 5-byte nop probe pair: %.1fx\n", u1 / u5
}'

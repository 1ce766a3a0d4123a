#!/usr/bin/env bash
# memtrack side by side with its peers (stock bpftrace, heaptrack, valgrind)
# and with itself in every mode, in one run: per-pair cost, the tax on
# processes it does not trace, fork-heavy work, two threads, events per
# second to a JSONL file, its own CPU and memory, start-up and teardown,
# one million live blocks. Every figure is the median of REPS runs (with
# min and max); the modes alternate within each repetition, so that a load
# change on the machine hits all of them alike. Prints a table, the targets
# as ratios measured in this same run, and writes the numbers as JSON to
# $BUILD/bench/peers.json.
#
#   bench/peers.sh                  (make bench builds what it needs, then runs this)
#   REPS=3 QUICK=1 bench/peers.sh   (fewer pairs: a minute or two, to try it out)
#   MEASURES="pairs startup" bench/peers.sh   (only some sections; the others print empty)
#
# Needs root. Not a test: on a shared machine the numbers move; read the
# ratios, and min and max say how much they moved. docs/PERFORMANCE.md says
# what each row measures, and how.
set -eu
# shellcheck source=bench/stats.sh
. "$(dirname "$0")/stats.sh"

BUILD=${BUILD:-build}
REPS=${REPS:-5}
QUICK=${QUICK:-0}
CPU=${CPU:-1} # alloc_loop's CPU, as run.sh: a tracer's reader has the other one
if [ "$QUICK" = 1 ]; then
	FAST=500000 SLOW=5000 EV_PAIRS=200000 LIVE_N=200000 FORKS=50 SECS=1
else
	# FAST pairs when nothing traps, SLOW when every call does (microseconds each)
	FAST=5000000 SLOW=20000 EV_PAIRS=2000000 LIVE_N=1000000 FORKS=200 SECS=3
fi

LOOP=$(realpath "$BUILD/bench/alloc_loop")
STAMP=$(realpath "$BUILD/bench/stamp")
LIVE=$(realpath "$BUILD/bench/live_million")
LOAD=$(realpath "$BUILD/memtrack-load")
SHIM=$(realpath "$BUILD/libmemtrack-usdt.so")
JSON=$BUILD/bench/peers.json
# the libc alloc_loop really loads: bpftrace's uprobes name a file, not a soname
LIBC=$(realpath "$(ldd "$LOOP" | awk '$1 == "libc.so.6" { print $3 }')")
# the floor: the same three probes memtrack needs for a pair, doing nothing but count
BT_UPROBES="uprobe:$LIBC:malloc { @a = count(); } uretprobe:$LIBC:malloc { @b = count(); }
uprobe:$LIBC:free { @c = count(); }"
# BEGIN fires once every probe is attached: the start signal for the -p runs
BT_USDT="usdt:$SHIM:memtrack:malloc { @a = count(); } usdt:$SHIM:memtrack:free { @c = count(); }
BEGIN { printf(\"ready\\n\"); }"
FORK_LOOP="i=0; while [ \$i -lt $FORKS ]; do /bin/true; i=\$((i+1)); done"

if [ "$(id -u)" -ne 0 ]; then
	echo "peers.sh: needs root (BPF, uprobes)" >&2
	exit 1
fi

T=$(mktemp -d)
BG="" # background processes this script started, ended on exit if still there
cleanup() {
	local p
	for p in $BG; do
		kill "$p" 2>/dev/null || true
	done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

have() { command -v "$1" >/dev/null 2>&1; }

# ---------------------------------------------------------------------------
# Rows: declared once, in the order printed; samples appended per repetition

ORDER=() # row ids, and "#title" for a section heading
declare -A LABEL UNIT REF NOTE SAMPLES
# how the ratio column names its reference rows
declare -A SHORT=([pair_base]="untraced" [fork_base]="untraced" [true_bt]="bpftrace")

section() { ORDER+=("#$1"); }
row() { # id unit reference-row label
	ORDER+=("$1")
	UNIT[$1]=$2 REF[$1]=$3 LABEL[$1]=$4 SAMPLES[$1]="" NOTE[$1]=""
}
missing() { NOTE[$1]="not installed"; }

# The machine is shared, and another user's tracer with system-wide probes
# (memtrack-load -a, --system-probes, bpftrace, a test suite running them)
# makes every malloc of every process trap: the untraced pair goes from
# about 10 ns to hundreds, and every row with it. A short untraced loop
# tells: before a trial, wait while it is slow (at most QUIET_BUDGET seconds
# over the whole run); after it, if such probes came meanwhile, run the
# trial again (up to 3 times; then its numbers are kept, and counted).
QUIET_NS=${QUIET_NS:-100} # an untraced pair slower than this: someone's probes are in
QUIET_BUDGET=${QUIET_BUDGET:-300}
QUIET_WAITED=0  # tenths of a second waited
QUIET_RETRIED=0 # trials run again
QUIET_KEPT=0    # trials kept with the probes still there (budget spent, or 3 tries)
is_quiet() {
	local v
	v=$("$LOOP" 100000 "$CPU") || return 0
	awk -v v="$v" -v l="$QUIET_NS" 'BEGIN { exit !(v <= l) }'
}
# after a trial: our own probes may linger a moment (memtrack-load and
# bpftrace let go of them after they exit), so give them two seconds
settled() {
	local i
	for ((i = 0; i < 8; i++)); do
		is_quiet && return 0
		sleep 0.25
	done
	return 1
}
budget_left() { [ "$QUIET_WAITED" -lt $((QUIET_BUDGET * 10)) ]; }
quiet() {
	while ! is_quiet && budget_left; do
		sleep 0.5
		QUIET_WAITED=$((QUIET_WAITED + 5))
	done
}

# A trial runs a measuring function, which reports with add; its values
# are kept only once the trial is over, so that a spoilt one can be re-run.
TRIAL_ADDS=()
add() { TRIAL_ADDS+=("$1" "${2:-NA}"); } # id value (NA: this run failed)
trial() { # function, arguments...
	local tries i
	for ((tries = 1; tries <= 3; tries++)); do
		TRIAL_ADDS=()
		quiet
		"$@" || true # a failed run reports NA itself
		settled && break
		if [ "$tries" -eq 3 ] || ! budget_left; then
			QUIET_KEPT=$((QUIET_KEPT + 1))
			break
		fi
		QUIET_RETRIED=$((QUIET_RETRIED + 1))
	done
	for ((i = 0; i < ${#TRIAL_ADDS[@]}; i += 2)); do
		SAMPLES[${TRIAL_ADDS[i]}]+="${TRIAL_ADDS[i + 1]} "
	done
	TRIAL_ADDS=()
}
sample_once() { # id, command...: one sample, what the command prints
	local id=$1
	shift
	add "$id" "$("$@")"
}
sample() { trial sample_once "$@"; }

# ---------------------------------------------------------------------------
# Measuring helpers

# the ns per pair alloc_loop printed: the last line that is only a number
# (bpftrace's and heaptrack's own lines never are)
loop_ns() {
	"$@" 2>/dev/null | awk '/^[0-9]+(\.[0-9]+)?$/ { v = $1 } END { if (v == "") exit 1; print v }'
}

now_us() { echo "${EPOCHREALTIME/./}"; }

wall_ms() { # command... -> wall milliseconds (fails if the command does)
	local s e
	s=$(now_us)
	"$@" >/dev/null 2>&1 || return 1
	e=$(now_us)
	echo $(((e - s) / 1000)).$(((e - s) % 1000 / 100))
}

# the N of memtrack-load's "memtrack: N events dropped (...)" on stderr
drops_in() { sed -n 's/^memtrack: \([0-9]*\) events dropped.*/\1/p' "$1" | tail -n 1; }

wait_for() { # pattern file pid: until pattern is in file; fails if pid ends first, or after 30 s
	local i
	for ((i = 0; i < 3000; i++)); do
		grep -q -- "$1" "$2" 2>/dev/null && return 0
		kill -0 "$3" 2>/dev/null || break
		sleep 0.01
	done
	grep -q -- "$1" "$2" 2>/dev/null
}

wait_gone() { # pid: wait for it (our child) to end, killing it after 20 s
	local i
	for ((i = 0; i < 2000; i++)); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.01
	done
	kill "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

# Start memtrack-load in the background tracing something other than the
# measured program; LOADER and TRACED say whom to stop. -v prints
# "started ... as process N" / "tracing process N" once the probes are in.
LOADER="" TRACED=""
start_loader() { # memtrack-load options... (ending in "-- cmd" or "-p PID")
	"$LOAD" -v "$@" >/dev/null 2>"$T/loader.err" &
	LOADER=$!
	BG+=" $LOADER"
	wait_for "process [0-9]" "$T/loader.err" "$LOADER" || return 1
	[ -n "$TRACED" ] || TRACED=$(sed -n 's/.*started .* as process \([0-9]*\).*/\1/p' "$T/loader.err")
	sleep 0.2 # let the exec'd command settle: its own start-up allocations trap
}
stop_loader() { # ending the traced process ends memtrack-load, as it would for a user
	[ -z "$TRACED" ] || kill "$TRACED" 2>/dev/null || true
	wait_gone "$LOADER"
	LOADER="" TRACED=""
}

# ---------------------------------------------------------------------------
# 1. malloc + free, ns per pair

section "malloc(16..4096) + free, ns per pair (alloc_loop's clock, CPU $CPU; $FAST pairs untraced, $SLOW traced)"
row pair_base ns pair_base "untraced"
row pair_idle ns pair_base "shim preloaded, nobody attached"
row usdt ns pair_base "memtrack --source usdt, report-only, stacks 64"
row usdt0 ns pair_base "memtrack --source usdt, report-only, --stack-depth 0"
row up_stream ns pair_base "memtrack uprobe, -o /dev/null, stacks 64"
row up_stream0 ns pair_base "memtrack uprobe, -o /dev/null, --stack-depth 0"
row up_report ns pair_base "memtrack uprobe, report-only, stacks 64"
row up_report0 ns pair_base "memtrack uprobe, report-only, --stack-depth 0"
row bt_uprobe ns pair_base "bpftrace: count the 3 uprobes (floor)"
row bt_usdt ns pair_base "bpftrace: count the shim's 2 USDT probes (floor)"
row heaptrack ns pair_base "heaptrack"
row valgrind ns pair_base "valgrind memcheck"
have bpftrace || { missing bt_uprobe; missing bt_usdt; }
have heaptrack || missing heaptrack
have valgrind || missing valgrind

# bpftrace 0.17 does not attach to the shim's USDT probes with -c, even
# with LD_PRELOAD passed through env: "Error finding location for probe"
# (it seems to look for the shim in the child's maps before the child has
# exec'd and loaded it). So alloc_loop
# runs preloaded first, waits after its warm-up (ALLOC_LOOP_GO), bpftrace
# attaches with -p, its BEGIN says "ready", and only then the timed pairs
# start; bpftrace exits by itself when the process does. The count must
# cover every timed pair, else the run is not counted.
bt_usdt_run() {
	local lp bp n
	rm -f "$T/go" "$T/bt.out"
	ALLOC_LOOP_GO=$T/go LD_PRELOAD=$SHIM "$LOOP" "$SLOW" "$CPU" >"$T/bt.out" &
	lp=$!
	timeout 120 bpftrace -p "$lp" -e "$BT_USDT" >"$T/bt.log" 2>&1 &
	bp=$!
	BG+=" $lp $bp"
	if ! wait_for ready "$T/bt.log" "$bp"; then
		kill "$lp" 2>/dev/null || true
		wait_gone "$lp"
		wait_gone "$bp"
		add bt_usdt NA
		return 0
	fi
	touch "$T/go"
	wait "$lp" || true
	wait_gone "$bp"
	n=$(sed -n 's/^@a: \([0-9]*\)/\1/p' "$T/bt.log")
	if [ "${n:-0}" -ge "$SLOW" ]; then
		add bt_usdt "$(loop_ns cat "$T/bt.out")"
	else
		add bt_usdt NA
	fi
}

measure_pairs() {
	sample pair_base loop_ns "$LOOP" "$FAST" "$CPU"
	sample pair_idle loop_ns env LD_PRELOAD="$SHIM" "$LOOP" "$FAST" "$CPU"
	sample usdt loop_ns "$LOAD" --source usdt -- "$LOOP" "$SLOW" "$CPU"
	sample usdt0 loop_ns "$LOAD" --source usdt --stack-depth 0 -- "$LOOP" "$SLOW" "$CPU"
	sample up_stream loop_ns "$LOAD" -o /dev/null -- "$LOOP" "$SLOW" "$CPU"
	sample up_stream0 loop_ns "$LOAD" -o /dev/null --stack-depth 0 -- "$LOOP" "$SLOW" "$CPU"
	sample up_report loop_ns "$LOAD" -- "$LOOP" "$SLOW" "$CPU"
	sample up_report0 loop_ns "$LOAD" --stack-depth 0 -- "$LOOP" "$SLOW" "$CPU"
	if have bpftrace; then
		sample bt_uprobe loop_ns bpftrace -e "$BT_UPROBES" -c "$LOOP $SLOW $CPU"
		trial bt_usdt_run
	fi
	if have heaptrack; then
		sample heaptrack loop_ns heaptrack -o "$T/heaptrack" "$LOOP" "$SLOW" "$CPU"
		rm -f "$T"/heaptrack*
	fi
	have valgrind && sample valgrind loop_ns valgrind --tool=memcheck -q "$LOOP" "$SLOW" "$CPU"
	return 0
}

# ---------------------------------------------------------------------------
# 2. The host tax: an untraced alloc_loop while memtrack-load traces another process

# The pinned loop shows what the probes cost a process memtrack does not
# trace, but not CPU the tracer's own processes take: the scheduler may keep
# them on the other CPU. Two unpinned threads keep both CPUs busy, so any
# CPU memtrack-load takes meanwhile shows in their ns per pair.
section "host tax: untraced alloc_loop, ns per pair, while memtrack-load traces another process"
row tax_cmd ns pair_base "during memtrack-load -- sleep"
row tax_pid ns pair_base "during memtrack-load -p PID of an unrelated sleep"
row tax_sys ns pair_base "during memtrack-load --system-probes -- sleep ($SLOW pairs)"
row tax2_base ns tax2_base "2 threads unpinned (both CPUs busy), untraced"
row tax2_cmd ns tax2_base "2 threads unpinned, during memtrack-load -- sleep"
SHORT[tax2_base]="2 threads untraced"

tax_run() { # id, pairs, cpu, threads, memtrack-load options...: the untraced loop, meanwhile
	local id=$1 pairs=$2 cpu=$3 threads=$4 v=NA
	shift 4
	if start_loader "$@"; then
		v=$(loop_ns "$LOOP" "$pairs" "$cpu" "$threads") || v=NA
	fi
	stop_loader
	add "$id" "$v"
}

tax_pid_run() { # an unrelated sleep, for -p
	local sp
	sleep 30 &
	sp=$!
	BG+=" $sp"
	TRACED=$sp # stop_loader ends it, and memtrack-load with it
	tax_run tax_pid "$FAST" "$CPU" 1 -p "$sp"
	wait "$sp" 2>/dev/null || true
}

measure_tax() {
	trial tax_run tax_cmd "$FAST" "$CPU" 1 -- sleep 30
	trial tax_pid_run
	trial tax_run tax_sys "$SLOW" "$CPU" 1 --system-probes -- sleep 30
	sample tax2_base loop_ns "$LOOP" "$FAST" -1 2
	trial tax_run tax2_cmd "$FAST" -1 2 -- sleep 30
}

# ---------------------------------------------------------------------------
# 3. Fork-heavy: a shell loop of /bin/true, wall time

section "fork-heavy: sh loop of $FORKS x /bin/true, wall ms (memtrack-load's start and end included)"
row fork_base ms fork_base "untraced"
row fork_pp ms fork_base "memtrack-load -- (per-process probes, default)"
row fork_sys ms fork_base "memtrack-load --system-probes --"

measure_fork() {
	sample fork_base wall_ms sh -c "$FORK_LOOP"
	sample fork_pp wall_ms "$LOAD" -- sh -c "$FORK_LOOP"
	sample fork_sys wall_ms "$LOAD" --system-probes -- sh -c "$FORK_LOOP"
}

# ---------------------------------------------------------------------------
# 4. Two threads at once, unpinned (two CPUs, and the reader competes)

section "two threads x $SLOW pairs, unpinned: ns per pair (wall / all pairs) and events dropped"
row mt_stream ns "" "memtrack uprobe, -o /dev/null"
row mt_stream_drop events "" "memtrack uprobe, -o /dev/null: dropped"
row mt_report ns "" "memtrack uprobe, report-only"
row mt_report_drop events "" "memtrack uprobe, report-only: dropped"

two_threads() { # id, memtrack-load options...
	local id=$1 ns
	shift
	ns=$("$LOAD" "$@" -- "$LOOP" "$SLOW" -1 2 2>"$T/mt.err" |
		awk '/^[0-9]+(\.[0-9]+)?$/ { v = $1 } END { print v }') || ns=""
	add "$id" "$ns"
	add "${id}_drop" "$(drops_in "$T/mt.err")"
}

measure_threads() {
	trial two_threads mt_stream -o /dev/null
	trial two_threads mt_report
}

# ---------------------------------------------------------------------------
# 5. Events per second, ring buffer to a JSONL file

section "USDT source to a JSONL file (-o FILE, stacks 64), alloc_loop $EV_PAIRS pairs"
row ev_span events/s "" "allocator events / span of their timestamps"
row ev_wall events/s "" "allocator events / memtrack-load's wall time"
row ev_drop events "" "events dropped (the Stats record)"

events_once() {
	local s e f=$T/events.jsonl span wall drop
	s=$(now_us)
	if ! "$LOAD" --source usdt -o "$f" -- "$LOOP" "$EV_PAIRS" "$CPU" >/dev/null 2>&1; then
		add ev_span NA
		add ev_wall NA
		add ev_drop NA
		return 0
	fi
	e=$(now_us)
	# one pass: allocator lines, their first and last timestamps, the Stats' drops
	read -r span wall drop <<<"$(awk -v wall_us=$((e - s)) '
		/^\{"type":"(Malloc|Calloc|Realloc|AlignedAlloc|Free)"/ {
			if (match($0, /"timestamp":[0-9]+/)) {
				t = substr($0, RSTART + 12, RLENGTH - 12) + 0
				if (n == 0 || t < first) first = t
				if (t > last) last = t
			}
			n++
		}
		/^\{"type":"Stats"/ && match($0, /"dropped":[0-9]+/) { d = substr($0, RSTART + 10, RLENGTH - 10) }
		END {
			span = (last - first) / 1e9
			printf "%s %.0f %s\n", (span > 0 ? sprintf("%.0f", n / span) : "NA"),
				n / (wall_us / 1e6), (d == "" ? "NA" : d)
		}' "$f")"
	rm -f "$f"
	add ev_span "$span"
	add ev_wall "$wall"
	add ev_drop "$drop"
}

measure_events() { trial events_once; }

# ---------------------------------------------------------------------------
# 6. memtrack-load's own CPU and memory, attached to a busy process

section "memtrack-load -p PID -d $SECS on a running alloc_loop: its own CPU (user+sys) and peak RSS"
row cpu_report s "" "report-only: CPU"
row rss_report MB "" "report-only: peak RSS"
row cpu_stream s "" "-o /dev/null: CPU"
row rss_stream MB "" "-o /dev/null: peak RSS"
[ -x /usr/bin/time ] || { missing cpu_report; missing rss_report; missing cpu_stream; missing rss_stream; }

own_cost() { # id-suffix, memtrack-load options...
	local id=$1 lp cpu=NA rss=NA
	shift
	# long enough to outlast the attach and -d however slow the trapped pairs are
	"$LOOP" 2000000000 "$CPU" >/dev/null &
	lp=$!
	BG+=" $lp"
	if /usr/bin/time -f '%U %S %M' -o "$T/time" "$LOAD" -p "$lp" -d "$SECS" "$@" >/dev/null 2>&1; then
		read -r cpu rss <<<"$(awk '{ printf "%.3f %.1f\n", $1 + $2, $3 / 1024 }' "$T/time" | tail -n 1)"
	fi
	kill "$lp" 2>/dev/null || true
	wait "$lp" 2>/dev/null || true
	add "cpu_$id" "$cpu"
	add "rss_$id" "$rss"
}

measure_own() {
	[ -x /usr/bin/time ] || return 0
	trial own_cost report
	trial own_cost stream -o /dev/null
}

# ---------------------------------------------------------------------------
# 7. Start-up and teardown

section "start-up (invocation to the command's first instruction) and teardown (its exit to the tracer's), ms"
row st_floor_start ms "" "no tracer, start-up (the method's own floor)"
row st_floor_tear ms "" "no tracer, teardown (the method's own floor)"
row st_mt_start ms "" "memtrack-load --: start-up"
row st_mt_tear ms "" "memtrack-load --: teardown"
row st_bt_start ms "" "bpftrace -c (3 uprobes): start-up"
row st_bt_tear ms "" "bpftrace -c (3 uprobes): teardown"
row true_base ms "" "/bin/true end to end: untraced"
row true_mt ms true_bt "/bin/true end to end: memtrack-load --"
row true_bt ms true_bt "/bin/true end to end: bpftrace -c (3 uprobes)"
row true_ht ms true_bt "/bin/true end to end: heaptrack"
have bpftrace || { missing st_bt_start; missing st_bt_tear; missing true_bt; }
have heaptrack || missing true_ht

# stamp before, the command stamps itself, stamp after: all CLOCK_MONOTONIC
stamped() { # id, tracer words... (empty: none); the command is "stamp FILE"
	local id=$1 t0 t1 t2
	shift
	"$STAMP" "$T/t0"
	if [ "$#" -eq 0 ]; then
		"$STAMP" "$T/t1"
	elif [ "$1" = bpftrace ]; then
		bpftrace -e "$BT_UPROBES" -c "$STAMP $T/t1" >/dev/null 2>&1 || true
	else
		"$@" "$STAMP" "$T/t1" >/dev/null 2>&1 || true
	fi
	"$STAMP" "$T/t2"
	read -r t0 <"$T/t0"
	read -r t1 <"$T/t1" || t1=""
	read -r t2 <"$T/t2"
	rm -f "$T/t1"
	if [ -z "$t1" ]; then
		add "${id}_start" NA
		add "${id}_tear" NA
		return 0
	fi
	add "${id}_start" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", (b - a) / 1e6 }')"
	add "${id}_tear" "$(awk -v a="$t1" -v b="$t2" 'BEGIN { printf "%.2f", (b - a) / 1e6 }')"
}

measure_startup() {
	trial stamped st_floor
	trial stamped st_mt "$LOAD" --
	have bpftrace && trial stamped st_bt bpftrace
	sample true_base wall_ms /bin/true
	sample true_mt wall_ms "$LOAD" -- /bin/true
	have bpftrace && sample true_bt wall_ms bpftrace -e "$BT_UPROBES" -c /bin/true
	if have heaptrack; then
		sample true_ht wall_ms heaptrack -o "$T/heaptrack" /bin/true
		rm -f "$T"/heaptrack*
	fi
	return 0
}

# ---------------------------------------------------------------------------
# 8. One million live blocks

section "live_million: $LIVE_N small blocks kept live, under memtrack-load (uprobe, stacks 64)"
row lm_report_rss MB "" "report-only: memtrack-load peak RSS"
row lm_report_wall s "" "report-only: wall"
row lm_report_drop events "" "report-only: dropped"
row lm_stream_rss MB "" "-o /dev/null: memtrack-load peak RSS"
row lm_stream_wall s "" "-o /dev/null: wall"
row lm_stream_drop events "" "-o /dev/null: dropped"
[ -x /usr/bin/time ] || { missing lm_report_rss; missing lm_report_wall; missing lm_report_drop; \
	missing lm_stream_rss; missing lm_stream_wall; missing lm_stream_drop; }

live_run() { # id-prefix, memtrack-load options...
	local id=$1 rss=NA wall=NA
	shift
	if /usr/bin/time -f '%e %M' -o "$T/time" "$LOAD" "$@" -- "$LIVE" "$LIVE_N" >/dev/null 2>"$T/live.err"; then
		read -r rss wall <<<"$(awk '{ printf "%.1f %.2f\n", $2 / 1024, $1 }' "$T/time" | tail -n 1)"
	fi
	add "${id}_rss" "$rss"
	add "${id}_wall" "$wall"
	add "${id}_drop" "$(drops_in "$T/live.err")"
}

measure_live() {
	[ -x /usr/bin/time ] || return 0
	trial live_run lm_report
	trial live_run lm_stream -o /dev/null
}

# ---------------------------------------------------------------------------
# 9. Stack unwinding: what walking the stack adds to a traced pair, fp and dwarf

# alloc_loop_fp keeps frame pointers, so that --unwind fp walks as far as
# dwarf does and the two costs compare the same frames. Shallow: the pairs
# are made from main (about 5 frames); deep: 32 calls further down.
section "stack unwinding: ns per traced pair, report-only, alloc_loop with frame pointers"
for src in uprobe usdt; do
	for d in shallow deep; do
		row "uw_${src}_${d}_none" ns "uw_${src}_${d}_none" "$src, $d stacks, --stack-depth 0"
		SHORT[uw_${src}_${d}_none]="no stacks"
		row "uw_${src}_${d}_fp" ns "uw_${src}_${d}_none" "$src, $d stacks, --unwind fp"
		row "uw_${src}_${d}_dwarf" ns "uw_${src}_${d}_none" "$src, $d stacks, --unwind dwarf"
	done
done
section "unwind tables: ms to compile an object's call-frame information (best of 5), once per object"
for o in libc libstdcxx libpython; do
	row "cfi_$o" ms "cfi_$o" "$o"
done

LOOP_FP=$(realpath "$BUILD/bench/alloc_loop_fp")
CFI_BUILD=$(realpath "$BUILD/bench/cfi_build")
CFI_OBJECTS=(/usr/lib/x86_64-linux-gnu/libc.so.6 /usr/lib/x86_64-linux-gnu/libstdc++.so.6
	/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0)

cfi_ms() { # object: its best build time
	"$CFI_BUILD" "$1" | awk '{ print $2 }'
}

measure_unwind() {
	local src_opts env_depth
	for src in uprobe usdt; do
		src_opts=(--source "$src")
		for d in shallow deep; do
			env_depth=0
			[ "$d" = deep ] && env_depth=32
			sample "uw_${src}_${d}_none" loop_ns env ALLOC_LOOP_DEPTH=$env_depth "$LOAD" \
				"${src_opts[@]}" --stack-depth 0 -- "$LOOP_FP" "$SLOW" "$CPU"
			sample "uw_${src}_${d}_fp" loop_ns env ALLOC_LOOP_DEPTH=$env_depth "$LOAD" \
				"${src_opts[@]}" --unwind fp -- "$LOOP_FP" "$SLOW" "$CPU"
			sample "uw_${src}_${d}_dwarf" loop_ns env ALLOC_LOOP_DEPTH=$env_depth "$LOAD" \
				"${src_opts[@]}" --unwind dwarf -- "$LOOP_FP" "$SLOW" "$CPU"
		done
	done
	local i=0
	for o in libc libstdcxx libpython; do
		if [ -r "${CFI_OBJECTS[$i]}" ]; then
			sample "cfi_$o" cfi_ms "${CFI_OBJECTS[$i]}"
		else
			missing "cfi_$o"
		fi
		i=$((i + 1))
	done
}

# ---------------------------------------------------------------------------
# Run: every measure once per repetition, in turn

MEASURES=${MEASURES:-pairs tax fork threads events own startup live unwind}
started=$(now_us)
for ((rep = 1; rep <= REPS; rep++)); do
	for m in $MEASURES; do
		echo "peers.sh: repetition $rep/$REPS: $m" >&2
		"measure_$m"
	done
done
elapsed=$((($(now_us) - started) / 1000000))

# ---------------------------------------------------------------------------
# Statistics, the table, the targets, the JSON

declare -A MED MIN MAX RUNS
for id in "${ORDER[@]}"; do
	[ "${id#\#}" = "$id" ] || continue
	read -r "MED[$id]" "MIN[$id]" "MAX[$id]" "RUNS[$id]" <<<"$(stats <<<"${SAMPLES[$id]}")" || true
done

fmt() { # unit value
	case $1 in
	ns | ms) awk -v v="$2" 'BEGIN { printf "%.1f", v }' ;;
	s) awk -v v="$2" 'BEGIN { printf "%.2f", v }' ;;
	MB) awk -v v="$2" 'BEGIN { printf "%.1f", v }' ;;
	*) awk -v v="$2" 'BEGIN { printf "%.0f", v }' ;;
	esac
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "NA" }'; }

echo
echo "memtrack peers benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "kernel $(uname -r); CPU $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)" \
	"x $(nproc); REPS=$REPS$([ "$QUICK" != 1 ] || echo " QUICK=1"); took ${elapsed}s"
echo "other users' system-wide probes: waited $((QUIET_WAITED / 10))s for them to go;" \
	"$QUIET_RETRIED trials run again as they came meanwhile; $QUIET_KEPT kept with them in"
echo "median of $REPS runs [min .. max]; last column: median / median of the row named"
for id in "${ORDER[@]}"; do
	if [ "${id#\#}" != "$id" ]; then
		printf '\n%s\n' "${id#\#}"
		continue
	fi
	if [ -n "${NOTE[$id]}" ]; then
		printf '  %-58s %s\n' "${LABEL[$id]}" "${NOTE[$id]}"
		continue
	fi
	if [ -z "${MED[$id]:-}" ]; then
		printf '  %-58s %s\n' "${LABEL[$id]}" \
			"$([ -n "${SAMPLES[$id]}" ] && echo "no run succeeded" || echo "not measured")"
		continue
	fi
	line=$(printf '  %-58s %10s %-8s [%s .. %s]' "${LABEL[$id]}" "$(fmt "${UNIT[$id]}" "${MED[$id]}")" \
		"${UNIT[$id]}" "$(fmt "${UNIT[$id]}" "${MIN[$id]}")" "$(fmt "${UNIT[$id]}" "${MAX[$id]}")")
	ref=${REF[$id]}
	if [ -n "$ref" ] && [ "$ref" != "$id" ] && [ -n "${MED[$ref]:-}" ]; then
		line=$(printf '%-98s %8sx %s' "$line" "$(ratio "${MED[$id]}" "${MED[$ref]}")" "${SHORT[$ref]}")
	fi
	[ "${RUNS[$id]}" -eq "$REPS" ] || line+="  (${RUNS[$id]} of $REPS runs)"
	echo "$line"
done

# targets: name, value, limit, unit of the value; met when value <= limit
TARGETS=()
target() { # name, value, limit, unit
	local met=no
	[ -n "$2" ] && [ "$2" != NA ] && awk -v v="$2" -v l="$3" 'BEGIN { exit !(v <= l) }' && met=yes
	[ -n "$2" ] || met="not measured"
	TARGETS+=("$1"$'\t'"${2:-NA}"$'\t'"$3"$'\t'"$4"$'\t'"$met")
}
r() { # row, reference row -> ratio of their medians, or nothing
	if [ -n "${MED[$1]:-}" ] && [ -n "${MED[$2]:-}" ]; then
		ratio "${MED[$1]}" "${MED[$2]}"
	fi
}
maxdrop=$(printf '%s %s\n' "${SAMPLES[mt_stream_drop]}" "${SAMPLES[mt_report_drop]}" | tr ' ' '\n' |
	grep -E '^[0-9]+$' | sort -n | tail -n 1 || true)

target "host tax: untraced pair during memtrack-load -- sleep / untraced" "$(r tax_cmd pair_base)" 1.10 x
target "host tax: untraced pair during memtrack-load -p / untraced" "$(r tax_pid pair_base)" 1.10 x
target "host tax, both CPUs busy (2 threads): during -- sleep / untraced" "$(r tax2_cmd tax2_base)" 1.10 x
target "uprobe, stacks 64, -o: pair / bpftrace uprobe floor" "$(r up_stream bt_uprobe)" 1.00 x
target "USDT, stacks 64: pair / bpftrace USDT floor" "$(r usdt bt_usdt)" 2 x
target "shim idle / untraced" "$(r pair_idle pair_base)" 1.10 x
target "fork-heavy: per-process / system-wide probes" "$(r fork_pp fork_sys)" 1.5 x
target "teardown of memtrack-load -- (ms)" "${MED[st_mt_tear]:-}" 200 ms
target "memtrack-load -- /bin/true / bpftrace -c /bin/true" "$(r true_mt true_bt)" 0.5 x
target "events dropped on the two-thread runs (most in one run)" "$maxdrop" 0 events
# what unwinding adds to a pair, dwarf over fp: (dwarf - none) / (fp - none)
added() { # none fp dwarf rows -> ratio of what dwarf and fp add
	if [ -n "${MED[$1]:-}" ] && [ -n "${MED[$2]:-}" ] && [ -n "${MED[$3]:-}" ]; then
		awk -v n="${MED[$1]}" -v f="${MED[$2]}" -v d="${MED[$3]}" \
			'BEGIN { if (f - n > 0) printf "%.2f", (d - n) / (f - n); else print "NA" }'
	fi
}
for src in uprobe usdt; do
	for d in shallow deep; do
		target "$src, $d stacks: added by dwarf / added by fp" \
			"$(added "uw_${src}_${d}_none" "uw_${src}_${d}_fp" "uw_${src}_${d}_dwarf")" 2 x
	done
done
target "unwind tables of libpython3.11 (ms)" "${MED[cfi_libpython]:-}" 100 ms

echo
echo "targets (this run's medians):"
for t in "${TARGETS[@]}"; do
	IFS=$'\t' read -r name value limit unit met <<<"$t"
	case $met in
	yes) met="met" ;;
	no) met="NOT met" ;;
	esac
	printf '  %-62s %8s %-6s limit %-5s %s\n' "$name" "$value" "$unit" "$limit" "$met"
done
echo "also: fork-heavy per-process / untraced $(r fork_pp fork_base)x, system-wide / untraced" \
	"$(r fork_sys fork_base)x; host tax with --system-probes $(r tax_sys pair_base)x;" \
	"uprobe streaming / USDT (stacks 64) $(r up_stream usdt)x"

# JSON: rows and targets go to python3 as tab-separated lines
{
	printf 'machine\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(uname -r)" \
		"$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)" "$(nproc)" \
		"$(date -u '+%Y-%m-%dT%H:%M:%SZ')" "$REPS" "$QUICK" "$((QUIET_WAITED / 10))" \
		"$QUIET_RETRIED" "$QUIET_KEPT"
	printf 'pairs\t%s\t%s\t%s\t%s\t%s\t%s\n' "$FAST" "$SLOW" "$EV_PAIRS" "$LIVE_N" "$FORKS" "$elapsed"
	section=""
	for id in "${ORDER[@]}"; do
		if [ "${id#\#}" != "$id" ]; then
			section=${id#\#}
			continue
		fi
		printf 'row\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$id" "${LABEL[$id]}" "$section" \
			"${UNIT[$id]}" "${MED[$id]:-}" "${MIN[$id]:-}" "${MAX[$id]:-}" "${SAMPLES[$id]}" "${NOTE[$id]}"
	done
	for t in "${TARGETS[@]}"; do
		printf 'target\t%s\n' "$t"
	done
} >"$T/rows.tsv"
/usr/bin/python3 - "$T/rows.tsv" "$JSON" <<'EOF'
import json, sys

def num(s):
    try:
        return float(s)
    except ValueError:
        return None

out = {"rows": [], "targets": []}
for line in open(sys.argv[1]):
    f = line.rstrip("\n").split("\t")
    if f[0] == "machine":
        out["machine"] = {"kernel": f[1], "cpu": f[2], "cpus": int(f[3]), "date": f[4],
                          "reps": int(f[5]), "quick": f[6] == "1",
                          "foreign_probes": {"waited_s": int(f[7]), "trials_rerun": int(f[8]),
                                             "trials_kept_with_them": int(f[9])}}
    elif f[0] == "pairs":
        out["parameters"] = dict(zip(["fast_pairs", "slow_pairs", "event_pairs", "live_blocks",
                                      "forks", "seconds_taken"], map(int, f[1:])))
    elif f[0] == "row":
        _, rid, label, section, unit, med, lo, hi, samples, note = f
        row = {"name": label, "id": rid, "section": section, "unit": unit,
               "median": num(med), "min": num(lo), "max": num(hi),
               "runs": [num(s) for s in samples.split()]}
        if note:
            row["note"] = note
        out["rows"].append(row)
    elif f[0] == "target":
        _, name, value, limit, unit, met = f
        out["targets"].append({"name": name, "value": num(value), "limit": num(limit),
                               "unit": unit, "met": met == "yes" if met in ("yes", "no") else None})
with open(sys.argv[2], "w") as fp:
    json.dump(out, fp, indent=1)
    fp.write("\n")
EOF
echo "peers.sh: wrote $JSON"

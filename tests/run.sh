#!/usr/bin/env bash
# Run every test program (cmocka, TAP output) and total the results; with
# SAN_BUILD, also every one of that build (make SANITIZE=1) under the sanitizers.
# The last line is always "N passed, N failed" (", N skipped" when some were).
# Exits non-zero if anything failed.
set -u

BUILD=${BUILD:-build}
export BUILD
# A debuginfod server named by the environment (Debian's profile can set
# one) would make symbolization wait on the network: test_debuginfo runs its own.
unset DEBUGINFOD_URLS
# A hung test must not hang CI: each program gets this many seconds, enough
# for the slowest (test_scripts: bpftrace compiles each script) on a machine
# running two test suites and a CPU hog beside it.
TEST_TIMEOUT=${TEST_TIMEOUT:-900}
# test_real_suites runs other projects' whole test suites, each three times
# (about 4 minutes on an idle 2-CPU VM): it gets more, and kills a hung
# suite itself well before this.
SUITES_TIMEOUT=${SUITES_TIMEOUT:-1800}

passed=0 failed=0 skipped=0

# bpftrace (tests of scripts/) wants tracefs; as root, mount it if nobody has.
if [ "$(id -u)" -eq 0 ] && [ -d /sys/kernel/tracing ] && ! mountpoint -q /sys/kernel/tracing; then
	mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null || true
fi

# $1: the program; $2: the name to show. With SAN_REPORTS set (the
# sanitizer build), every report a process of the test wrote there (the
# test's own, memtrack's tools', the shim's in traced programs) fails it.
run_program() {
	local prog=$1 name=$2 out rc plan p f s report limit=$TEST_TIMEOUT
	echo "== $name"
	case $name in */test_real_suites) limit=$SUITES_TIMEOUT ;; esac
	out=$(CMOCKA_MESSAGE_OUTPUT=TAP timeout "$limit" "$prog" 2>&1)
	rc=$?
	sed -e 's/^/   /' <<<"$out"
	plan=$(sed -n 's/^1\.\.\([0-9][0-9]*\)$/\1/p' <<<"$out" | head -n 1)
	p=$(grep -c '^ok ' <<<"$out")
	s=$(grep -c '^not ok [0-9]* # SKIP' <<<"$out")
	f=$(grep -Ec '^not ok [0-9]+ - ' <<<"$out")
	# A crash, a timeout or a short plan is a failure even if no test said so.
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ] || [ "$((p + s + f))" -ne "${plan:-0}" ]; then
		echo "   FAILED: $name exited $rc after $((p + s + f)) of ${plan:-?} tests"
		f=$((f + 1))
	fi
	if [ -n "${SAN_REPORTS:-}" ]; then
		for report in "$SAN_REPORTS"/*; do
			echo "   FAILED: $name: a sanitizer's report, ${report##*/}:"
			sed -e 's/^/   | /' "$report"
			rm -f "$report"
			f=$((f + 1))
		done
	fi
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
}

# Every test program of a build: $1 the build directory, $2 a prefix for the names.
run_build() {
	local build=$1 prefix=$2 prog programs
	programs=("$build"/tests/unit/test_* "$build"/tests/integration/test_*)
	if [ ${#programs[@]} -eq 0 ]; then
		echo "no test programs under $build/tests: run make first" >&2
		failed=$((failed + 1))
		return
	fi
	for prog in "${programs[@]}"; do
		case $prog in *.d | *.o) continue ;; esac
		[ -x "$prog" ] && BUILD=$build run_program "$prog" "$prefix${prog#"$build"/tests/}"
	done
}

shopt -s nullglob
run_build "$BUILD" ""

# The same suite built with ASan and UBSan (make SANITIZE=1): reports go to
# files, so that one from any process of a test fails that test, whatever
# the test makes of the process's exit status.
if [ -n "${SAN_BUILD:-}" ]; then
	SAN_REPORTS=$(mktemp -d "${TMPDIR:-/tmp}/memtrack-san.XXXXXX") || exit 1
	trap 'rm -rf "$SAN_REPORTS"' EXIT
	# verify_asan_link_order=0: tests run memtrack-load with the traced
	# command's LD_PRELOAD (the shim, another allocator) in its environment.
	export ASAN_OPTIONS="log_path=$SAN_REPORTS/asan:detect_leaks=1:halt_on_error=1:verify_asan_link_order=0"
	export UBSAN_OPTIONS="log_path=$SAN_REPORTS/ubsan:print_stacktrace=1:halt_on_error=1"
	export LSAN_OPTIONS="suppressions=$(realpath tests/lsan.supp):print_suppressions=0"
	run_build "$SAN_BUILD" "sanitized/"
	unset ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS
fi

summary="$passed passed, $failed failed"
[ "$skipped" -gt 0 ] && summary="$summary, $skipped skipped"
echo "$summary"
[ "$failed" -eq 0 ]

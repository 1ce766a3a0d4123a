#!/usr/bin/env bash
# Run every test program (cmocka, TAP output) and total the results.
# The last line is always "N passed, N failed" (", N skipped" when some were).
# Exits non-zero if anything failed.
set -u

BUILD=${BUILD:-build}
export BUILD
# A debuginfod server named by the environment (Debian's profile can set
# one) would make symbolization wait on the network: test_debuginfo runs its own.
unset DEBUGINFOD_URLS
# A hung test must not hang CI: each program gets this many seconds.
TEST_TIMEOUT=${TEST_TIMEOUT:-300}

passed=0 failed=0 skipped=0

# bpftrace (tests of scripts/) wants tracefs; as root, mount it if nobody has.
if [ "$(id -u)" -eq 0 ] && [ -d /sys/kernel/tracing ] && ! mountpoint -q /sys/kernel/tracing; then
	mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null || true
fi

run_program() {
	local prog=$1 name out rc plan p f s
	name=${prog#"$BUILD"/tests/}
	echo "== $name"
	out=$(CMOCKA_MESSAGE_OUTPUT=TAP timeout "$TEST_TIMEOUT" "$prog" 2>&1)
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
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
}

shopt -s nullglob
programs=("$BUILD"/tests/unit/test_* "$BUILD"/tests/integration/test_*)
if [ ${#programs[@]} -eq 0 ]; then
	echo "no test programs under $BUILD/tests: run make first" >&2
	echo "0 passed, 1 failed"
	exit 1
fi
for prog in "${programs[@]}"; do
	case $prog in *.d | *.o) continue ;; esac
	[ -x "$prog" ] && run_program "$prog"
done

summary="$passed passed, $failed failed"
[ "$skipped" -gt 0 ] && summary="$summary, $skipped skipped"
echo "$summary"
[ "$failed" -eq 0 ]

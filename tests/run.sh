#!/bin/sh
# tests/run.sh - run every test suite and count the results.
#
# Each suite prints one line per check, "PASS suite/name" or
# "FAIL suite/name: why" (details on indented lines).  This runner shows
# them, counts them, and ends with "N passed, N failed"; it exits non-zero
# if anything failed or a suite died without saying why.
#
# Environment: BUILD (default build), UNBOUND_DIR (default BUILD/unbound),
# SAN_PRELOAD (ASan runtime to preload into uninstrumented Unbound, for
# `make asan`), SUITES (space-separated subset: unit symbols cli report
# man policies geo recall fuzz testbound e2e).
set -u
cd "$(dirname "$0")/.." || exit 2
BUILD=${BUILD:-build}
export BUILD
export UNBOUND_DIR="${UNBOUND_DIR:-$PWD/$BUILD/unbound}"
export DOPPEL_SO="$PWD/$BUILD/lib/doppel.so"
export DOPPEL_BIN="$PWD/$BUILD/bin/doppel"
export TESTBOUND="$UNBOUND_DIR/sbin/testbound"
SUITES=${SUITES:-"unit symbols cli report man policies geo recall fuzz testbound e2e"}

out=$(mktemp)
trap 'rm -f "$out" "$out.suite"' EXIT INT TERM
passed=0
failed=0

# run_suite NAME COMMAND...: run, echo its output, count its lines.
run_suite() {
	name=$1
	shift
	"$@" >"$out.suite" 2>&1
	rc=$?
	cat "$out.suite"
	p=$(grep -c '^PASS ' "$out.suite")
	f=$(grep -c '^FAIL ' "$out.suite")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "FAIL $name: exited with status $rc and reported no failure"
		f=1
	fi
	if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
		echo "FAIL $name: ran no checks"
		f=1
	fi
	passed=$((passed + p))
	failed=$((failed + f))
}

run_units() {
	rc=0
	for t in "$BUILD"/tests/test_*; do
		[ -x "$t" ] || continue
		"$t" || rc=1
	done
	return $rc
}

run_policies() {
	rc=0
	tests/policies/run.sh || rc=1
	tests/policies/atomic.sh || rc=1
	return $rc
}

# The ASan runtime must come first in an uninstrumented process that
# loads an instrumented module; leaks of Unbound itself are not ours.
with_san() {
	if [ -n "${SAN_PRELOAD:-}" ]; then
		LD_PRELOAD="$SAN_PRELOAD" \
		ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" "$@"
	else
		"$@"
	fi
}

for s in $SUITES; do
	case $s in
	unit) run_suite unit run_units ;;
	symbols) run_suite symbols tests/symbols.sh ;;
	cli) run_suite cli tests/cli.sh ;;
	report) run_suite report tests/report/run.sh ;;
	man) run_suite man tests/man.sh ;;
	policies) run_suite policies run_policies ;;
	geo) run_suite geo tests/geo/run.sh ;;
	recall) run_suite recall python3 tests/recall/dnstwist_recall.py \
		--show 3 "$DOPPEL_BIN" tests/recall/policy.txt
		run_suite recall-real python3 tests/recall/evaluate.py \
			--show 5 --min-flagged 95 --min-blocked 74 \
			--max-blocked 0.03 --max-warned 0.45 "$DOPPEL_BIN" ;;
	fuzz) run_suite fuzz tests/fuzz/run.sh ;;
	testbound) run_suite testbound with_san tests/testbound/run.sh ;;
	e2e) run_suite e2e with_san tests/e2e/run.sh ;;
	*) echo "FAIL runner: unknown suite '$s'"; failed=$((failed + 1)) ;;
	esac
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

#!/bin/sh
# tests/fuzz/run.sh - libFuzzer runs of every target (Makefile's
# FUZZ_TARGETS: check policy dbfile geo vcache vcachefile audit review) over its committed
# corpus in tests/fuzz/corpus/TARGET, FUZZ_SECONDS each (default 8), FUZZ_JOBS at
# a time (default 2).  make test runs it short; make fuzz runs it long with
# FUZZ_KEEP=1, which keeps new inputs in build/fuzz/corpus/TARGET (the
# committed corpora stay as they are).  A crash leaves its input in
# build/fuzz/TARGET-crash-* and fails the target's check; turn it into a
# committed regression input with: cp build/fuzz/TARGET-crash-X
# tests/fuzz/corpus/TARGET/.
set -u
cd "$(dirname "$0")/../.." || exit 2
build=${BUILD:-build}
secs=${FUZZ_SECONDS:-8}
jobs=${FUZZ_JOBS:-2}
targets=${FUZZ_TARGETS:-"check policy dbfile geo vcache vcachefile audit review"}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

# run_one TARGET: one libFuzzer run; prints its PASS or FAIL line.
run_one() {
	t=$1
	bin=$build/fuzz/fuzz_$t
	if [ ! -x "$bin" ]; then
		echo "FAIL fuzz/$t: $bin not built"
		return 1
	fi
	if [ -n "${FUZZ_KEEP:-}" ]; then
		work=$build/fuzz/corpus/$t
	else
		work=$tmp/corpus-$t
	fi
	mkdir -p "$work"
	DOPPEL_FUZZ_POLICY=tests/recall/policy.txt "$bin" \
		-max_total_time="$secs" -timeout=20 -rss_limit_mb=2048 \
		-artifact_prefix="$build/fuzz/$t-" "$work" "tests/fuzz/corpus/$t" \
		>"$tmp/$t.log" 2>&1
	rc=$?
	runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$tmp/$t.log")
	if [ $rc -eq 0 ] && [ -n "$runs" ]; then
		echo "PASS fuzz/$t: $runs inputs in ${secs}s, no finding"
	else
		echo "FAIL fuzz/$t: exit $rc"
		grep -E "ERROR|SUMMARY|artifact|==|fuzz_" "$tmp/$t.log" |
			head -20 | sed 's/^/    /'
	fi
	return $rc
}

status=0
set -- $targets
while [ $# -gt 0 ]; do
	batch=""
	i=0
	while [ $# -gt 0 ] && [ $i -lt "$jobs" ]; do
		run_one "$1" >"$tmp/$1.out" &
		batch="$batch $!:$1"
		shift
		i=$((i + 1))
	done
	for pj in $batch; do
		wait "${pj%%:*}" || status=1
		cat "$tmp/${pj#*:}.out"
	done
done
exit $status

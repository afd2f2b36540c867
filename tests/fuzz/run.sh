#!/bin/sh
# tests/fuzz/run.sh - a short libFuzzer run of fuzz_check over the
# committed corpus (FUZZ_SECONDS, default 10), as part of make test.  New
# inputs go to a temporary directory, so the committed corpus stays as it
# is; a crash leaves its input in build/fuzz/ and fails the check.
set -u
cd "$(dirname "$0")/../.." || exit 2
bin=${BUILD:-build}/fuzz/fuzz_check
secs=${FUZZ_SECONDS:-10}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
if [ ! -x "$bin" ]; then
	echo "FAIL fuzz/check: $bin not built"
	exit 1
fi
DOPPEL_FUZZ_POLICY=tests/recall/policy.txt "$bin" -max_total_time="$secs" \
	-artifact_prefix="${BUILD:-build}/fuzz/" "$tmp" tests/fuzz/corpus \
	>"$tmp.log" 2>&1
rc=$?
runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$tmp.log")
if [ $rc -eq 0 ] && [ -n "$runs" ]; then
	echo "PASS fuzz/check: $runs inputs in ${secs}s, no crash"
else
	echo "FAIL fuzz/check: exit $rc"
	grep -E "ERROR|SUMMARY|artifact|==" "$tmp.log" | head -20 | sed 's/^/    /'
fi
rm -f "$tmp.log"
exit $rc

#!/bin/sh
# tests/tsan-check.sh DIR — after `make tsan`: ThreadSanitizer reports the
# runs wrote to DIR.  A report with a frame of doppel's (the module or
# libdoppel) fails the check; reports inside Unbound alone are counted and
# left to Unbound (it has a few benign ones, e.g. iterator_set_ip46_support).
set -u
dir=$1
ours=0 theirs=0
for f in "$dir"/tsan.*; do
	[ -f "$f" ] || continue
	# one report per "WARNING: ThreadSanitizer" block
	n=$(awk '/WARNING: ThreadSanitizer/ {r++} END {print r+0}' "$f")
	m=$(awk '/WARNING: ThreadSanitizer/ {inr=1; hit=0}
		inr && /doppelmod\.c|\/lib\/[a-z]+\.c|doppel\.so/ {hit=1}
		/^SUMMARY: ThreadSanitizer/ {if (hit) c++; inr=0}
		END {print c+0}' "$f")
	ours=$((ours + m))
	theirs=$((theirs + n - m))
	if [ "$m" -gt 0 ]; then
		awk '/WARNING: ThreadSanitizer/,/^SUMMARY/' "$f" |
			grep -B2 -A25 -m1 'doppelmod\.c\|/lib/[a-z]*\.c' | sed 's/^/    /'
	fi
done
if [ "$ours" -eq 0 ]; then
	echo "PASS tsan/no-race-in-doppel: 0 reports with doppel frames ($theirs inside Unbound alone)"
else
	echo "FAIL tsan/no-race-in-doppel: $ours reports with doppel frames ($theirs inside Unbound alone)"
	exit 1
fi

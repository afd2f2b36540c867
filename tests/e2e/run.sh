#!/usr/bin/env bash
# tests/e2e/run.sh — run every end-to-end test file here (each starts its
# own lab on free loopback ports) and pass on their PASS/FAIL lines.
#
# usage: tests/e2e/run.sh [FILE...]   default: every *.sh here but lib.sh
#                                     and run.sh, in name order
# Environment: as tests/lab/lab.sh (UNBOUND_DIR, DOPPEL_SO, ...).
# Exit status: 0 if every file passed, 1 otherwise.

set -u
here=$(cd "$(dirname "$0")" && pwd)

if [ $# -eq 0 ]; then
	for f in "$here"/*.sh; do
		case ${f##*/} in lib.sh | run.sh) continue ;; esac
		set -- "$@" "$f"
	done
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/doppel-e2e-run.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

failed=0
for f in "$@"; do
	bash "$f" 2>"$tmp/stderr" | tee "$tmp/stdout"
	rc=${PIPESTATUS[0]}
	[ "$rc" -eq 0 ] && continue
	failed=1
	# A file that fails without saying which check failed still fails.
	grep -q '^FAIL ' "$tmp/stdout" ||
		echo "FAIL e2e/${f##*/}: exited with status $rc and reported no failed check"
	sed 's/^/  /' "$tmp/stderr" >&2
done
exit $failed

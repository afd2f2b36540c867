#!/usr/bin/env bash
# tests/e2e/run.sh — run every end-to-end test file here (each starts its
# own lab on free loopback ports) and pass on their PASS/FAIL lines.
#
# usage: tests/e2e/run.sh [FILE...]   default: every *.sh here but lib.sh
#                                     and run.sh, in name order
# Environment: as tests/lab/lab.sh (UNBOUND_DIR, DOPPEL_SO, ...);
# E2E_FILE_TIMEOUT, seconds one file may take (default 300): a hung file
# fails and the run goes on (its EXIT trap stops its servers); E2E_SKIP,
# file names (space-separated) the default list leaves out.
# Exit status: 0 if every file passed, 1 otherwise.

set -u
here=$(cd "$(dirname "$0")" && pwd)

if [ $# -eq 0 ]; then
	for f in "$here"/*.sh; do
		case ${f##*/} in lib.sh | run.sh) continue ;; esac
		case " ${E2E_SKIP:-} " in *" ${f##*/} "*) continue ;; esac
		set -- "$@" "$f"
	done
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/doppel-e2e-run.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

failed=0
for f in "$@"; do
	limit=${E2E_FILE_TIMEOUT:-300}
	timeout --kill-after=20 "$limit" bash "$f" 2>"$tmp/stderr" |
		tee "$tmp/stdout"
	rc=${PIPESTATUS[0]}
	[ "$rc" -eq 0 ] && continue
	failed=1
	if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		echo "FAIL e2e/${f##*/}: still running after $limit s: stopped"
	elif ! grep -q '^FAIL ' "$tmp/stdout"; then
		# A file that fails without saying which check failed still
		# fails.
		echo "FAIL e2e/${f##*/}: exited with status $rc and reported no failed check"
	fi
	sed 's/^/  /' "$tmp/stderr" >&2
done
exit $failed

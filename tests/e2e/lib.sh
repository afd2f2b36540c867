# tests/e2e/lib.sh — shared helpers for the end-to-end tests: start the lab
# (tests/lab/lab.sh) for one test file, ask the resolver, and report each
# check as exactly one line, "PASS e2e/NAME" or "FAIL e2e/NAME: reason".
#
# A test file sources this, calls e2e_start, runs its checks and ends with
# e2e_finish (e2e_stop and e2e_start again to use several labs in turn). The
# lab is stopped on every exit path by a trap. A run directory is removed
# when every check passed and kept (its path printed on stderr, with the
# resolver's log) when one failed.

# shellcheck shell=bash
set -u

e2e_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
e2e_repo=$(cd "$e2e_dir/../.." && pwd)
LAB=$e2e_repo/tests/lab/lab.sh
e2e_failed=0
RUNDIR=""

pass() {
	echo "PASS e2e/$1"
}

fail() {
	echo "FAIL e2e/$1: $2"
	e2e_failed=1
}

# e2e_stop — stop the current lab. Its run directory is removed if every
# check so far passed, and kept (path and log tail on stderr) otherwise.
e2e_stop() {
	[ -n "$RUNDIR" ] || return 0
	"$LAB" stop "$RUNDIR" || true
	if [ "$e2e_failed" = 0 ]; then
		rm -rf "$RUNDIR"
	else
		{
			echo "e2e: kept $RUNDIR for inspection; last lines of resolver.log:"
			tail -n 15 "$RUNDIR/resolver.log" 2>/dev/null | sed 's/^/  /'
			if [ -s "$RUNDIR/resolver.stderr" ]; then
				echo "e2e: and of the resolver's standard error:"
				tail -n 30 "$RUNDIR/resolver.stderr" | sed 's/^/  /'
			fi
		} >&2
	fi
	RUNDIR=""
}

# Scratch space: e2e_scratch TAG sets SCRATCH to a new directory, removed
# at exit; e2e_tmpfs DIR OPTIONS mounts a tmpfs on DIR (created), unmounted
# at exit once the lab, which may hold files there open, is stopped.
SCRATCH=""
e2e_mounts=""
e2e_scratch() {
	SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/doppel-$1.XXXXXX")
}
# e2e_start_geo CHECK [POLICY] — e2e_start with the lab's country database
# (conf/lab/geo-fixture.txt, built into the scratch directory).
e2e_start_geo() {
	e2e_scratch geo
	"${DOPPEL_BIN:-$e2e_repo/build/bin/doppel}" geo build --fixture \
		"$e2e_repo/conf/lab/geo-fixture.txt" -o "$SCRATCH/lab.mmdb" \
		>/dev/null
	DOPPEL_CONF_EXTRA="geoip: $SCRATCH/lab.mmdb${DOPPEL_CONF_EXTRA:+
$DOPPEL_CONF_EXTRA}" e2e_start "$@"
}
e2e_tmpfs() {
	mkdir -p "$1" && mount -t tmpfs -o "$2" doppel-e2e "$1" || return 1
	e2e_mounts="$1 $e2e_mounts"
}

# e2e_cleanup [STATUS] — the EXIT trap: stops what the file started and
# exits with STATUS, the file's own (default: $? as the trap begins; a
# trap that runs commands first passes the status it saw, e2e_rc=$?, or
# their status would stand for the file's).
e2e_cleanup() {
	local rc=${1:-$?} m
	# An unexpected exit (a bug in the test, a signal) is a failure too.
	[ $rc -eq 0 ] || e2e_failed=1
	e2e_stop
	for m in $e2e_mounts; do
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
	done
	[ -z "$SCRATCH" ] || rm -rf "$SCRATCH"
	exit $rc
}

# expect_log CHECK ERE [WHAT] — the resolver's log has a line matching ERE
# (grep -E); a failure shows doppel's last lines other than blocks.
expect_log() {
	if grep -Eq -- "$2" "$RESOLVER_LOG"; then
		pass "$1"
	else
		fail "$1" "no log line ${3:+$3 }/$2/; doppel's lines: $(grep 'doppel' "$RESOLVER_LOG" | grep -v 'doppel: block' | sed 's/.*\] //' | tail -n 5 | tr '\n' ';')"
	fi
}

# ere TEXT — TEXT with the metacharacters of an ERE escaped.
ere() {
	printf '%s' "$1" | sed 's/[][\.*^$+?(){}|]/\\&/g'
}

# e2e_start CHECK [POLICY] — start a lab in a new run directory. POLICY
# (default: policies/lab.txt here) is copied to $RUNDIR/policy.txt so
# that a test may edit it; a POLICY that does not exist is passed on as it
# is. Any DOPPEL_* / LAB_* variables set by the caller reach lab.sh. If the
# lab does not start, report CHECK as failed and exit.
e2e_start() {
	local check=$1 policy=${2:-$e2e_dir/policies/lab.txt} err
	trap e2e_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	RUNDIR=$(mktemp -d "${TMPDIR:-/tmp}/doppel-e2e.XXXXXX")
	if [ -f "$policy" ]; then
		cp "$policy" "$RUNDIR/policy.txt"
		policy=$RUNDIR/policy.txt
	fi
	if ! err=$("$LAB" start "$RUNDIR" "$policy" 2>&1); then
		fail "$check" "the lab did not start: $(printf '%s' "$err" |
			grep -v '^ *$' | grep -v '==>' | tail -n 1)"
		exit 1
	fi
	# shellcheck disable=SC1091
	. "$RUNDIR/env"
}

# alive — is the resolver of the current lab still running?
alive() {
	[ -r "/proc/$RESOLVER_PID/cmdline" ] &&
		tr '\0' '\n' <"/proc/$RESOLVER_PID/cmdline" | grep -qxF -- "$RESOLVER_CONF"
}

# ask NAME TYPE [DRILL-OPTION...] — query the resolver. Sets $rcode,
# $answer (the answer section's records, one a line), $authority, and
# $reply (drill's output).
ask() {
	reply=$("$LAB" query "$RUNDIR" "$@" 2>&1) || true
	rcode=$(printf '%s\n' "$reply" |
		sed -n 's/.*rcode: \([A-Z]*\),.*/\1/p')
	[ -n "$rcode" ] || rcode="no-reply"
	answer=$(section ANSWER)
	authority=$(section AUTHORITY)
}

# section NAME — the records of one section of $reply.
section() {
	printf '%s\n' "$reply" |
		awk -v s=";; $1 SECTION:" '
			$0 == s { on = 1; next }
			/^;; / || /^$/ { on = 0 }
			on { print }'
}

# summary — a short form of the last reply for failure messages.
summary() {
	local first
	first=$(printf '%s\n' "$answer" | head -n 1 | tr -s '\t ' ' ')
	echo "rcode $rcode${first:+, answer \"$first\"}"
}

# log_since FILE OFFSET — what FILE got after byte OFFSET.
log_since() {
	tail -c +"$(($2 + 1))" "$1" 2>/dev/null
}

log_size() {
	wc -c <"$1" 2>/dev/null || echo 0
}

# poke — one query for a name no cache holds (the lab's example.com zone
# answers NXDOMAIN). doppel's own threads (the policy watcher, the audit and
# verdict-cache writers) never call into Unbound: what they have to log, and
# a new policy's cache flush, wait for the next query that reaches the
# module (the mailbox in module/doppelmod.c). A test waiting for such a line
# on an otherwise idle resolver pokes it.
poke() {
	e2e_pokes=$((${e2e_pokes:-0} + 1))
	"$LAB" query "$RUNDIR" "poke-$e2e_pokes-$$.example.com" A >/dev/null 2>&1 || true
}

# await_log OFFSET ERE [TENTHS] — wait (TENTHS tenths of a second, default
# 100), poking the resolver, until its log has a line matching ERE after
# byte OFFSET.
await_log() {
	local i
	for i in $(seq 1 "${3:-100}"); do
		log_since "$RESOLVER_LOG" "$1" | grep -Eq -- "$2" && return 0
		poke
		sleep 0.1
	done
	return 1
}

# has_block_line TEXT NAME TYPE — TEXT holds doppel's block line for NAME TYPE
# ("doppel: block NAME TYPE: explanation"; the trailing dot is optional).
has_block_line() {
	local re
	re=$(printf '%s' "$2" | sed 's/\./\\./g')
	printf '%s\n' "$1" | grep -Eq "doppel: block $re\.? $3:"
}

# expect_blocked CHECK NAME TYPE [DRILL-OPTION...] — NXDOMAIN, no answer,
# an SOA in authority.
expect_blocked() {
	ask "${@:2}"
	if [ "$rcode" != NXDOMAIN ]; then
		fail "$1" "$2 $3: $(summary), want NXDOMAIN"
	elif [ -n "$answer" ]; then
		fail "$1" "$2 $3: NXDOMAIN but with an answer: $(summary)"
	elif ! printf '%s\n' "$authority" | awk '$4 == "SOA"' | grep -q .; then
		fail "$1" "$2 $3: NXDOMAIN without an SOA in the authority section"
	else
		pass "$1"
	fi
}

# expect_answer CHECK NAME TYPE REGEX — NOERROR and an answer record that
# matches the extended REGEX (records are tab-separated as drill prints them;
# tabs and runs of spaces are squeezed to one space before matching).
expect_answer() {
	ask "$2" "$3"
	if [ "$rcode" != NOERROR ]; then
		fail "$1" "$2 $3: $(summary), want NOERROR"
	elif ! printf '%s\n' "$answer" | tr -s '\t ' ' ' | grep -Eq -- "$4"; then
		fail "$1" "$2 $3: no answer matching /$4/: $(summary)"
	else
		pass "$1"
	fi
}

# reload_wait — `unbound-control reload`, then wait (bounded, 30 s) until
# the reloaded resolver has started serving. Its "ok" comes before that:
# with several worker threads, a query sent right after it can still be
# answered by a worker of the old configuration. Returns 1 if the reload
# was refused or never finished.
reload_wait() {
	local off i out
	off=$(log_size "$RESOLVER_LOG")
	out=$("$LAB" control "$RUNDIR" reload 2>&1) && [ "$out" = ok ] ||
		return 1
	for i in $(seq 1 300); do
		log_since "$RESOLVER_LOG" "$off" |
			grep -q 'start of service' && return 0
		sleep 0.1
	done
	return 1
}

# ub_stat COUNTER — one counter from unbound-control stats_noreset.
ub_stat() {
	"$LAB" control "$RUNDIR" stats_noreset 2>/dev/null |
		sed -n "s/^$1=//p"
}

# e2e_finish CHECK — report CHECK: the resolver survived the whole file
# (a crash, or a sanitizer abort, would show here). Then stop the lab and
# exit non-zero if any check failed.
e2e_finish() {
	if [ -n "$RUNDIR" ]; then
		if alive; then
			pass "$1"
		else
			fail "$1" "the resolver (pid $RESOLVER_PID) is no longer running"
		fi
	fi
	e2e_stop
	[ "$e2e_failed" = 0 ]
	exit $?
}

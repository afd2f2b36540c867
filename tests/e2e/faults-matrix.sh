#!/usr/bin/env bash
# tests/e2e/faults-matrix.sh — every file doppel touches, damaged every way,
# at start-up and under the running resolver, at 1 and 4 threads.
#
# Files: the compiled policy, the policy source, the verdict cache, the
# country database, the audit log, the settings file (doppel.conf).
# Faults: missing, empty (cut to nothing in place), truncated (in place),
# garbage written over it in place, garbage renamed over it, unreadable (a directory in its place),
# and for the files doppel writes a full disk (a 64 KiB tmpfs).
#
# Each case starts a lab with every file in use (policy-check-interval 1,
# a verdict cache, a country database, `audit: flagged` without
# collapsing), applies the fault before the start or after the first
# answers, makes the module meet it (new flagged names for the writers, a
# moment for the policy watcher, `unbound-control reload` for the country
# database and the settings file, which are read at start and reload),
# and checks that:
#  - the resolver answers (army.mil A) and is alive;
#  - a lookalike is blocked wherever a policy is still in force (a bad
#    policy or settings file at start-up leaves none: on-error open then
#    answers it unprotected);
#  - the log has exactly as many warning or error lines naming the file as
#    the case says: one when something is wrong with it, none when the
#    module has nothing to say (a missing verdict cache is created, an
#    audit log that holds garbage is appended to);
#  - where the audit log is sound, its records account for every flagged
#    answer.
#
# MATRIX_THREADS (default "1 4") picks the thread counts, MATRIX_CASES
# (comma-separated shell patterns on "FILE FAULT", default all) the cases.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

DOPPEL=${DOPPEL_BIN:-$e2e_repo/build/bin/doppel}
e2e_scratch faults-matrix
m=$SCRATCH
"$DOPPEL" compile "$e2e_dir/policies/lab.txt" -o "$m/good.db" >/dev/null
cp "$e2e_dir/policies/lab.txt" "$m/good.txt"
"$DOPPEL" geo build --fixture "$e2e_repo/conf/lab/geo-fixture.txt" \
	-o "$m/good.mmdb" >/dev/null
mkdir -p "$m/full"
if ! e2e_tmpfs "$m/full" size=64k; then
	fail faults-matrix-mount "cannot mount a tmpfs on $m/full"
	exit 1
fi

# damage FAULT PATH GOOD — put the fault on PATH (GOOD: a sound copy).
damage() {
	local size
	size=$(stat -c %s "$3" 2>/dev/null || echo 4096)
	[ "$size" -gt 0 ] || size=4096
	case $1 in
	missing) rm -rf "$2" ;;
	empty) [ -f "$2" ] || rm -rf "$2"; : >"$2" ;;
	truncated) head -c "$((size / 2))" "$3" >"$2.half" && cat "$2.half" >"$2" && rm -f "$2.half" ;;
	garbage) head -c "$size" /dev/urandom >"$2.junk" && cat "$2.junk" >"$2" && rm -f "$2.junk" ;;
	renamed) head -c "$size" /dev/urandom >"$2.new" && mv -f "$2.new" "$2" ;;
	unreadable) rm -rf "$2"; mkdir "$2" ;;
	full) head -c 65536 /dev/zero >"$m/full/filler" 2>/dev/null || true ;;
	esac
}

# lines_naming OFFSET PATH — warning and error lines of the resolver's log
# after OFFSET that name PATH.
lines_naming() {
	log_since "$RESOLVER_LOG" "$1" | grep -E '(error|warning): doppel' |
		grep -F -- "$2" | grep -c . || true
}

# flagged NAME TYPE — ask a lookalike (after flushing Unbound's caches of
# it, so that the module sees the question); counts the flagged answers.
nflagged=0
flagged() {
	"$LAB" control "$RUNDIR" flush "$1" >/dev/null 2>&1 || true
	"$LAB" control "$RUNDIR" flush_type "$1" "$2" >/dev/null 2>&1 || true
	ask "$1" "$2"
	if [ "$rcode" = NXDOMAIN ]; then
		nflagged=$((nflagged + 1))
	fi
}

# one_case THREADS FILE FAULT PHASE LINES PROTECTED
#   LINES: warning/error lines naming the file wanted (0 or 1);
#   PROTECTED: 1 if a lookalike must be blocked after the fault.
one_case() {
	local threads=$1 file=$2 fault=$3 phase=$4 want_lines=$5 protected=$6
	local c="matrix-t$threads-$file-$fault-$phase" w path good conf
	local policy off got n
	w=$(mktemp -d "$m/case.XXXXXX")
	policy=$w/policy.db
	cp "$m/good.db" "$policy"
	cp "$m/good.mmdb" "$w/country.mmdb"
	mkdir "$w/audit"
	local vcache=$w/verdicts.mdb audit=$w/audit/audit.log
	case $file in
	policy-db) path=$policy good=$m/good.db ;;
	policy-src) policy=$w/policy.txt; cp "$m/good.txt" "$policy"
		path=$policy good=$m/good.txt ;;
	vcache) path=$vcache good=$m/good.db ;;
	geoip) path=$w/country.mmdb good=$m/good.mmdb ;;
	audit) path=$audit good=$m/good.txt ;;
	settings) path=$w/doppel.conf good=$m/good.txt ;;
	esac
	if [ "$fault" = full ]; then
		rm -f "$m/full/"*
		case $file in
		vcache) vcache=$m/full/verdicts.mdb path=$vcache ;;
		audit) audit=$m/full/audit.log path=$audit ;;
		esac
	fi
	conf="policy-check-interval: 1
verdict-cache: $vcache
geoip: $w/country.mmdb
audit: flagged
audit-log: $audit
audit-collapse: 0"
	# the settings file, for the settings cases: the lab's, given by path
	{
		echo "policy: $policy"
		echo "on-error: open"
		printf '%s\n' "$conf"
	} >"$w/doppel.conf"
	cp "$w/doppel.conf" "$w/doppel.conf.good"
	if [ "$phase" = start ]; then
		if [ "$file" = audit ] && [ "$fault" = missing ]; then
			# a missing log is made at open: its directory is what
			# can be missing
			rm -rf "$w/audit"
			path=$w/audit
		elif [ "$file" = settings ]; then
			damage "$fault" "$path" "$w/doppel.conf.good"
		else
			damage "$fault" "$path" "$good"
		fi
	fi
	nflagged=0
	LAB_THREADS=$threads LAB_DOPPEL_CONF=$w/doppel.conf \
		DOPPEL_CONF_EXTRA="$conf" e2e_start "$c-lab" "$policy"
	off=0
	if [ "$phase" = run ]; then
		flagged army.ml A
		[ "$rcode" = NXDOMAIN ] || fail "$c-before" "army.ml A: $(summary)"
		for n in $(seq 1 30); do
			[ -s "$audit" ] && break
			sleep 0.1
		done
		off=$(log_size "$RESOLVER_LOG")
		if [ "$file" = settings ]; then
			damage "$fault" "$path" "$w/doppel.conf.good"
		else
			damage "$fault" "$path" "$good"
		fi
		case $file in
		geoip | settings)
			"$LAB" control "$RUNDIR" reload >/dev/null 2>&1 || true
			sleep 0.3 ;;
		policy-*) sleep 1.5 ;;
		esac
	fi
	# new lookalikes: the writers meet the fault
	flagged www.army.ml A
	flagged navy.ml A
	if [ "$protected" = 1 ]; then
		if [ "$rcode" = NXDOMAIN ]; then
			pass "$c-blocks"
		else
			fail "$c-blocks" "navy.ml A: $(summary), want NXDOMAIN"
		fi
	else
		case $rcode in
		NOERROR) pass "$c-unprotected-answers" ;;
		*) fail "$c-unprotected-answers" "navy.ml A: $(summary), want NOERROR (no policy in force)" ;;
		esac
	fi
	flagged mail.navy.ml A
	if [ "$fault" = full ]; then
		# records enough to need a new page of the full file system
		for n in $(seq 1 12); do
			flagged "n$n.army.ml" A
		done
	fi
	expect_answer "$c-answers" army.mil A ' A 192\.0\.2\.10$'
	# wait for the line (or 2 s for none), then a little more for a
	# second one that must not come
	got=0
	for n in $(seq 1 20); do
		got=$(lines_naming "$off" "$path")
		[ "$got" -ge "$want_lines" ] && [ "$want_lines" -gt 0 ] && break
		poke
		sleep 0.1
	done
	sleep 1.2
	poke
	got=$(lines_naming "$off" "$path")
	if [ "$got" = "$want_lines" ]; then
		pass "$c-said"
	else
		fail "$c-said" "$got lines name $path, want $want_lines: $(log_since "$RESOLVER_LOG" "$off" | grep -E '(error|warning): doppel' | sed 's/.*\] //' | head -5 | tr '\n' ';')"
	fi
	# the audit log accounts for every flagged answer when it is sound
	if [ "$file" != audit ] && [ "$protected" = 1 ]; then
		got=$(grep -c '"verdict":"block"' "$audit" 2>/dev/null || echo 0)
		if [ "$got" = "$nflagged" ]; then
			pass "$c-audited"
		else
			fail "$c-audited" "$got block records for $nflagged blocked answers"
		fi
	fi
	if alive; then
		pass "$c-alive"
	else
		fail "$c-alive" "the resolver is no longer running"
	fi
	e2e_stop
	rm -rf "$w" "$m/full/"*
}

# wanted "FILE FAULT" — the case is one of MATRIX_CASES (shell patterns,
# comma-separated).
wanted() {
	local p
	local IFS=,
	for p in ${MATRIX_CASES:-*}; do
		# shellcheck disable=SC2254
		case $1 in $p) return 0 ;; esac
	done
	return 1
}

# FILE FAULT: LINES at start, PROTECTED at start, LINES running.  (Running,
# a policy stays in force in every case.)
cases="
policy-db missing 1 0 1
policy-db empty 1 0 1
policy-db truncated 1 0 1
policy-db garbage 1 0 1
policy-db renamed 1 0 1
policy-db unreadable 1 0 1
policy-src missing 1 0 1
policy-src empty 1 0 1
policy-src garbage 1 0 1
policy-src unreadable 1 0 1
vcache missing 0 1 1
vcache empty 0 1 1
vcache truncated 1 1 1
vcache garbage 1 1 1
vcache renamed 1 1 1
vcache unreadable 1 1 1
vcache full 1 1 1
geoip missing 1 1 1
geoip empty 1 1 1
geoip truncated 1 1 1
geoip garbage 1 1 1
geoip renamed 1 1 1
geoip unreadable 1 1 1
audit missing 1 1 1
audit empty 0 1 0
audit garbage 0 1 0
audit renamed 0 1 1
audit unreadable 1 1 1
audit full 1 1 1
settings missing 1 0 1
settings empty 1 0 1
settings garbage 1 0 1
settings unreadable 1 0 1
"

for threads in ${MATRIX_THREADS:-1 4}; do
	while read -r file fault lstart pstart lrun; do
		[ -n "$file" ] || continue
		wanted "$file $fault" || continue
		one_case "$threads" "$file" "$fault" start "$lstart" "$pstart"
		one_case "$threads" "$file" "$fault" run "$lrun" 1
	done <<<"$cases"
done
e2e_finish faults-matrix-done

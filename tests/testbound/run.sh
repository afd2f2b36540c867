#!/bin/sh
# tests/testbound/run.sh - run doppel's Unbound testbound replay scenarios.
#
# Usage: tests/testbound/run.sh [TESTBOUND] [NAME ...]
#
#   TESTBOUND  path of the testbound binary (also taken from $TESTBOUND;
#              default: <repo>/build/unbound/sbin/testbound).  The first
#              argument is taken as the binary when it names a file or
#              contains a '/'.
#   NAME       scenario names (file NAME.rpl.in here) to run; default all.
#
# Environment:
#   DOPPEL_SO     the module (default <repo>/build/lib/doppel.so)
#   DOPPEL_BIN    the doppel program, used to build the country database of
#                 scenarios with "; GEO " lines (default
#                 <repo>/build/bin/doppel)
#   TB_TIMEOUT    seconds one scenario may run (default 120; needs timeout(1))
#   TB_TAIL       lines of testbound output shown on failure (default 40)
#   TB_KEEP=1     keep each scenario's temporary directory, for debugging
#
# Every scenario is a template NAME.rpl.in.  For each one this script makes
# a temporary directory and writes into it:
#   NAME.rpl     the template with @DOPPEL_SO@, @TMPDIR@ and every
#                "@SOA zone min@" replaced (see soa_rdata below);
#   doppel.conf  the template's "; CONF " lines, prefix removed;
#   policy       the template's "; POLICY " lines, prefix removed;
#   psl.dat      a copy of tests/testbound/psl.dat (policies use
#                `psl-file psl.dat`, relative to the policy file);
# then runs `testbound -p NAME.rpl` there with DOPPEL_CONF=<dir>/doppel.conf
# (or <dir>/<path> if the template has a "; CONF-PATH <path>" line).
#
# Other template header lines the runner understands:
#   ; EXPECT-LOG <ERE>   testbound's output must match this extended regex
#                        (grep -E); may be repeated.
#   ; EXPECT-NO-LOG <ERE>  testbound's output must not match this extended
#                        regex; may be repeated.
#   ; EXPECT-FAIL <ERE>  the scenario is a deliberate negative: it passes
#                        only if testbound fails (without crashing) and its
#                        output matches the regex.
#   ; GEO <CIDR> <CC>    a line of a country database fixture (e.g.
#                        "; GEO 203.0.113.0/24 ML"); may be repeated.  The
#                        lines are written to geo.fixture, built with
#                        `$DOPPEL_BIN geo build --fixture geo.fixture -o
#                        geo.mmdb` in the scenario's directory, and @GEO@
#                        is replaced everywhere (CONF lines included) with
#                        the database's absolute path, so a scenario writes
#                        "; CONF geoip: @GEO@".  Without GEO lines @GEO@ is
#                        left alone and reported as not substituted.
#
# Output: one line per scenario, "PASS testbound/NAME" or
# "FAIL testbound/NAME: reason" followed, on failure, by the indented tail
# of testbound's output.  Exit status 0 if all passed, 1 otherwise.

set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

if [ $# -gt 0 ]; then
	case $1 in
	*/*) TESTBOUND=$1; shift ;;
	*) if [ -f "$1" ]; then TESTBOUND=$1; shift; fi ;;
	esac
fi
TESTBOUND=${TESTBOUND:-$root/build/unbound/sbin/testbound}
DOPPEL_SO=${DOPPEL_SO:-$root/build/lib/doppel.so}
DOPPEL_BIN=${DOPPEL_BIN:-$root/build/bin/doppel}
TB_TIMEOUT=${TB_TIMEOUT:-120}
TB_TAIL=${TB_TAIL:-40}
TB_KEEP=${TB_KEEP:-0}

# The module is loaded by absolute path from unbound.conf, and testbound
# runs in the scenario's directory: make both paths absolute.
abspath() {
	case $1 in
	/*) printf '%s\n' "$1" ;;
	*) printf '%s/%s\n' "$(pwd)" "$1" ;;
	esac
}
TESTBOUND=$(abspath "$TESTBOUND")
DOPPEL_SO=$(abspath "$DOPPEL_SO")
DOPPEL_BIN=$(abspath "$DOPPEL_BIN")

# soa_rdata: the SOA RDATA doppel puts in a synthesised NXDOMAIN, as sed
# replacement text for the pattern "@SOA zone min@" (\1 = the SOA's owner,
# without the trailing dot, unused by the current format; \2 = the SOA
# MINIMUM, which is block-ttl).  Templates write "@SOA army.ml 120@" wherever
# that RDATA is expected, so the module's choice of MNAME, RNAME, SERIAL
# and timers (module/doppelmod.c, doppelmod_make_soa) is pinned in this one
# place.
soa_rdata='doppel.invalid. blocked.doppel.invalid. 1 3600 600 86400 \2'

# Escape a string for use as sed replacement text (delimiter '|').
sed_escape() {
	printf '%s' "$1" | sed -e 's/[\\&|]/\\&/g'
}

if command -v timeout >/dev/null 2>&1; then
	run_timeout="timeout $TB_TIMEOUT"
else
	run_timeout=""
fi

current_dir=""
cleanup() {
	if [ -n "$current_dir" ] && [ "$TB_KEEP" != 1 ]; then
		rm -rf "$current_dir"
	fi
	current_dir=""
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM

# List the scenarios to run.
if [ $# -gt 0 ]; then
	names=""
	for n in "$@"; do
		names="$names $(basename "$n" .rpl.in)"
	done
else
	names=""
	for f in "$here"/*.rpl.in; do
		[ -f "$f" ] || continue
		n=$(basename "$f" .rpl.in)
		names="$names $n"
	done
fi

failures=0

# fail NAME REASON [OUTPUT-FILE]
fail() {
	echo "FAIL testbound/$1: $2"
	if [ $# -ge 3 ] && [ -f "$3" ]; then
		tail -n "$TB_TAIL" "$3" | sed -e 's/^/    /'
	fi
	failures=$((failures + 1))
}

# Reason for a testbound failure, from its output and exit status.
reason_of() {
	out=$1 rc=$2
	step=$(grep -o 'testbound: do STEP [0-9]* [A-Z_]*' "$out" | tail -n 1 |
		sed -e 's/^testbound: do //')
	fatal=$(grep 'fatal error:' "$out" | tail -n 1 |
		sed -e 's/.*fatal error: //')
	if [ -n "$run_timeout" ] && [ "$rc" -eq 124 ]; then
		r="timed out after ${TB_TIMEOUT}s"
	elif [ "$rc" -gt 128 ]; then
		r="testbound crashed (signal $((rc - 128)))"
	elif [ -n "$fatal" ]; then
		r="$fatal"
	else
		# e.g. the dynamic linker's "symbol lookup error: ..."
		last=$(grep -v '^[[:space:]]*$' "$out" | tail -n 1 |
			sed -e 's/^\[[0-9]*\] [^ ]* //')
		r="testbound exit status $rc: $last"
	fi
	[ -n "$step" ] && r="$r (last step: $step)"
	printf '%s\n' "$r"
}

run_one() {
	name=$1
	tmpl=$here/$name.rpl.in
	if [ ! -f "$tmpl" ]; then
		fail "$name" "no scenario $tmpl"
		return
	fi
	if [ ! -x "$TESTBOUND" ]; then
		fail "$name" "testbound not found at $TESTBOUND"
		return
	fi
	if [ ! -f "$DOPPEL_SO" ]; then
		fail "$name" "doppel.so not found at $DOPPEL_SO"
		return
	fi

	current_dir=$(mktemp -d "${TMPDIR:-/tmp}/doppel-tb.XXXXXX") || {
		fail "$name" "mktemp failed"
		return
	}
	dir=$current_dir
	cp "$here/psl.dat" "$dir/psl.dat"

	e_so=$(sed_escape "$DOPPEL_SO")
	e_dir=$(sed_escape "$dir")
	subst="s|@DOPPEL_SO@|$e_so|g;s|@TMPDIR@|$e_dir|g"
	subst="$subst;s|@SOA \\([^ @]*\\) \\([0-9]*\\)@|$soa_rdata|g"

	# The country database fixture, if the scenario has one.
	if grep -q '^; GEO ' "$tmpl"; then
		if [ ! -x "$DOPPEL_BIN" ]; then
			fail "$name" "doppel not found at $DOPPEL_BIN (needed for GEO lines)"
			cleanup
			return
		fi
		sed -n -e 's/^; GEO //p' "$tmpl" >"$dir/geo.fixture"
		if ! (cd "$dir" && "$DOPPEL_BIN" geo build --fixture geo.fixture \
			-o geo.mmdb) >"$dir/geo.out" 2>&1; then
			fail "$name" "doppel geo build failed on the GEO lines" \
				"$dir/geo.out"
			cleanup
			return
		fi
		subst="$subst;s|@GEO@|$(sed_escape "$dir/geo.mmdb")|g"
	fi

	if grep -q '^; CONF ' "$tmpl"; then
		sed -n -e 's/^; CONF //p' "$tmpl" | sed -e "$subst" \
			>"$dir/doppel.conf"
	fi
	if grep -q '^; POLICY ' "$tmpl"; then
		sed -n -e 's/^; POLICY //p' "$tmpl" | sed -e "$subst" \
			>"$dir/policy"
	fi
	conf_path=$(sed -n -e 's/^; CONF-PATH //p' "$tmpl" | tail -n 1)
	if [ -n "$conf_path" ]; then
		conf_path=$dir/$conf_path
	else
		conf_path=$dir/doppel.conf
	fi
	expect_fail=$(sed -n -e 's/^; EXPECT-FAIL //p' "$tmpl" | tail -n 1)

	sed -e "$subst" "$tmpl" >"$dir/$name.rpl"
	if left=$(grep -o '@[A-Z][A-Z_]*[@ ]' "$dir/$name.rpl" | head -n 1) &&
		[ -n "$left" ]; then
		fail "$name" "template placeholder $left not substituted"
		cleanup
		return
	fi

	out=$dir/testbound.out
	(cd "$dir" && DOPPEL_CONF=$conf_path $run_timeout \
		"$TESTBOUND" -p "$name.rpl" >"$out" 2>&1)
	rc=$?
	# testbound keeps its unbound.conf in /tmp/testbound_<pid>_cfg.tmp
	# and removes it at exit, unless it died (crash, failed dlopen,
	# timeout): then remove that run's files here.
	tb_tmp=$(grep -o '/tmp/testbound_[0-9]*_' "$out" | head -n 1)
	if [ -n "$tb_tmp" ]; then
		rm -f "$tb_tmp"*.tmp
	fi

	if [ -n "$expect_fail" ]; then
		if [ "$rc" -eq 0 ]; then
			fail "$name" "expected testbound to fail (/$expect_fail/), but it passed" "$out"
		elif [ "$rc" -gt 128 ] || { [ -n "$run_timeout" ] && [ "$rc" -eq 124 ]; }; then
			fail "$name" "expected failure, but $(reason_of "$out" "$rc")" "$out"
		elif ! grep -Eq -e "$expect_fail" "$out"; then
			fail "$name" "failed, but not as expected (/$expect_fail/): $(reason_of "$out" "$rc")" "$out"
		else
			echo "PASS testbound/$name"
		fi
	elif [ "$rc" -ne 0 ] || ! grep -q 'Testbound Exit Success' "$out"; then
		fail "$name" "$(reason_of "$out" "$rc")" "$out"
	else
		missing=""
		while IFS= read -r re; do
			[ -z "$re" ] && continue
			if ! grep -Eq -e "$re" "$out"; then
				missing=$re
				break
			fi
		done <<EOF
$(sed -n -e 's/^; EXPECT-LOG //p' "$tmpl")
EOF
		unwanted=""
		while IFS= read -r re; do
			[ -z "$re" ] && continue
			if grep -Eq -e "$re" "$out"; then
				unwanted=$re
				break
			fi
		done <<EOF
$(sed -n -e 's/^; EXPECT-NO-LOG //p' "$tmpl")
EOF
		if [ -n "$missing" ]; then
			fail "$name" "log has no line matching /$missing/" "$out"
		elif [ -n "$unwanted" ]; then
			grep -E -e "$unwanted" "$out" >"$dir/unwanted.out"
			fail "$name" "log has a line matching /$unwanted/" \
				"$dir/unwanted.out"
		else
			echo "PASS testbound/$name"
		fi
	fi
	if [ "$TB_KEEP" = 1 ]; then
		echo "    (kept $dir)"
	fi
	cleanup
}

for n in $names; do
	run_one "$n"
done

[ "$failures" -eq 0 ]

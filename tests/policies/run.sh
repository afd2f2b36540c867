#!/bin/sh
# tests/policies/run.sh - the policy compiler against a corpus of policies.
#
# bad/NAME.policy: a malformed policy.  Its "# expect: LINE" comments are
#   the error lines `doppel compile` must print, all of them and in order
#   (the final "doppel compile: N problems ..." summary is checked apart).
#   The runner works in bad/ and compiles NAME.policy, so messages read
#   "NAME.policy:LINE:COL: error: ..." and, for included files, the path as
#   the include resolves it ("inc/x.list:2:1: error: ...").  @DIR@ in an
#   expect line stands for the physical path of bad/ (cycle messages name
#   the real path of the including file).  The output path already holds a
#   compiled policy: it must be byte-identical afterwards, with no
#   temporary file left beside it, and the exit status must be 2 (an
#   input that is malformed, in doppel's exit-code table).
# good/NAME.policy: a policy that must compile (exit 0, nothing left
#   beside the database), open with `doppel info`, and give the verdicts of
#   its "# check: NAME VERDICT [TECHNIQUE]" lines, compiled and as source
#   alike.  "# info: KEY: VALUE" lines must appear in `doppel info`'s output.
#
# Prints "PASS policies/NAME" or "FAIL policies/NAME: why" (details
# indented), one line per policy; exits 1 if anything failed.
# Environment: DOPPEL_BIN (default build/bin/doppel under the repo root).
set -u
here=$(cd "$(dirname "$0")" && pwd -P) || exit 2
root=$(cd "$here/../.." && pwd -P) || exit 2
if [ -n "${DOPPEL_BIN:-}" ]; then
	bin=$DOPPEL_BIN
	case $bin in /*) ;; *) bin="$PWD/$bin" ;; esac
else
	bin="$root/build/bin/doppel"
fi
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM
rc=0

# fail NAME WHY [DETAILS_FILE]
fail() {
	echo "FAIL policies/$1: $2"
	if [ $# -ge 3 ] && [ -s "$3" ]; then
		sed 's/^/    /' "$3" | head -n 60
	fi
	rc=1
}

# Lines "# TAG: ..." of a policy, without the tag and any CR.
tagged() {
	sed -n "s/^# $1: //p" "$2" | tr -d '\r'
}

if [ ! -x "$bin" ]; then
	fail setup "no doppel binary at $bin (run make, or set DOPPEL_BIN)"
	exit 1
fi

# The database every bad policy must leave alone.
if ! (cd "$here/good" && "$bin" compile basic.policy -o "$tmp/ref.db") \
	>"$tmp/out" 2>&1; then
	fail setup "cannot compile good/basic.policy as the reference database" \
		"$tmp/out"
	exit 1
fi

bad_dir="$here/bad"
for f in "$bad_dir"/*.policy; do
	[ -f "$f" ] || continue
	name=$(basename "$f" .policy)
	case_dir="$tmp/bad.$name"
	mkdir "$case_dir"
	db="$case_dir/policy.db"
	cp "$tmp/ref.db" "$db"
	tagged expect "$f" | DIR="$bad_dir" awk '{
		while ((i = index($0, "@DIR@")) > 0)
			$0 = substr($0, 1, i - 1) ENVIRON["DIR"] substr($0, i + 5)
		print
	}' >"$tmp/want"
	nwant=$(wc -l <"$tmp/want")
	(cd "$bad_dir" && "$bin" compile "$name.policy" -o "$db") \
		>"$tmp/stdout" 2>"$tmp/stderr"
	got_rc=$?
	why=
	: >"$tmp/details"
	if [ "$nwant" -eq 0 ]; then
		why="no '# expect:' lines"
	elif [ "$got_rc" -ne 2 ]; then
		why="exit status $got_rc, want 2"
		cat "$tmp/stderr" >"$tmp/details"
	else
		# The summary is the last line; the error lines come before it.
		summary=$(tail -n 1 "$tmp/stderr")
		lines=$(wc -l <"$tmp/stderr")
		head -n $((lines - 1)) "$tmp/stderr" >"$tmp/got"
		plural=s
		[ "$nwant" -eq 1 ] && plural=
		want_summary="doppel compile: $nwant problem$plural in $name.policy; $db left as it was"
		if ! cmp -s "$tmp/want" "$tmp/got"; then
			why="error lines differ from '# expect:' (- want, + got)"
			diff -u "$tmp/want" "$tmp/got" | tail -n +3 >"$tmp/details"
		elif [ "$summary" != "$want_summary" ]; then
			why="summary line differs"
			printf 'want: %s\ngot:  %s\n' "$want_summary" "$summary" \
				>"$tmp/details"
		elif [ -s "$tmp/stdout" ]; then
			why="wrote to stdout"
			cat "$tmp/stdout" >"$tmp/details"
		fi
	fi
	if [ -z "$why" ] && ! cmp -s "$tmp/ref.db" "$db"; then
		why="the existing database was changed"
	fi
	if [ -z "$why" ] && [ "$(ls -A "$case_dir")" != "policy.db" ]; then
		why="files left beside the database"
		ls -A "$case_dir" >"$tmp/details"
	fi
	if [ -n "$why" ]; then
		fail "bad/$name" "$why" "$tmp/details"
	else
		echo "PASS policies/bad/$name"
	fi
	rm -rf "$case_dir"
done

# field_of JSON_LINE FIELD: a string field of doppel check --json, or
# "null".
field_of() {
	printf '%s\n' "$1" | sed -n "s/.*\"$2\":\"\\([^\"]*\\)\".*/\\1/p;
		s/.*\"$2\":null.*/null/p" | head -n 1
}

good_dir="$here/good"
for f in "$good_dir"/*.policy; do
	[ -f "$f" ] || continue
	name=$(basename "$f" .policy)
	case_dir="$tmp/good.$name"
	mkdir "$case_dir"
	db="$case_dir/policy.db"
	why=
	: >"$tmp/details"
	(cd "$good_dir" && "$bin" compile "$name.policy" -o "$db") \
		>"$tmp/stdout" 2>"$tmp/stderr"
	got_rc=$?
	if [ "$got_rc" -ne 0 ]; then
		why="compile exited with status $got_rc"
		cat "$tmp/stderr" >"$tmp/details"
	elif [ -s "$tmp/stderr" ]; then
		why="compile wrote to stderr"
		cat "$tmp/stderr" >"$tmp/details"
	elif [ "$(ls -A "$case_dir")" != "policy.db" ]; then
		why="files left beside the database"
		ls -A "$case_dir" >"$tmp/details"
	elif ! "$bin" info "$db" >"$tmp/info" 2>&1; then
		why="doppel info failed"
		cat "$tmp/info" >"$tmp/details"
	elif ! grep -q '^kind: *compiled policy$' "$tmp/info"; then
		why="doppel info does not see a compiled policy"
		cat "$tmp/info" >"$tmp/details"
	fi
	if [ -z "$why" ]; then
		tagged info "$f" >"$tmp/want"
		while IFS= read -r line; do
			key=${line%%:*}
			val=$(printf '%s' "${line#*:}" | sed 's/^ *//')
			got=$(sed -n "s/^$key: *//p" "$tmp/info")
			if [ "$got" != "$val" ]; then
				echo "info '$key': want '$val', got '$got'" \
					>>"$tmp/details"
			fi
		done <"$tmp/want"
		tagged check "$f" >"$tmp/want"
		nchecks=0
		while read -r qname want_verdict want_tech; do
			[ -n "$qname" ] || continue
			nchecks=$((nchecks + 1))
			for pol in "$db" "$good_dir/$name.policy"; do
				kind=compiled
				[ "$pol" = "$db" ] || kind=source
				out=$("$bin" check -p "$pol" --json "$qname" \
					2>"$tmp/err")
				crc=$?
				verdict=$(field_of "$out" verdict)
				tech=$(field_of "$out" technique)
				want_rc=0
				[ "$want_verdict" = block ] && want_rc=1
				if [ -s "$tmp/err" ] || [ "$crc" -ne "$want_rc" ]; then
					echo "$kind: $qname: exit status $crc, want $want_rc; got $out $(head -c 300 "$tmp/err")" \
						>>"$tmp/details"
				elif [ "$verdict" != "$want_verdict" ] || {
					[ -n "$want_tech" ] &&
					[ "$tech" != "$want_tech" ]; }; then
					echo "$kind: $qname: want $want_verdict${want_tech:+ ($want_tech)}, got $out" \
						>>"$tmp/details"
				fi
			done
		done <"$tmp/want"
		if [ -s "$tmp/details" ]; then
			why="verdicts or info differ"
		elif [ "$nchecks" -eq 0 ]; then
			why="no '# check:' lines"
		fi
	fi
	if [ -n "$why" ]; then
		fail "good/$name" "$why" "$tmp/details"
	else
		echo "PASS policies/good/$name"
	fi
	rm -rf "$case_dir"
done
exit $rc

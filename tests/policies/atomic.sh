#!/bin/sh
# tests/policies/atomic.sh - `doppel compile` replaces a compiled policy
# atomically: readers that open it while it is being recompiled, again and
# again, always find a whole policy, the old one or the new one.
#
# Two sources: A protects army.mil (army.ml: block); B protects army.mil
# and 20000 other domains, with tld-swap capped at warn (army.ml: warn), so
# the two databases differ in size as well as in content.  A is compiled to
# DB; then READERS reader loops run `doppel check -p DB --json army.ml`
# while a writer compiles B, A, B, ... onto DB, COMPILES times.  Every read
# must exit 0 or 1 with nothing on stderr and the verdict of A or of B;
# every compile must succeed; no temporary file may be left beside DB.
# Readers stop when the writer is done (at least MIN_READS reads each), or
# after MAX_READS reads or DEADLINE seconds, whichever comes first.
#
# Prints "PASS policies/atomic-replace: R reads, W compiles, 0 errors" or
# "FAIL policies/atomic-replace: ..." with details indented.
# Environment: DOPPEL_BIN (default build/bin/doppel under the repo root);
# for a longer stress run, ATOMIC_COMPILES (40), ATOMIC_READERS (2),
# ATOMIC_MAX_READS (5000) and ATOMIC_DEADLINE (12 seconds).
set -u
here=$(cd "$(dirname "$0")" && pwd -P) || exit 2
root=$(cd "$here/../.." && pwd -P) || exit 2
if [ -n "${DOPPEL_BIN:-}" ]; then
	bin=$DOPPEL_BIN
	case $bin in /*) ;; *) bin="$PWD/$bin" ;; esac
else
	bin="$root/build/bin/doppel"
fi
READERS=${ATOMIC_READERS:-2}
COMPILES=${ATOMIC_COMPILES:-40}
MIN_READS=20
MAX_READS=${ATOMIC_MAX_READS:-5000}
DEADLINE=${ATOMIC_DEADLINE:-12}
NAME=army.ml

tmp=$(mktemp -d) || exit 2
pids=
cleanup() {
	for p in $pids; do
		kill "$p" 2>/dev/null
	done
	for p in $pids; do
		wait "$p" 2>/dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() {
	echo "FAIL policies/atomic-replace: $1"
	if [ $# -ge 2 ] && [ -s "$2" ]; then
		sed 's/^/    /' "$2" | head -n 40
	fi
	exit 1
}

[ -x "$bin" ] || fail "no doppel binary at $bin (run make, or set DOPPEL_BIN)"

# The sources, and what each says about NAME: verdict and check's status.
printf 'protect army.mil\n' >"$tmp/a.policy"
{
	printf 'protect army.mil\n'
	printf 'technique tld-swap action=warn\n'
	printf 'protect-file b.list\n'
} >"$tmp/b.policy"
awk 'BEGIN {
	srand(1)
	while (n < 20000) {
		len = 6 + int(rand() * 7)
		s = ""
		for (i = 0; i < len; i++)
			s = s substr("abcdefghijklmnopqrstuvwxyz", 1 + int(rand() * 26), 1)
		s = s ".com"
		if (!(s in seen)) {
			seen[s] = 1
			print s
			n++
		}
	}
}' >"$tmp/b.list"
mkdir "$tmp/out"
db="$tmp/out/policy.db"
verdict_of() {
	sed -n 's/.*"verdict":"\([a-z]*\)".*/\1/p'
}
for src in a b; do
	if ! "$bin" compile "$tmp/$src.policy" -o "$tmp/$src.db" \
		>"$tmp/log" 2>&1; then
		fail "cannot compile source $src" "$tmp/log"
	fi
	"$bin" check -p "$tmp/$src.db" --json "$NAME" >"$tmp/$src.out" \
		2>"$tmp/log"
	echo $? >"$tmp/$src.rc"
	verdict_of <"$tmp/$src.out" >"$tmp/$src.verdict"
done
want_a="$(cat "$tmp/a.rc"):$(cat "$tmp/a.verdict")"
want_b="$(cat "$tmp/b.rc"):$(cat "$tmp/b.verdict")"
if [ "$want_a" != "1:block" ] || [ "$want_b" != "0:warn" ]; then
	cat "$tmp/a.out" "$tmp/b.out" >"$tmp/log"
	fail "sources do not give $NAME block (A) and warn (B): got $want_a, $want_b" \
		"$tmp/log"
fi
rm -f "$tmp/a.db" "$tmp/b.db"
if ! "$bin" compile "$tmp/a.policy" -o "$db" >"$tmp/log" 2>&1; then
	fail "cannot compile A onto the database" "$tmp/log"
fi

start=$(date +%s)

# reader K: check NAME until the writer is done; write "reads a b errors".
reader() {
	k=$1
	n=0 na=0 nb=0 errors=0
	: >"$tmp/reader$k.log"
	while [ "$n" -lt "$MAX_READS" ]; do
		if [ -e "$tmp/writer.done" ] && [ "$n" -ge "$MIN_READS" ]; then
			break
		fi
		if [ $((n % 25)) -eq 24 ] &&
			[ $(($(date +%s) - start)) -ge "$DEADLINE" ]; then
			break
		fi
		out=$("$bin" check -p "$db" --json "$NAME" 2>"$tmp/reader$k.err")
		got="$?:$(printf '%s\n' "$out" | verdict_of)"
		n=$((n + 1))
		if [ -s "$tmp/reader$k.err" ]; then
			errors=$((errors + 1))
			echo "reader $k, read $n: stderr: $(head -c 300 "$tmp/reader$k.err")" \
				>>"$tmp/reader$k.log"
		elif [ "$got" = "$want_a" ]; then
			na=$((na + 1))
		elif [ "$got" = "$want_b" ]; then
			nb=$((nb + 1))
		else
			errors=$((errors + 1))
			echo "reader $k, read $n: exit:verdict $got: $out" \
				>>"$tmp/reader$k.log"
		fi
	done
	echo "$n $na $nb $errors" >"$tmp/reader$k.count"
}

k=1
while [ "$k" -le "$READERS" ]; do
	reader "$k" &
	pids="$pids $!"
	k=$((k + 1))
done

# The writer: B, A, B, ... onto the database.
w=0 werrors=0
: >"$tmp/writer.log"
while [ "$w" -lt "$COMPILES" ]; do
	w=$((w + 1))
	src=b
	[ $((w % 2)) -eq 0 ] && src=a
	if ! "$bin" compile "$tmp/$src.policy" -o "$db" >/dev/null \
		2>"$tmp/writer.err" || [ -s "$tmp/writer.err" ]; then
		werrors=$((werrors + 1))
		echo "compile $w ($src): $(head -c 300 "$tmp/writer.err")" \
			>>"$tmp/writer.log"
	fi
done
: >"$tmp/writer.done"

for p in $pids; do
	wait "$p"
done
pids=

reads=0 seen_a=0 seen_b=0 errors=$werrors
cat "$tmp/writer.log" >"$tmp/details"
k=1
while [ "$k" -le "$READERS" ]; do
	if [ ! -s "$tmp/reader$k.count" ]; then
		echo "reader $k died without a count" >>"$tmp/details"
		errors=$((errors + 1))
	else
		read -r n na nb e <"$tmp/reader$k.count"
		reads=$((reads + n))
		seen_a=$((seen_a + na))
		seen_b=$((seen_b + nb))
		errors=$((errors + e))
		cat "$tmp/reader$k.log" >>"$tmp/details"
	fi
	k=$((k + 1))
done

# The last compile's verdict holds (B's if COMPILES is odd, A's if even),
# and nothing is left beside the database.
last=b want_last=$want_b
if [ $((COMPILES % 2)) -eq 0 ]; then
	last=a want_last=$want_a
fi
out=$("$bin" check -p "$db" --json "$NAME" 2>&1)
got="$?:$(printf '%s\n' "$out" | verdict_of)"
if [ "$got" != "$want_last" ]; then
	echo "after the writer: exit:verdict $got, want $want_last ($last): $out" \
		>>"$tmp/details"
	errors=$((errors + 1))
fi
if ! "$bin" info "$db" >"$tmp/info" 2>&1; then
	echo "doppel info fails on the final database: $(head -c 300 "$tmp/info")" \
		>>"$tmp/details"
	errors=$((errors + 1))
fi
left=$(ls -A "$tmp/out" | tr '\n' ' ')
if [ "$left" != "policy.db " ]; then
	echo "files beside the database: $left" >>"$tmp/details"
	errors=$((errors + 1))
fi

if [ "$errors" -ne 0 ]; then
	fail "$reads reads, $w compiles, $errors errors" "$tmp/details"
fi
if [ "$seen_a" -eq 0 ] || [ "$seen_b" -eq 0 ]; then
	echo "reads of A: $seen_a, of B: $seen_b" >"$tmp/details"
	fail "the readers did not see both policies: no overlap with the writer" \
		"$tmp/details"
fi
echo "PASS policies/atomic-replace: $reads reads, $w compiles, 0 errors"

#!/usr/bin/env bash
# tests/lab/demo.sh — the army.mil / army.ml story, told by the offline lab:
# ask the resolver (Unbound with doppel) for the real .mil domains and their
# Malian lookalikes, and show what each query got and why.
#
# usage: tests/lab/demo.sh [POLICY]    (default: conf/policy.txt)
#
# Builds nothing: run `make` first (or set UNBOUND_DIR and DOPPEL_SO, as for
# tests/lab/lab.sh). Everything it starts is stopped when it ends.

set -eu

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
lab=$here/lab.sh
policy=${1:-$repo/conf/policy.txt}
case "$policy" in /*) ;; *) policy=$(pwd)/$policy ;; esac

if [ ! -f "$policy" ]; then
	echo "demo.sh: no policy file $policy" >&2
	exit 1
fi

rundir=$(mktemp -d "${TMPDIR:-/tmp}/doppel-demo.XXXXXX")
trap '"$lab" stop "$rundir"; rm -rf "$rundir"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

"$lab" start "$rundir" "$policy"
# shellcheck disable=SC1091
. "$rundir/env"

# A demo without a loaded policy would show every lookalike resolving: say
# what went wrong instead.
if grep -q 'error: doppel' "$RESOLVER_LOG"; then
	echo "demo.sh: doppel reported errors; the resolver's log says:" >&2
	grep 'doppel' "$RESOLVER_LOG" | sed 's/^.*\] [a-z ]*: /  /' >&2
	exit 1
fi
loaded=$(grep -m 1 'doppel.*loaded' "$RESOLVER_LOG" | sed 's/.*loaded, *//') || true

cachehits() {
	"$lab" control "$rundir" stats_noreset 2>/dev/null |
		sed -n 's/^total\.num\.cachehits=//p'
}

# row NAME TYPE — ask, and print one line of the table.
row() {
	local name=$1 type=$2 off hits reply rcode answer verdict why
	off=$(wc -c <"$RESOLVER_LOG")
	hits=$(cachehits)
	reply=$("$lab" query "$rundir" "$name" "$type" 2>&1) || true
	rcode=$(printf '%s\n' "$reply" | sed -n 's/.*rcode: \([A-Z]*\),.*/\1/p')
	# The data of the answer's records of the asked type (or the CNAME
	# that stands for them), comma-separated.
	answer=$(printf '%s\n' "$reply" | awk -v t="$type" '
		/^;; ANSWER SECTION:/ { on = 1; next }
		/^;; / || /^$/ { on = 0 }
		on && ($4 == t || $4 == "CNAME") {
			d = $5; for (i = 6; i <= NF; i++) d = d " " $i
			if ($4 == "CNAME") d = "CNAME " d
			out = out (out == "" ? "" : ", ") d
		}
		END { print out }')
	why=$(tail -c +"$((off + 1))" "$RESOLVER_LOG" |
		grep -m 1 "doppel: block $(printf '%s' "$name" | sed 's/\./\\./g')\.\{0,1\} $type: " |
		sed 's/.*doppel: block [^ ]* [^ ]*: //') || true
	if [ -n "$why" ]; then
		verdict="block: $why"
	elif [ "$rcode" = NXDOMAIN ] && [ "$(cachehits)" != "$hits" ]; then
		verdict="block (cached answer; the module was not asked again)"
	else
		verdict="pass"
	fi
	[ "$(cachehits)" != "$hits" ] && rcode="$rcode*"
	printf '%-10s %-5s %-10s %-22s %s\n' "$name" "$type" "${rcode:-none}" \
		"${answer:--}" "$verdict"
}

cat <<EOF
doppel demo: mail meant for army.mil must not go to Mali's army.ml.

  policy:        $policy
                 ${loaded:+($loaded)}
  resolver:      Unbound + doppel on 127.0.0.1 port $RESOLVER_PORT
  authoritative: the lab's zones (conf/lab/zones) on 127.0.0.1 port $AUTH_PORT,
                 serving army.mil and navy.mil, and the impostors army.ml
                 and navy.ml with Malian addresses

EOF
printf '%-10s %-5s %-10s %-22s %s\n' NAME TYPE RCODE ANSWER DOPPEL
printf '%-10s %-5s %-10s %-22s %s\n' ---- ---- ----- ------ ------
for name in army.mil army.ml navy.mil navy.ml; do
	for type in MX A; do
		row "$name" "$type"
	done
done
row army.ml MX

leaked=$(grep -cE ' ([^ ]+\.)?(army|navy)\.ml\. [A-Z0-9]+ IN$' "$AUTH_LOG") || true
cat <<EOF

  * answered from the resolver's cache: repeats of a blocked name stay
    blocked without the module being asked again.

Queries for army.ml or navy.ml that reached their name servers: $leaked
EOF

#!/bin/sh
# tests/cli.sh - the doppel command line: verdicts, JSON, exit codes, and
# errors that say what and where.
set -u
cd "$(dirname "$0")/.." || exit 2
bin=${DOPPEL_BIN:-build/bin/doppel}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
rc=0

pass() { echo "PASS cli/$1"; }
fail() { echo "FAIL cli/$1: $2"; rc=1; }

# expect NAME WANT_STATUS WANT_OUTPUT_REGEX COMMAND...
expect() {
	name=$1 want_rc=$2 want_re=$3
	shift 3
	"$@" >"$tmp/out" 2>&1
	got_rc=$?
	if [ "$got_rc" -ne "$want_rc" ]; then
		fail "$name" "exit status $got_rc, want $want_rc; output: $(head -c 300 "$tmp/out")"
	elif ! grep -Eq -- "$want_re" "$tmp/out"; then
		fail "$name" "output lacks /$want_re/: $(head -c 300 "$tmp/out")"
	else
		pass "$name"
	fi
}

expect check-block 1 '^army\.ml: block \(tld-swap of army\.mil' \
	"$bin" check -p conf/policy.txt army.ml
expect check-allow 0 '^army\.mil: allow: protected domain army\.mil' \
	"$bin" check -p conf/policy.txt army.mil
expect check-json 1 '^\{"name":"navy\.ml","input":"NAVY\.ML\.","verdict":"block","target":"navy\.mil","technique":"tld-swap","score":0\.950,' \
	"$bin" check -p conf/policy.txt --json NAVY.ML.
expect check-bad-name 0 '^a\.\.b: not a domain name' \
	"$bin" check -p conf/policy.txt a..b
expect check-no-policy 2 'no-such-policy\.txt: error: cannot open policy' \
	"$bin" check -p "$tmp/no-such-policy.txt" army.ml
printf 'protect army.mil\nprotect navy.mil countries=usa\n' >"$tmp/bad.txt"
expect check-bad-policy 2 'bad\.txt:2:28: error: countries' \
	"$bin" check -p "$tmp/bad.txt" army.ml
expect unknown-command 2 "unknown command 'frob'" "$bin" frob

printf 'army.mil\narmy.ml\n\nexample.org\nwww.navy.ml\n' >"$tmp/names"
"$bin" scan -p conf/policy.txt --json <"$tmp/names" >"$tmp/scan" 2>&1
if [ "$(wc -l <"$tmp/scan")" -eq 5 ] &&
	sed -n 2p "$tmp/scan" | grep -q '"verdict":"block"' &&
	sed -n 5p "$tmp/scan" | grep -q '"target":"navy.mil"' &&
	sed -n 1p "$tmp/scan" | grep -q '"verdict":"allow","target":null'; then
	pass scan-json-one-line-per-name
else
	fail scan-json-one-line-per-name "$(cat "$tmp/scan")"
fi

# The RPZ export: the lookalikes the policy blocks, none it only warns of,
# in a zone ldns reads back.
if "$bin" compile conf/policy.txt --rpz lookalikes.rpz -o "$tmp/l.rpz" \
	>"$tmp/out" 2>&1 && grep -q '^army\.ml CNAME \.$' "$tmp/l.rpz" &&
	grep -q '^\*\.army\.ml CNAME \.$' "$tmp/l.rpz" &&
	! grep -q '^army\.com CNAME' "$tmp/l.rpz" &&
	! grep -q '^army\.mil CNAME' "$tmp/l.rpz" &&
	grep -q '^@ SOA ' "$tmp/l.rpz"; then
	pass rpz-export
else
	fail rpz-export "$(cat "$tmp/out"; head -5 "$tmp/l.rpz" 2>&1)"
fi
if "$bin" compile tests/cases/brands.policy --rpz brands.rpz -o "$tmp/b.rpz" \
	>"$tmp/out" 2>&1 && grep -q '^paypak\.com CNAME \.$' "$tmp/b.rpz" &&
	grep -q '^paypa1\.com CNAME \.$' "$tmp/b.rpz" &&
	! grep -q '^paypal\.com CNAME' "$tmp/b.rpz"; then
	pass rpz-export-typos
else
	fail rpz-export-typos "$(cat "$tmp/out")"
fi

printf 'policy: %s\non-error: closed\n' "$PWD/conf/policy.txt" >"$tmp/ok.conf"
expect conf-check-ok 0 'ok; policy .*: 17 protected domains; on-error closed' \
	"$bin" conf-check "$tmp/ok.conf"
printf 'policy: %s\nblock-ttl: soon\n' "$PWD/conf/policy.txt" >"$tmp/bad.conf"
expect conf-check-bad 2 'bad\.conf:2: block-ttl' "$bin" conf-check "$tmp/bad.conf"
# An explanation is printable ASCII, whatever octets the name holds: a
# skeleton of decoded \DDD octets (LF, ESC, 0x80 and up) is escaped too.
"$bin" check -p conf/policy.txt 'arm\010y.mil' 'a\027rmy.ml' 'arrny\200.ml' \
	>"$tmp/raw" 2>&1
if LC_ALL=C grep -q '[^[:print:]]' "$tmp/raw" ||
	[ "$(wc -l <"$tmp/raw")" -ne 3 ] ||
	! grep -qF "skeletons 'arm\\010y' and 'army'" "$tmp/raw"; then
	fail check-why-printable "raw octets in: $(cat -v "$tmp/raw" | head -c 300)"
else
	pass check-why-printable
fi

tests/review/run.sh || rc=1
exit $rc

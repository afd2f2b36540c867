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

printf 'policy: %s\non-error: closed\n' "$PWD/conf/policy.txt" >"$tmp/ok.conf"
expect conf-check-ok 0 'ok; policy .*: 17 protected domains; on-error closed' \
	"$bin" conf-check "$tmp/ok.conf"
printf 'policy: %s\nblock-ttl: soon\n' "$PWD/conf/policy.txt" >"$tmp/bad.conf"
expect conf-check-bad 2 'bad\.conf:2: block-ttl' "$bin" conf-check "$tmp/bad.conf"
exit $rc

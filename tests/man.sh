#!/bin/sh
# tests/man.sh - the man pages (doc/*.pod): they build with pod2man and
# render with man, and they document every command, every doppel.conf
# setting and every policy directive the code knows (the lists are taken
# from the binary's own messages, so a new one without its page fails).
set -u
cd "$(dirname "$0")/.." || exit 2
bin=${DOPPEL_BIN:-build/bin/doppel}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
rc=0
pass() { echo "PASS man/$1"; }
fail() { echo "FAIL man/$1: $2"; rc=1; }

for page in doppel.1 doppel.conf.5 doppel-policy.5; do
	pod=doc/$page.pod
	sec=${page##*.}
	if ! out=$(podchecker "$pod" 2>&1) || printf '%s\n' "$out" | grep -q WARNING; then
		fail "$page-pod" "$out"
		continue
	fi
	if pod2man --section="$sec" --center=doppel --release="doppel" \
		--name="$(echo "${page%.*}" | tr a-z A-Z)" "$pod" >"$tmp/$page" 2>"$tmp/err" &&
		MANWIDTH=80 man -l "$tmp/$page" >"$tmp/$page.txt" 2>"$tmp/err" &&
		[ ! -s "$tmp/err" ] && [ "$(wc -l <"$tmp/$page.txt")" -gt 50 ]; then
		pass "$page-renders"
	else
		fail "$page-renders" "$(head -5 "$tmp/err")"
	fi
done

# words WHAT FILE WORD...: every word starts a line of the rendered page
# (an item of its own: a setting, a directive, a field), or follows
# "doppel " (a command)
words() {
	what=$1 page=$2
	shift 2
	missing=""
	for w in "$@"; do
		grep -Eq -- "^[[:space:]]*(doppel )?$w([[:space:]:,=]|\$)" \
			"$tmp/$page.txt" 2>/dev/null || missing="$missing $w"
	done
	if [ -z "$missing" ]; then
		pass "$what"
	else
		fail "$what" "not documented:$missing"
	fi
}
# the commands, from `doppel help`
cmds=$("$bin" help | sed -n 's/^  doppel \([a-z-]*\).*/\1/p' | sort -u)
# shellcheck disable=SC2086
words every-command doppel.1 $cmds
# the settings, from the unknown-setting message
printf 'policy: x\nno-such-key: 1\n' >"$tmp/k.conf"
keys=$("$bin" conf-check "$tmp/k.conf" 2>&1 | sed -n 's/.*(known: \(.*\)).*/\1/p' | tr -d ',')
[ -n "$keys" ] || fail settings-listed "no list of settings from conf-check"
# shellcheck disable=SC2086
words every-setting doppel.conf.5 $keys
# the directives, from the unknown-directive message
printf 'no-such-directive x\n' >"$tmp/p.txt"
dirs=$("$bin" check -p "$tmp/p.txt" x.com 2>&1 | sed -n 's/.*(known: \(.*\)).*/\1/p' | tr -d ',')
[ -n "$dirs" ] || fail directives-listed "no list of directives from check"
# shellcheck disable=SC2086
words every-directive doppel-policy.5 $dirs
# the audit fields, from a record the library writes
words every-audit-field doppel.conf.5 time client qname qtype rcode verdict \
	technique target score stage countries cache mode why repeats first last
exit $rc

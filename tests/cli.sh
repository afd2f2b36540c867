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


# Fixtures of tests/cli/cases.table.
printf 'protect army.mil\nprotect navy.mil countries=usa\n' >"$tmp/bad.txt"
printf '# names to look at\n\narmy.ml # the story\n  navy.mil\nexample.org\t# a comment\n' \
	>"$tmp/commented"
printf 'www.navy.ml\n' | gzip >"$tmp/names.gz"
"$bin" compile conf/policy.txt -o "$tmp/p.db" >/dev/null
printf 'text, not a database, long enough to be more than a page header of\n%0200d\n' 0 \
	>"$tmp/text.mdb"
"${BUILD:-build}/tests/mkcache" "$tmp/v.mdb" army.ml
rm -f "$tmp/v.mdb-lock"
label64=$(printf '%064d' 0 | tr 0 a)
long=$(printf 'abcdefghi.%.0s' $(seq 30))x
esc=$(printf 'a\033\010b')
rec() { # TIME CLIENT NAME VERDICT
	printf '{"time":"%s","client":"%s","qname":"%s","qtype":"A","rcode":"NXDOMAIN","verdict":"%s","technique":"tld-swap","target":"army.mil","score":0.95,"stage":"name","countries":null,"cache":false,"mode":"enforce","why":"x"}\n' "$@"
}
{ rec 2026-12-01T10:00:00.000000Z 192.0.2.7 army.ml block
  rec 2026-12-02T10:00:00.000000Z 192.0.2.7 navy.ml block; } >"$tmp/a.jsonl"
{ rec 2026-12-02T11:00:00.000000Z 192.0.2.7 army.ml would-block
  rec 2026-12-03T11:00:00.000000Z 198.51.100.9 navy.ml block; } |
	gzip >"$tmp/b.jsonl.gz"
seq 1 20000 | sed 's/.*/{"time":"2026-12-01T00:00:00Z","verdict":"allow"}/' |
	gzip | head -c 2000 >"$tmp/cut.jsonl.gz"
printf 'policy: %s\non-error: closed\ngeoip: off\n' "$PWD/conf/policy.txt" >"$tmp/ok.conf"
printf 'policy: %s\nblock-ttl: soon\n' "$PWD/conf/policy.txt" >"$tmp/bad.conf"
printf 'policy: %s\ngeoip: %s\n' "$PWD/conf/policy.txt" "$PWD/conf/policy.txt" \
	>"$tmp/geo-bad.conf"
printf 'policy: %s\ngeoip: off\naudit: all\naudit-log: %s/no-dir/audit.jsonl\n' \
	"$PWD/conf/policy.txt" "$tmp" >"$tmp/audit-dir.conf"
printf 'policy: %s\ngeoip: off\nverdict-cache: %s/p.db\n' "$PWD/conf/policy.txt" \
	"$tmp" >"$tmp/cache-bad.conf"
printf 'policy: %s\ngeoip: off\naudit: all\n' "$PWD/conf/policy.txt" >"$tmp/warn.conf"
printf 'policy: %s/bad.txt\ngeoip: off\n' "$tmp" >"$tmp/policy-bad.conf"
printf 'policy: %s\ngeoip: off\nstats-file: %s/none/stats.prom\n' \
	"$PWD/conf/policy.txt" "$tmp" >"$tmp/stats-none.conf"
printf 'policy: %s\ngeoip: off\nstats-file: %s/stats.prom\n' \
	"$PWD/conf/policy.txt" "$tmp" >"$tmp/stats.conf"
cat >"$tmp/stats.prom" <<STATS
# HELP doppel_queries_total Names checked.
# TYPE doppel_queries_total counter
doppel_queries_total 12
# TYPE doppel_verdicts_total counter
doppel_verdicts_total{action="block",technique="tld-swap"} 3
# TYPE doppel_stats_timestamp_seconds gauge
doppel_stats_timestamp_seconds 1796544000
STATS
export tmp label64 long esc

# The table: name | status | regex | command.
while IFS= read -r line; do
	case $line in '#'* | '') continue ;; esac
	name=${line%% | *}; line=${line#* | }
	want_rc=${line%% | *}; line=${line#* | }
	want_re=${line%% | *}; cmd=${line#* | }
	case $cmd in
	doppel\ *) cmd="\"\$bin\" ${cmd#doppel }" ;;
	doppel) cmd='"$bin"' ;;
	*'| doppel '*) cmd="${cmd%%| doppel *}| \"\$bin\" ${cmd#*| doppel }" ;;
	*'=doppel '* | *' doppel '*) cmd=$(printf '%s' "$cmd" |
		sed 's/\([= ]\)doppel /\1"$bin" /') ;;
	esac
	case $cmd in *"DOPPEL_CONF="*) cmd="env $cmd" ;; esac
	case $cmd in
	*'<'* | *'|'*) (eval "$cmd") >"$tmp/out" 2>&1 ;;
	*) (eval "$cmd") >"$tmp/out" 2>&1 </dev/null ;;
	esac
	got_rc=$?
	if [ "$got_rc" -ne "$want_rc" ]; then
		fail "$name" "exit status $got_rc, want $want_rc; output: $(head -c 300 "$tmp/out" | cat -v)"
	elif ! grep -Eaq -- "$want_re" "$tmp/out"; then
		fail "$name" "output lacks /$want_re/: $(head -c 300 "$tmp/out" | cat -v)"
	else
		pass "$name"
	fi
done <tests/cli/cases.table

# Beyond the table: what a command must leave as it found it.
cp "$tmp/p.db" "$tmp/p.orig"
"$bin" cache purge -d "$tmp/p.db" >/dev/null 2>&1
"$bin" cache list -d "$tmp/v.mdb" >/dev/null 2>&1
"$bin" cache purge army.ml -d "$tmp/v.mdb" >/dev/null 2>&1
if cmp -s "$tmp/p.db" "$tmp/p.orig" && ! ls "$tmp"/*-lock >/dev/null 2>&1 &&
	"$bin" cache show army.ml -d "$tmp/v.mdb" >/dev/null 2>&1; [ $? -eq 1 ]; then
	pass cache-leaves-files-as-found
else
	fail cache-leaves-files-as-found "$(ls "$tmp"; cmp "$tmp/p.db" "$tmp/p.orig")"
fi
# An answer that cannot be written is status 3.
if [ -w /dev/full ]; then
	"$bin" check -p conf/policy.txt army.mil >/dev/full 2>"$tmp/full.err"
	got=$?
	if [ $got -eq 3 ] && grep -q 'cannot write' "$tmp/full.err"; then
		pass output-full-status-3
	else
		fail output-full-status-3 "status $got: $(cat "$tmp/full.err")"
	fi
fi
# The report: one page, every section, as many day bars as days.
if "$bin" audit report -o "$tmp/r.html" "$tmp/a.jsonl" "$tmp/b.jsonl.gz" \
	>"$tmp/out" 2>&1 && [ "$(grep -o '<g class="day">' "$tmp/r.html" | wc -l)" -eq 3 ] &&
	grep -q 'Content-Security-Policy' "$tmp/r.html" &&
	! grep -Eqi '(src|href)=|url\(|<script' "$tmp/r.html"; then
	pass report-self-contained
else
	fail report-self-contained "$(cat "$tmp/out")"
fi

printf 'army.mil\narmy.ml\n\nexample.org\nwww.navy.ml\n' >"$tmp/names"
"$bin" scan -p conf/policy.txt --json <"$tmp/names" >"$tmp/scan" 2>&1
if [ "$(wc -l <"$tmp/scan")" -eq 4 ] &&
	sed -n 2p "$tmp/scan" | grep -q '"verdict":"block"' &&
	sed -n 4p "$tmp/scan" | grep -q '"target":"navy.mil"' &&
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

# An explanation is printable ASCII, whatever octets the name holds: a
# skeleton of decoded \DDD octets (LF, ESC, 0x80 and up) is escaped too.
"$bin" check -p conf/policy.txt --verbose 'arm\010y.mil' 'a\027rmy.ml' \
	'arrny\200.ml' >"$tmp/raw" 2>&1
if LC_ALL=C grep -q '[^[:print:]]' "$tmp/raw" ||
	[ "$(wc -l <"$tmp/raw")" -ne 3 ] ||
	! grep -qF "skeletons 'arm\\010y' and 'army'" "$tmp/raw"; then
	fail check-why-printable "raw octets in: $(cat -v "$tmp/raw" | head -c 300)"
else
	pass check-why-printable
fi

# The engine's memo of registered domains (lib/engine.c) must not change
# a verdict: every name is judged the same whether its registered domain
# was weighed just before (warm) or not (cold).  The names: the recall
# sets' incidents and legitimate names, each also with host labels, a
# protected name and a keyword before it (the split and tokens families
# read those), in one order and reversed, so that different names of a
# registered domain come first.
awk '!/^#/ && NF { print $1 }' tests/recall/incidents.txt \
	tests/recall/legit-domains.txt | head -3000 |
	awk '{ print; print "www." $0; print "paypal.com." $0;
		print "login-paypal." $0; print "a." $0; print "mail.secure." $0 }' \
	>"$tmp/memo.txt"
awk '{ l[NR] = $0 } END { for(i = NR; i > 0; i--) print l[i] }' \
	"$tmp/memo.txt" >"$tmp/memo-rev.txt"
"$bin" scan --json --verbose -p tests/recall/eval-policy.txt "$tmp/memo.txt" |
	sort >"$tmp/memo-fwd.out"
"$bin" scan --json --verbose -p tests/recall/eval-policy.txt \
	"$tmp/memo-rev.txt" | sort >"$tmp/memo-rev.out"
n=$(wc -l <"$tmp/memo-fwd.out")
flagged=$(grep -c '"verdict":"\(block\|warn\)"' "$tmp/memo-fwd.out")
if [ "$n" -ne "$(wc -l <"$tmp/memo.txt")" ] || [ "$flagged" -lt 1000 ]; then
	fail engine-memo "$n verdicts, $flagged flagged"
elif ! cmp -s "$tmp/memo-fwd.out" "$tmp/memo-rev.out"; then
	fail engine-memo "$(diff "$tmp/memo-fwd.out" "$tmp/memo-rev.out" |
		head -4 | cut -c1-300)"
else
	pass engine-memo
fi

tests/review/run.sh || rc=1
exit $rc

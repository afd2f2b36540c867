#!/bin/sh
# tests/review/run.sh - `doppel review`: ranking the names an audit log
# shows flagged, and the policy lines it suggests to accept them.
#
# Usage of the command under test:
#
#	doppel review [--min-clients N] [--top N] [--json] LOG...
#
# It reads audit logs (JSON Lines, as lib/audit.c writes them), lists the
# names with a block or warn verdict (verdicts, target, technique, queries,
# distinct clients, distinct UTC days, first and last seen), those seen by
# the most clients on the most days first, then prints policy lines for the
# administrator to accept them (`allow REGISTERED-DOMAIN`, or `ours LABEL.*`
# when a protected domain's label is flagged under two suffixes or more as
# a tld-swap or tld-typo) for the names shown that at least --min-clients
# clients asked for (default 2).  --top N shows N rows (default 50, 0 for
# all); --json prints the rows as a JSON array.  Bad lines are reported on
# stderr as FILE:LINE and counted.  Exit: 0 when a record was read, 1 when
# none could be, 2 on usage errors.
#
# tests/review/audit.jsonl is a recorded log of 13 flagged names from 7
# clients over 5 days (2026-03-02 to 06), with allowed queries, a cache hit
# without a client, and 4 bad lines (8: cut short, 16: an array, 27: no
# qname, 34: no verdict) and an empty one (23).  Prints "PASS review/NAME"
# or "FAIL review/NAME: why" for every check; exits 1 if one failed.
set -u
cd "$(dirname "$0")/../.." || exit 2
bin=${DOPPEL_BIN:-build/bin/doppel}
log=tests/review/audit.jsonl
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
rc=0

pass() { echo "PASS review/$1"; }
fail() { echo "FAIL review/$1: $2"; rc=1; }

# run NAME ARGS...: run doppel review, output in $tmp/NAME.out and .err,
# status in $tmp/NAME.rc.
run() {
	name=$1
	shift
	"$bin" review "$@" >"$tmp/$name.out" 2>"$tmp/$name.err"
	echo $? >"$tmp/$name.rc"
}

# status NAME WANT: check the exit status of run NAME.
status() {
	got=$(cat "$tmp/$1.rc")
	if [ "$got" -eq "$2" ]; then
		pass "$1-status"
	else
		fail "$1-status" "exit status $got, want $2; stderr: $(head -c 300 "$tmp/$1.err")"
	fi
}

# same CHECK WANT GOT: compare two texts.
same() {
	if [ "$2" = "$3" ]; then
		pass "$1"
	else
		fail "$1" "want [$2], got [$3]"
	fi
}

# has CHECK FILE REGEX: FILE has a line matching REGEX.
has() {
	if grep -Eq -- "$3" "$2"; then
		pass "$1"
	else
		fail "$1" "no line like /$3/ in: $(head -c 400 "$2")"
	fi
}

# The names of the table's rows, in order.
names() { sed -n '3,/^$/p' "$1" | awk 'NF { print $2 }'; }

# The suggested policy lines, without their comments.
policy() { sed -n '/^# Suggested policy lines/,$p' "$1" | grep -v '^#' |
	sed 's/ *#.*//'; }

run default "$log"
status default 0
same summary "41 records read, 4 lines skipped, from 1 of 1 log; 13 flagged names, 13 shown" \
	"$(head -n 1 "$tmp/default.out")"

# Ranked by clients x days, then queries, then name: login.paypa1.com and
# paypa1.com tie on both (2 x 2, 3 queries), so do googlec.om and
# mail.yahoo.de (2 x 1, 2 queries) and the last three (1 x 1, 1 query);
# army.ml's 5 queries from one client put it under micros0ft.com's 2 from
# two.
same ranking "yahoo.de navy.com yahoo.fr login.paypa1.com paypa1.com micros0ft.com army.ml googlec.om mail.yahoo.de navy.ml examp1e.com exarnple.com yahoo.co.jp" \
	"$(names "$tmp/default.out" | tr '\n' ' ' | sed 's/ $//')"

# Counts: queries, distinct clients, distinct days, first and last seen.
has counts-yahoo.de "$tmp/default.out" \
	'^ +1  yahoo\.de +warn +yahoo\.com +tld-swap +7 +5 +4  2026-03-02T08:14:03  2026-03-05T17:45:08$'
has counts-navy.com "$tmp/default.out" \
	'^ +2  navy\.com +warn +navy\.mil +tld-swap +5 +4 +4  2026-03-02T11:47:09  2026-03-06T10:48:19$'
# a cache hit logged without a client adds a query, not a client
has counts-army.ml-null-client "$tmp/default.out" \
	'^ +7  army\.ml +block +army\.mil +tld-swap +5 +1 +2  2026-03-02T09:02:51  2026-03-06T12:00:00$'
# warned on the 2nd, blocked on the 5th
has counts-both-verdicts "$tmp/default.out" \
	'^ +6  micros0ft\.com +block,warn +microsoft\.com +homoglyph +2 +2 +2  2026-03-02T10:31:40  2026-03-05T10:05:27$'
has counts-one-record "$tmp/default.out" \
	'^ +13  yahoo\.co\.jp +warn +yahoo\.com +tld-swap +1 +1 +1  2026-03-06T08:05:39  2026-03-06T08:05:39$'
# the allowed queries (army.mil, yahoo.com, navy.mil) are no rows
if names "$tmp/default.out" | grep -Eq '^(army\.mil|yahoo\.com|navy\.mil)$'; then
	fail allowed-not-listed "$(names "$tmp/default.out" | tr '\n' ' ')"
else
	pass allowed-not-listed
fi

# Suggestions from 2 clients: yahoo under de and fr (tld-swap of
# yahoo.com) is one `ours` line, which also covers mail.yahoo.de; the two
# paypa1.com names are one `allow` of their registered domain; googlec.om
# (tld-typo, label googlec, not google) is allowed alone; army.ml,
# navy.ml and the rest come from one client and get nothing.
has policy-block-commented "$tmp/default.out" \
	'^# Suggested policy lines: they accept as legitimate'
same policy-default "ours yahoo.*
allow navy.com
allow paypa1.com
allow micros0ft.com
allow googlec.om" "$(policy "$tmp/default.out")"
has policy-covers "$tmp/default.out" \
	'^ours yahoo\.\* +# yahoo\.de, yahoo\.fr, mail\.yahoo\.de$'

# The suggested lines are policy lines as they are, comments and all:
# with them, the flagged names (and their subdomains) are allowed, and
# `ours yahoo.*` covers yahoo under a suffix the log never showed.
{
	printf 'protect paypal.com\nprotect google.com\nprotect yahoo.com\n'
	sed -n '/^# Suggested policy lines/,$p' "$tmp/default.out" |
		grep -E '^(allow|ours) '
} >"$tmp/accepted.policy"
"$bin" check -p "$tmp/accepted.policy" login.paypa1.com googlec.om \
	yahoo.it paypa7.com yahooo.com >"$tmp/check.out" 2>&1
check_rc=$?
if [ "$check_rc" -eq 1 ] &&
	grep -q '^login\.paypa1\.com: allow' "$tmp/check.out" &&
	grep -q '^googlec\.om: allow' "$tmp/check.out" &&
	grep -q '^yahoo\.it: allow: ours' "$tmp/check.out" &&
	grep -q '^yahooo\.com: block' "$tmp/check.out" &&
	grep -q '^paypa7\.com: block' "$tmp/check.out"; then
	pass policy-lines-paste
else
	fail policy-lines-paste "status $check_rc: $(cat "$tmp/check.out")"
fi

# --min-clients: from 4 clients only yahoo.de and navy.com are left, and
# yahoo under one suffix is an allow, not an ours; from 1, army.ml is
# allowed, and navy.com and navy.ml stay one allow each: navy.ml was
# blocked, and `ours navy.*` would wave it through with its namesake.
run min4 --min-clients 4 "$log"
status min4 0
same min-clients-4 "allow yahoo.de
allow navy.com" "$(policy "$tmp/min4.out")"
run min1 "$log" --min-clients 1
same min-clients-1 "ours yahoo.*
allow navy.com
allow paypa1.com
allow micros0ft.com
allow army.ml
allow googlec.om
allow navy.ml
allow examp1e.com
allow exarnple.com" "$(policy "$tmp/min1.out")"
run min99 --min-clients 99 "$log"
has min-clients-none "$tmp/min99.out" '^# \(none: no name shown was seen from that many clients\)$'
same min-clients-none-lines "" "$(policy "$tmp/min99.out")"

# `ours` is for the protected domain's own label: a label that is not
# the target's (googlec, google.com with the dot shifted) stays one allow
# line per registered domain, even under two suffixes.  (Made-up records:
# doppel itself gives googlec.cm as an insertion.)
for n in googlec.om googlec.cm; do
	for c in 10.2.0.1 10.2.0.2; do
		printf '{"time":"2026-03-02T10:00:00.000000Z","client":"%s","qname":"%s","qtype":"A","rcode":"NXDOMAIN","verdict":"block","technique":"tld-typo","target":"google.com","score":0.900,"stage":"name","countries":null,"cache":false,"why":"made up"}\n' \
			"$c" "$n"
	done
done >"$tmp/other-label.jsonl"
run otherlabel "$tmp/other-label.jsonl"
same ours-needs-target-label "allow googlec.cm
allow googlec.om" "$(policy "$tmp/otherlabel.out")"
# ... and for tld-swap and tld-typo only: yahoo.fr flagged for where its
# answers point does not make yahoo ours under every suffix.
for n in yahoo.de:tld-swap yahoo.fr:country-mismatch; do
	for c in 10.2.0.1 10.2.0.2; do
		printf '{"time":"2026-03-02T10:00:00.000000Z","client":"%s","qname":"%s","qtype":"A","rcode":"NOERROR","verdict":"warn","technique":"%s","target":"yahoo.com","score":0.600,"stage":"answer","countries":"RU","cache":false,"why":"made up"}\n' \
			"$c" "${n%%:*}" "${n#*:}"
	done
done >"$tmp/other-tech.jsonl"
run othertech "$tmp/other-tech.jsonl"
same ours-needs-tld-technique "allow yahoo.de
allow yahoo.fr" "$(policy "$tmp/othertech.out")"

# A collapsed record (audit-collapse) stands for its repeats, and the day
# of its first repeat counts: 1 + 499 queries over 2 days. (Made up.)
{
	printf '{"time":"2026-03-02T23:59:30.000000Z","client":"10.3.0.1","qname":"paypa1.net","qtype":"A","rcode":"NXDOMAIN","verdict":"block","technique":"homoglyph","target":"paypal.com","score":0.950,"stage":"name","countries":null,"cache":true,"why":"made up"}\n'
	printf '{"time":"2026-03-03T00:00:20.000000Z","client":"10.3.0.1","qname":"paypa1.net","qtype":"A","rcode":"NXDOMAIN","verdict":"block","technique":"homoglyph","target":"paypal.com","score":0.950,"stage":"name","countries":null,"cache":true,"why":"made up","repeats":499,"first":"2026-03-02T23:59:31.000000Z","last":"2026-03-03T00:00:20.000000Z"}\n'
} >"$tmp/collapsed.jsonl"
run collapsed "$tmp/collapsed.jsonl"
has collapsed-repeats-counted "$tmp/collapsed.out" \
	'^ +1  paypa1\.net +block +paypal\.com +homoglyph +500 +1 +2  2026-03-02T23:59:30  2026-03-03T00:00:20$'

# A flagged name that is itself a public suffix gets no line: `allow
# gov.ml` would let every lookalike under gov.ml through, and with gov.de
# beside it `ours gov.*` more still.  (Made up.)
for n in gov.ml gov.de; do
	for c in 10.2.0.1 10.2.0.2; do
		printf '{"time":"2026-03-02T10:00:00.000000Z","client":"%s","qname":"%s","qtype":"A","rcode":"NXDOMAIN","verdict":"block","technique":"tld-swap","target":"gov.mil","score":0.950,"stage":"name","countries":null,"cache":false,"why":"made up"}\n' \
			"$c" "$n"
	done
done >"$tmp/suffix.jsonl"
run suffix "$tmp/suffix.jsonl"
same no-line-for-public-suffix "allow gov.de" "$(policy "$tmp/suffix.out")"
has public-suffix-row "$tmp/suffix.out" '^ +2  gov\.ml +block +gov\.mil +tld-swap +2 +2 +1 '

# --top: three rows, and suggestions for those only.
run top3 --top 3 "$log"
same top-rows "yahoo.de navy.com yahoo.fr" \
	"$(names "$tmp/top3.out" | tr '\n' ' ' | sed 's/ $//')"
has top-summary "$tmp/top3.out" '; 13 flagged names, 3 shown$'
same top-policy "ours yahoo.*
allow navy.com" "$(policy "$tmp/top3.out")"

# --json: stdout is one JSON array (the summary goes to stderr).
run json --json "$log"
status json 0
if python3 - "$tmp/json.out" >"$tmp/json.check" 2>&1 <<'EOF'
import json, sys
rows = json.load(open(sys.argv[1]))
assert isinstance(rows, list) and len(rows) == 13, len(rows)
assert [r["rank"] for r in rows] == list(range(1, 14))
first = rows[0]
want = {"rank": 1, "name": "yahoo.de", "verdicts": ["warn"],
	"target": "yahoo.com", "technique": "tld-swap", "queries": 7,
	"clients": 5, "days": 4,
	"first_seen": "2026-03-02T08:14:03.201144Z",
	"last_seen": "2026-03-05T17:45:08.318264Z",
	"registered": "yahoo.de", "suggest": "ours yahoo.*"}
assert first == want, first
by = {r["name"]: r for r in rows}
assert by["micros0ft.com"]["verdicts"] == ["block", "warn"], by["micros0ft.com"]
assert by["army.ml"]["suggest"] is None, by["army.ml"]
assert by["login.paypa1.com"]["registered"] == "paypa1.com"
assert by["login.paypa1.com"]["suggest"] == "allow paypa1.com"
print("ok")
EOF
then
	pass json-parses
else
	fail json-parses "$(cat "$tmp/json.check")"
fi
has json-summary-on-stderr "$tmp/json.err" '^41 records read, 4 lines skipped'

# Bad lines: FILE:LINE and why on stderr, the empty line 23 unreported.
same skipped-lines "doppel: $log:8: skipped: not JSON
doppel: $log:16: skipped: not a JSON object but an array
doppel: $log:27: skipped: no \"qname\" (a string)
doppel: $log:34: skipped: no \"verdict\" (a string)" \
	"$(sed 's/^\(doppel: [^ ]*: skipped: not JSON\).*/\1/' "$tmp/default.err")"

# At most 10 reported per file, then a count; the good line still counts.
{
	i=0
	while [ $i -lt 12 ]; do
		echo '{"qname":"army.ml"}'
		i=$((i + 1))
	done
	sed -n 3p "$log"
} >"$tmp/many-bad.jsonl"
run manybad "$tmp/many-bad.jsonl"
status manybad 0
same skipped-at-most-10 10 "$(grep -c ': skipped: no "verdict"' "$tmp/manybad.err")"
has skipped-count "$tmp/manybad.err" "^doppel: $tmp/many-bad.jsonl: 2 more lines skipped\$"
has skipped-summary "$tmp/manybad.out" '^1 records read, 12 lines skipped'

# Every line bad: nothing read, status 2 (an input that is malformed).
printf 'not json\n[1,2]\n\n' >"$tmp/all-bad.jsonl"
run allbad "$tmp/all-bad.jsonl"
status allbad 2
has allbad-says "$tmp/allbad.err" '^doppel: no audit record read$'

# An unreadable file is named and is status 2 (doppel's exit-code table);
# beside a readable log the rest is still reviewed.
run missing "$tmp/no-such.jsonl"
status missing 2
has missing-named "$tmp/missing.err" "^doppel: $tmp/no-such.jsonl: cannot read: No such file or directory\$"
run dir "$tmp"
status dir 2
has dir-named "$tmp/dir.err" "^doppel: $tmp: cannot read: Is a directory\$"
run partly "$tmp/no-such.jsonl" "$log"
status partly 2
has partly-named "$tmp/partly.err" "^doppel: $tmp/no-such.jsonl: cannot read"
has partly-summary "$tmp/partly.out" '^41 records read, 4 lines skipped, from 1 of 2 logs;'

# Two logs add up: the same log twice doubles the queries, not the
# distinct clients or days.
run twice "$log" "$log"
has two-logs "$tmp/twice.out" \
	'^ +1  yahoo\.de +warn +yahoo\.com +tld-swap +14 +5 +4  2026-03-02T08:14:03  2026-03-05T17:45:08$'

# The same input gives the same output.
run again "$log"
if cmp -s "$tmp/default.out" "$tmp/again.out"; then
	pass deterministic
else
	fail deterministic "$(diff "$tmp/default.out" "$tmp/again.out" | head -5)"
fi

# Usage errors are status 2.
run nolog
status nolog 2
has nolog-usage "$tmp/nolog.err" '^usage: doppel review '
run badopt --frob "$log"
status badopt 2
run badtop --top many "$log"
status badtop 2
run nomin "$log" --min-clients
status nomin 2
exit $rc

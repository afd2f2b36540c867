#!/usr/bin/env bash
# tests/e2e/geo.sh — the country check on the way back, in the lab, with a
# country database built from conf/lab/geo-fixture.txt: a weak lookalike
# answered from an unexpected country is blocked (and stays blocked from
# the cache), the same answered from the expected country resolves with a
# warning, an MX whose exchange has no glue is checked through subqueries,
# and a protected domain answered from elsewhere is logged as a hijack.
# A verdict made from an answer is kept in the verdict cache only as long
# as that answer's TTL (3600 s in the lab's zones), not verdict-ttl.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

DOPPEL=${DOPPEL_BIN:-$e2e_repo/build/bin/doppel}
vcache=$(mktemp -d)/verdicts.mdb
DOPPEL_CONF_EXTRA="verdict-cache: $vcache
verdict-ttl: 86400" e2e_start_geo geo-lab "$e2e_dir/policies/geo.txt"

# has_line CHECK REGEX — the resolver's log has a matching line.
has_line() {
	if grep -Eq -- "$2" "$RESOLVER_LOG"; then
		pass "$1"
	else
		fail "$1" "no log line /$2/"
	fi
}

expect_blocked geo-mismatch-blocks arny.mil A
has_line geo-mismatch-logged 'doppel: block arny\.mil A: .*answered from ML, expected US'
expect_blocked geo-mismatch-cached arny.mil A
# kept as long as the answer (TTL 3600), not verdict-ttl (a day)
rec=""
for i in $(seq 1 50); do
	rec=$("$DOPPEL" cache show -d "$vcache" arny.mil --json 2>/dev/null)
	case $rec in *'"verdict":"block"'*) break ;; esac
	sleep 0.1
done
kept=$(printf '%s' "$rec" | python3 -c 'import json,sys,datetime
r = json.load(sys.stdin)
t = lambda s: datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ")
print(int((t(r["expires"]) - t(r["last_seen"])).total_seconds()))' 2>/dev/null)
if [ -n "$kept" ] && [ "$kept" -gt 0 ] && [ "$kept" -le 3600 ]; then
	pass geo-mismatch-kept-as-long-as-the-answer
else
	fail geo-mismatch-kept-as-long-as-the-answer "cached for ${kept:-?} s, want <= 3600: $rec"
fi
expect_answer geo-expected-country-resolves arrny.mil A ' A 192\.0\.2\.90$'
has_line geo-expected-country-warns 'doppel: warn arrny\.mil A: homoglyph of army\.mil'
expect_blocked geo-mx-subquery-blocks armmy.mil MX
has_line geo-mx-subquery-logged 'doppel: block armmy\.mil MX: .*answered from ML'
expect_answer geo-hijack-resolves af.mil A ' A 102\.165\.99\.50$'
has_line geo-hijack-logged 'doppel: warn af\.mil A: hijack of af\.mil, .*possible hijack'
expect_answer geo-home-country-quiet army.mil A ' A 192\.0\.2\.10$'
if grep -q 'doppel: warn army\.mil A' "$RESOLVER_LOG"; then
	fail geo-home-country-quiet-log "army.mil answered from the US was flagged"
else
	pass geo-home-country-quiet-log
fi
# A lookalike blocked by name never reaches the country check, and an
# address the database does not place is neutral.
expect_blocked geo-strong-still-blocked army.ml A

rm -rf "$(dirname "$vcache")"
e2e_finish geo-resolver-survived

#!/usr/bin/env bash
# tests/e2e/dnstap.sh — audit records as dnstap (audit-dnstap): the lab
# resolver sends them over Frame Streams to Debian's fstrm_capture; the
# captured frames are decoded by a reader of the test's own
# (dnstap_read.py) and counted by Debian's dnstap-ldns.  Every field of a
# block, a warn, a country verdict and a cache hit is checked.  Then the
# collector is killed and restarted during a burst of lookalikes: records
# received + drops counted by the module = flagged answers, and the writer
# connects again.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

DOPPEL=${DOPPEL_BIN:-$e2e_repo/build/bin/doppel}
READ="python3 $e2e_dir/dnstap_read.py"
command -v fstrm_capture >/dev/null || { fail dnstap-collector "fstrm_capture missing (fstrm-bin; make deps)"; exit 1; }
e2e_scratch dnstap
tap=$SCRATCH
sock=$tap/tap.sock
collector_pid=""

# collector FILE — start fstrm_capture on the socket, writing FILE.
collector() {
	rm -f "$sock"
	fstrm_capture -t protobuf:dnstap.Dnstap -u "$sock" -w "$1" \
		>>"$tap/collector.log" 2>&1 &
	collector_pid=$!
	for i in $(seq 1 50); do [ -S "$sock" ] && return 0; sleep 0.1; done
	return 1
}
# collector_stop — SIGTERM, as a service manager stops it; wait for it.
collector_stop() {
	[ -n "$collector_pid" ] || return 0
	kill "$collector_pid" 2>/dev/null
	wait "$collector_pid" 2>/dev/null
	collector_pid=""
}

collector "$tap/one.fstrm" || { fail dnstap-collector "fstrm_capture did not start"; exit 1; }
DOPPEL_CONF_EXTRA="audit-dnstap: unix:$sock
stats-file: $tap/doppel.prom" LAB_THREADS=2 e2e_start_geo dnstap-lab \
	"$e2e_dir/policies/geo.txt"
trap 'e2e_rc=$?; collector_stop; rm -rf "$tap" "$SCRATCH"; e2e_cleanup $e2e_rc' EXIT
conf=$RUNDIR/doppel.conf

# stat NAME{LABELS} — one figure of the module's counters.
stat() {
	"$DOPPEL" stats --prometheus "$conf" 2>/dev/null |
		awk -v k="$1" '$1 == k { print $2 }'
}
# settled — wait (bounded) until every queued record is sent or dropped.
settled() {
	local q s d i
	for i in $(seq 1 80); do
		q=$(stat 'doppel_dnstap_records_total{event="queued"}')
		s=$(stat 'doppel_dnstap_records_total{event="sent"}')
		d=$(stat 'doppel_dnstap_records_total{event="dropped"}')
		if [ -n "$q" ] && [ "$q" -ge "${1:-1}" ] && [ $((s + d)) -ge "$q" ]; then
			return 0
		fi
		sleep 0.25
	done
	return 1
}

expect_blocked dnstap-block army.ml MX
expect_answer dnstap-warn arrny.mil A ' A 192\.0\.2\.90$'
expect_blocked dnstap-country-block arny.mil A
expect_blocked dnstap-cache-hit army.ml MX
settled 4 || fail dnstap-settled "records still queued: $("$DOPPEL" stats --prometheus "$conf" | grep dnstap)"
collector_stop
$READ "$tap/one.fstrm" >"$tap/one.json" 2>"$tap/read.err" ||
	fail dnstap-decodes "$(cat "$tap/read.err")"

# check NAME PYTHON-EXPRESSION — over the decoded records `recs` (list of
# dicts); the expression must be true.
check() {
	if python3 - "$tap/one.json" "$2" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
ok = eval(sys.argv[2])
sys.exit(0 if ok else 1)
PY
	then pass "$1"; else fail "$1" "$(cat "$tap/one.json")"; fi
}
check dnstap-four-records 'len(recs) == 4'
check dnstap-envelope 'all(r["dnstap_type"] == 1 and r["message_type"] == 6 and r["version"].startswith("doppel ") and r["identity"] for r in recs)'
check dnstap-client 'all(r["socket_family"] == 1 and r["socket_protocol"] in (1, 2) and r["query_address"] == "127.0.0.1" and 0 < r["query_port"] < 65536 for r in recs)'
check dnstap-times 'all(r["response_time_sec"] > 1700000000 and r["response_time_nsec"] < 10**9 and r["query_time_sec"] <= r["response_time_sec"] for r in recs)'
# the block: NXDOMAIN, the answer as sent (SOA in authority), the rule
check dnstap-block-fields 'recs[0]["query"]["qname"] == "army.ml." and recs[0]["query"]["qtype"] == 15 and recs[0]["response"]["rcode"] == 3 and recs[0]["response"]["qr"] and recs[0]["response"]["ns"] == 1 and recs[0]["policy"] == {"type": "doppel", "rule": "tld-swap army.mil", "action": 1, "match": 1, "value": "army.ml."}'
# the warn: the answer went out unchanged (NOERROR, one address): PASS
check dnstap-warn-fields 'recs[1]["query"]["qname"] == "arrny.mil." and recs[1]["response"]["rcode"] == 0 and recs[1]["response"]["an"] >= 1 and recs[1]["policy"]["action"] == 3 and recs[1]["policy"]["match"] == 1 and recs[1]["policy"]["rule"] == "homoglyph army.mil" and recs[1]["policy"]["value"] == "arrny.mil."'
# the country verdict: matched an answer address (RESPONSE_IP)
check dnstap-country-fields 'recs[2]["query"]["qname"] == "arny.mil." and recs[2]["response"]["rcode"] == 3 and recs[2]["policy"]["action"] == 1 and recs[2]["policy"]["match"] == 3 and recs[2]["policy"]["value"] == "102.165.99.10" and recs[2]["policy"]["rule"] == "homoglyph army.mil"'
# the cache hit: the same block, from Unbound's message cache
check dnstap-cache-hit-fields 'recs[3]["query"]["qname"] == "army.ml." and recs[3]["response"]["rcode"] == 3 and recs[3]["policy"]["rule"] == "tld-swap army.mil" and recs[3]["policy"]["action"] == 1'
# Debian's own dnstap reader takes the file, every message of it.
if command -v dnstap-ldns >/dev/null; then
	n=$(dnstap-ldns -q -r "$tap/one.fstrm" 2>"$tap/ldns.err" | grep -c ' CR ')
	if [ "$n" = 4 ] && dnstap-ldns -y -r "$tap/one.fstrm" 2>/dev/null | grep -q 'army\.ml\.'; then
		pass dnstap-ldns-reads
	else
		fail dnstap-ldns-reads "dnstap-ldns saw $n client responses: $(head -c 300 "$tap/ldns.err")"
	fi
fi

# A burst with the collector killed and restarted in it.
before_q=$(stat 'doppel_dnstap_records_total{event="queued"}')
before_s=$(stat 'doppel_dnstap_records_total{event="sent"}')
before_d=$(stat 'doppel_dnstap_records_total{event="dropped"}')
collector "$tap/two.fstrm"
burst=0
for i in $(seq 1 240); do
	ask "b$i.army.ml" A
	[ "$rcode" = NXDOMAIN ] && burst=$((burst + 1))
	case $i in
	80) collector_stop ;;
	120) collector "$tap/three.fstrm" ;;
	esac
done
# The writer tries again when it has records, after its back-off: keep
# asking (bounded) until it has connected to the restarted collector.
for i in $(seq 1 80); do
	ask "w$i.army.ml" A
	[ "$rcode" = NXDOMAIN ] && burst=$((burst + 1))
	[ "$(stat doppel_dnstap_connections_total)" -ge 3 ] && break
	sleep 0.5
done
for i in $(seq 1 10); do
	ask "c$i.army.ml" A
	[ "$rcode" = NXDOMAIN ] && burst=$((burst + 1))
done
settled $((before_q + burst)) || fail dnstap-burst-settled "not settled"
collector_stop
got=$({ $READ "$tap/two.fstrm"; $READ "$tap/three.fstrm"; } 2>/dev/null | wc -l)
late=$($READ "$tap/three.fstrm" 2>/dev/null | grep -c '"c[0-9]*\.army\.ml\."')
q=$(( $(stat 'doppel_dnstap_records_total{event="queued"}') - before_q ))
s=$(( $(stat 'doppel_dnstap_records_total{event="sent"}') - before_s ))
d=$(( $(stat 'doppel_dnstap_records_total{event="dropped"}') - before_d ))
if [ "$burst" -ge 250 ] && [ "$q" = "$burst" ] && [ $((got + d)) = "$burst" ] && [ "$s" = "$got" ]; then
	pass dnstap-restart-accounted
else
	fail dnstap-restart-accounted "flagged answers $burst, queued $q, received $got, sent $s, dropped $d"
fi
if [ "$late" = 10 ]; then
	pass dnstap-reconnects
else
	fail dnstap-reconnects "the restarted collector got $late of the 10 late records"
fi
if grep -q 'dnstap unix:.*records are dropped (and counted)' "$RESOLVER_LOG" &&
	grep -q 'dnstap unix:.*connected again' "$RESOLVER_LOG"; then
	pass dnstap-outage-logged-once
else
	fail dnstap-outage-logged-once "$(grep 'dnstap' "$RESOLVER_LOG" | head -5)"
fi
# two outages (the first collector stopped before the burst, the second
# killed in it): one line each, and one when it is back
if [ "$(grep -c 'records are dropped (and counted)' "$RESOLVER_LOG")" = 2 ] &&
	[ "$(grep -c 'dnstap.*connected again' "$RESOLVER_LOG")" = 2 ]; then
	pass dnstap-one-line-per-streak
else
	fail dnstap-one-line-per-streak "$(grep 'dnstap' "$RESOLVER_LOG")"
fi
e2e_finish dnstap-resolver-survived

#!/usr/bin/env bash
# tests/e2e/audit-collapse.sh — a flood of one flagged name from one client
# (cache hits) is not a record per query: the first records are written as
# they come, the repeats within audit-collapse seconds come out as one
# record with their count and first and last time, and the records add up
# to the queries answered.  Another client is counted on its own.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

adir=$(mktemp -d "${TMPDIR:-/tmp}/doppel-auditc.XXXXXX")
log=$adir/audit.log
window=2
DOPPEL_CONF_EXTRA="audit: flagged
audit-log: $log
audit-collapse: $window" e2e_start auditc-lab
trap 'e2e_rc=$?; rm -rf "$adir"; e2e_cleanup $e2e_rc' EXIT

# 600 questions for navy.ml A from 127.0.0.1, 200 from 127.0.0.2; count
# the NXDOMAIN answers.
out=$(python3 - "$RESOLVER_PORT" <<'PY'
import socket, struct, sys
port = int(sys.argv[1])
q = struct.pack("!HHHHHH", 7, 0x0100, 1, 0, 0, 0) + \
    b"\x04navy\x02ml\x00" + struct.pack("!HH", 1, 1)
answered = {}
for src, n in (("127.0.0.1", 600), ("127.0.0.2", 200)):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((src, 0))
    s.settimeout(2)
    got = 0
    for i in range(n):
        s.sendto(q, ("127.0.0.1", port))
        try:
            r = s.recv(4096)
        except socket.timeout:
            continue
        if r[3] & 15 == 3:
            got += 1
    answered[src] = got
print(answered["127.0.0.1"], answered["127.0.0.2"])
PY
)
read -r n1 n2 <<<"$out"
if [ "${n1:-0}" = 600 ] && [ "${n2:-0}" = 200 ]; then
	pass auditc-all-blocked
else
	fail auditc-all-blocked "NXDOMAIN answers: ${n1:-?} of 600, ${n2:-?} of 200"
fi
# The window (2 s) ends, and the writer's next pass (1 s) writes the
# collapsed records: wait (bounded) until the records stand for every
# query of both clients.
for i in $(seq 1 100); do
	python3 - "$log" "$n1" "$n2" <<'PY' 2>/dev/null && break
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
want = {"127.0.0.1": int(sys.argv[2]), "127.0.0.2": int(sys.argv[3])}
sys.exit(any(sum(r.get("repeats", 1) for r in recs if r["client"] == c and
                 r["qname"] == "navy.ml") < n for c, n in want.items()))
PY
	sleep 0.1
done
if out=$(python3 - "$log" "$n1" "$n2" "$window" <<'PY' 2>&1
import calendar, json, sys, time
recs = [json.loads(l) for l in open(sys.argv[1])]
want = {"127.0.0.1": int(sys.argv[2]), "127.0.0.2": int(sys.argv[3])}
window = int(sys.argv[4])
sec = lambda t: calendar.timegm(time.strptime(t[:19], "%Y-%m-%dT%H:%M:%S"))
for client, n in want.items():
    mine = [r for r in recs if r["client"] == client and r["qname"] == "navy.ml"]
    total = sum(r.get("repeats", 1) for r in mine)
    assert total == n, "%s: records stand for %d queries, want %d: %s" % (
        client, total, n, mine)
    # the first answer (worked out), the first cache hit, then the
    # repeats of the cache hits, collapsed.  A window runs from its first
    # record's second: a flood of cache hits that outlasts it (a slow run)
    # starts another, two records more for each window begun.
    hits = [sec(r["time"]) for r in mine if r["cache"]]
    windows = (max(hits) - min(hits)) // window + 1 if hits else 1
    most = max(4, 1 + 2 * windows)
    assert 2 <= len(mine) <= most, "%s: %d records (at most %d)" % (
        client, len(mine), most)
    rep = [r for r in mine if "repeats" in r]
    assert rep and all(r["first"] <= r["last"] == r["time"] for r in rep), mine
    assert all(r["verdict"] == "block" and r["target"] == "navy.mil"
               for r in mine), mine
print(len(recs))
PY
); then
	pass auditc-collapsed
else
	fail auditc-collapsed "$out"
fi
summary=$("$e2e_repo/build/bin/doppel" audit summary "$log" 2>&1)
if printf '%s\n' "$summary" | grep -q "for $((n1 + n2)) queries"; then
	pass auditc-summary-counts-queries
else
	fail auditc-summary-counts-queries "$summary"
fi
e2e_finish auditc-resolver-survived

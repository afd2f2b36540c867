#!/usr/bin/env bash
# tests/e2e/audit.sh — the per-query audit log: one JSON object a line, with
# every field, for replies that went through the module and for cache hits
# (which never do: they are seen by an inplace callback); parsed back by
# jansson in `doppel audit summary`.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

DOPPEL=${DOPPEL_BIN:-$e2e_repo/build/bin/doppel}
adir=$(mktemp -d "${TMPDIR:-/tmp}/doppel-audit.XXXXXX")
log=$adir/audit.log
DOPPEL_CONF_EXTRA="audit: all
audit-log: $log" e2e_start audit-lab
trap 'e2e_rc=$?; rm -rf "$adir"; e2e_cleanup $e2e_rc' EXIT

expect_blocked audit-block army.ml MX
expect_blocked audit-block-cached army.ml MX
expect_answer audit-allow army.mil A ' A 192\.0\.2\.10$'
expect_blocked audit-alias go.example.com A

# The writer writes at least every second: wait for four records.
for i in $(seq 1 50); do
	[ -f "$log" ] && [ "$(wc -l <"$log")" -ge 4 ] && break
	sleep 0.1
done
if python3 - "$log" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
keys = {"time", "client", "qname", "qtype", "rcode", "verdict", "technique",
        "target", "score", "stage", "countries", "cache", "mode", "why"}
for r in recs:
    missing = keys - set(r)
    assert not missing, "missing %s in %s" % (missing, r)
    assert r["time"].endswith("Z") and len(r["time"]) == 27, r["time"]
    assert r["client"].startswith("127.0.0.1"), r["client"]
first = [r for r in recs if r["qname"] == "army.ml"]
assert len(first) == 2, first
assert first[0]["verdict"] == "block" and first[0]["rcode"] == "NXDOMAIN"
assert first[0]["target"] == "army.mil" and first[0]["technique"] == "tld-swap"
assert first[0]["stage"] == "name" and first[0]["cache"] is False
assert first[1]["cache"] is True and first[1]["verdict"] == "block"
assert first[1]["rcode"] == "NXDOMAIN"
ok = [r for r in recs if r["qname"] == "army.mil"]
assert ok and ok[0]["verdict"] == "allow" and ok[0]["rcode"] == "NOERROR"
alias = [r for r in recs if r["qname"] == "go.example.com"]
assert alias and alias[0]["stage"] == "alias" and alias[0]["verdict"] == "block"
PY
then
	pass audit-records
else
	fail audit-records "$(head -c 600 "$log" 2>&1)"
fi
if out=$("$DOPPEL" audit summary "$log" --json) &&
	printf '%s' "$out" | grep -q '"verdicts":{"allow":1,"block":3}' &&
	printf '%s' "$out" | grep -q '"army.ml":2'; then
	pass audit-summary
else
	fail audit-summary "${out:-no output}"
fi
if [ "$(stat -c %a "$log")" = 640 ]; then
	pass audit-mode-0640
else
	fail audit-mode-0640 "mode $(stat -c %a "$log")"
fi

e2e_finish audit-resolver-survived

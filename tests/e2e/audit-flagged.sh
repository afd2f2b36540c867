#!/usr/bin/env bash
# tests/e2e/audit-flagged.sh — `audit: flagged` writes a record for every
# flagged reply, cache hits included, and none for clean ones.  A cache hit
# never reaches the module: the reply callback decides from a filter of the
# names whose replies were flagged, so a warned name (whose real answer sits
# in Unbound's message cache) must still be logged when it is asked again.
# (Repeats are not collapsed here: audit-collapse.sh.)
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

adir=$(mktemp -d "${TMPDIR:-/tmp}/doppel-auditf.XXXXXX")
log=$adir/audit.log
printf 'protect army.mil action=warn\nprotect navy.mil\n' >"$adir/policy.txt"
DOPPEL_CONF_EXTRA="audit: flagged
audit-log: $log
audit-collapse: 0
verdict-cache: $adir/verdicts.mdb" e2e_start auditf-lab "$adir/policy.txt"
trap 'e2e_rc=$?; rm -rf "$adir"; e2e_cleanup $e2e_rc' EXIT

# army.ml is a warn: answered, and its answer cached by Unbound.
expect_answer auditf-warn army.ml MX '10 mail\.army\.ml\.$'
expect_answer auditf-warn-cached army.ml MX '10 mail\.army\.ml\.$'
expect_answer auditf-warn-cached-again army.ml MX '10 mail\.army\.ml\.$'
expect_blocked auditf-block navy.ml A
expect_blocked auditf-block-cached navy.ml A
expect_answer auditf-clean army.mil A ' A 192\.0\.2\.10$'
expect_answer auditf-clean-cached army.mil A ' A 192\.0\.2\.10$'

for i in $(seq 1 50); do
	[ -f "$log" ] && [ "$(wc -l <"$log")" -ge 5 ] && break
	sleep 0.1
done
sleep 1.2	# one more writer pass: a sixth record would show up now
if out=$(python3 - "$log" <<'PY' 2>&1
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
warn = [r for r in recs if r["qname"] == "army.ml"]
assert [r["cache"] for r in warn] == [False, True, True], warn
assert all(r["verdict"] == "warn" and r["rcode"] == "NOERROR" and
           r["target"] == "army.mil" for r in warn), warn
block = [r for r in recs if r["qname"] == "navy.ml"]
assert [r["cache"] for r in block] == [False, True], block
assert all(r["verdict"] == "block" for r in block), block
assert not [r for r in recs if r["qname"] == "army.mil"], "clean name logged"
assert len(recs) == 5, recs
PY
); then
	pass auditf-records
else
	fail auditf-records "$out"
fi

e2e_finish auditf-resolver-survived

#!/usr/bin/env bash
# tests/e2e/monitor.sh — `mode: monitor`: nothing is blocked or changed in
# any answer (a lookalike asked directly, through an alias, again from the
# cache), no EDE is added; the log says would-block, and the audit records
# say would-block with "mode":"monitor".  A reload with `mode: enforce`
# blocks again.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

adir=$(mktemp -d "${TMPDIR:-/tmp}/doppel-monitor.XXXXXX")
log=$adir/audit.log
DOPPEL_CONF_EXTRA="mode: monitor
audit: flagged
audit-log: $log
audit-collapse: 0" e2e_start monitor-lab
trap 'e2e_rc=$?; rm -rf "$adir"; e2e_cleanup $e2e_rc' EXIT

expect_answer monitor-lookalike-answered army.ml MX ' MX 10 mail\.army\.ml\.$'
expect_answer monitor-lookalike-answered-again army.ml MX ' MX 10 mail\.army\.ml\.$'
expect_answer monitor-alias-answered go.example.com A ' A 102\.165\.96\.80$'
ask www.navy.ml A -D
if [ "$rcode" = NOERROR ] && ! printf '%s\n' "$reply" | grep -qi 'EDE\|Extended'; then
	pass monitor-no-ede
else
	fail monitor-no-ede "www.navy.ml A: $(summary); $(printf '%s' "$reply" | grep -i 'ede\|extended' | head -2)"
fi
if grep -q 'doppel: would-block army\.ml MX: tld-swap of army\.mil' "$RESOLVER_LOG" &&
	! grep -q 'doppel: block ' "$RESOLVER_LOG"; then
	pass monitor-logged-would-block
else
	fail monitor-logged-would-block "$(grep 'doppel: ' "$RESOLVER_LOG" | sed 's/.*\] //' | head -5 | tr '\n' ';')"
fi
for i in $(seq 1 30); do
	[ -f "$log" ] && [ "$(wc -l <"$log")" -ge 4 ] && break
	sleep 0.1
done
if out=$(python3 - "$log" <<'PY' 2>&1
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
army = [r for r in recs if r["qname"] == "army.ml"]
assert [r["cache"] for r in army] == [False, True], army
assert all(r["verdict"] == "would-block" and r["mode"] == "monitor" and
           r["rcode"] == "NOERROR" for r in army), army
alias = [r for r in recs if r["qname"] == "go.example.com"]
assert alias and alias[0]["verdict"] == "would-block" and \
    alias[0]["stage"] == "alias", recs
PY
); then
	pass monitor-audited-would-block
else
	fail monitor-audited-would-block "$out"
fi
summary_out=$("$e2e_repo/build/bin/doppel" review "$log" 2>&1)
if printf '%s\n' "$summary_out" | grep -Eq 'army\.ml +block +army\.mil'; then
	pass monitor-review-lists-would-block
else
	fail monitor-review-lists-would-block "$summary_out"
fi

# enforce after a reload: wait (bounded) until the reloaded resolver
# serves; with several worker threads, one of the old configuration could
# still answer from its cache (monitor mode's real answer) after "ok"
sed -i 's/^mode: monitor$/mode: enforce/' "$RUNDIR/doppel.conf"
if reload_wait; then
	pass monitor-reload
else
	fail monitor-reload "unbound-control reload was refused or did not finish within 30 s"
fi
expect_blocked monitor-enforce-blocks army.ml MX
expect_blocked monitor-enforce-blocks-alias go.example.com A
e2e_finish monitor-resolver-survived

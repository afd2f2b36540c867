#!/usr/bin/env bash
# tests/e2e/stats.sh — the module's counters: published to stats-file
# while the resolver runs, read by `doppel stats` through the same
# doppel.conf, in the Prometheus text format and as JSON; the figures add
# up to the queries asked.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

DOPPEL=${DOPPEL_BIN:-$e2e_repo/build/bin/doppel}
sdir=$(mktemp -d "${TMPDIR:-/tmp}/doppel-stats.XXXXXX")
DOPPEL_CONF_EXTRA="stats-file: $sdir/doppel.prom
verdict-cache: $sdir/verdicts.mdb" LAB_THREADS=2 e2e_start stats-lab
trap 'e2e_rc=$?; rm -rf "$sdir"; e2e_cleanup $e2e_rc' EXIT
conf=$RUNDIR/doppel.conf

for i in 1 2 3; do
	expect_blocked "stats-block-$i" "n$i.army.ml" A
done
expect_answer stats-pass army.mil MX ' MX 10 mail\.army\.mil\.$'
expect_blocked stats-block-navy navy.ml A

# Published every 5 s: wait for the blocks to show (bounded).
ok=""
for i in $(seq 1 40); do
	out=$("$DOPPEL" stats --prometheus "$conf" 2>&1)
	if printf '%s\n' "$out" | grep -q '^doppel_verdicts_total{action="block",technique="tld-swap"} 4$'; then
		ok=1
		break
	fi
	sleep 0.5
done
if [ -n "$ok" ]; then
	pass stats-verdicts-by-technique
else
	fail stats-verdicts-by-technique "$(printf '%s' "$out" | grep -v '^#' | head -20)"
fi
if printf '%s\n' "$out" | grep -q '^doppel_target_verdicts_total{target="army.mil"} 3$' &&
	printf '%s\n' "$out" | grep -q '^doppel_target_verdicts_total{target="navy.mil"} 1$'; then
	pass stats-top-targets
else
	fail stats-top-targets "$(printf '%s' "$out" | grep target)"
fi
q=$(printf '%s\n' "$out" | sed -n 's/^doppel_queries_total \([0-9]*\)$/\1/p')
if [ "${q:-0}" -ge 5 ]; then
	pass stats-queries-counted
else
	fail stats-queries-counted "doppel_queries_total ${q:-missing}, want >= 5"
fi
if printf '%s\n' "$out" | grep -q '^doppel_verdict_cache_total{event="miss"} [1-9]' &&
	printf '%s\n' "$out" | grep -Eq '^doppel_policy_info\{hash="[0-9a-f]{16}",mode="enforce"\} 1$' &&
	printf '%s\n' "$out" | grep -q '^doppel_policy_loads_total 1$'; then
	pass stats-cache-and-policy
else
	fail stats-cache-and-policy "$(printf '%s' "$out" | grep -E 'cache|policy')"
fi
# Every sample is "name{labels} value" with a HELP and TYPE before it.
if printf '%s\n' "$out" | awk '
	/^# TYPE / { typed[$3] = 1; next }
	/^#/ { next }
	{ n = $1; sub(/\{.*/, "", n); if(!typed[n] || $2 !~ /^[0-9]+$/ || NF != 2) bad = 1 }
	END { exit bad }'; then
	pass stats-exposition-format
else
	fail stats-exposition-format "$(printf '%s' "$out" | head -20)"
fi
if DOPPEL_CONF=$conf "$DOPPEL" stats --json | grep -q '"doppel_queries_total":[1-9]'; then
	pass stats-json-through-env
else
	fail stats-json-through-env "$(DOPPEL_CONF=$conf "$DOPPEL" stats --json 2>&1 | head -c 300)"
fi
# A stats file that cannot be written (its directory gone) is said once;
# the resolver goes on.
rm -rf "$sdir"
expect_blocked stats-block-without-file army.ml A
e2e_finish stats-resolver-survived

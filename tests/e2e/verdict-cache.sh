#!/usr/bin/env bash
# tests/e2e/verdict-cache.sh — the module keeps every flagged name in its
# LMDB verdict cache (written by a background thread), the cache survives a
# reload (deinit writes what is queued, init opens it again), and
# `doppel cache` shows, lists and purges it.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

DOPPEL=${DOPPEL_BIN:-$e2e_repo/build/bin/doppel}
vdir=$(mktemp -d "${TMPDIR:-/tmp}/doppel-vc.XXXXXX")
cache=$vdir/verdicts.mdb
DOPPEL_CONF_EXTRA="verdict-cache: $cache
verdict-cache-size: 8" e2e_start vcache-lab
trap 'e2e_rc=$?; rm -rf "$vdir"; e2e_cleanup $e2e_rc' EXIT

expect_blocked vcache-blocks army.ml MX
expect_blocked vcache-blocks-www www.navy.ml A

# The writer writes at least every second: wait for it (bounded).
found=""
for i in $(seq 1 50); do
	if out=$("$DOPPEL" cache show -d "$cache" army.ml --json 2>/dev/null); then
		found=1
		break
	fi
	sleep 0.1
done
if [ -n "$found" ] && printf '%s' "$out" | grep -q '"verdict":"block","target":"army.mil","technique":"tld-swap"'; then
	pass vcache-written
else
	fail vcache-written "army.ml not in the cache after 5 s: ${out:-nothing}"
fi
# army.ml may have been written a batch before www.navy.ml: wait for it too.
listed=""
for i in $(seq 1 50); do
	if "$DOPPEL" cache list -d "$cache" 2>/dev/null |
		grep -q '^www.navy.ml block navy.mil tld-swap'; then
		listed=1
		break
	fi
	sleep 0.1
done
if [ -n "$listed" ]; then
	pass vcache-list
else
	fail vcache-list "$("$DOPPEL" cache list -d "$cache" 2>&1 | head -5)"
fi

# Across a reload the cache stays, and keeps counting.  Wait (bounded)
# until the reloaded resolver serves: with several worker threads, a query
# sent right after "ok" can still be answered by the old module.
if reload_wait && alive; then
	pass vcache-reload
else
	fail vcache-reload "unbound-control reload was refused or did not finish within 30 s"
fi
expect_blocked vcache-blocks-after-reload army.ml A
# After the reload the verdict comes from the cache (read back from the
# file): its answer gives the reason the engine gave, not the cache's.
out=$(dig +tries=1 +time=3 -p "$RESOLVER_PORT" @127.0.0.1 army.ml AAAA 2>&1)
if printf '%s\n' "$out" | grep -q 'EDE: 15 (Blocked): (doppel: tld-swap of army\.mil: army\.ml is army\.mil under'; then
	pass vcache-hit-keeps-reason
else
	fail vcache-hit-keeps-reason "$(printf '%s' "$out" | grep -i ede)"
fi
hits=""
for i in $(seq 1 50); do
	hits=$("$DOPPEL" cache show -d "$cache" army.ml --json 2>/dev/null |
		sed -n 's/.*"hits":\([0-9]*\).*/\1/p')
	[ "${hits:-0}" -ge 2 ] && break
	sleep 0.1
done
if [ "${hits:-0}" -ge 2 ]; then
	pass vcache-survives-reload
else
	fail vcache-survives-reload "army.ml hits=${hits:-none} after a reload, want >= 2"
fi

if "$DOPPEL" cache stats -d "$cache" | grep -Eq '^entries: +[1-9]'; then
	pass vcache-stats
else
	fail vcache-stats "$("$DOPPEL" cache stats -d "$cache" 2>&1)"
fi
if "$DOPPEL" cache purge -d "$cache" www.navy.ml | grep -q '^1 entry removed' &&
	! "$DOPPEL" cache show -d "$cache" www.navy.ml >/dev/null 2>&1; then
	pass vcache-purge-one
else
	fail vcache-purge-one "www.navy.ml still cached"
fi
if "$DOPPEL" cache show -d "$vdir/none.mdb" army.ml 2>&1 | grep -q 'no verdict cache there'; then
	pass vcache-missing-file-said
else
	fail vcache-missing-file-said "no clear error for a missing cache file"
fi

e2e_finish vcache-resolver-survived

#!/usr/bin/env bash
# tests/e2e/dig.sh — what an administrator sees with dig: a blocked name's
# NXDOMAIN carries the SOA (negative TTL) and, since dig speaks EDNS,
# Extended DNS Error 15 "Blocked" whose text names the technique and the
# protected domain; and the resolver keeps answering with several worker
# threads and through reloads under a steady stream of queries.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

if ! command -v dig >/dev/null 2>&1; then
	fail dig-installed "dig not found (Debian package bind9-dnsutils)"
	exit 1
fi
e2e_start dig-lab

out=$(dig +tries=1 +time=3 -p "$RESOLVER_PORT" @127.0.0.1 army.ml MX 2>&1)
if printf '%s\n' "$out" | grep -q 'status: NXDOMAIN' &&
	printf '%s\n' "$out" | grep -Eq '^army\.ml\.[[:space:]]+[0-9]+[[:space:]]+IN[[:space:]]+SOA[[:space:]]+doppel\.invalid\.'; then
	pass dig-nxdomain-soa
else
	fail dig-nxdomain-soa "$(printf '%s' "$out" | head -20)"
fi
if printf '%s\n' "$out" | grep -q 'EDE: 15 (Blocked): (doppel: tld-swap of army\.mil: '; then
	pass dig-ede-text
else
	fail dig-ede-text "no 'EDE: 15 (Blocked): (doppel: tld-swap of army.mil: ...' in: $(printf '%s' "$out" | grep -i ede)"
fi
# The repeat comes from Unbound's message cache, which no module sees:
# it carries the same reason.
sleep 1
out=$(dig +tries=1 +time=3 -p "$RESOLVER_PORT" @127.0.0.1 army.ml MX 2>&1)
if printf '%s\n' "$out" | grep -q 'status: NXDOMAIN' &&
	printf '%s\n' "$out" | grep -q 'EDE: 15 (Blocked): (doppel: tld-swap of army\.mil: army\.ml is army\.mil under'; then
	pass dig-ede-on-cache-hit
else
	fail dig-ede-on-cache-hit "repeat without the reason: $(printf '%s' "$out" | grep -Ei 'ede|status')"
fi
e2e_stop

# Two worker threads answer as one does.
LAB_THREADS=2 e2e_start dig-two-threads-lab
expect_blocked dig-two-threads-block army.ml MX
expect_answer dig-two-threads-pass army.mil MX ' MX 10 mail\.army\.mil\.$'
e2e_stop

# Four worker threads, and reloads while queries keep coming: none lost.
LAB_THREADS=4 e2e_start dig-threads-lab
lost=0 asked=0
query_loop() {
	local i n=0
	for i in $(seq 1 60); do
		dig +tries=3 +time=2 -p "$RESOLVER_PORT" @127.0.0.1 "army.ml" A |
			grep -q 'status: NXDOMAIN' || n=$((n + 1))
		dig +tries=3 +time=2 -p "$RESOLVER_PORT" @127.0.0.1 "army.mil" A |
			grep -q 'status: NOERROR' || n=$((n + 1))
	done
	echo "$n" >"$RUNDIR/lost.$1"
}
query_loop 1 &
q1=$!
query_loop 2 &
q2=$!
for r in 1 2 3; do
	"$LAB" control "$RUNDIR" reload >/dev/null 2>&1 || true
done
wait $q1 $q2
lost=$(( $(cat "$RUNDIR/lost.1") + $(cat "$RUNDIR/lost.2") ))
asked=240
if [ "$lost" -eq 0 ]; then
	pass "dig-reload-under-load-$asked-queries"
else
	fail "dig-reload-under-load-$asked-queries" "$lost of $asked queries got no or a wrong answer"
fi
e2e_finish dig-threads-resolver-survived

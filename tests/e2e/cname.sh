#!/usr/bin/env bash
# tests/e2e/cname.sh — a clean name that is an alias of a lookalike
# (go.example.com CNAME www.army.ml) is blocked on the way back, and stays
# blocked when the answer comes from the cache.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

e2e_start cname-lab

# The control: the alias itself is served as the lab says.
expect_answer cname-control example.com MX ' MX 10 mx\.mailhost\.net\.$'

off=$(log_size "$RESOLVER_LOG")
expect_blocked cname-into-lookalike-nxdomain go.example.com A
if printf '%s\n' "$(log_since "$RESOLVER_LOG" "$off")" |
	grep -Eq 'doppel: block go\.example\.com\.? A: .*www\.army\.ml'; then
	pass cname-into-lookalike-logged
else
	fail cname-into-lookalike-logged "no 'doppel: block go.example.com A: ... www.army.ml ...' line in $RESOLVER_LOG"
fi

# Cache hits never reach the module: the blocked answer, not the alias
# chain the iterator fetched, must be what the cache now holds.
expect_blocked cname-into-lookalike-cached go.example.com A
expect_blocked cname-into-lookalike-aaaa go.example.com AAAA
# The repeat from the cache carries the reason, though the name itself
# is clean: the alias gave the verdict.
out=$(dig +tries=1 +time=3 -p "$RESOLVER_PORT" @127.0.0.1 go.example.com A 2>&1)
if printf '%s\n' "$out" | grep -q 'EDE: 15 (Blocked): (doppel: tld-swap of army\.mil: '; then
	pass cname-cached-ede
else
	fail cname-cached-ede "$(printf '%s' "$out" | grep -Ei 'ede|status')"
fi

# The lookalike itself, asked directly after the chain put its address in
# Unbound's RRset cache.
expect_blocked cname-target-direct www.army.ml A

e2e_finish cname-resolver-survived

#!/usr/bin/env bash
# tests/e2e/cdn.sh — a protected site fronted by a CDN, in the lab:
# web.army.mil CNAME web.army.mil.edgekey.net CNAME e1234.a.akamaiedge.net,
# whose edge answers from another country (ML in the lab's fixture).  The
# owner's own chain resolves, with no block and no hijack warning; a
# foreign name aliased into the same CDN name (promo.example.com) is
# blocked, and stays blocked from the cache.  app.army.mil aliases straight
# to the edge host: the edge's country is no hijack of army.mil.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

e2e_start_geo cdn-lab "$e2e_dir/policies/geo.txt"

expect_answer cdn-owner-chain-resolves web.army.mil A \
	' A 203\.0\.113\.34$'
expect_answer cdn-owner-chain-cached web.army.mil A ' A 203\.0\.113\.34$'
if grep -Eq 'doppel: (warn|block) web\.army\.mil' "$RESOLVER_LOG"; then
	fail cdn-owner-chain-quiet "$(grep -E 'doppel: (warn|block) web\.army\.mil' "$RESOLVER_LOG" | head -n 1)"
else
	pass cdn-owner-chain-quiet
fi

off=$(log_size "$RESOLVER_LOG")
expect_blocked cdn-foreign-alias-blocked promo.example.com A
if printf '%s\n' "$(log_since "$RESOLVER_LOG" "$off")" |
	grep -Eq 'doppel: block promo\.example\.com\.? A: .*web\.army\.mil\.edgekey\.net'; then
	pass cdn-foreign-alias-logged
else
	fail cdn-foreign-alias-logged "no 'doppel: block promo.example.com A: ... web.army.mil.edgekey.net' line"
fi
expect_blocked cdn-foreign-alias-cached promo.example.com A

# The country check of a protected name weighs its own zone's addresses:
# an edge host's, reached through an alias, is no hijack.
expect_answer cdn-edge-resolves app.army.mil A ' A 203\.0\.113\.34$'
if grep -Eq 'doppel: (warn|block) app\.army\.mil' "$RESOLVER_LOG"; then
	fail cdn-edge-no-hijack "$(grep -E 'doppel: (warn|block) app\.army\.mil' "$RESOLVER_LOG" | head -n 1)"
else
	pass cdn-edge-no-hijack
fi

# The owner's own site, asked again after the foreign alias was blocked.
expect_answer cdn-owner-after-foreign web.army.mil A ' A 203\.0\.113\.34$'

e2e_finish cdn-resolver-survived

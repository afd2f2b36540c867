#!/usr/bin/env bash
# tests/e2e/lookalike.sh — the story end to end: army.ml and navy.ml (TLD
# swaps of protected .mil domains) get NXDOMAIN from the resolver, from the
# module and then from the cache, and their name servers never see a query.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

export DOPPEL_BLOCK_TTL=120
e2e_start lookalike-lab

off=$(log_size "$RESOLVER_LOG")
expect_blocked army-ml-mx-nxdomain army.ml MX

if has_block_line "$(log_since "$RESOLVER_LOG" "$off")" army.ml MX; then
	pass army-ml-mx-logged
else
	fail army-ml-mx-logged "no 'doppel: block army.ml MX: ...' line in $RESOLVER_LOG"
fi

soa_ttl=$(printf '%s\n' "$authority" | awk '$4 == "SOA" { print $2; exit }')
if [ -n "$soa_ttl" ] && [ "$soa_ttl" -gt 0 ] && [ "$soa_ttl" -le 120 ]; then
	pass army-ml-mx-block-ttl
else
	fail army-ml-mx-block-ttl "SOA TTL '${soa_ttl}' in the authority section, want 1..120 (block-ttl: 120)"
fi

# The same question again is answered from Unbound's message cache, which
# modules never see: it must still be NXDOMAIN.
hits=$(ub_stat total.num.cachehits)
expect_blocked army-ml-mx-cached army.ml MX
hits2=$(ub_stat total.num.cachehits)
if [ -z "$hits" ] || [ -z "$hits2" ]; then
	fail army-ml-mx-cache-hit "cannot read total.num.cachehits with unbound-control"
elif [ "$hits2" -le "$hits" ]; then
	fail army-ml-mx-cache-hit "the repeated query was not a cache hit (cachehits $hits -> $hits2)"
else
	pass army-ml-mx-cache-hit
fi

expect_blocked army-ml-a-nxdomain army.ml A
expect_blocked navy-ml-mx-nxdomain navy.ml MX
expect_blocked navy-ml-a-nxdomain navy.ml A
expect_blocked www-army-ml-nxdomain www.army.ml A
expect_blocked tcp-nxdomain mail.navy.ml MX -t

# With EDNS, a blocked answer says why (RFC 8914 Extended DNS Error 15).
expect_blocked ede-nxdomain www.navy.ml A -D
if printf '%s\n' "$reply" | grep -q '^; EDE: 15 (Blocked)'; then
	pass ede-blocked
else
	fail ede-blocked "www.navy.ml A with EDNS: no Extended DNS Error 15 (Blocked) in the reply"
fi

# Names are case-insensitive: no capital letter lets a lookalike through.
expect_blocked mixed-case-nxdomain MAIL.Army.ML A

# The protected domains themselves, and names nobody listed, resolve.
expect_answer army-mil-mx-resolves army.mil MX ' MX 10 mail\.army\.mil\.$'
expect_answer army-mil-a-resolves army.mil A ' A 192\.0\.2\.10$'
expect_answer army-mil-exchange-resolves mail.army.mil A ' A 192\.0\.2\.25$'
expect_answer navy-mil-mx-resolves navy.mil MX ' MX 10 mail\.navy\.mil\.$'
expect_answer www-army-mil-resolves www.army.mil AAAA ' AAAA 2001:db8:a::80$'
expect_answer unlisted-resolves www.example.com A ' A 192\.0\.2\.180$'

# An MX whose exchange lives in another zone (no glue): both steps resolve.
ask example.com MX
if [ "$rcode" = NOERROR ] &&
   printf '%s\n' "$answer" | tr -s '\t ' ' ' | grep -q ' MX 10 mx\.mailhost\.net\.$'; then
	expect_answer mx-other-zone-resolves mx.mailhost.net A ' A 203\.0\.113\.25$'
else
	fail mx-other-zone-resolves "example.com MX: $(summary), want MX 10 mx.mailhost.net."
fi

# The authoritative server logs every query it receives (log-queries). It
# must have seen the allowed names, and none of the lookalikes.
if ! grep -q ' army\.mil\. MX IN$' "$AUTH_LOG"; then
	fail lookalikes-never-left "the authoritative server logged no query for army.mil MX: $AUTH_LOG does not record queries, so this check would prove nothing"
elif leaked=$(grep -E ' ([^ ]+\.)?(army|navy)\.ml\. [A-Z0-9]+ IN$' "$AUTH_LOG"); then
	fail lookalikes-never-left "the authoritative server received: $(printf '%s\n' "$leaked" | sed 's/.*info: //' | tr '\n' ';')"
else
	pass lookalikes-never-left
fi

e2e_finish lookalike-resolver-survived

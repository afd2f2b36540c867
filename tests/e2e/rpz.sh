#!/usr/bin/env bash
# tests/e2e/rpz.sh — `doppel compile --rpz` for resolvers that cannot
# load doppel: the zone is loaded by Unbound itself (rpz:, the respip
# module, no doppel), which then answers NXDOMAIN for a lookalike the
# policy blocks, for names under it and for the policy's block entries,
# and still answers the protected domains; each compile raises the SOA
# serial; the records' TTL is the policy's negative-ttl.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

DOPPEL=${DOPPEL_BIN:-$e2e_repo/build/bin/doppel}
rdir=$(mktemp -d "${TMPDIR:-/tmp}/doppel-rpz.XXXXXX")
trap 'rm -rf "$rdir"' EXIT
{ cat "$e2e_repo/tests/e2e/policies/lab.txt"; echo "negative-ttl 120"; } \
	>"$rdir/policy.txt"
if "$DOPPEL" compile "$rdir/policy.txt" --rpz lookalikes.rpz -o "$rdir/l.rpz" \
	>"$rdir/out" 2>&1; then
	pass rpz-compiled
else
	fail rpz-compiled "$(cat "$rdir/out")"
fi
serial1=$(sed -n 's/^@ SOA [^ ]* [^ ]* \([0-9]*\) .*/\1/p' "$rdir/l.rpz")
"$DOPPEL" compile "$rdir/policy.txt" --rpz lookalikes.rpz -o "$rdir/l.rpz" \
	>/dev/null 2>&1
serial2=$(sed -n 's/^@ SOA [^ ]* [^ ]* \([0-9]*\) .*/\1/p' "$rdir/l.rpz")
if [ -n "$serial1" ] && [ -n "$serial2" ] && [ "$serial2" -gt "$serial1" ]; then
	pass rpz-serial-increases
else
	fail rpz-serial-increases "serials '${serial1}' then '${serial2}'"
fi
if grep -q '^\$TTL 120$' "$rdir/l.rpz" &&
	grep -Eq '^@ SOA .* 120$' "$rdir/l.rpz"; then
	pass rpz-ttl-from-policy
else
	fail rpz-ttl-from-policy "$(sed -n 1,6p "$rdir/l.rpz")"
fi
if grep -q '^bad\.example\.com CNAME \.$' "$rdir/l.rpz"; then
	pass rpz-block-entries
else
	fail rpz-block-entries "no bad.example.com in $(grep -c CNAME "$rdir/l.rpz") records"
fi

LAB_MODULES="respip validator iterator" LAB_UNBOUND_EXTRA="rpz:
	name: lookalikes.rpz
	zonefile: $rdir/l.rpz" e2e_start rpz-lab "$rdir/policy.txt"
trap 'e2e_rc=$?; rm -rf "$rdir"; e2e_cleanup $e2e_rc' EXIT
ask army.ml A
if [ "$rcode" = NXDOMAIN ] && [ -z "$answer" ]; then
	pass rpz-lookalike-nxdomain
else
	fail rpz-lookalike-nxdomain "army.ml A: $(summary)"
fi
ask www.army.ml A
if [ "$rcode" = NXDOMAIN ]; then
	pass rpz-subdomain-nxdomain
else
	fail rpz-subdomain-nxdomain "www.army.ml A: $(summary)"
fi
ask bad.example.com A
if [ "$rcode" = NXDOMAIN ]; then
	pass rpz-block-entry-nxdomain
else
	fail rpz-block-entry-nxdomain "bad.example.com A: $(summary)"
fi
expect_answer rpz-protected-answered army.mil MX ' MX 10 mail\.army\.mil\.$'
e2e_finish rpz-resolver-survived

#!/usr/bin/env bash
# tests/e2e/policy-rules.sh — the policy's "block" and "allow" lines, seen
# through the resolver: a blocked name and its subtree get NXDOMAIN, their
# siblings do not, and an allowed lookalike resolves.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

e2e_start policy-rules-lab

expect_blocked block-rule-name bad.example.com A
expect_blocked block-rule-subtree x.bad.example.com A
expect_answer block-rule-sibling www.example.com A ' A 192\.0\.2\.180$'

# af.ml imitates the protected af.mil, but the policy allows it.
off=$(log_size "$RESOLVER_LOG")
expect_answer allow-rule af.ml A ' A 102\.165\.98\.10$'
if has_block_line "$(log_since "$RESOLVER_LOG" "$off")" af.ml A; then
	fail allow-rule-not-logged "an allowed name was logged as blocked"
else
	pass allow-rule-not-logged
fi

# The subtree of a blocked name never reaches the authoritative server.
if grep -Eq ' ([^ ]+\.)?bad\.example\.com\. [A-Z0-9]+ IN$' "$AUTH_LOG"; then
	fail block-rule-never-left "the authoritative server received a query under bad.example.com"
elif ! grep -q ' af\.ml\. A IN$' "$AUTH_LOG"; then
	fail block-rule-never-left "the authoritative server logged no query for af.ml: $AUTH_LOG does not record queries"
else
	pass block-rule-never-left
fi

e2e_finish policy-rules-resolver-survived

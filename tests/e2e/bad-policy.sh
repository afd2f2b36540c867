#!/usr/bin/env bash
# tests/e2e/bad-policy.sh — a policy that cannot be loaded must not take the
# resolver down: with on-error: open it resolves without protection, with
# on-error: closed it answers SERVFAIL; either way the log says what is
# wrong and where.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

# A policy file that does not exist.
e2e_start missing-policy-lab "${TMPDIR:-/tmp}/doppel-e2e-no-such-policy.$$"
expect_answer missing-policy-fails-open army.mil MX ' MX 10 mail\.army\.mil\.$'
expect_log missing-policy-logged "error: doppel: .*$(ere "$POLICY")" \
	"naming the missing policy file"
expect_log missing-policy-says-open 'doppel: .*on-error is open' \
	"saying that resolving goes on unprotected"
if alive; then
	pass missing-policy-resolver-survived
else
	fail missing-policy-resolver-survived "the resolver is no longer running"
fi
e2e_stop

# A policy with a line that is not a rule, at line 3.
bad=$e2e_dir/policies/syntax-error.txt
e2e_start syntax-policy-lab "$bad"
expect_answer syntax-policy-fails-open army.mil MX ' MX 10 mail\.army\.mil\.$'
expect_log syntax-policy-logged "error: doppel: .*$(ere "$POLICY"):3" \
	"naming the policy file and line 3"
e2e_stop

# The same policy with on-error: closed.
export DOPPEL_ON_ERROR=closed
e2e_start closed-policy-lab "$bad"
ask army.mil MX
if [ "$rcode" = SERVFAIL ]; then
	pass closed-policy-servfail
else
	fail closed-policy-servfail "army.mil MX: $(summary), want SERVFAIL (on-error: closed)"
fi
expect_log closed-policy-logged 'doppel: .*on-error is closed' \
	"saying that every query is refused"
unset DOPPEL_ON_ERROR

# Fix the policy and reload: protection is back without a restart.
printf 'protect army.mil\n' >"$POLICY"
if reload_wait; then
	expect_blocked closed-policy-fixed-by-reload army.ml MX
else
	fail closed-policy-fixed-by-reload "the reload did not finish within 30 s"
fi

e2e_finish closed-policy-resolver-survived

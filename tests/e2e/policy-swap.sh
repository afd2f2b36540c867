#!/usr/bin/env bash
# tests/e2e/policy-swap.sh — a compiled policy replaced on disk is picked up
# without a restart (the module's watcher, policy-check-interval: 1), and a
# name it newly blocks is blocked at once, even though its real answer was
# in the cache; a corrupt replacement is refused with a log line and the
# policy in force stays, across `unbound-control reload` too.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

DOPPEL=${DOPPEL_BIN:-$e2e_repo/build/bin/doppel}
work=$(mktemp -d "${TMPDIR:-/tmp}/doppel-swap.XXXXXX")
trap 'e2e_rc=$?; rm -rf "$work"; e2e_cleanup $e2e_rc' EXIT
cp "$e2e_dir/policies/lab.txt" "$work/v1.txt"
{ cat "$e2e_dir/policies/lab.txt"; echo "block www.example.com"; } >"$work/v2.txt"
"$DOPPEL" compile "$work/v1.txt" -o "$work/policy.db" >/dev/null

DOPPEL_CONF_EXTRA="policy-check-interval: 1" e2e_start swap-lab "$work/policy.db"
trap 'e2e_rc=$?; rm -rf "$work"; e2e_cleanup $e2e_rc' EXIT
db=$RUNDIR/policy.txt

# wait_log CHECK REGEX OFFSET — wait (at most ~10 s, poking) for a line of
# the resolver's log written after OFFSET.
wait_log() {
	if await_log "$3" "$2"; then
		pass "$1"
	else
		fail "$1" "no log line /$2/ within 10 s"
		return 1
	fi
}

expect_blocked swap-compiled-policy-blocks army.ml MX
# Cached now: the real answer sits in the message cache.
expect_answer swap-before www.example.com A ' A 192\.0\.2\.180$'
expect_answer swap-before-cached www.example.com A ' A 192\.0\.2\.180$'

off=$(log_size "$RESOLVER_LOG")
"$DOPPEL" compile "$work/v2.txt" -o "$db" >/dev/null
wait_log swap-picked-up 'doppel: policy .* changed: now 3 protected domains' "$off"
expect_blocked swap-new-rule-at-once www.example.com A
expect_blocked swap-old-rules-kept navy.ml A

# A corrupt file replaces the database: refused, the policy in force stays.
off=$(log_size "$RESOLVER_LOG")
head -c 20000 /dev/urandom >"$work/garbage"
cp "$db" "$work/good.db"
mv "$work/garbage" "$db"
wait_log swap-corrupt-refused 'keeping the policy in force' "$off"
expect_blocked swap-corrupt-keeps-blocking www.example.com A

# A truncated compiled policy: refused too.
off=$(log_size "$RESOLVER_LOG")
head -c 100000 "$work/good.db" >"$work/trunc"
mv "$work/trunc" "$db"
wait_log swap-truncated-refused 'keeping the policy in force' "$off"
expect_blocked swap-truncated-keeps-blocking www.example.com A

# A reload with the bad file in place keeps the policy too.
off=$(log_size "$RESOLVER_LOG")
if out=$("$LAB" control "$RUNDIR" reload 2>&1) && [ "$out" = ok ]; then
	wait_log swap-reload-keeps-policy 'keeping the policy that was in force' "$off"
	expect_blocked swap-reload-still-blocks www.example.com A
else
	fail swap-reload-keeps-policy "unbound-control reload said: $out"
fi

e2e_finish swap-resolver-survived

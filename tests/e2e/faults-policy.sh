#!/usr/bin/env bash
# tests/e2e/faults-policy.sh — a compiled policy that is empty, truncated,
# corrupt or of another format version:
#  - at start-up, with on-error: open the resolver answers unprotected and
#    with on-error: closed it answers SERVFAIL; either way one log line
#    names the file and what is wrong with it;
#  - swapped in under a running resolver (renamed over it, or written over
#    it in place), it is refused with a log line and the policy in force
#    stays.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

DOPPEL=${DOPPEL_BIN:-$e2e_repo/build/bin/doppel}
e2e_scratch faults-policy
work=$SCRATCH
"$DOPPEL" compile "$e2e_dir/policies/lab.txt" -o "$work/good.db" >/dev/null

# The damaged copies.
: >"$work/empty.db"
head -c "$(($(stat -c %s "$work/good.db") / 2))" "$work/good.db" >"$work/truncated.db"
head -c 40000 /dev/urandom >"$work/corrupt.db"
python3 - "$work/good.db" "$work/version.db" <<'PY'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
i = b.find(b"doppeldb")
assert i >= 0
b[i + 8] = 99          # the format version that follows the magic
open(sys.argv[2], "wb").write(bytes(b))
PY

# What the log must say of each, besides the file's name.
declare -A why=([empty]='empty file' [truncated]='truncated'
	[corrupt]='corrupt|not a policy' [version]='format 99')

for kind in empty truncated corrupt version; do
	cp "$work/$kind.db" "$work/start-$kind.db"
	e2e_start "faults-policy-$kind-open-lab" "$work/start-$kind.db"
	expect_answer "faults-policy-$kind-open-answers" army.mil MX ' MX 10 mail\.army\.mil\.$'
	expect_answer "faults-policy-$kind-open-unprotected" army.ml MX ' MX 10 mail\.army\.ml\.$'
	expect_log "faults-policy-$kind-logged" "error: doppel: .*$(basename "$POLICY" | sed 's/\./\\./g').*(${why[$kind]})"
	e2e_stop

	DOPPEL_ON_ERROR=closed e2e_start "faults-policy-$kind-closed-lab" "$work/start-$kind.db"
	ask army.mil MX
	if [ "$rcode" = SERVFAIL ]; then
		pass "faults-policy-$kind-closed-servfail"
	else
		fail "faults-policy-$kind-closed-servfail" "army.mil MX: $(summary)"
	fi
	alive && pass "faults-policy-$kind-closed-alive" ||
		fail "faults-policy-$kind-closed-alive" "the resolver exited"
	e2e_stop
done

# Swapped in: the watcher refuses each, the policy in force stays.
DOPPEL_CONF_EXTRA="policy-check-interval: 1" e2e_start faults-policy-swap-lab "$work/good.db"
expect_blocked faults-policy-swap-before army.ml MX

# Overwritten in place (cp other-file policy.db: the same file, cut to
# nothing and filled again), under queries: the policy in force lives in
# the module's own memory, so the bytes under it changing is one more file
# to refuse.  (This comes first, while the file at the path is the one in
# force.)  Each question is new, so that Unbound's message cache cannot
# answer for the module.
declare -A inplace_names=([corrupt]='www.army.ml A' [truncated]='mail.navy.ml A')
for kind in corrupt truncated; do
	off=$(log_size "$RESOLVER_LOG")
	cat "$work/$kind.db" >"$POLICY"
	# shellcheck disable=SC2086
	expect_blocked "faults-policy-inplace-$kind-keeps-blocking" ${inplace_names[$kind]}
	if await_log "$off" 'keeping the policy in force'; then
		pass "faults-policy-inplace-$kind-refused"
	else
		fail "faults-policy-inplace-$kind-refused" "no 'keeping the policy in force' line within 10 s"
	fi
	expect_blocked "faults-policy-inplace-$kind-blocks-after" army.ml AAAA
	expect_answer "faults-policy-inplace-$kind-answers" army.mil MX ' MX 10 mail\.army\.mil\.$'
done

# Renamed over it.
for kind in empty version; do
	off=$(log_size "$RESOLVER_LOG")
	cp "$work/$kind.db" "$work/next.db"
	mv "$work/next.db" "$POLICY"     # the file the resolver reads
	if await_log "$off" 'keeping the policy in force'; then
		pass "faults-policy-swap-$kind-refused"
	else
		fail "faults-policy-swap-$kind-refused" "no 'keeping the policy in force' line within 10 s"
	fi
	expect_blocked "faults-policy-swap-$kind-keeps-blocking" navy.ml A
done

e2e_finish faults-policy-swap-survived

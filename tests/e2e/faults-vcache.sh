#!/usr/bin/env bash
# tests/e2e/faults-vcache.sh — the verdict cache when it cannot be written or
# fills up. The cache only saves work: the resolver keeps blocking and
# resolving without it, stays up, and says in one line of its log what is
# wrong with which file:
#
#  - the file's directory is read-only (a read-only tmpfs; root ignores
#    permission bits), or the path is under /proc, where nothing can be
#    created;
#  - the map is full (verdict-cache-size: 1 and thousands of distinct
#    flagged names): new lookalikes are still blocked, and the log says that
#    verdicts are being dropped because the cache is full;
#  - the file is written over in place (garbage, or cut to nothing) under
#    the running resolver: queries go on from the module's memory, the
#    writer says once that the file changed and no longer writes it.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

DOPPEL=${DOPPEL_BIN:-$e2e_repo/build/bin/doppel}
e2e_scratch faults-vcache
fdir=$SCRATCH
still_serving() {
	expect_blocked "$1-still-blocks" army.ml MX
	expect_blocked "$1-still-blocks-new" www.navy.ml A
	expect_answer "$1-still-resolves" army.mil A ' A 192\.0\.2\.10$'
}

# 1. The cache's directory is read-only.
if ! e2e_tmpfs "$fdir/ro" ro,size=64k; then
	fail faults-vcache-ro-mount "cannot mount a read-only tmpfs on $fdir/ro"
	exit 1
fi
cache=$fdir/ro/verdicts.mdb
DOPPEL_CONF_EXTRA="verdict-cache: $cache" e2e_start faults-vcache-ro-lab
still_serving faults-vcache-ro
expect_log faults-vcache-ro-logged \
	"doppel: $(ere "$cache"): cannot open verdict cache: Read-only file system; going on without a verdict cache"
e2e_stop

# 2. A path under /proc: nothing can be created there.
cache=/proc/doppel-faults-$$/verdicts.mdb
DOPPEL_CONF_EXTRA="verdict-cache: $cache" e2e_start faults-vcache-proc-lab
still_serving faults-vcache-proc
expect_log faults-vcache-proc-logged \
	"doppel: $(ere "$cache"): cannot open verdict cache: .*; going on without a verdict cache"
e2e_stop

# 3. The map is full: a 1 MB cache holds about 8,000 verdicts; 12,000
# distinct lookalikes (names under army.ml) are asked, in batches of 500
# so that the cache's queue (1,024) is not what drops them.
cache=$fdir/verdicts.mdb
DOPPEL_CONF_EXTRA="verdict-cache: $cache
verdict-cache-size: 1
log-verdicts: no" e2e_start faults-vcache-full-lab
out=$(python3 - "$RESOLVER_PORT" <<'PY'
import socket, struct, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.connect(("127.0.0.1", int(sys.argv[1])))
s.settimeout(1)
sent = nx = other = 0
for batch in range(24):
    for i in range(500):
        n = batch * 500 + i
        q = struct.pack("!HHHHHH", n & 0xffff, 0x0100, 1, 0, 0, 0)
        q += b"\x06n%05d\x04army\x02ml\x00" % n + struct.pack("!HH", 1, 1)
        s.send(q)
        sent += 1
        if sent % 50 == 0:
            for _ in range(50):
                try:
                    r = s.recv(4096)
                except socket.timeout:
                    break
                if r[3] & 15 == 3:
                    nx += 1
                else:
                    other += 1
    time.sleep(0.1)
print(sent, nx, other)
PY
)
read -r sent nx other <<<"$out"
if [ "${sent:-0}" = 12000 ] && [ "$nx" = 12000 ]; then
	pass faults-vcache-full-all-blocked
else
	fail faults-vcache-full-all-blocked "of ${sent:-?} lookalikes, ${nx:-?} answered NXDOMAIN and ${other:-?} otherwise"
fi
sleep 1.5	# the writer's last pass
stats=$("$DOPPEL" cache stats -d "$cache" 2>&1)
dropped=$(printf '%s\n' "$stats" | sed -n 's/^dropped (full): *\([0-9]*\).*/\1/p')
entries=$(printf '%s\n' "$stats" | sed -n 's/^entries: *\([0-9]*\).*/\1/p')
if [ "${dropped:-0}" -gt 0 ] && [ "${entries:-0}" -gt 1000 ]; then
	pass faults-vcache-full-is-full
else
	fail faults-vcache-full-is-full "the cache should hold thousands of entries and have dropped some: $(printf '%s' "$stats" | tr '\n' ';')"
fi
still_serving faults-vcache-full
expect_log faults-vcache-full-logged \
	"doppel: .*$(ere "$cache").*full"
# A name cached before the map filled up is still served from the cache.
if "$DOPPEL" cache show -d "$cache" n00000.army.ml --json 2>/dev/null |
	grep -q '"verdict":"block"'; then
	expect_blocked faults-vcache-full-cached-name n00000.army.ml A
else
	fail faults-vcache-full-cached-name "n00000.army.ml is not in the cache"
fi

if alive; then
	pass faults-vcache-full-survived
else
	fail faults-vcache-full-survived "the resolver is no longer running"
fi
e2e_stop

# 4. Written over in place while the resolver runs (cp other-file
# verdicts.mdb), with garbage or with nothing.
for kind in garbage empty; do
	cache=$fdir/live-$kind.mdb
	DOPPEL_CONF_EXTRA="verdict-cache: $cache" e2e_start "faults-vcache-live-$kind-lab"
	expect_blocked "faults-vcache-live-$kind-before" army.ml MX
	for i in $(seq 1 50); do
		"$DOPPEL" cache show -d "$cache" army.ml >/dev/null 2>&1 && break
		sleep 0.1
	done
	off=$(log_size "$RESOLVER_LOG")
	if [ "$kind" = garbage ]; then
		head -c 40000 /dev/urandom >"$cache"
	else
		: >"$cache"
	fi
	# from the module's memory (a new type: not Unbound's message cache)
	expect_blocked "faults-vcache-live-$kind-cached" army.ml AAAA
	# a new verdict: the writer meets the changed file
	expect_blocked "faults-vcache-live-$kind-new" www.army.ml A
	if await_log "$off" "verdict cache changed under the resolver \\($(ere "$cache")"; then
		pass "faults-vcache-live-$kind-logged"
	else
		fail "faults-vcache-live-$kind-logged" "no 'changed under the resolver' line for $cache within 10 s"
	fi
	expect_blocked "faults-vcache-live-$kind-new-after" mail.army.ml A
	expect_answer "faults-vcache-live-$kind-resolves" army.mil A ' A 192\.0\.2\.10$'
	[ "$kind" = empty ] && e2e_finish faults-vcache-resolver-survived
	alive && pass "faults-vcache-live-$kind-alive" ||
		fail "faults-vcache-live-$kind-alive" "the resolver is no longer running"
	e2e_stop
done

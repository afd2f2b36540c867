#!/usr/bin/env bash
# tests/bench/geo_resolver.sh — what the country stage adds to an answered
# query in the resolver: two lab resolvers side by side (same lab, same
# policy with countries=), one with a country database, one with
# `geoip: off`; the same stream of cache-miss queries (distinct names under
# a wildcard, each answered with an A record) goes to each in alternating
# batches; the resolvers' own CPU time, from /proc/PID/task/*/schedstat, is read
# (schedstat, nanoseconds) before and after.  Prints ns of resolver CPU per query for each, and the
# difference.  Not a test: it judges nothing.
#
#   tests/bench/geo_resolver.sh [QUERIES]   (default 10000 per resolver)
set -u
cd "$(dirname "$0")/../.." || exit 2
n=${1:-10000}
LAB=tests/lab/lab.sh
DOPPEL=${DOPPEL_BIN:-build/bin/doppel}
work=$(mktemp -d)
trap '"$LAB" stop "$work/on" 2>/dev/null; "$LAB" stop "$work/off" 2>/dev/null; rm -rf "$work"' EXIT
mkdir -p "$work/on" "$work/off"
printf 'protect army.mil countries=US\nprotect navy.mil countries=US\n' >"$work/policy.txt"
"$DOPPEL" geo build --fixture conf/lab/geo-fixture.txt -o "$work/lab.mmdb" >/dev/null
DOPPEL_CONF_EXTRA="geoip: $work/lab.mmdb" "$LAB" start "$work/on" "$work/policy.txt" >/dev/null || exit 1
DOPPEL_CONF_EXTRA="geoip: off" "$LAB" start "$work/off" "$work/policy.txt" >/dev/null || exit 1
on_port=$(sed -n 's/^RESOLVER_PORT=//p' "$work/on/env")
off_port=$(sed -n 's/^RESOLVER_PORT=//p' "$work/off/env")
on_pid=$(sed -n 's/^RESOLVER_PID=//p' "$work/on/env")
off_pid=$(sed -n 's/^RESOLVER_PID=//p' "$work/off/env")

python3 - "$n" "$on_port" "$off_port" "$on_pid" "$off_pid" <<'PY'
import os, socket, struct, sys
n, on_port, off_port, on_pid, off_pid = map(int, sys.argv[1:])
tick = os.sysconf("SC_CLK_TCK")

def cpu_ns(pid):
    # schedstat: nanoseconds on the CPU, per thread (the ticks of
    # /proc/PID/stat are far too coarse)
    total = 0
    for t in os.listdir("/proc/%d/task" % pid):
        total += int(open("/proc/%d/task/%s/schedstat" % (pid, t)).read().split()[0])
    return float(total)

def query(port, name, qid):
    q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for label in name.split("."):
        q += bytes([len(label)]) + label.encode()
    q += b"\0" + struct.pack(">HH", 1, 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(5)
    s.sendto(q, ("127.0.0.1", port))
    try:
        r = s.recv(4096)
        return r[3] & 0xf
    except socket.timeout:
        return -1
    finally:
        s.close()

used = {on_port: 0.0, off_port: 0.0}
bad = 0
batch = 200
for b in range(0, n, batch):
    for port, pid in ((on_port, on_pid), (off_port, off_pid)):
        t0 = cpu_ns(pid)
        for i in range(b, min(n, b + batch)):
            if query(port, "q%d-%d.w.example.com" % (port, i), i & 0xffff) != 0:
                bad += 1
        used[port] += cpu_ns(pid) - t0
on = used[on_port] / n
off = used[off_port] / n
print("resolver CPU per answered cache-miss query, %d queries each, "
      "side by side:" % n)
print("  with the country stage:    %8.0f ns" % on)
print("  geoip: off:                %8.0f ns" % off)
print("  difference:                %8.0f ns (%+.1f%%)" % (on - off,
      100.0 * (on - off) / off if off else 0))
if bad:
    print("  (%d queries got no or an error answer)" % bad)
PY

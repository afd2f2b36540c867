#!/usr/bin/env bash
# tests/e2e/fleet.sh — the policy past one machine.
#
# 1. RPZ to resolvers that do not run doppel: the build host's
#    `doppel compile --rpz` zone is served by a hidden primary (Debian's
#    NSD, unpacked, on a loopback port) and transferred by AXFR into a
#    second resolver's rpz: zone (Unbound, respip, no doppel), which then
#    blocks a listed lookalike; after a recompile and NSD's NOTIFY the
#    secondary reaches the new serial and blocks what was added.
# 2. Resolvers that run doppel: the compiled policy fetched by a plain file
#    copy (temporary name, then rename) is swapped in, and `doppel info`
#    on the build host and `doppel stats` on the resolver show the same
#    serial (the source's hash): a fleet can be seen to converge.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

DOPPEL=${DOPPEL_BIN:-$e2e_repo/build/bin/doppel}
NSD_DIR=${NSD_DIR:-$e2e_repo/build/nsd}
"$e2e_repo/tools/build/nsd.sh" "$NSD_DIR" ||
	{ fail fleet-nsd "no NSD (tools/build/nsd.sh)"; exit 1; }
e2e_scratch fleet
fleet=$SCRATCH
nsd_pid=""
trap 'kill $nsd_pid 2>/dev/null; rm -rf "$fleet"' EXIT

# The build host: the policy, its zone.
cp "$e2e_dir/policies/lab.txt" "$fleet/policy.txt"
"$DOPPEL" compile "$fleet/policy.txt" --rpz fleet.rpz -o "$fleet/fleet.rpz" \
	>/dev/null 2>"$fleet/compile.err" || fail fleet-rpz-compiled "$(cat "$fleet/compile.err")"
serial() { sed -n 's/^@ SOA [^ ]* [^ ]* \([0-9]*\) .*/\1/p' "$1"; }
serial1=$(serial "$fleet/fleet.rpz")

nsd_port=$(python3 -c 'import socket
t = socket.socket(); t.bind(("127.0.0.1", 0)); p = t.getsockname()[1]
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", p))
print(p)')

# The secondary: Unbound with the zone as rpz:, fetched from the primary.
LAB_MODULES="respip validator iterator" LAB_UNBOUND_EXTRA="rpz:
	name: fleet.rpz
	primary: 127.0.0.1@$nsd_port
	allow-notify: 127.0.0.1
	zonefile: $fleet/secondary.rpz" e2e_start fleet-secondary "$fleet/policy.txt"
trap 'e2e_rc=$?; kill $nsd_pid 2>/dev/null; rm -rf "$fleet"; e2e_cleanup $e2e_rc' EXIT

# The hidden primary: serves the zone by AXFR to the secondary, and
# NOTIFYs it when the zone changes.
mkdir -p "$fleet/nsd"
cat >"$fleet/nsd/nsd.conf" <<EOF
server:
	ip-address: 127.0.0.1@$nsd_port
	port: $nsd_port
	username: ""
	chroot: ""
	zonesdir: "$fleet"
	database: ""
	pidfile: "$fleet/nsd/nsd.pid"
	xfrdfile: "$fleet/nsd/xfrd.state"
	zonelistfile: "$fleet/nsd/zone.list"
	xfrdir: "$fleet/nsd"
	logfile: "$fleet/nsd/nsd.log"
	server-count: 1
	verbosity: 2
remote-control:
	control-enable: no
zone:
	name: fleet.rpz
	zonefile: fleet.rpz
	provide-xfr: 127.0.0.1 NOKEY
	notify: 127.0.0.1@$RESOLVER_PORT NOKEY
EOF
"$NSD_DIR/usr/sbin/nsd" -d -c "$fleet/nsd/nsd.conf" >>"$fleet/nsd/nsd.out" 2>&1 &
nsd_pid=$!

# wait_blocked NAME SECONDS — the secondary answers NAME NXDOMAIN in time.
wait_blocked() {
	local i
	for i in $(seq 1 $(($2 * 4))); do
		ask "$1" A
		[ "$rcode" = NXDOMAIN ] && return 0
		sleep 0.25
	done
	return 1
}
# The secondary asked before the primary was up; NSD's NOTIFY at start (or
# the next probe) brings the first transfer.
if wait_blocked army.ml 20; then
	pass fleet-axfr-blocks
else
	fail fleet-axfr-blocks "army.ml A at the secondary: $(summary); nsd: $(tail -n 3 "$fleet/nsd/nsd.log")"
fi
# the secondary writes what it transferred to its zonefile copy after the
# zone is in use (another worker thread may answer first): wait for it
for i in $(seq 1 20); do
	grep -q "SOA.* $serial1 " "$fleet/secondary.rpz" 2>/dev/null && break
	sleep 0.25
done
if grep -q "SOA.* $serial1 " "$fleet/secondary.rpz" 2>/dev/null; then
	pass fleet-secondary-serial-1
else
	fail fleet-secondary-serial-1 "want serial $serial1 in the secondary's copy"
fi
expect_answer fleet-protected-resolves army.mil A ' A 192\.0\.2\.10$'
expect_answer fleet-not-yet-listed evil.w.example.com A ' A 192\.0\.2\.7$'

# A recompile on the build host: a new block entry, a higher serial; NSD
# reloads (SIGHUP) and NOTIFYs; the secondary transfers.
echo "block evil.w.example.com" >>"$fleet/policy.txt"
sleep 1
"$DOPPEL" compile "$fleet/policy.txt" --rpz fleet.rpz -o "$fleet/fleet.rpz" \
	>/dev/null 2>>"$fleet/compile.err"
serial2=$(serial "$fleet/fleet.rpz")
kill -HUP "$nsd_pid"
if [ "$serial2" -gt "$serial1" ] && wait_blocked evil.w.example.com 20; then
	pass fleet-notify-new-serial
else
	fail fleet-notify-new-serial "serials $serial1 -> $serial2; evil.w.example.com: $(summary); nsd: $(tail -n 3 "$fleet/nsd/nsd.log")"
fi
# the secondary writes what it transferred to its zonefile copy
for i in $(seq 1 20); do
	grep -q "SOA.* $serial2 " "$fleet/secondary.rpz" 2>/dev/null && break
	sleep 0.25
done
if grep -q "SOA.* $serial2 " "$fleet/secondary.rpz" 2>/dev/null; then
	pass fleet-secondary-serial-2
else
	fail fleet-secondary-serial-2 "the secondary's copy is not at serial $serial2"
fi
if alive; then
	pass fleet-secondary-survived
else
	fail fleet-secondary-survived "the secondary is no longer running"
fi
e2e_stop
kill "$nsd_pid" 2>/dev/null
wait "$nsd_pid" 2>/dev/null
nsd_pid=""

# 2. A resolver that runs doppel, fed by file copies.
"$DOPPEL" compile "$fleet/policy.txt" -o "$fleet/build.db" >/dev/null
DOPPEL_CONF_EXTRA="stats-file: $fleet/doppel.prom" e2e_start fleet-doppel \
	"$fleet/build.db"
trap 'e2e_rc=$?; rm -rf "$fleet"; e2e_cleanup $e2e_rc' EXIT
conf=$RUNDIR/doppel.conf
hash_of() { "$DOPPEL" info "$1" | sed -n 's/^source hash: *//p'; }
running() { "$DOPPEL" stats --prometheus "$conf" 2>/dev/null |
	sed -n 's/^doppel_policy_info{hash="\([0-9a-f]*\)".*} 1$/\1/p'; }
# the resolver's policy path, from its doppel.conf
dbpath=$(sed -n 's/^policy: *//p' "$conf")
case $dbpath in /*) ;; *) dbpath=$(dirname "$conf")/$dbpath ;; esac
echo "block two.w.example.com" >>"$fleet/policy.txt"
"$DOPPEL" compile "$fleet/policy.txt" -o "$fleet/build.db" >/dev/null
want=$(hash_of "$fleet/build.db")
# the "transport": any copy that ends in a rename in the same directory
cp "$fleet/build.db" "$dbpath.fetch" && mv "$dbpath.fetch" "$dbpath"
got=""
for i in $(seq 1 60); do
	got=$(running)
	[ -n "$want" ] && [ "$got" = "$want" ] && break
	sleep 0.5
done
if [ -n "$want" ] && [ "$got" = "$want" ]; then
	pass fleet-serial-converges
else
	fail fleet-serial-converges "build host $want, resolver ${got:-none}"
fi
expect_blocked fleet-fetched-policy-blocks two.w.example.com A
e2e_finish fleet-doppel-survived

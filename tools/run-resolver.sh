#!/bin/sh
# tools/run-resolver.sh - `make run`: the resolver with doppel, in the
# foreground, on 127.0.0.1:5353 (PORT=...), full recursion from the root,
# DNSSEC validation, on the default settings conf/doppel.conf
# (DOPPEL_CONF=... to use your own).  Stop it with Ctrl-C.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=$top/${BUILD:-build}
port=${PORT:-5353}
control_port=${CONTROL_PORT:-8953}
rundir=$(mktemp -d /tmp/doppel-run.XXXXXX)
trap 'rm -rf "$rundir"' EXIT INT TERM

if [ -f /usr/share/dns/root.key ]; then
	cp /usr/share/dns/root.key "$rundir/root.key"
else
	echo "doppel: /usr/share/dns/root.key missing (package dns-root-data)" >&2
	exit 1
fi
sed -e "s|@PORT@|$port|g" -e "s|@RUNDIR@|$rundir|g" \
	-e "s|@DOPPEL_SO@|$build/lib/doppel.so|g" \
	-e "s|@CONTROL_PORT@|$control_port|g" \
	"$top/conf/unbound.conf" >"$rundir/unbound.conf"
export DOPPEL_CONF="${DOPPEL_CONF:-$top/conf/doppel.conf}"
# conf/unbound.conf keeps Unbound as the user who starts it (username: "")
"$build/bin/doppel" conf-check --user "$(id -un)" "$DOPPEL_CONF"
echo "doppel: resolver on 127.0.0.1 port $port; try: drill -p $port @127.0.0.1 army.ml MX"
echo "doppel: unbound-control: $build/unbound/sbin/unbound-control -c $rundir/unbound.conf reload"
"$build/unbound/sbin/unbound" -d -c "$rundir/unbound.conf"

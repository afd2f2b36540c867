#!/bin/sh
# tests/pkg/run.sh - the Debian packages on this machine, as root: build
# them (make deb), lintian, install them with apt-get, start the system's
# Unbound the way its systemd unit does, block army.ml, reload over the
# control socket, find the audit record and the syslog lines, purge, and put
# the machine's packages back as they were.  Ends with "N passed, N failed".
#
#   tests/pkg/run.sh [BUILD]
#
# Installing system packages is what this test is for; it is the only test
# that does, and it removes what it installed (build dependencies and
# lintian included), checked by comparing dpkg's list before and after.
set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$top/build}
mkdir -p "$build"
build=$(cd "$build" && pwd)
PATH=/usr/sbin:/usr/bin:/sbin:/bin
export PATH
LC_ALL=C.UTF-8
export LC_ALL
DEBIAN_FRONTEND=noninteractive
export DEBIAN_FRONTEND

pass=0
fail=0
ok() { pass=$((pass + 1)); echo "PASS pkg/$1"; }
bad() { fail=$((fail + 1)); echo "FAIL pkg/$1: $2"; }
check() { # name description command...
	n=$1; d=$2; shift 2
	if "$@" >"$tmp/out" 2>&1; then ok "$n"; else
		bad "$n" "$d"; sed 's/^/    /' "$tmp/out" | tail -n 15; fi
}
finish() {
	echo "$pass passed, $fail failed"
	[ "$fail" = 0 ]
	exit $?
}

if [ "$(id -u)" != 0 ]; then
	bad root "the package test installs packages: run it as root"
	finish
fi

tmp=$(mktemp -d /tmp/doppel-pkg.XXXXXX)
pkgs() { dpkg-query -W -f='${db:Status-Abbrev}|${Package}|${Version}\n' |
	grep '^ii' | cut -d'|' -f2,3 | sort -t'|' -k1,1; }
pkgs >"$tmp/before"

unbound_pid=
syslog_pid=
made_policy_rc=
made_devlog=
cleanup() {
	[ -n "$unbound_pid" ] && kill "$unbound_pid" 2>/dev/null && sleep 1
	unbound_pid=
	[ -n "$syslog_pid" ] && kill "$syslog_pid" 2>/dev/null
	syslog_pid=
	[ -n "$made_devlog" ] && rm -f /dev/log
	made_devlog=
	rm -f /etc/unbound/unbound.conf.d/zz-doppel-test.conf
}
trap 'cleanup; rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM

# --- build ---------------------------------------------------------------
if make -C "$top" --no-print-directory BUILD="$build" deb >"$tmp/deb.log" 2>&1; then
	ok build
else
	bad build "make deb failed"
	tail -n 30 "$tmp/deb.log" | sed 's/^/    /'
	finish
fi
deb_dir=$build/deb
doppel_deb=$(ls "$deb_dir"/doppel_*.deb)
unbound_deb=$(ls "$deb_dir"/unbound_*.deb)
unbound_version=$(dpkg-deb -f "$unbound_deb" Version)

check package-depends "doppel depends on the exact unbound it was built against" \
	sh -c "dpkg-deb -f '$doppel_deb' Depends | grep -F 'unbound (= $unbound_version)'"
check package-files "doppel's files are where Debian puts them" sh -c "
	dpkg-deb -c '$doppel_deb' >'$tmp/files'
	for f in ./usr/bin/doppel ./usr/lib/\$(dpkg-architecture -qDEB_HOST_MULTIARCH)/doppel/doppel.so \
		./etc/doppel/doppel.conf ./etc/doppel/policy.txt ./etc/doppel/known-good.txt \
		./etc/logrotate.d/doppel ./usr/share/doppel/country.mmdb \
		./usr/share/doppel/unbound-doppel.conf ./usr/share/man/man1/doppel.1.gz \
		./usr/share/man/man5/doppel.conf.5.gz ./usr/share/man/man5/doppel-policy.5.gz; do
		grep -q \" \$f\$\" '$tmp/files' || { echo missing \$f; exit 1; }
	done
	dpkg-deb -e '$doppel_deb' '$tmp/ctl'
	grep -qx /etc/doppel/doppel.conf '$tmp/ctl/conffiles'
	grep -qx /etc/doppel/policy.txt '$tmp/ctl/conffiles'
	! dpkg-deb -c '$doppel_deb' | grep -q 'tor\\b\\|/opt/'"
check unbound-dynlib "the rebuilt unbound has the dynlib module and nothing else changed" \
	sh -c "dpkg-deb -x '$unbound_deb' '$tmp/ub' &&
		grep -q dynlibmod_init '$tmp/ub/usr/sbin/unbound' &&
		dpkg-deb -f '$unbound_deb' Version | grep -q '+doppel1\$'"

# --- lintian ---------------------------------------------------------------
if ! command -v lintian >/dev/null 2>&1; then
	apt-get install -y -q --no-install-recommends lintian >"$tmp/apt-lintian.log" 2>&1 ||
		tail -n 5 "$tmp/apt-lintian.log"
fi
check lintian-doppel "lintian reports errors on the doppel package" \
	lintian --fail-on error --suppress-tags-from-file /dev/null "$doppel_deb"
# The rebuilt unbound: no error that Debian's own package of the same
# version does not have too (its lsb-base dependency, say).
debian_version=${unbound_version%+doppel1}
check lintian-unbound "lintian reports errors on the rebuilt unbound that Debian's own has not" sh -c "
	mkdir -p '$tmp/orig' && cd '$tmp/orig' &&
	apt-get download -q 'unbound=$debian_version' >/dev/null 2>&1 &&
	{ lintian '$tmp/orig'/unbound_*.deb 2>/dev/null | sed -n 's/^E: [^ ]* \([^ ]*\).*/\1/p' | sort -u >'$tmp/lint-debian'; true; } &&
	{ lintian '$unbound_deb' 2>/dev/null | sed -n 's/^E: [^ ]* \([^ ]*\).*/\1/p' | sort -u >'$tmp/lint-ours'; true; } &&
	echo 'errors of the rebuild:' \$(cat '$tmp/lint-ours') &&
	echo 'errors of Debian own:' \$(cat '$tmp/lint-debian') &&
	test -z \"\$(comm -23 '$tmp/lint-ours' '$tmp/lint-debian')\""

# --- install ----------------------------------------------------------------
# No service is started by the maintainer scripts (a test machine's port 53
# is not ours): the usual policy-rc.d of containers, removed afterwards.
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
	chmod 0755 /usr/sbin/policy-rc.d
	made_policy_rc=1
fi
check install "apt-get install of both packages failed" \
	apt-get install -y -q "$unbound_deb" "$doppel_deb"
check enabled "the package did not enable the module in Unbound" sh -c '
	test -L /etc/unbound/unbound.conf.d/doppel.conf &&
	test -s /var/lib/doppel/policy.db &&
	test "$(stat -c %U /var/lib/doppel)" = root &&
	test "$(stat -c %U /var/lib/doppel/cache)" = unbound &&
	test "$(stat -c %U /var/log/doppel)" = unbound &&
	grep -qxF "#include <abstractions/doppel-unbound>" /etc/apparmor.d/local/usr.sbin.unbound'
check man "man doppel" sh -c 'test -f /usr/share/man/man1/doppel.1.gz &&
	{ ! command -v man >/dev/null || man -w doppel; }'
if command -v systemd-analyze >/dev/null 2>&1; then
	check systemd-verify "systemd-analyze verify on unbound.service" \
		sh -c 'systemd-analyze verify /lib/systemd/system/unbound.service 2>&1 |
			grep -v "^$" | grep -iv "not booted\|offline\|/dev/log" | grep -i "error\|fail" && exit 1 || exit 0'
fi

# A policy that does not compile keeps the one in force.
cp /etc/doppel/policy.txt "$tmp/policy.txt"
sum=$(md5sum </var/lib/doppel/policy.db)
echo "frobnicate army.mil" >>/etc/doppel/policy.txt
check reconfigure-bad-policy "a broken policy source replaced the compiled one" sh -c "
	dpkg-reconfigure doppel >'$tmp/reconf' 2>&1
	grep -q 'keeps the policy' '$tmp/reconf' &&
	test \"\$(md5sum </var/lib/doppel/policy.db)\" = '$sum'"
cp "$tmp/policy.txt" /etc/doppel/policy.txt

# --- the resolver, as its unit starts it ------------------------------------
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
printf 'server:\n    interface: 127.0.0.1\n    port: %s\n' "$port" \
	>/etc/unbound/unbound.conf.d/zz-doppel-test.conf
# syslog: no /dev/log here (no systemd-journald): listen on it for the test.
if [ ! -e /dev/log ]; then
	python3 -u -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("/dev/log")
print("ready", flush=True)
while True:
    sys.stdout.write(s.recv(65536).decode("utf-8", "replace") + "\n")
    sys.stdout.flush()
' >"$tmp/syslog" 2>&1 &
	syslog_pid=$!
	made_devlog=1
	for i in 1 2 3 4 5 6 7 8 9 10; do grep -q ready "$tmp/syslog" && break; sleep 0.2; done
fi
# ExecStartPre, then ExecStart, with EnvironmentFile (/etc/default/unbound).
(
	set -a
	[ -f /etc/default/unbound ] && . /etc/default/unbound
	set +a
	/usr/libexec/unbound-helper chroot_setup || true
	/usr/libexec/unbound-helper root_trust_anchor_update || true
	exec /usr/sbin/unbound -d -p ${DAEMON_OPTS:-}
) >"$tmp/unbound.out" 2>&1 &
unbound_pid=$!
up=
for i in $(seq 1 50); do
	if dig +time=1 +tries=1 @127.0.0.1 -p "$port" localhost A >/dev/null 2>&1; then
		up=1; break; fi
	sleep 0.2
done
if [ -n "$up" ]; then ok start; else
	bad start "Unbound did not start with doppel"
	sed 's/^/    /' "$tmp/unbound.out" | tail -n 20
fi

# After the unit's ExecStartPre has made the trust anchor.
check checkconf "unbound-checkconf rejects the installed configuration" \
	sh -c 'unbound-checkconf && unbound-checkconf -o module-config | grep -q "^dynlib "'
check block-army-ml "army.ml MX is not NXDOMAIN with EDE 15 naming army.mil" sh -c "
	dig +time=5 +tries=1 @127.0.0.1 -p $port army.ml MX >'$tmp/dig' 2>&1; cat '$tmp/dig'
	grep -q 'status: NXDOMAIN' '$tmp/dig' &&
	grep -q 'EDE: 15' '$tmp/dig' && grep 'EDE: 15' '$tmp/dig' | grep -q army.mil"
check control-reload "unbound-control reload over the socket failed" \
	unbound-control reload
check control-socket "the control socket is not a Unix socket" \
	sh -c "unbound-checkconf -o control-interface | grep -qx /run/unbound.ctl && test -S /run/unbound.ctl"
check control-nonroot "a non-root user can use unbound-control" sh -c "
	! setpriv --reuid=nobody --regid=nogroup --clear-groups unbound-control status"
check block-after-reload "army.ml is not blocked after the reload" sh -c "
	sleep 1; dig +time=5 +tries=1 @127.0.0.1 -p $port army.ml A | grep -q 'status: NXDOMAIN'"
sleep 1
check audit "no audit record of army.ml in /var/log/doppel" \
	sh -c 'grep army.ml /var/log/doppel/audit.jsonl && grep -q army.mil /var/log/doppel/audit.jsonl'
if [ -n "$made_devlog" ]; then
	check syslog "the module's lines do not reach syslog" sh -c "
		grep 'unbound' '$tmp/syslog' | grep -q 'doppel.*policy.*loaded' &&
		grep 'unbound' '$tmp/syslog' | grep -q 'doppel.*army.ml'"
fi
check stats "doppel stats does not read the module's counters" sh -c "
	sleep 5; doppel stats | grep -i 'quer'"
# Daemonized (the init script's way, use-syslog and logfile as Debian ships
# them): the module's lines still reach syslog.
if [ -n "$made_devlog" ]; then
	kill "$unbound_pid" 2>/dev/null; wait "$unbound_pid" 2>/dev/null
	unbound_pid=
	before=$(grep -c 'doppel.*navy.ml' "$tmp/syslog")
	/usr/sbin/unbound >"$tmp/daemon.out" 2>&1
	for i in $(seq 1 50); do
		dig +time=1 +tries=1 @127.0.0.1 -p "$port" localhost A >/dev/null 2>&1 && break
		sleep 0.2
	done
	unbound_pid=$(cat /run/unbound.pid 2>/dev/null || true)
	dig +time=5 +tries=1 @127.0.0.1 -p "$port" navy.ml A >/dev/null 2>&1
	sleep 1
	check syslog-daemonized "a daemonized Unbound's module lines do not reach syslog" sh -c "
		test -n '$unbound_pid' &&
		test \$(grep -c 'doppel.*navy.ml' '$tmp/syslog') -gt $before"
fi
cleanup

# --- remove and purge -------------------------------------------------------
check remove "removing doppel left Unbound pointing at it" sh -c '
	apt-get remove -y -q doppel &&
	test ! -e /etc/unbound/unbound.conf.d/doppel.conf && unbound-checkconf &&
	! grep -q doppel /etc/apparmor.d/local/usr.sbin.unbound'
check purge "purging doppel left its state" sh -c '
	apt-get purge -y -q doppel &&
	test ! -e /var/lib/doppel && test ! -e /var/log/doppel && test ! -e /etc/doppel'

# --- put the machine back ---------------------------------------------------
pkgs >"$tmp/after"
# Packages that were not there: purged.  Packages whose version changed:
# the old version back.
cut -d'|' -f1 "$tmp/before" | sort >"$tmp/b1"
cut -d'|' -f1 "$tmp/after" | sort >"$tmp/a1"
new=$(comm -13 "$tmp/b1" "$tmp/a1" | tr '\n' ' ')
changed=$(join -t'|' "$tmp/before" "$tmp/after" | awk -F'|' '$2 != $3 { print $1 "=" $2 }' | tr '\n' ' ')
[ -n "$new" ] && apt-get purge -y -q $new >"$tmp/purge.log" 2>&1
[ -n "$changed" ] && apt-get install -y -q --allow-downgrades $changed >"$tmp/restore.log" 2>&1
[ -n "$made_policy_rc" ] && rm -f /usr/sbin/policy-rc.d
pkgs >"$tmp/final"
check restored "the machine's packages differ from before the test" \
	diff "$tmp/before" "$tmp/final"
finish

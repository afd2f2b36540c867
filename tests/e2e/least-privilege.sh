#!/usr/bin/env bash
# tests/e2e/least-privilege.sh — `make install` (tools/install.sh) lays the
# resolver out to run as Unbound does by default: chrooted, as the user
# unbound. The installed resolver, forwarding to the lab's authoritative
# server, must block and answer from inside its chroot, write only in its
# state directory, and be unable to write its compiled policy.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

# The installed resolver is the plain build's, even when the suite runs a
# sanitiser build (make asan, make tsan): a sanitiser runtime inside the
# chroot could not write its reports where it is told to.
plain=$e2e_repo/build
for f in "$plain/unbound/sbin/unbound" "$plain/lib/doppel.so" \
	"$plain/bin/doppel" "$plain/geo/country.mmdb"; do
	if [ ! -e "$f" ]; then
		echo "# e2e/least-privilege: not run: $f is not built (make)"
		exit 0
	fi
done

e2e_start priv-lab
# shellcheck disable=SC1091
. "$RUNDIR/env"
work=$(mktemp -d "${TMPDIR:-/tmp}/doppel-priv.XXXXXX")
# Others may pass through (as / does for an installed PREFIX), so that the
# user unbound can reach the files it should be able to read.
chmod 0755 "$work"
prefix=$work/inst
root=$prefix/chroot
pid=
# install.sh creates the system user unbound if there is none: the test
# removes it again, to leave the machine as it found it.
had_user=""
id unbound >/dev/null 2>&1 && had_user=1
cleanup_priv() {
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null
		for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$pid" 2>/dev/null || true
	fi
	rm -rf "$work"
	if [ -z "$had_user" ] && id unbound >/dev/null 2>&1; then
		userdel unbound 2>/dev/null || true
		# userdel may have taken the group with the user
		if getent group unbound >/dev/null; then
			groupdel unbound 2>/dev/null || true
		fi
	fi
	return 0
}
trap 'e2e_rc=$?; cleanup_priv; e2e_cleanup $e2e_rc' EXIT

read -r port cport <<<"$(python3 -c '
import socket
s = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(2)]
t = [socket.socket() for _ in range(2)]
for a, b in zip(s, t):
    a.bind(("127.0.0.1", 0)); b.bind(("127.0.0.1", a.getsockname()[1]))
print(*[a.getsockname()[1] for a in s])')"

if out=$(BUILD=$plain DOPPEL_PORT=$port \
	DOPPEL_FORWARD=127.0.0.1@$AUTH_PORT "$e2e_repo/tools/install.sh" \
	"$prefix" 2>&1); then
	pass priv-install
else
	fail priv-install "$out"
	exit 1
fi

env -u LD_PRELOAD -u ASAN_OPTIONS -u TSAN_OPTIONS -u UBSAN_OPTIONS \
	"$prefix/sbin/unbound" -d -c "$root/unbound.conf" >"$work/unbound.out" 2>&1 &
pid=$!
for _ in $(seq 1 100); do
	drill -p "$port" @127.0.0.1 localhost A 2>/dev/null | grep -q 'rcode: NOERROR' && break
	sleep 0.1
done

user=$(stat -c %U "/proc/$pid" 2>/dev/null)
if [ "$user" = unbound ]; then
	pass priv-runs-as-unbound
else
	fail priv-runs-as-unbound "the resolver runs as '$user': $(tail -n 5 "$work/unbound.out")"
fi
if [ "$(readlink "/proc/$pid/root")" = "$root" ]; then
	pass priv-chrooted
else
	fail priv-chrooted "its root is $(readlink "/proc/$pid/root"), not $root"
fi

priv_ask() {
	drill -p "$port" @127.0.0.1 "$1" "$2" 2>/dev/null |
		sed -n 's/.*rcode: \([A-Z]*\).*/\1/p'
}
rc=$(priv_ask army.ml MX)
[ "$rc" = NXDOMAIN ] && pass priv-blocks || fail priv-blocks "army.ml MX: $rc; $(tail -n 5 "$work/unbound.out")"
rc=$(priv_ask army.mil A)
[ "$rc" = NOERROR ] && pass priv-answers || fail priv-answers "army.mil A: $rc"

# The audit record, written by the user unbound inside the state directory.
for _ in $(seq 1 50); do
	grep -q '"qname":"army.ml"' "$root/state/audit.jsonl" 2>/dev/null && break
	sleep 0.1
done
if grep -q '"qname":"army.ml"' "$root/state/audit.jsonl" 2>/dev/null &&
	[ "$(stat -c %U "$root/state/audit.jsonl")" = unbound ]; then
	pass priv-audit-in-state
else
	fail priv-audit-in-state "no record of army.ml in $root/state/audit.jsonl"
fi

# The compiled policy: readable by the resolver's user, not writable.
db=$root/doppel/policy.db
if runuser -u unbound -- test -r "$db" && ! runuser -u unbound -- test -w "$db" &&
	[ "$(stat -c '%U:%G %a' "$db")" = "root:unbound 640" ]; then
	pass priv-policy-read-only
else
	fail priv-policy-read-only "$(stat -c '%U:%G %a' "$db")"
fi

# Nothing the user unbound may write outside the state directory (but
# the control socket, which Unbound makes root:unbound 0660).
writable=$(find "$prefix" -path "$root/state" -prune -o \
	-path "$prefix/run/unbound.ctl" -prune -o \
	\( -user unbound -o -perm -0002 -o \( -group unbound -perm -0020 \) \) \
	-print 2>/dev/null)
if [ -z "$writable" ]; then
	pass priv-writes-only-state
else
	fail priv-writes-only-state "writable by unbound: $writable"
fi

# A reload re-reads unbound.conf and doppel.conf from inside the chroot.
off=$(wc -c <"$work/unbound.out")
if out=$("$prefix/sbin/unbound-control" -c "$root/unbound.conf" reload 2>&1) &&
	[ "$out" = ok ]; then
	for _ in $(seq 1 100); do
		tail -c +"$((off + 1))" "$work/unbound.out" | grep -q 'start of service' && break
		sleep 0.1
	done
	rc=$(priv_ask army.ml MX)
	if [ "$rc" = NXDOMAIN ] && kill -0 "$pid" 2>/dev/null; then
		pass priv-reload
	else
		fail priv-reload "after reload army.ml MX: $rc; $(tail -n 5 "$work/unbound.out")"
	fi
else
	fail priv-reload "unbound-control reload: $out"
fi

# Remote control: a Unix socket that only root and the group unbound
# may use; no TCP port; a user outside the group is refused.
ctl=$prefix/run/unbound.ctl
if [ -S "$ctl" ] && [ "$(stat -c '%U:%G %a' "$ctl")" = "root:unbound 660" ] &&
	! grep -q 'control-port' "$root/unbound.conf"; then
	pass priv-control-socket
else
	fail priv-control-socket "$(stat -c '%U:%G %a %F' "$ctl" 2>&1); $(grep control "$root/unbound.conf")"
fi
if ! runuser -u nobody -- "$prefix/sbin/unbound-control" -c "$root/unbound.conf" \
	status >"$work/nobody.out" 2>&1 &&
	"$prefix/sbin/unbound-control" -c "$root/unbound.conf" status >/dev/null 2>&1; then
	pass priv-control-refused-to-others
else
	fail priv-control-refused-to-others "nobody: $(head -3 "$work/nobody.out")"
fi

# A link the user unbound plants where root writes the trust anchor is
# replaced on the next install, not followed (root must not hand one of
# its files to unbound).
printf 'root-owned\n' >"$work/victim"
chmod 0600 "$work/victim"
runuser -u unbound -- ln -sf "$work/victim" "$root/state/root.key"
if BUILD=$plain DOPPEL_PORT=$port "$e2e_repo/tools/install.sh" "$prefix" \
	>"$work/reinstall.out" 2>&1 &&
	[ "$(stat -c %U "$work/victim")" = root ] &&
	[ ! -L "$root/state/root.key" ] &&
	[ "$(stat -c %U "$root/state/root.key")" = unbound ]; then
	pass priv-no-symlink-followed
else
	fail priv-no-symlink-followed "victim $(stat -c '%U' "$work/victim"); $(ls -l "$root/state/root.key"); $(tail -3 "$work/reinstall.out")"
fi

# A staged install (DESTDIR, as a package build makes one): the files
# under it, the configuration naming the final paths, no owner set.
if BUILD=$plain DESTDIR=$work/stage "$e2e_repo/tools/install.sh" /opt/doppel-staged \
	>"$work/stage.out" 2>&1 &&
	[ -x "$work/stage/opt/doppel-staged/sbin/unbound" ] &&
	grep -q 'chroot: "/opt/doppel-staged/chroot"' \
		"$work/stage/opt/doppel-staged/chroot/unbound.conf" &&
	[ -z "$(find "$work/stage" -user unbound -o -group unbound)" ] &&
	[ ! -e /opt/doppel-staged ]; then
	pass priv-destdir-staged
else
	fail priv-destdir-staged "$(tail -3 "$work/stage.out")"
fi

e2e_finish priv-lab-survived

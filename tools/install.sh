#!/bin/sh
# tools/install.sh - `make install PREFIX=DIR`: the resolver with doppel,
# laid out to run the way Unbound runs by default on Debian: chrooted, as
# the unprivileged user `unbound`.  Run as root (it creates the user when
# there is none and sets owners).
#
#   PREFIX/sbin/        unbound, unbound-control, unbound-checkconf (the
#                       private build the module was compiled against)
#   PREFIX/bin/doppel   the CLI (compile, check, audit summary, cache)
#   PREFIX/chroot/      Unbound's chroot (and its `directory`); everything
#                       the resolver opens after start-up is in here:
#     unbound.conf          root:unbound 0640 (read again on reload, so it
#                           must be inside the chroot)
#     etc/doppel/doppel.conf root:unbound 0640 (the module's default path)
#     doppel/policy.txt     root:unbound 0640 (the source, for reference)
#     doppel/policy.db      root:unbound 0640 (compiled: readable, not
#                           writable by the resolver)
#     doppel/country.mmdb   root:root 0644
#     doppel/doppel.so      root:root 0755, and the shared libraries it
#                           needs under usr/lib (dlopen() runs after the
#                           chroot)
#     state/                unbound:unbound 0750, the only place the
#                           resolver writes: verdicts.mdb, audit.jsonl,
#                           root.key (the trust anchor it keeps up to date)
#   PREFIX/run/             root:root 0755: unbound.pid, and unbound.ctl,
#                           the remote-control socket (root:unbound 0660,
#                           made so by Unbound: only root and the group
#                           unbound may use unbound-control; no TCP port)
#
# Root never follows a path the user unbound could have changed: files
# meant for state/ are made in a root-owned directory and renamed into it.
#
# Environment: DESTDIR (stage the files under it, as a package build
# does: paths in the configuration stay PREFIX's, no owner is set and no
# user created), BUILD (default build), POLICY (default conf/policy.txt),
# DOPPEL_PORT (default 53), DOPPEL_FORWARD (an address@port to forward
# every query to; default: full recursion from the root, DNSSEC on),
# DOPPEL_INTERFACE (default 127.0.0.1).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-build}
case "$build" in /*) ;; *) build=$top/$build ;; esac
prefix=${1:?usage: install.sh PREFIX}
case "$prefix" in /*) ;; *) prefix=$(pwd)/$prefix ;; esac
policy=${POLICY:-$top/conf/policy.txt}
port=${DOPPEL_PORT:-53}
iface=${DOPPEL_INTERFACE:-127.0.0.1}
root=$prefix/chroot
# DESTDIR: lay the files out under it (a staged install, for a package);
# the configuration names the final paths, and owners are left to
# whoever installs the result (no user is created, nothing chowned)
dest=${DESTDIR:-}
P=$dest$prefix
R=$dest$root

die() {
	echo "install.sh: $*" >&2
	exit 1
}

[ -n "$dest" ] || [ "$(id -u)" = 0 ] ||
	die "run as root: it sets owners and may create the user unbound"
for f in "$build/unbound/sbin/unbound" "$build/lib/doppel.so" \
	"$build/bin/doppel" "$build/geo/country.mmdb"; do
	[ -e "$f" ] || die "$f is missing; run make first"
done
# owner USER:GROUP FILE...: set owners, unless staging under DESTDIR
owner() {
	[ -n "$dest" ] || chown "$@"
}
# owned USER GROUP: install's owner options, unless staging
owned() {
	[ -n "$dest" ] || printf -- '-o %s -g %s' "$1" "$2"
}

if [ -z "$dest" ] && ! id unbound >/dev/null 2>&1; then
	useradd --system --no-create-home --home-dir /nonexistent \
		--shell /usr/sbin/nologin unbound ||
		die "cannot create the user unbound"
	echo "install.sh: created the system user unbound"
fi

install -d -m 0755 "$P" "$P/sbin" "$P/bin" "$R" \
	"$R/doppel" "$R/usr/lib" "$R/etc" "$R/etc/doppel"
install -d -m 0750 $(owned unbound unbound) "$R/state"
install -d -m 0755 $(owned root root) "$P/run"
for b in unbound unbound-control unbound-checkconf unbound-anchor; do
	install -m 0755 "$build/unbound/sbin/$b" "$P/sbin/$b"
done
install -m 0755 "$build/bin/doppel" "$P/bin/doppel"
install -m 0755 "$build/lib/doppel.so" "$R/doppel/doppel.so"
install -m 0644 "$build/geo/country.mmdb" "$R/doppel/country.mmdb"

# The libraries doppel.so needs that Unbound itself does not load: dlopen()
# looks for them inside the chroot.  Unbound's own (libc, libssl, libevent,
# ...) are already in memory and matched by name.
ldd "$build/lib/doppel.so" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }' |
while read -r lib; do
	dir=$R/usr/lib/$(basename "$(dirname "$lib")")
	install -d -m 0755 "$dir"
	install -m 0644 "$lib" "$dir/$(basename "$lib")"
done

# The policy: its source for reference, compiled for the module.
install -m 0640 $(owned root unbound) "$policy" "$R/doppel/policy.txt"
pdir=$(dirname "$policy")
for list in $(sed -n 's/^[[:space:]]*[a-z-]*-file[[:space:]]\{1,\}\([^[:space:]#]*\).*/\1/p' "$policy"); do
	case "$list" in /*) src=$list ;; *) src=$pdir/$list ;; esac
	[ -f "$src" ] && install -m 0640 $(owned root unbound) "$src" \
		"$R/doppel/$(basename "$list")"
done
"$build/bin/doppel" compile "$policy" -o "$R/doppel/policy.db.new" >/dev/null
owner root:unbound "$R/doppel/policy.db.new"
chmod 0640 "$R/doppel/policy.db.new"
mv "$R/doppel/policy.db.new" "$R/doppel/policy.db"

# Paths in doppel.conf are read inside the chroot.
cat >"$R/etc/doppel/doppel.conf" <<EOF
# written by tools/install.sh; paths are inside Unbound's chroot
policy: /doppel/policy.db
on-error: open
block-ttl: 300
log-verdicts: yes
geoip: /doppel/country.mmdb
policy-check-interval: 5
verdict-cache: /state/verdicts.mdb
audit: flagged
audit-log: /state/audit.jsonl
EOF
owner root:unbound "$R/etc/doppel/doppel.conf"
chmod 0640 "$R/etc/doppel/doppel.conf"

{
	echo "# written by tools/install.sh: Unbound with doppel, chrooted to"
	echo "# $root, as the user unbound.  Start:"
	echo "#   $prefix/sbin/unbound -c $root/unbound.conf"
	echo "# (doppel reads /etc/doppel/doppel.conf inside the chroot)"
	echo "server:"
	echo "	interface: $iface@$port"
	echo "	chroot: \"$root\""
	echo "	username: \"unbound\""
	echo "	directory: \"$root\""
	echo "	pidfile: \"$prefix/run/unbound.pid\""
	echo "	logfile: \"\""
	echo "	use-syslog: no"
	echo "	log-time-ascii: yes"
	echo "	verbosity: 1"
	echo "	module-config: \"dynlib validator iterator\""
	if [ -n "${DOPPEL_FORWARD:-}" ]; then
		echo "	do-not-query-localhost: no"
	else
		# made beside the policy (root's), then renamed into state/:
		# whatever the user unbound left at state/root.key (a link
		# to a file of root's) is replaced, never followed
		install -m 0644 $(owned unbound unbound) /usr/share/dns/root.key \
			"$R/doppel/root.key.new"
		mv -f -T "$R/doppel/root.key.new" "$R/state/root.key" ||
			die "cannot put the trust anchor in $root/state"
		echo "	auto-trust-anchor-file: \"$root/state/root.key\""
	fi
	echo "dynlib:"
	echo "	dynlib-file: \"/doppel/doppel.so\""
	if [ -n "${DOPPEL_FORWARD:-}" ]; then
		echo "forward-zone:"
		echo "	name: \".\""
		echo "	forward-addr: $DOPPEL_FORWARD"
	fi
	# a Unix socket: a TCP control port without certificates would let
	# any local user rewrite answers (unbound-control local_data)
	echo "remote-control:"
	echo "	control-enable: yes"
	echo "	control-interface: \"$prefix/run/unbound.ctl\""
} >"$R/unbound.conf"
owner root:unbound "$R/unbound.conf"
chmod 0640 "$R/unbound.conf"
if [ -n "$dest" ]; then
	# its paths are the final ones, not there yet
	echo "install.sh: staged in $dest$prefix (for $prefix)"
	exit 0
fi
"$P/sbin/unbound-checkconf" "$R/unbound.conf" >/dev/null ||
	die "unbound-checkconf refused $root/unbound.conf"
echo "install.sh: installed in $prefix; start with:"
echo "  $prefix/sbin/unbound -d -c $root/unbound.conf"

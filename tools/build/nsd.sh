#!/bin/sh
# tools/build/nsd.sh DIR - Debian's NSD unpacked into DIR (DIR/usr/sbin/nsd),
# not installed: the fleet test runs it as the RPZ zone's hidden primary on
# a loopback port, and installing the package would start a system NSD on
# port 53.  The package comes from the machine's own apt sources
# (apt-get download, dpkg-deb -x); its libraries are those of Unbound and
# fstrm-bin, already there (make deps).
set -eu
dir=${1:?usage: nsd.sh DIR}
[ -x "$dir/usr/sbin/nsd" ] && exit 0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
# apt downloads as its own user when it can write there
chown _apt "$tmp" 2>/dev/null || chmod 0777 "$tmp"
(cd "$tmp" && apt-get download -q nsd >/dev/null) || {
	echo "nsd.sh: cannot download nsd (apt-get download)" >&2
	exit 1
}
mkdir -p "$dir"
dpkg-deb -x "$tmp"/nsd_*.deb "$dir"
"$dir/usr/sbin/nsd" -v >/dev/null 2>&1 || {
	echo "nsd.sh: the unpacked nsd does not run (missing libraries?)" >&2
	exit 1
}

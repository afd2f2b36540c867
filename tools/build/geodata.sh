#!/bin/sh
# tools/build/geodata.sh DIR - the country ranges of Debian's tor-geoipdb
# (geoip, geoip6) into DIR, without installing the package: tor-geoipdb
# depends on tor, and a resolver has no business running the Tor daemon.
# The files of an installed tor-geoipdb are taken if they are there;
# otherwise the package is downloaded from the machine's own apt sources
# and unpacked (apt-get download, dpkg-deb -x).
set -eu
dir=${1:?usage: geodata.sh DIR}
mkdir -p "$dir"
if [ -r /usr/share/tor/geoip ] && [ -r /usr/share/tor/geoip6 ]; then
	cp /usr/share/tor/geoip /usr/share/tor/geoip6 "$dir/"
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
# apt downloads as its own user when it can write there
chown _apt "$tmp" 2>/dev/null || chmod 0777 "$tmp"
(cd "$tmp" && apt-get download -q tor-geoipdb >/dev/null) || {
	echo "geodata.sh: cannot download tor-geoipdb (apt-get download)" >&2
	exit 1
}
dpkg-deb -x "$tmp"/tor-geoipdb_*.deb "$tmp/x"
cp "$tmp/x/usr/share/tor/geoip" "$tmp/x/usr/share/tor/geoip6" "$dir/"

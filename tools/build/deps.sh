#!/bin/sh
# tools/build/deps.sh - check, and as root install, the Debian packages
# doppel needs to build, test and run.
#
#   deps.sh --check     exit 0 if everything is there, 1 if not (quiet)
#   deps.sh --install   install what is missing (root), or print the command
#   deps.sh --deb-src   only the deb-src entries apt-get source needs (root)
#
# tor-geoipdb is not among them: it depends on the Tor daemon; its data is
# unpacked into the build instead (tools/build/geodata.sh).
#
# Unbound is built from Debian's source package, which needs deb-src
# entries.  They are derived from the machine's own deb entries (same
# mirrors, suites and components), so no host name is written anywhere.
set -eu

PKGS="bison flex libevent-dev libssl-dev libexpat1-dev dpkg-dev gcc make
libldns-dev ldnsutils bind9-dnsutils libmaxminddb-dev mmdb-bin liblmdb-dev libpsl-dev libidn2-dev
libicu-dev publicsuffix libjansson-dev zlib1g-dev clang libclang-rt-14-dev
pkg-config dns-root-data dnstwist python3 python3-dev swig wamerican
wamerican-small
dnsperf valgrind chromium fstrm-bin dnstap-ldns"

missing_pkgs() {
	for p in $PKGS; do
		s=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
		case "$s" in
		*" installed") ;;
		*) printf '%s ' "$p" ;;
		esac
	done
}

# Does apt know any source package index?  (apt-get source needs one.)
have_deb_src() {
	grep -rqsE '^(deb-src|Types:.*deb-src)' /etc/apt/sources.list \
		/etc/apt/sources.list.d/ 2>/dev/null
}

add_deb_src() {
	out=/etc/apt/sources.list.d/doppel-deb-src
	# deb822 files: copy each stanza with Types: deb-src.
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		case "$f" in */doppel-deb-src*) continue ;; esac
		grep -q '^Types:.*\bdeb\b' "$f" || continue
		sed -e 's/^Types:.*/Types: deb-src/' "$f" >>"$out.sources"
		printf '\n' >>"$out.sources"
	done
	# one-line format
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		grep -E '^deb[[:space:]]' "$f" | sed -e 's/^deb/deb-src/' \
			>>"$out.list" || true
	done
}

miss=$(missing_pkgs)
need_src=0
have_deb_src || need_src=1

case "${1:---check}" in
--check)
	[ -z "$miss" ] && [ $need_src -eq 0 ] && exit 0
	exit 1
	;;
--install)
	if [ -z "$miss" ] && [ $need_src -eq 0 ]; then
		exit 0
	fi
	if [ "$(id -u)" != 0 ]; then
		echo "doppel: missing Debian packages:${miss:+ $miss}" >&2
		[ $need_src -eq 1 ] && echo "doppel: and no deb-src entries" \
			"for 'apt-get source unbound'" >&2
		echo "doppel: run as root: make deps" >&2
		exit 1
	fi
	[ $need_src -eq 1 ] && add_deb_src
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	if [ -n "$miss" ]; then
		# shellcheck disable=SC2086
		apt-get install -y -q --no-install-recommends $miss
	fi
	;;
--deb-src)
	[ $need_src -eq 0 ] && exit 0
	if [ "$(id -u)" != 0 ]; then
		echo "doppel: no deb-src entries for 'apt-get source unbound';" \
			"run as root: make deps" >&2
		exit 1
	fi
	add_deb_src
	apt-get update -q
	;;
*)
	echo "usage: $0 --check|--install|--deb-src" >&2
	exit 2
	;;
esac

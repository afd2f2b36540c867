#!/bin/sh
# tools/build/deb.sh - `make deb`: Debian packages for the system's own
# Unbound, built with Debian's own tools, into BUILD/deb.
#
#   deb.sh BUILD_DIR
#
# 1. unbound, rebuilt from Debian's source package with --with-dynlibmodule
#    added to the daemon's configure line and nothing else changed, under
#    the local version VERSION+doppel1 (so apt takes it for the system's
#    unbound: same binaries, paths, unit, conf.d, apparmor profile).
# 2. doppel, compiled against that very configured tree (a dynlib module
#    must match the layout of the Unbound that loads it), depending on that
#    exact unbound version.
#
# As root, missing build dependencies are installed (apt-get build-dep);
# otherwise the command to run is printed.  The Unbound build (~6 minutes
# on 2 cores) is reused while the source version stays the same.
set -eu

top=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$1"
build=$(cd "$1" && pwd)
out=$build/deb
work=$build/deb-work
jobs=${JOBS:-2}
# Debian's python3 and tools, not a pyenv or /usr/local one first on PATH:
# their headers would end up in python3-unbound.
PATH=/usr/sbin:/usr/bin:/sbin:/bin
LC_ALL=C.UTF-8
DEB_BUILD_OPTIONS="nocheck parallel=$jobs"
export PATH LC_ALL DEB_BUILD_OPTIONS

# Who the change log entries name: Debian's usual variables, or a default.
maintainer="${DEBFULLNAME:-doppel developers} <${DEBEMAIL:-doppel@example.org}>"

say() { echo "doppel deb: $*"; }
die() { echo "doppel deb: $*" >&2; exit 1; }

# Install what a build needs (root), or say what to run.  apt's lists
# are brought up to date once first (a fresh image may have none).
updated=
need() { # what-for command...
	what=$1; shift
	if [ "$(id -u)" = 0 ]; then
		if [ -z "$updated" ]; then
			apt-get update -q >"$work/apt-update.log" 2>&1 || {
				tail -n 5 "$work/apt-update.log" >&2
				die "'apt-get update' failed"
			}
			updated=1
		fi
		say "installing the build dependencies of $what"
		DEBIAN_FRONTEND=noninteractive "$@" >"$work/apt-$what.log" 2>&1 || {
			tail -n 20 "$work/apt-$what.log" >&2
			die "'$*' failed"
		}
	else
		die "missing build dependencies of $what; run as root: $*"
	fi
}

mkdir -p "$out" "$work"
for p in dpkg-dev debhelper; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q ' installed$' ||
		need tools apt-get install -y -q --no-install-recommends dpkg-dev debhelper
done

# --- 1. unbound ------------------------------------------------------------
"$top/tools/build/deps.sh" --deb-src >"$work/apt-deb-src.log" 2>&1 || {
	cat "$work/apt-deb-src.log" >&2
	exit 1
}
version=$(apt-cache showsrc unbound 2>/dev/null | sed -n 's/^Version: //p' |
	sort -V | tail -n 1)
[ -n "$version" ] || die "apt knows no unbound source package; run 'make deps' as root (it adds deb-src entries derived from the machine's own)"
local_version="$version+doppel1"
upstream=${version%-*}
upstream=${upstream#*:}
utree=$work/unbound-$upstream
ustamp=$work/unbound.stamp

if [ -f "$ustamp" ] && [ "$(cat "$ustamp")" = "$local_version" ] &&
	[ -f "$utree/b/unbound/config.h" ] &&
	ls "$out"/unbound_"$local_version"_*.deb >/dev/null 2>&1; then
	say "unbound $local_version already built"
	# the module is compiled against that configured tree, whose
	# headers need what its build needed (nghttp2.h, ...)
	(cd "$utree" && dpkg-checkbuilddeps >/dev/null 2>&1) ||
		need unbound apt-get build-dep -y -q "unbound=$version"
else
	say "building unbound $local_version from Debian's source package"
	rm -rf "$utree" "$ustamp" "$work"/unbound_* "$out"/*.deb
	(cd "$work" && apt-get source -q "unbound=$version" >apt-source.log 2>&1) || {
		cat "$work/apt-source.log" >&2
		die "'apt-get source unbound=$version' failed"
	}
	[ -d "$utree" ] || die "no source tree $utree"
	(cd "$utree" && dpkg-checkbuilddeps >/dev/null 2>&1) ||
		need unbound apt-get build-dep -y -q "unbound=$version"
	# The dynlib module on the daemon's configure line, nothing else.
	grep -q -- '--with-dynlibmodule' "$utree/debian/rules" || {
		sed -i 's/^\(\t\t--enable-systemd \\\)$/\1\n\t\t--with-dynlibmodule \\/' \
			"$utree/debian/rules"
		grep -q -- '--with-dynlibmodule' "$utree/debian/rules" ||
			die "cannot add --with-dynlibmodule to debian/rules (its layout changed)"
	}
	dist=$(cd "$utree" && dpkg-parsechangelog -S Distribution)
	{
		printf 'unbound (%s) %s; urgency=medium\n\n' "$local_version" "$dist"
		printf '  * Local build for doppel: the dynlib module enabled\n'
		printf '    (--with-dynlibmodule); nothing else changed.\n\n'
		printf ' -- %s  %s\n\n' "$maintainer" "$(date -R)"
		cat "$utree/debian/changelog"
	} >"$utree/debian/changelog.new"
	mv "$utree/debian/changelog.new" "$utree/debian/changelog"
	log=$work/unbound-build.log
	(cd "$utree" && dpkg-buildpackage -b -uc -us >"$log" 2>&1) || {
		tail -n 40 "$log" >&2
		die "the unbound build failed; full log: $log"
	}
	grep -q '^#define WITH_DYNLIBMODULE 1' "$utree/b/unbound/config.h" ||
		die "configure did not enable the dynlib module"
	for f in "$work"/*_"$local_version"_*.deb; do
		cp "$f" "$out/"
	done
	printf '%s\n' "$local_version" >"$ustamp"
	say "unbound $local_version built"
fi

# --- 2. doppel -------------------------------------------------------------
dver=$(sed -n 's/^#define DP_VERSION "\(.*\)"$/\1/p' "$top/lib/doppel.h")
dtree=$work/doppel-$dver
rm -rf "$dtree"
mkdir -p "$dtree"
# The files of the checkout (tracked ones when it is a git tree), not the
# build directories.
if git -C "$top" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	(cd "$top" && git ls-files -z | xargs -0 tar -cf - --) | tar -xf - -C "$dtree"
else
	(cd "$top" && tar -cf - --exclude='./build*' .) | tar -xf - -C "$dtree"
fi
(cd "$dtree" && dpkg-checkbuilddeps >/dev/null 2>&1) ||
	need doppel apt-get build-dep -y -q "$dtree"
# The change log names this build's version and the unbound it matches.
{
	printf 'doppel (%s-1) unstable; urgency=medium\n\n' "$dver"
	printf '  * Built against unbound %s.\n\n' "$local_version"
	printf ' -- %s  %s\n' "$maintainer" "$(date -R)"
} >"$dtree/debian/changelog"
log=$work/doppel-build.log
(cd "$dtree" && DOPPEL_UNBOUND_TREE=$utree DOPPEL_UNBOUND_BUILD=$utree/b/unbound \
	DOPPEL_UNBOUND_VERSION=$local_version TOR_DIR=$build/tor-geoipdb \
	dpkg-buildpackage -b -uc -us >"$log" 2>&1) || {
	tail -n 40 "$log" >&2
	die "the doppel build failed; full log: $log"
}
rm -f "$out"/doppel_*.deb
cp "$work"/doppel_"$dver"-1_*.deb "$out/"
say "packages in $out:"
ls -1 "$out"

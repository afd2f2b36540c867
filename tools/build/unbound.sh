#!/bin/sh
# tools/build/unbound.sh - build doppel's private Unbound from Debian's
# source package, with the dynlib module, into BUILD/unbound.
#
#   unbound.sh BUILD_DIR
#
# Debian's unbound binary cannot load external modules, and a dynlib module
# must be compiled against the exact tree and configure line of the Unbound
# that loads it, so doppel ships its own.  The result is reused while the
# source version and configure line stay the same.
#
# Leaves: BUILD/unbound/sbin/{unbound,unbound-control,...,testbound},
# BUILD/unbound-src -> the configured source tree (for the module's
# headers), BUILD/unbound/.doppel-stamp.
set -eu

build=$(cd "$1" && pwd)
jobs=${JOBS:-2}
prefix=$build/unbound
srcroot=$build/src
configure_args="--prefix=$prefix --with-dynlibmodule --with-libevent --disable-flto"
# The Python module too, for make bench's baseline (d): the same binary then
# runs plain, with doppel and with a Python script.  Debian's interpreter,
# not whatever python3 comes first on PATH.
if [ -x /usr/bin/python3 ] && command -v swig >/dev/null 2>&1; then
	configure_args="$configure_args --with-pythonmodule PYTHON=/usr/bin/python3"
fi
# Extra compiler flags, e.g. -fsanitize=thread for `make tsan`.
cflags=${UNBOUND_CFLAGS:-}

version=$(apt-cache showsrc unbound 2>/dev/null | sed -n 's/^Version: //p' |
	sort -V | tail -n 1)
if [ -z "$version" ]; then
	echo "doppel: apt knows no unbound source package; run 'make deps'" \
		"as root (it adds deb-src entries derived from the machine's" \
		"own)" >&2
	exit 1
fi
# The Python module's own unboundmodule.py goes to etc/unbound (SHARE_DIR),
# which the module puts on Python's path, not into the system's Python.
stamp="unbound $version | $configure_args | $cflags | python in etc"

if [ -f "$prefix/.doppel-stamp" ] && [ "$(cat "$prefix/.doppel-stamp")" = "$stamp" ] &&
	[ -x "$prefix/sbin/unbound" ] && [ -x "$prefix/sbin/testbound" ] &&
	[ -f "$build/unbound-src/config.h" ]; then
	exit 0
fi

echo "doppel: building Unbound $version from Debian's source package"
rm -rf "$srcroot" "$prefix" "$build/unbound-src"
mkdir -p "$srcroot"
(cd "$srcroot" && apt-get source -q "unbound=$version" >apt-source.log 2>&1) || {
	cat "$srcroot/apt-source.log" >&2
	echo "doppel: 'apt-get source unbound=$version' failed" >&2
	exit 1
}
tree=$(find "$srcroot" -maxdepth 1 -type d -name 'unbound-*' | head -n 1)
[ -n "$tree" ] || { echo "doppel: no unbound source tree in $srcroot" >&2; exit 1; }

cd "$tree"
log=$srcroot/build.log
# shellcheck disable=SC2086
if ! ./configure $configure_args CFLAGS="-g -O2 $cflags" \
	LDFLAGS="-export-dynamic $cflags" >"$log" 2>&1 ||
	! make -j"$jobs" >>"$log" 2>&1 ||
	! make -j"$jobs" testbound >>"$log" 2>&1 ||
	! make install PYTHON_SITE_PKG="$prefix/etc/unbound" >>"$log" 2>&1; then
	tail -n 40 "$log" >&2
	echo "doppel: Unbound build failed; full log: $log" >&2
	exit 1
fi
grep -q '^#define WITH_DYNLIBMODULE 1' config.h || {
	echo "doppel: configure did not enable the dynlib module" >&2
	exit 1
}
cp testbound "$prefix/sbin/testbound"
ln -sfn "$tree" "$build/unbound-src"
printf '%s\n' "$stamp" >"$prefix/.doppel-stamp"
echo "doppel: Unbound $version installed in $prefix"

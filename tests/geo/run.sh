#!/bin/sh
# tests/geo/run.sh - build and run the country .mmdb writer's tests.
#
# Compiles geo-data/ and tests/geo/test_geo.c into $BUILD/geo/ (default
# build/), runs test_geo against tor-geoipdb's files (as the build
# unpacked them: $BUILD/tor-geoipdb, or TOR_DIR), then checks
# `doppel geo build`.  One line per check, "PASS geo/NAME" or
# "FAIL geo/NAME: why"; "# " lines carry figures (build time, size, ns per
# lookup).  Exits non-zero if anything failed.
#
# Environment: BUILD (default build), CC (default cc), SAN (extra compiler
# flags such as -fsanitize=address,undefined), DOPPEL_GEO_BIG=1 for the
# slow 28-bit-record test.
set -u
cd "$(dirname "$0")/../.." || exit 2
BUILD=${BUILD:-build}
CC=${CC:-cc}
SAN=${SAN:-}
OUT="$BUILD/geo"
mkdir -p "$OUT" || exit 2
# tor-geoipdb's ranges as the build unpacked them (tools/build/geodata.sh)
TOR_DIR=${TOR_DIR:-$BUILD/tor-geoipdb}
[ -r "$TOR_DIR/geoip" ] || TOR_DIR=build/tor-geoipdb

CFLAGS="-std=c11 -D_DEFAULT_SOURCE -O2 -g -Wall -Wextra -Wpedantic -Wshadow \
-Wstrict-prototypes -Wformat=2 -Wvla $SAN"
SRC="geo-data/mmdb_write.c"
HDR="geo-data/mmdb_write.h lib/doppel.h"
LIB="$BUILD/lib/libdoppel.a"
DOPPEL=${DOPPEL_BIN:-$BUILD/bin/doppel}

# build NAME SOURCES...: compile if any input is newer than the program.
build() {
	bin="$OUT/$1"
	shift
	stale=0
	[ -x "$bin" ] || stale=1
	for f in "$@" $HDR "$LIB"; do
		[ "$f" -nt "$bin" ] && stale=1
	done
	[ $stale -eq 0 ] && return 0
	# shellcheck disable=SC2086 # word splitting of flags is wanted
	$CC $CFLAGS -Igeo-data -Ilib -o "$bin" "$@" "$LIB" -lmaxminddb -lpsl \
		-lidn2 -llmdb -licui18n -licuuc -licudata -lpthread
}

failed=0
if ! build test_geo tests/geo/test_geo.c $SRC; then
	echo "FAIL geo/compile: test_geo did not compile"
	exit 1
fi
echo "PASS geo/compile"

"$OUT/test_geo" "$TOR_DIR/geoip" "$TOR_DIR/geoip6" || failed=1

tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT INT TERM

# doppel geo build with a fixture: exit 0, a summary line, a readable
# database.
printf '192.0.2.0/24 ML\n2001:db8::/32 US\n' >"$tmp/fx.txt"
if "$DOPPEL" geo build -o "$tmp/fx.mmdb" --fixture "$tmp/fx.txt" >"$tmp/out" 2>&1 &&
	grep -q "2 ranges" "$tmp/out" &&
	mmdblookup --file "$tmp/fx.mmdb" --ip 192.0.2.7 country iso_code |
	grep -q '"ML"'; then
	echo "PASS geo/cli_fixture"
else
	echo "FAIL geo/cli_fixture: $(cat "$tmp/out")"
	failed=1
fi

# A malformed fixture: exit 2 (an input error) and "FILE:LINE: what".
printf '192.0.2.0/24 ML\n192.0.2.1/24 ML\n' >"$tmp/bad.txt"
"$DOPPEL" geo build -o "$tmp/bad.mmdb" --fixture "$tmp/bad.txt" >"$tmp/out" 2>&1
rc=$?
if [ $rc -eq 2 ] && grep -q "^doppel: $tmp/bad.txt:2: .*host bits" "$tmp/out" &&
	[ ! -e "$tmp/bad.mmdb" ]; then
	echo "PASS geo/cli_bad_fixture"
else
	echo "FAIL geo/cli_bad_fixture: status $rc: $(cat "$tmp/out")"
	failed=1
fi

# Bad usage: exit 2 and the usage text.
"$DOPPEL" geo build >"$tmp/out" 2>&1
rc=$?
if [ $rc -eq 2 ] && grep -q "^usage: doppel geo build" "$tmp/out"; then
	echo "PASS geo/cli_usage"
else
	echo "FAIL geo/cli_usage: status $rc"
	failed=1
fi

# The real build through the command, with its figures.
if "$DOPPEL" geo build -o "$tmp/country.mmdb" --tor4 "$TOR_DIR/geoip" \
	--tor6 "$TOR_DIR/geoip6" >"$tmp/out" 2>&1; then
	echo "# geo: $(cat "$tmp/out")"
	echo "PASS geo/cli_tor"
else
	echo "FAIL geo/cli_tor: $(cat "$tmp/out")"
	failed=1
fi

exit $failed

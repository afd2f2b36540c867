#!/bin/sh
# tests/symbols.sh - the module must export exactly Unbound's six dynlib
# entry points: it is loaded RTLD_GLOBAL, and any other exported symbol
# could clash with Unbound's own or another module's.
set -u
so=${DOPPEL_SO:-build/lib/doppel.so}
want="clear
deinit
get_mem
inform_super
init
operate"
got=$(nm -D --defined-only "$so" 2>&1 | awk '$2 ~ /^[TtDdBbRrVvWwiu]$/ {print $3}' |
	grep -v -e '^_init$' -e '^_fini$' | sort)
if [ "$got" = "$want" ]; then
	echo "PASS symbols/exactly-six-entry-points"
else
	echo "FAIL symbols/exactly-six-entry-points: $so exports:"
	echo "$got" | sed 's/^/    /'
	exit 1
fi
# And the six must be functions (type T), or dlsym finds the wrong thing.
n=$(nm -D --defined-only "$so" | awk '$2 == "T"' | grep -c -w -e init \
	-e deinit -e operate -e inform_super -e clear -e get_mem)
if [ "$n" -eq 6 ]; then
	echo "PASS symbols/entry-points-are-functions"
else
	echo "FAIL symbols/entry-points-are-functions: $n of 6 are text symbols"
	exit 1
fi

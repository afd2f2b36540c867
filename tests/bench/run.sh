#!/bin/sh
# tests/bench/run.sh - `make bench`: the engine benchmark (median and p99
# ns per name at 1k, 100k and 1M protected domains, compile time, memory).
# Not part of make test: it prints figures, it does not judge them.
set -eu
cd "$(dirname "$0")/../.."
bin=${BUILD:-build}/bench/bench_engine
"$bin" /usr/share/dict/words "${BENCH_QUERIES:-100000}" \
	"${BENCH_ROUNDS:-5}" ${BENCH_SIZES:-}

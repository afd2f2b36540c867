#!/bin/sh
# tests/bench/run.sh - `make bench`: what a random cache line costs on this
# machine (tests/bench/memlat.c), the engine benchmark (ns per name at 1k,
# 100k and 1M protected domains, built in memory and compiled), then the
# resolver benchmark (tests/bench/resolver_bench.py: plain Unbound, doppel,
# a Python-module guard and an RPZ side by side under dnsperf and
# callgrind), which writes tests/bench/RESULTS.md.  Not part of make test: it prints figures, it
# does not judge them.  About 10 minutes on a 2-core machine.
#
# BENCH_QUERIES, BENCH_ROUNDS, BENCH_SIZES: the engine part (defaults
# 50000 x 3 at 1k, 100k, 1M); RESOLVER_ARGS: more resolver_bench.py options
# (e.g. "--rounds 2 --configs ab").
set -eu
cd "$(dirname "$0")/../.."
build=${BUILD:-build}
mkdir -p "$build/bench"
echo "== memory: ns per wave of K random cache lines (the floor under the engine)"
"$build/bench/memlat" | tee "$build/bench/engine.txt"
echo "== engine: ns per name against 1k, 100k, 1M protected domains"
# shellcheck disable=SC2086
"$build/bench/bench_engine" /usr/share/dict/words "${BENCH_QUERIES:-50000}" \
	"${BENCH_ROUNDS:-3}" ${BENCH_SIZES:-} | tee -a "$build/bench/engine.txt"
echo "== engine, names shaped like a real list (bench_engine --compound)"
# shellcheck disable=SC2086
"$build/bench/bench_engine" --compound /usr/share/dict/words \
	"${BENCH_QUERIES:-50000}" "${BENCH_ROUNDS:-3}" ${BENCH_SIZES:-} |
	tee -a "$build/bench/engine.txt"
echo "== engine: instructions per name (callgrind), against issue 20's targets"
python3 tests/bench/engine_cost.py "$build/bin/doppel" |
	tee -a "$build/bench/engine.txt"
echo "== verdict cache: ns per lookup as flagged names pile up (bench_vcache)"
vdir=$(mktemp -d)
"$build/bench/bench_vcache" "$vdir" | tee -a "$build/bench/engine.txt"
rm -rf "$vdir"
echo "== dnstap: records per second one writer thread gets read (bench_dnstap)"
tdir=$(mktemp -d)
fstrm_capture -t protobuf:dnstap.Dnstap -u "$tdir/tap.sock" -w /dev/null \
	>"$tdir/collector.log" 2>&1 &
collector=$!
for i in 1 2 3 4 5 6 7 8 9 10; do [ -S "$tdir/tap.sock" ] && break; sleep 0.2; done
for i in 1 2 3; do
	"$build/bench/bench_dnstap" "$tdir/tap.sock" 3 2>/dev/null
done | tee -a "$build/bench/engine.txt"
kill "$collector" 2>/dev/null || true
wait "$collector" 2>/dev/null || true
rm -rf "$tdir"
echo "== resolver: plain Unbound, doppel, Python module, RPZ"
# shellcheck disable=SC2086
BUILD=$build /usr/bin/python3 tests/bench/resolver_bench.py \
	--out "$build/bench/resolver" --engine "$build/bench/engine.txt" \
	--results tests/bench/RESULTS.md ${RESOLVER_ARGS:-}

#!/usr/bin/env bash
# tests/e2e/faults-matrix-4.sh — the fault matrix (faults-matrix.inc) with
# 4 resolver threads, under the running resolver: where the worker threads
# meet a damaged file at the same time as doppel's own threads.  At
# start-up the thread count changes nothing (the module opens its files in
# init(), on one thread, before any worker runs): faults-matrix-1.sh.
MATRIX_THREADS=${MATRIX_THREADS:-4}
MATRIX_PHASES=${MATRIX_PHASES:-run}
# shellcheck source=tests/e2e/faults-matrix.inc
. "$(dirname "$0")/faults-matrix.inc"

#!/usr/bin/env bash
# tests/e2e/faults-matrix-1.sh — the fault matrix (faults-matrix.inc) with
# 1 resolver thread.
MATRIX_THREADS=${MATRIX_THREADS:-1}
# shellcheck source=tests/e2e/faults-matrix.inc
. "$(dirname "$0")/faults-matrix.inc"

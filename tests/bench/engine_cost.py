#!/usr/bin/env python3
"""tests/bench/engine_cost.py - instructions per name of the engine alone
(callgrind), against issue 20's targets: a clean name at 10k protected
domains at most 4,000 instructions, and at 1M at most 1.3 times that.

The protected domains and the names come from tests/bench/workload.py, as
the resolver benchmark draws them (seed 20261129): 10k and 1M protected
domains, compiled with `doppel compile` and mapped as the module maps
them; 5,000 clean names of two words each (distinct registered domains:
what a cache miss of a never-seen domain costs), and 5,000 names under 50
registered domains (host labels in front: the shape of a resolver's
traffic, where the engine's memo of registered domains answers).
`doppel scan` checks them under `valgrind --tool=callgrind
--toggle-collect=dp_policy_check`; the count divided by the names is the
figure.  A third column takes only the distinct names that no policy size
flags: at 1M protected domains, a third of the two-word names contain a
protected word (sulfatesintrusting.cn holds sulfate.cn) and are warned,
and a flagged name costs its weighing and its explanation; the ratio of
the targets is given on both.  Prints a table; not part of make test.

usage: engine_cost.py [--sizes 10000,1000000] [--names 5000] DOPPEL_BIN
"""
import argparse
import os
import random
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import workload  # noqa: E402

TARGET_10K = 4000
TARGET_RATIO = 1.3


def instructions(doppel, db, names):
    """Instructions inside dp_policy_check per name of the file names."""
    with open(names) as f:
        n = sum(1 for _ in f)
    r = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
         "--toggle-collect=dp_policy_check", doppel, "scan", "-p", db,
         names], capture_output=True, text=True)
    m = re.search(r"Collected : (\d+)", r.stderr)
    if not m:
        sys.exit("engine_cost.py: no callgrind count: %s" % r.stderr[-400:])
    return int(m.group(1)) / n


def flagged(doppel, db, names):
    """The names of the file names that the policy db warns or blocks."""
    # scan's exit status says whether it flagged any: not an error here
    r = subprocess.run([doppel, "scan", "--json", "-p", db, names],
                       capture_output=True, text=True)
    if r.returncode not in (0, 1):
        sys.exit("engine_cost.py: doppel scan: %s" % r.stderr[-400:])
    return {m.group(1) for m in re.finditer(
        r'^\{"name":"([^"]*)".*"verdict":"(?:warn|block)"', r.stdout,
        re.M)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="10000,1000000")
    ap.add_argument("--names", type=int, default=5000)
    ap.add_argument("doppel")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    words = workload.load_words()
    psl = workload.load_psl()
    rows = []
    with tempfile.TemporaryDirectory() as d:
        dbs = {}
        for size in sizes:
            nm = workload.Names(20261129, words, psl)
            prot = nm.protected(size)
            src = os.path.join(d, "policy.txt")
            dbs[size] = os.path.join(d, "policy-%d.db" % size)
            with open(src, "w") as f:
                f.writelines("protect %s\n" % p for p in prot)
            subprocess.run([args.doppel, "compile", src, "-o", dbs[size]],
                           check=True, capture_output=True)
            os.unlink(src)
        clean = nm.clean(args.names)
        rng = random.Random(7)
        regs = [c[4:] if c.startswith("www.") else c
                for c in nm.clean(50)]
        shared = ["%s.%s" % ("".join(rng.choice(
            "abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(8)),
            rng.choice(regs)) for _ in range(args.names)]
        files = {}
        for tag, names in (("distinct", clean), ("shared", shared)):
            files[tag] = os.path.join(d, tag + ".txt")
            with open(files[tag], "w") as f:
                f.writelines(n + "\n" for n in names)
        hit = set()
        for size in sizes:
            hit |= flagged(args.doppel, dbs[size], files["distinct"])
        files["unflagged"] = os.path.join(d, "unflagged.txt")
        with open(files["unflagged"], "w") as f:
            f.writelines(n + "\n" for n in clean if n not in hit)
        for size in sizes:
            rows.append((size,) + tuple(
                instructions(args.doppel, dbs[size], files[t])
                for t in ("distinct", "shared", "unflagged")))
    print("instructions per name in dp_policy_check (callgrind, doppel scan "
          "of %d names against the compiled policy; unflagged: the %d "
          "distinct names no size flags)" % (args.names,
                                             args.names - len(hit)))
    print("%-10s %10s %10s %11s %10s %10s" % (
        "protected", "distinct", "shared 50", "unflagged", "/10k",
        "unfl./10k"))
    base = rows[0] if rows and rows[0][0] == 10000 else None
    for size, dist, sh, unfl in rows:
        print("%-10d %10.0f %10.0f %11.0f %10s %10s" % (
            size, dist, sh, unfl,
            "%.2f" % (dist / base[1]) if base else "-",
            "%.2f" % (unfl / base[3]) if base else "-"))
    if base:
        print("target: a distinct name at 10k <= %d instructions: %s (%.0f; "
              "unflagged %.0f)" % (TARGET_10K, "met" if base[1] <= TARGET_10K
                                  else "NOT met", base[1], base[3]))
        for size, dist, _, unfl in rows[1:]:
            print("target: at %d <= %.1fx the 10k figure: %s (%.2fx); "
                  "unflagged names: %s (%.2fx)" % (
                      size, TARGET_RATIO,
                      "met" if dist <= TARGET_RATIO * base[1] else "NOT met",
                      dist / base[1],
                      "met" if unfl <= TARGET_RATIO * base[3] else "NOT met",
                      unfl / base[3]))


if __name__ == "__main__":
    main()

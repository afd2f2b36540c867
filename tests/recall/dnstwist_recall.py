#!/usr/bin/env python3
"""tests/recall/dnstwist_recall.py - recall of doppel against dnstwist.

For every protected domain of a policy, Debian's dnstwist generates its
variants (all fuzzers, with its own English keyword dictionary and common
TLD list, offline: its Fuzzer class, as `dnstwist --format list` does);
`doppel scan --json` judges them all in one run.  A variant counts as
caught when its verdict is block or warn AND its target is the domain it
was made from.  Prints recall by fuzzer and overall, the misses (up to
--show per fuzzer), and one PASS/FAIL line against --min (percent).

usage: dnstwist_recall.py [--min 99] [--show 5] DOPPEL_BIN POLICY
"""
import argparse
import collections
import json
import subprocess
import sys

sys.path.insert(0, "/usr/lib/python3/dist-packages")
import dnstwist  # noqa: E402

DICT_DIR = "/usr/share/dnstwist/dictionaries"


def read_words(path):
    with open(path) as f:
        return [w.strip() for w in f if w.strip() and not w.startswith("//")]


def protected_domains(policy):
    with open(policy) as f:
        for line in f:
            words = line.split("#")[0].split()
            if len(words) >= 2 and words[0] == "protect":
                yield words[1].lower().rstrip(".")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--min", type=float, default=99.0)
    ap.add_argument("--show", type=int, default=5)
    ap.add_argument("doppel")
    ap.add_argument("policy")
    args = ap.parse_args()

    words = read_words(DICT_DIR + "/english.dict")
    tlds = read_words(DICT_DIR + "/common_tlds.dict")
    variants = []  # (fuzzer, origin, name)
    for dom in protected_domains(args.policy):
        fz = dnstwist.Fuzzer(dom, dictionary=words, tld_dictionary=tlds)
        fz.generate()
        for p in fz.domains:
            if p["fuzzer"] == "*original" or not p["domain"]:
                continue
            variants.append((p["fuzzer"], dom, p["domain"]))
    variants.sort()
    names = "".join(v[2] + "\n" for v in variants)
    # scan exits 1 when a name was blocked, as check does
    run = subprocess.run([args.doppel, "scan", "--json", "-p", args.policy],
                         input=names, capture_output=True, text=True)
    if run.returncode not in (0, 1):
        print("FAIL recall/dnstwist: doppel scan exited %d: %s"
              % (run.returncode, run.stderr[:300]))
        return 1
    out = run.stdout.splitlines()
    if len(out) != len(variants):
        print("FAIL recall/dnstwist: %d verdicts for %d names"
              % (len(out), len(variants)))
        return 1
    total = collections.Counter()
    caught = collections.Counter()
    misses = collections.defaultdict(list)
    for (fuzzer, origin, name), line in zip(variants, out):
        v = json.loads(line)
        total[fuzzer] += 1
        if v["verdict"] in ("block", "warn") and v["target"] == origin:
            caught[fuzzer] += 1
        else:
            misses[fuzzer].append("%s (from %s): %s %s: %s" % (
                name, origin, v["verdict"], v["target"], v["why"]))
    print("    %-14s %7s %7s %8s" % ("fuzzer", "names", "caught", "recall"))
    for fuzzer in sorted(total):
        print("    %-14s %7d %7d %7.2f%%" % (fuzzer, total[fuzzer],
              caught[fuzzer], 100.0 * caught[fuzzer] / total[fuzzer]))
    all_n, all_c = sum(total.values()), sum(caught.values())
    recall = 100.0 * all_c / all_n
    print("    %-14s %7d %7d %7.2f%%" % ("all", all_n, all_c, recall))
    for fuzzer in sorted(misses):
        print("    misses, %s (%d):" % (fuzzer, len(misses[fuzzer])))
        for m in misses[fuzzer][:args.show]:
            print("      " + m)
    if recall >= args.min:
        print("PASS recall/dnstwist: %.2f%% of %d variants caught with the"
              " right target (>= %.1f%%)" % (recall, all_n, args.min))
        return 0
    print("FAIL recall/dnstwist: %.2f%% of %d variants caught with the right"
          " target, want >= %.1f%%" % (recall, all_n, args.min))
    return 1


if __name__ == "__main__":
    sys.exit(main())

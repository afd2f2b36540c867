#!/usr/bin/env python3
"""tests/recall/evaluate.py - doppel's precision and recall on real data.

Three sets, each judged by one `doppel scan --json` run against
eval-policy.txt (about 80 often-impersonated domains, protect lines only):

  incidents.txt      documented lookalikes (NAME TARGET CLASS # source):
                     a name is found when its verdict is block or warn AND
                     its target is TARGET; blocked when found and block.
                     Rates per CLASS and overall, and every miss.
  legit-domains.txt  legitimate registrable domains harvested from the
  legit-hosts.txt    Debian system (harvest.py) and host names under them:
                     every block or warn there is a false positive.  Block
                     and warn rates overall and per technique, the targets
                     that draw them, the worst examples.

Checks (one PASS/FAIL line each, as tests/run.sh counts them):
  --min-flagged P   incidents found with the right target >= P percent
  --min-blocked P   incidents blocked with the right target >= P percent
  --max-blocked P   blocked names of each legit set <= P percent
  --max-warned P    warned names of each legit set <= P percent
The defaults are loose (0 and 100): set the thresholds in tests/run.sh.
--report prints the figures only (for README.md), without checks.

usage: evaluate.py [--report] [--show N] [--min-flagged P] [--min-blocked P]
                   [--max-blocked P] [--max-warned P] [DOPPEL_BIN [POLICY]]
DOPPEL_BIN defaults to $DOPPEL_BIN, then build/bin/doppel; POLICY to
tests/recall/eval-policy.txt.
"""
import argparse
import collections
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
CLASSES = ["tld-swap", "tld-typo", "typo", "homoglyph", "idn", "missing-dot",
           "embedding", "combo"]


def rel(path):
    """path relative to the top of the tree when it is inside it."""
    r = os.path.relpath(os.path.abspath(path), TOP)
    return path if r.startswith("..") else r


def read_names(path):
    """The words and comment of every line that is not blank or a comment."""
    rows = []
    try:
        f = open(path, encoding="utf-8")
    except OSError as e:
        die("cannot read %s: %s" % (path, e.strerror))
    with f:
        for n, line in enumerate(f, 1):
            text, _, comment = line.partition("#")
            words = text.split()
            if words:
                rows.append((n, words, comment.strip()))
    return rows


def die(why):
    """A run that cannot be judged: one FAIL line, exit status 1."""
    print("FAIL recall/evaluate: " + why)
    sys.exit(1)


def scan(doppel, policy, names):
    """One verdict (dict) per name, from one `doppel scan --json` run."""
    try:
        p = subprocess.run([doppel, "scan", "--json", "-p", policy],
                           input="".join(n + "\n" for n in names),
                           capture_output=True, text=True)
    except OSError as e:
        die("cannot run %s: %s" % (doppel, e.strerror))
    if p.returncode not in (0, 1):
        die("%s scan exited %d: %s" % (doppel, p.returncode,
                                       p.stderr.strip()))
    out = p.stdout.splitlines()
    if len(out) != len(names):
        die("%d verdicts for %d names" % (len(out), len(names)))
    try:
        return [json.loads(line) for line in out]
    except ValueError as e:
        die("unreadable verdict: %s" % e)


def pct(n, d):
    return 100.0 * n / d if d else 0.0


def incidents(doppel, policy, path, show):
    rows = read_names(path)
    for n, words, _ in rows:
        if len(words) != 3 or words[2] not in CLASSES:
            die("%s:%d: want NAME TARGET CLASS # source" % (path, n))
    names = [w[0] for _, w, _ in rows]
    verdicts = scan(doppel, policy, names)
    total, found, blocked = (collections.Counter() for _ in range(3))
    misses = []
    for (_, (name, target, cls), src), v in zip(rows, verdicts):
        total[cls] += 1
        right = v["verdict"] in ("block", "warn") and v["target"] == target
        if right:
            found[cls] += 1
            if v["verdict"] == "block":
                blocked[cls] += 1
        else:
            misses.append((cls, name, target, v))
    print("incidents: %d documented lookalikes (%s)" % (len(rows), rel(path)))
    print("  command: %s scan --json -p %s < NAME column of %s"
          % (rel(doppel), rel(policy), rel(path)))
    print("    %-12s %6s %16s %16s" % ("class", "names", "flagged, target",
                                       "blocked, target"))
    for cls in CLASSES + ["all"]:
        if cls == "all":
            t, f, b = (sum(c.values()) for c in (total, found, blocked))
        else:
            t, f, b = total[cls], found[cls], blocked[cls]
        if not t:
            continue
        print("    %-12s %6d %6d %8.1f%% %6d %8.1f%%"
              % (cls, t, f, pct(f, t), b, pct(b, t)))
    print("  misses (%d):" % len(misses))
    for cls, name, target, v in misses:
        got = ("%s %s of %s, score %.2f" % (v["verdict"], v["technique"],
                                            v["target"], v["score"])
               if v["target"] else "%s: %s" % (v["verdict"], v["why"]))
        print("    %-11s %s (for %s): %s" % (cls, name, target, got))
    t, f, b = (sum(c.values()) for c in (total, found, blocked))
    return pct(f, t), pct(b, t), t


def legit(doppel, policy, path, show):
    names = [w[0] for _, w, _ in read_names(path)]
    verdicts = scan(doppel, policy, names)
    flagged = [(n, v) for n, v in zip(names, verdicts)
               if v["verdict"] in ("block", "warn")]
    nb = sum(1 for _, v in flagged if v["verdict"] == "block")
    nw = len(flagged) - nb
    total = len(names)
    label = os.path.basename(path)
    print("%s: %d legitimate names (%s)" % (label, total, rel(path)))
    print("  command: %s scan --json -p %s < %s"
          % (rel(doppel), rel(policy), rel(path)))
    print("    blocked %6d %7.2f%%" % (nb, pct(nb, total)))
    print("    warned  %6d %7.2f%%" % (nw, pct(nw, total)))
    print("    clean   %6d %7.2f%%" % (total - len(flagged),
                                        pct(total - len(flagged), total)))
    by_tech = collections.defaultdict(collections.Counter)
    by_target = collections.defaultdict(collections.Counter)
    for _, v in flagged:
        by_tech[v["technique"]][v["verdict"]] += 1
        by_target[v["target"]][v["verdict"]] += 1
    if flagged:
        print("    %-18s %16s %16s" % ("technique", "blocked", "warned"))
        for tech in sorted(by_tech, key=lambda t: (-sum(by_tech[t].values()),
                                                   t)):
            c = by_tech[tech]
            print("    %-18s %7d %7.2f%% %7d %7.2f%%"
                  % (tech, c["block"], pct(c["block"], total), c["warn"],
                     pct(c["warn"], total)))
        tops = sorted(by_target, key=lambda t: (-sum(by_target[t].values()),
                                                t))[:show]
        print("  targets drawing the most (block+warn): " + ", ".join(
            "%s %d" % (t, sum(by_target[t].values())) for t in tops))
        worst = sorted(flagged, key=lambda nv: (-nv[1]["score"],
                                                nv[1]["verdict"] != "block",
                                                nv[0]))[:show]
        print("  worst %d:" % len(worst))
        for n, v in worst:
            print("    %-36s %-5s %-18s %-16s %.2f" % (
                n, v["verdict"], v["target"], v["technique"], v["score"]))
    return pct(nb, total), pct(nw, total), total


def check(name, ok, text):
    print(("PASS recall/%s: %s" if ok else "FAIL recall/%s: %s")
          % (name, text))
    return ok


def main():
    ap = argparse.ArgumentParser(
        description="doppel's precision and recall on real data")
    ap.add_argument("--report", action="store_true",
                    help="print the figures only, no PASS/FAIL checks")
    ap.add_argument("--show", type=int, default=15,
                    help="worst examples and top targets to list per set")
    ap.add_argument("--min-flagged", type=float, default=0.0)
    ap.add_argument("--min-blocked", type=float, default=0.0)
    ap.add_argument("--max-blocked", type=float, default=100.0)
    ap.add_argument("--max-warned", type=float, default=100.0)
    ap.add_argument("--dir", default=HERE,
                    help="where incidents.txt and legit-*.txt are")
    ap.add_argument("doppel", nargs="?", default=os.environ.get(
        "DOPPEL_BIN", os.path.join(TOP, "build", "bin", "doppel")))
    ap.add_argument("policy", nargs="?",
                    default=os.path.join(HERE, "eval-policy.txt"))
    a = ap.parse_args()

    inc_f, inc_b, inc_n = incidents(a.doppel, a.policy,
                                    os.path.join(a.dir, "incidents.txt"),
                                    a.show)
    print()
    sets = []
    for f in ("legit-domains.txt", "legit-hosts.txt"):
        sets.append((f[:-4],) + legit(a.doppel, a.policy,
                                      os.path.join(a.dir, f), a.show))
        print()
    if a.report:
        return 0
    ok = check("incidents-flagged", inc_f >= a.min_flagged,
               "%.1f%% of %d incidents flagged with the right target "
               "(want >= %.1f%%)" % (inc_f, inc_n, a.min_flagged))
    ok &= check("incidents-blocked", inc_b >= a.min_blocked,
                "%.1f%% of %d incidents blocked with the right target "
                "(want >= %.1f%%)" % (inc_b, inc_n, a.min_blocked))
    for name, b, w, n in sets:
        ok &= check(name + "-blocked", b <= a.max_blocked,
                    "%.2f%% of %d legitimate names blocked (want <= %.2f%%)"
                    % (b, n, a.max_blocked))
        ok &= check(name + "-warned", w <= a.max_warned,
                    "%.2f%% of %d legitimate names warned (want <= %.2f%%)"
                    % (w, n, a.max_warned))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

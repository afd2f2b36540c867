#!/usr/bin/env python3
"""tests/bench/corpus.py - the engine's regression corpus: a fixed list of
names, one a line, that covers every technique, for comparing two builds'
`doppel scan --json --verbose` output byte for byte (a restructuring must
not change a verdict, a score or an explanation).

    python3 tests/bench/corpus.py > corpus.txt
    build/bin/doppel scan --json --verbose -p tests/recall/eval-policy.txt \
        corpus.txt > scan.jsonl

The names: the real ones of tests/recall (incidents, legitimate domains
and hosts); for each protected domain of tests/recall/eval-policy.txt
every one-edit typo of its label (omission, insertion, replacement,
transposition with letters, digits and '-'), the label under 60
suffixes, look-alike characters (ASCII and Cyrillic, as IDN), missing
dots, embeddings and combinations with words; and dictionary words under
common suffixes.  Deterministic: the same list every run.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.join(HERE, "..", "..")
ALPHA = "abcdefghijklmnopqrstuvwxyz0123456789-"
SUFFIXES = ["com", "net", "org", "ml", "mil", "co", "cm", "om", "io", "ai",
            "de", "fr", "ru", "cn", "uk", "co.uk", "com.br", "info", "biz",
            "xyz", "top", "online", "site", "app", "dev", "gov", "edu",
            "us", "ca", "au", "in", "jp", "kr", "tk", "ga", "cf", "gq", "pw",
            "cc", "tv", "me", "ws", "la", "ly", "to", "nu", "se", "nl", "be",
            "ch", "at", "pl", "es", "it", "pt", "gr", "tr", "ua", "vn", "id"]
WORDS = ["login", "secure", "account", "verify", "support", "mail", "pay",
         "billing", "update", "signin", "help", "online", "app", "web",
         "portal", "auth", "id", "service", "shop", "store"]
LOOK = {"o": ["0", "\u043e"], "l": ["1", "I"], "i": ["1", "l", "\u0456"],
        "e": ["3", "\u0435"], "a": ["4", "\u0430"], "s": ["5"],
        "m": ["rn"], "w": ["vv"], "c": ["\u0441"], "p": ["\u0440"]}


def names_of(path, field=0):
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.split("#", 1)[0].split()
            if len(line) > field:
                out.append(line[field])
    return out


def protected():
    out = []
    for w in names_of(os.path.join(REPO, "tests/recall/eval-policy.txt"), 1):
        if "." in w:
            out.append(w)
    return out


def edits(label):
    n = len(label)
    for i in range(n):
        yield label[:i] + label[i + 1:]
        for c in ALPHA:
            yield label[:i] + c + label[i + 1:]
        if i + 1 < n:
            yield label[:i] + label[i + 1] + label[i] + label[i + 2:]
    for i in range(n + 1):
        for c in ALPHA:
            yield label[:i] + c + label[i:]


def idn(name):
    try:
        return name.encode("idna").decode("ascii")
    except UnicodeError:
        return None


def main():
    seen = set()
    out = []

    def add(n):
        n = n.strip(".").lower()
        if n and n not in seen and len(n) < 250:
            seen.add(n)
            out.append(n)

    for f in ("incidents.txt", "legit-domains.txt", "legit-hosts.txt"):
        for n in names_of(os.path.join(REPO, "tests/recall", f)):
            add(n)
    for dom in protected():
        label, _, suffix = dom.partition(".")
        for e in edits(label):
            add(e + "." + suffix)
        for s in SUFFIXES:
            add(label + "." + s)
            add(label + suffix.replace(".", "") + "." + s)
            add(label + "-" + suffix.replace(".", "-") + "." + s)
        for i, ch in enumerate(label):
            for alt in LOOK.get(ch, []):
                v = label[:i] + alt + label[i + 1:]
                a = idn(v + "." + suffix) if ord(alt[0]) > 127 else \
                    v + "." + suffix
                if a:
                    add(a)
        for w in WORDS:
            add(label + "-" + w + ".com")
            add(w + "-" + label + ".com")
            add(label + w + ".com")
            add(w + label + "." + suffix)
            add(dom + "." + w + ".net")
            add(w + "-" + dom.replace(".", "-") + ".net")
    words = "/usr/share/dict/words"
    if os.path.exists(words):
        with open(words, encoding="utf-8", errors="replace") as f:
            ws = [w.strip().lower() for w in f if w.strip().isalpha()
                  and w.strip().isascii()]
        for i, w in enumerate(ws[::7]):
            add(w + "." + SUFFIXES[i % 12])
    sys.stdout.write("".join(n + "\n" for n in out))


if __name__ == "__main__":
    main()

# tests/bench/workload.py — the names make bench's resolver benchmark asks
# for, and the lists the baselines are built from.  Imported by
# resolver_bench.py; deterministic for a given seed.
#
# Protected domains and "clean" names are made of words from Debian's
# wamerican list under 24 real suffixes, like tests/bench/bench_engine.c,
# but from two halves of the list.
# Lookalikes come from one generator per technique (the lookalike kinds
# doppel names), each aimed at one of a few "attacked" protected domains;
# the baselines (d) and (e) list dnstwist's variants of those same attacked
# domains, which is what a user of those tools would load.
import random

SUFFIXES = ["com", "net", "org", "de", "co.uk", "fr", "nl", "io", "ru", "jp",
            "com.au", "ca", "it", "es", "ch", "se", "pl", "be", "gov", "mil",
            "ml", "cn", "info", "biz"]
KEYWORDS = ["login", "secure", "account", "mail", "webmail", "support",
            "verify"]
QWERTY = ["1234567890-", "qwertyuiop", "asdfghjkl", "zxcvbnm"]
ASCII_LOOKS = [("m", "rn"), ("l", "1"), ("o", "0"), ("i", "l"),
               ("w", "vv"), ("d", "cl"), ("g", "q")]
CYRILLIC = {"a": "\u0430", "e": "\u0435", "o": "\u043e", "p": "\u0440",
            "c": "\u0441", "x": "\u0445", "y": "\u0443"}


def load_words(path="/usr/share/dict/words"):
    out = set()
    with open(path, encoding="utf-8", errors="replace") as f:
        for w in f:
            w = w.strip()
            if 3 <= len(w) <= 10 and w.isascii() and w.isalpha() and \
                    w.islower():
                out.add(w)
    return sorted(out)


def load_psl(path="/usr/share/publicsuffix/public_suffix_list.dat"):
    rules = set()
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("//") and \
                    not line.startswith("!"):
                rules.add(line.split()[0].encode("idna").decode()
                          if not line.isascii() else line.split()[0])
    return rules


def is_suffix(rules, name):
    parent = name.split(".", 1)[1] if "." in name else ""
    return name in rules or ("*." + parent) in rules


def neighbours(c):
    for row in QWERTY:
        i = row.find(c)
        if i >= 0:
            return [row[j] for j in (i - 1, i + 1) if 0 <= j < len(row)]
    return []


def split(domain):
    for sfx in sorted(SUFFIXES, key=len, reverse=True):
        if domain.endswith("." + sfx):
            return domain[:-len(sfx) - 1], sfx
    label, sfx = domain.rsplit(".", 1)
    return label, sfx


def idna_label(u):
    return "xn--" + u.encode("punycode").decode()


class Names:
    """Draws protected domains, clean names and lookalikes."""

    def __init__(self, seed, words, psl):
        self.rng = random.Random(seed)
        # Protected names and clean names come from two halves of the
        # word list: with a million protected names made of all the words,
        # nearly every two-word name would contain a protected brand and
        # be flagged (combo-squatting), and "clean" would mean nothing.
        self.words = words[0::2]
        self.clean_words = words[1::2]
        self.psl = psl
        self.used = set()

    def registrable(self):
        while True:
            w = self.rng.choice(self.words)
            if self.rng.random() < 0.5:
                w += self.rng.choice(self.words)
            name = "%s.%s" % (w[:40], self.rng.choice(SUFFIXES))
            if not is_suffix(self.psl, name):
                return name

    def protected(self, n):
        out = []
        while len(out) < n:
            d = self.registrable()
            if d not in self.used:
                self.used.add(d)
                out.append(d)
        return out

    def clean(self, n):
        """n names never drawn before: two words, an optional www."""
        out = []
        while len(out) < n:
            d = "%s%s.%s" % (self.rng.choice(self.clean_words),
                             self.rng.choice(self.clean_words),
                             self.rng.choice(SUFFIXES))
            if self.rng.random() < 0.2:
                d = "www." + d
            if d not in self.used:
                self.used.add(d)
                out.append(d)
        return out

    # One generator per lookalike technique; each returns a name or None.
    def _tld_swap(self, label, sfx):
        other = self.rng.choice([s for s in SUFFIXES if s != sfx])
        return "%s.%s" % (label, other)

    def _dot_shift(self, label, sfx):
        if "." in sfx or len(sfx) < 3:
            return None
        return "%s%s.%s" % (label, sfx[0], sfx[1:])

    def _omission(self, label, sfx):
        if len(label) < 5:
            return None
        i = self.rng.randrange(len(label))
        return "%s%s.%s" % (label[:i], label[i + 1:], sfx)

    def _keyboard(self, label, sfx):
        i = self.rng.randrange(len(label))
        n = neighbours(label[i])
        if not n:
            return None
        return "%s%s%s.%s" % (label[:i], self.rng.choice(n), label[i + 1:],
                              sfx)

    def _transposition(self, label, sfx):
        if len(label) < 3:
            return None
        i = self.rng.randrange(len(label) - 1)
        if label[i] == label[i + 1]:
            return None
        return "%s%s%s%s.%s" % (label[:i], label[i + 1], label[i],
                                label[i + 2:], sfx)

    def _repetition(self, label, sfx):
        i = self.rng.randrange(len(label))
        return "%s%s%s.%s" % (label[:i], label[i], label[i:], sfx)

    def _ascii_homoglyph(self, label, sfx):
        pairs = [(a, b) for a, b in ASCII_LOOKS if a in label]
        if not pairs:
            return None
        a, b = self.rng.choice(pairs)
        return "%s.%s" % (label.replace(a, b, 1), sfx)

    def _unicode_homoglyph(self, label, sfx):
        spots = [i for i, c in enumerate(label) if c in CYRILLIC]
        if not spots:
            return None
        i = self.rng.choice(spots)
        u = label[:i] + CYRILLIC[label[i]] + label[i + 1:]
        return "%s.%s" % (idna_label(u), sfx)

    def _hyphenation(self, label, sfx):
        if len(label) < 4:
            return None
        i = self.rng.randrange(1, len(label) - 1)
        return "%s-%s.%s" % (label[:i], label[i:], sfx)

    def _bitsquat(self, label, sfx):
        i = self.rng.randrange(len(label))
        c = chr(ord(label[i]) ^ (1 << self.rng.randrange(7)))
        if not (c.isascii() and (c.isalnum() or c == "-")) or c.isupper():
            return None
        return "%s%s%s.%s" % (label[:i], c, label[i + 1:], sfx)

    def _combo(self, label, sfx):
        k = self.rng.choice(KEYWORDS)
        if self.rng.random() < 0.5:
            return "%s-%s.%s" % (k, label, sfx)
        return "%s-%s.%s" % (label, k, sfx)

    def _embedding(self, label, sfx):
        return "%s.%s.%s%s.com" % (label, sfx, self.rng.choice(self.words),
                                   self.rng.choice(KEYWORDS))

    def _missing_dot(self, label, sfx):
        return "www%s.%s" % (label, sfx)

    TECHNIQUES = ["tld-swap", "dot-shift", "omission", "keyboard",
                  "transposition", "repetition", "ascii-homoglyph",
                  "unicode-homoglyph", "hyphenation", "bitsquat", "combo",
                  "embedding", "missing-dot"]

    def lookalike(self, targets, technique=None):
        """(name, technique, target): a lookalike never drawn before, by
        the given technique or one drawn at random; None when the
        technique finds nothing new to do with these targets."""
        for _ in range(100000):
            target = self.rng.choice(targets)
            tech = technique or self.rng.choice(self.TECHNIQUES)
            label, sfx = split(target)
            name = getattr(self, "_" + tech.replace("-", "_"))(label, sfx)
            if name and name != target and name not in self.used and \
                    all(0 < len(x) <= 63 for x in name.split(".")):
                self.used.add(name)
                return name, tech, target
        return None


def dnstwist_variants(domains):
    """{variant: target} from dnstwist's fuzzers (Debian's dnstwist, no
    dictionaries: what `dnstwist DOMAIN` lists)."""
    import dnstwist
    out = {}
    for d in domains:
        f = dnstwist.Fuzzer(d)
        f.generate()
        for v in f.domains:
            name = v["domain"]
            if v["fuzzer"] != "*original" and name != d:
                out.setdefault(name, d)
    return out

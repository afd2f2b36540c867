#!/usr/bin/env python3
"""tests/recall/harvest.py - harvest legitimate names for the precision sets.

Reads the host names that the Debian system itself records, none of them a
lookalike by construction:

  - the package indexes: /var/lib/apt/lists/*_Packages* and *_Sources*
    (every field: Homepage, Vcs-*, Maintainer, Uploaders, descriptions;
    compressed ones through /usr/lib/apt/apt-helper cat-file) and
    /var/lib/dpkg/status;
  - /usr/share/doc (copyright files, Debian and upstream changelogs,
    READMEs: plain or gzip), /usr/share/common-licenses, /usr/share/man
    and /usr/share/info (gzip), the metadata of the installed Python
    distributions (/usr/lib/python3/dist-packages/*/METADATA, PKG-INFO).

From their text it takes the hosts of URLs (scheme://host), of e-mail
addresses (user@host) and of bare www.host words; keeps those whose last
label is a top-level domain of the Public Suffix List, that are not IP
addresses, and whose registrable domain (computed with the same list as
the engine, /usr/share/publicsuffix/public_suffix_list.dat, ICANN and
private sections, libpsl's rules) is neither protected by the policy nor a
placeholder (example.*, localhost, yourdomain.com, ...), nor a name of
incidents.txt, nor one of the few misspellings of protected domains found
in the text itself (SOURCE_TYPOS: https://gihtub.com/...).  A host that is
an ICANN public suffix (co.uk) is nobody's and is dropped; one of the
private section (github.io) is kept as label and suffix, as the engine
reads it.  Writes, sorted and deduplicated:

  legit-domains.txt  the registrable domains;
  legit-hosts.txt    every such domain behind one of 24 common host labels
                     (www, mail, login, ...; the label chosen by a SHA-256
                     of the domain, so the file is stable), plus every real
                     host name found with labels in front of its
                     registrable domain (salsa.debian.org, lists.x.org).

usage: python3 tests/recall/harvest.py [--policy P] [--incidents F] [--out DIR]
(defaults: the files beside this script).  The result depends on the
package indexes and the packages installed: rerun it and commit the result
to refresh the sets.
"""
import argparse
import collections
import glob
import gzip
import hashlib
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PSL = "/usr/share/publicsuffix/public_suffix_list.dat"
APT_HELPER = "/usr/lib/apt/apt-helper"

# The 24 most common host labels, put in front of the registrable domains.
HOST_LABELS = ["www", "mail", "login", "office", "api", "sso", "smtp", "imap",
               "webmail", "vpn", "portal", "app", "cdn", "docs", "blog",
               "shop", "support", "help", "dev", "git", "static", "auth",
               "m", "secure"]

# Placeholders of documentation, not somebody's domain.
PLACEHOLDERS = {
    "domain.com", "domain.org", "domain.net", "yourdomain.com",
    "mydomain.com", "somedomain.com", "yoursite.com", "mysite.com",
    "yourcompany.com", "company.com", "foo.com", "foo.org", "foo.net",
    "foo.bar", "bar.com", "foobar.com", "host.com", "server.com",
    "email.com", "somewhere.com", "nowhere.com", "invalid.com",
}
# Top-level domains that never reach a resolver (.onion, .arpa) or that
# collide with systemd unit and groff file names (foo@bar.target, x.7.man).
SKIP_TLDS = {"onion", "arpa", "target", "man"}
# Misspellings in the harvested text itself, not anybody's domain or host:
# the context shows the protected domain that was meant.  They are lookalikes
# (doppel is right to flag them), so they are left out of the legit sets.
SOURCE_TYPOS = {
    "gihtub.com": "libfmt9 changelog: https://gihtub.com/virgiliofornazin",
    "githu.com": "libharfbuzz0b changelog: https://githu.com/behdad/harfbuzz",
    "github.con.com": "jq AUTHORS: doug@github.con.com",
}
# Labels that are placeholders under any suffix (example.com, example.co.uk).
PLACEHOLDER_LABELS = {"example", "localhost", "localdomain"}

URL_RE = re.compile(
    r"\b(?:https?|ftps?|git|svn|bzr|hg|ssh|rsync|sftp|nntp|news|irc|ircs|"
    r"git\+ssh|svn\+ssh|bzr\+ssh|wss?|gopher|telnet|ldaps?)://"
    r"(?:[^\s/@<>\"'()\[\]]*@)?([A-Za-z0-9][A-Za-z0-9.-]*)", re.I)
MAIL_RE = re.compile(
    r"(?<![A-Za-z0-9._%+=/-])[A-Za-z0-9][A-Za-z0-9._%+=-]*@"
    r"([A-Za-z0-9][A-Za-z0-9-]*(?:\.[A-Za-z0-9-]+)+)")
WWW_RE = re.compile(r"(?<![A-Za-z0-9._@/-])(www\.[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)",
                    re.I)
LABEL_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


class Psl:
    """The Public Suffix List as libpsl 0.21 reads it from a text list."""

    def __init__(self, path):
        self.plain, self.wild, self.exc = set(), set(), set()
        self.icann = set()  # rules of the ICANN section
        icann = True
        with open(path, encoding="utf-8") as f:
            for line in f:
                if "===BEGIN PRIVATE DOMAINS===" in line:
                    icann = False
                words = line.split()
                if not words or words[0].startswith("//"):
                    continue
                rule = words[0].lower()
                try:
                    rule = rule.encode("idna").decode("ascii")
                except UnicodeError:
                    pass
                if rule.startswith("!"):
                    self.exc.add(rule[1:])
                elif rule.startswith("*."):
                    self.wild.add(rule[2:])
                    self.plain.add(rule[2:])
                elif not rule.startswith("*"):
                    self.plain.add(rule)
                if icann:
                    self.icann.add(rule.lstrip("!*."))
        self.tlds = {r for r in self.plain if "." not in r}

    def is_public(self, name):
        if name in self.exc:
            return False
        if name in self.plain or "." not in name:
            return True
        parent = name.split(".", 1)[1]
        return parent in self.wild

    def registrable(self, host):
        """The registrable domain of host: its longest public suffix and
        the label before it.  A host that is itself a public suffix of
        several labels (github.io) is read as label and suffix, as the
        engine reads it.  None for a single label."""
        labels = host.split(".")
        for i in range(1, len(labels)):
            if self.is_public(".".join(labels[i:])):
                return ".".join(labels[i - 1:])
        return None


def clean_host(h, psl):
    h = h.lower().strip(".-")
    if not h or len(h) > 253 or "." not in h:
        return None
    labels = h.split(".")
    if not all(LABEL_RE.match(x) for x in labels):
        return None
    if labels[-1] not in psl.tlds or labels[-1] in SKIP_TLDS:
        return None
    if all(x.isdigit() for x in labels):
        return None
    return h


def read_bytes(path):
    try:
        with open(path, "rb") as f:
            data = f.read()
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        return data
    except (OSError, EOFError, gzip.BadGzipFile, ValueError):
        return b""


def apt_text(path):
    if path.endswith((".lz4", ".gz", ".xz", ".bz2", ".zst", ".lzma")):
        try:
            return subprocess.run([APT_HELPER, "cat-file", path],
                                  capture_output=True, check=True).stdout
        except (OSError, subprocess.CalledProcessError):
            return b""
    return read_bytes(path)


def sources():
    """(kind, path, bytes) of every text harvested."""
    lists = sorted(glob.glob("/var/lib/apt/lists/*_Packages*")
                   + glob.glob("/var/lib/apt/lists/*_Sources*"))
    for p in lists:
        if not p.endswith((".diff", ".IndexDiff")):
            yield "apt-lists", p, apt_text(p)
    yield "dpkg-status", "/var/lib/dpkg/status", read_bytes("/var/lib/dpkg/status")
    for kind, top in (("doc", "/usr/share/doc"),
                      ("common-licenses", "/usr/share/common-licenses"),
                      ("man", "/usr/share/man"), ("info", "/usr/share/info")):
        for d, dirs, files in os.walk(top):
            dirs.sort()
            for f in sorted(files):
                p = os.path.join(d, f)
                if os.path.islink(p) or not os.path.isfile(p):
                    continue
                if os.path.getsize(p) > 20 << 20:
                    continue
                yield kind, p, read_bytes(p)
    for p in sorted(glob.glob("/usr/lib/python3/dist-packages/*/METADATA")
                    + glob.glob("/usr/lib/python3/dist-packages/*/PKG-INFO")
                    + glob.glob("/usr/lib/python3/dist-packages/*.egg-info")):
        if os.path.isfile(p):
            yield "python-metadata", p, read_bytes(p)


def hosts_of(data):
    if b"\0" in data[:4096]:
        return
    text = data.decode("latin-1")
    if "\\" in text:  # groff: \- is a hyphen, \& and \: are nothing
        text = (text.replace("\\-", "-").replace("\\&", "")
                .replace("\\:", "").replace("\\.", "."))
    for rx in (URL_RE, MAIL_RE, WWW_RE):
        for m in rx.finditer(text):
            yield m.group(1)


def protected_domains(policy):
    with open(policy) as f:
        for line in f:
            words = line.split("#")[0].split()
            if len(words) >= 2 and words[0] == "protect":
                yield words[1].lower().rstrip(".")


def incident_names(path):
    if not os.path.exists(path):
        return set()
    with open(path) as f:
        return {line.split()[0].lower() for line in f
                if line.split("#")[0].strip()}


def under(name, domains):
    labels = name.split(".")
    return any(".".join(labels[i:]) in domains for i in range(len(labels)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--policy", default=os.path.join(HERE, "eval-policy.txt"))
    ap.add_argument("--incidents", default=os.path.join(HERE, "incidents.txt"))
    ap.add_argument("--out", default=HERE)
    args = ap.parse_args()

    psl = Psl(PSL)
    protected = set(protected_domains(args.policy))
    lookalikes = incident_names(args.incidents)
    hosts = set()
    per_kind = collections.defaultdict(set)
    files = collections.Counter()
    for kind, path, data in sources():
        files[kind] += 1
        for h in hosts_of(data):
            h = clean_host(h, psl)
            if h:
                hosts.add(h)
                per_kind[kind].add(h)

    domains, real_hosts = set(), set()
    dropped = collections.Counter()
    for h in hosts:
        reg = psl.registrable(h)
        # A suffix of the ICANN section (co.uk) is nobody's name; one of the
        # private section (github.io, freedesktop.org) is its operator's.
        if reg is None or (reg == h and h in psl.icann):
            dropped["public suffix"] += 1
            continue
        if under(reg, protected):
            dropped["protected"] += 1
            continue
        if reg.split(".")[0] in PLACEHOLDER_LABELS or reg in PLACEHOLDERS:
            dropped["placeholder"] += 1
            continue
        if h in lookalikes or reg in lookalikes:
            dropped["incident"] += 1
            continue
        if h in SOURCE_TYPOS or reg in SOURCE_TYPOS:
            dropped["typo in source"] += 1
            continue
        domains.add(reg)
        if h != reg:
            real_hosts.add(h)

    gen_hosts = set()
    for d in domains:
        k = int.from_bytes(hashlib.sha256(d.encode()).digest()[:8], "big")
        gen_hosts.add(HOST_LABELS[k % len(HOST_LABELS)] + "." + d)
    all_hosts = gen_hosts | real_hosts

    regen = "python3 tests/recall/harvest.py"
    src = ("#   apt package indexes (/var/lib/apt/lists/*_Packages*, *_Sources*):"
           " %d files\n#   /var/lib/dpkg/status: 1 file\n"
           "#   /usr/share/doc: %d files; /usr/share/common-licenses: %d;\n"
           "#   /usr/share/man: %d; /usr/share/info: %d;"
           " Python distribution metadata: %d\n" % (
               files["apt-lists"], files["doc"], files["common-licenses"],
               files["man"], files["info"], files["python-metadata"]))
    head = (
        "# Harvested by tests/recall/harvest.py from the hosts of URLs,\n"
        "# e-mail addresses and www. words in the Debian %s system's own data:\n"
        "%s"
        "# reduced to registrable domains with the Public Suffix List\n"
        "# (%s); protected\n"
        "# domains of eval-policy.txt and names under them, placeholders\n"
        "# (example.*, localhost, yourdomain.com, ...), IP addresses, unknown\n"
        "# top-level domains, the names of incidents.txt and misspellings of\n"
        "# protected domains in the text left out:\n#   %s\n"
        "# Regenerate (from the top of the tree): %s\n" % (
            open("/etc/debian_version").read().strip(), src, PSL,
            "\n#   ".join(sorted(SOURCE_TYPOS)), regen))
    with open(os.path.join(args.out, "legit-domains.txt"), "w") as f:
        f.write("# tests/recall/legit-domains.txt - %d legitimate registrable"
                " domains.\n" % len(domains))
        f.write(head)
        f.writelines(d + "\n" for d in sorted(domains))
    with open(os.path.join(args.out, "legit-hosts.txt"), "w") as f:
        f.write("# tests/recall/legit-hosts.txt - %d legitimate host names:"
                " every domain of\n# legit-domains.txt behind one of the %d"
                " host labels\n#   %s\n#   %s\n# (chosen by SHA-256 of the"
                " domain), and the %d real host names found.\n" % (
                    len(all_hosts), len(HOST_LABELS),
                    " ".join(HOST_LABELS[:12]), " ".join(HOST_LABELS[12:]),
                    len(real_hosts)))
        f.write(head)
        f.writelines(h + "\n" for h in sorted(all_hosts))
    print("harvest: %d hosts read (%s); dropped %s; %d domains, %d hosts"
          " (%d real)" % (
              len(hosts), ", ".join("%s %d" % (k, len(v))
                                    for k, v in sorted(per_kind.items())),
              dict(dropped), len(domains), len(all_hosts), len(real_hosts)),
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

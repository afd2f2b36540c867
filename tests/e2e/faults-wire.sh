#!/usr/bin/env bash
# tests/e2e/faults-wire.sh — odd queries on the wire, sent through the real
# daemon with raw sockets (python3): 63-octet labels, 255-octet names, 127
# labels, labels holding \000, dots and octets >= 0x80, invalid punycode,
# mixed case, the qtypes ANY, TXT, SRV, HTTPS, CAA and unknown ones, with
# and without EDNS (DO bit, version 1, an unknown option), over UDP and
# TCP, and malformed packets. Every query gets an answer with a sane rcode
# and the resolver stays up; a lookalike is blocked however it is spelt
# (the NXDOMAIN synthesised by doppel: an SOA whose MNAME is
# doppel.invalid); the first blocked answer to an EDNS query carries
# Extended DNS Error 15 (Blocked). With `audit: all`, every reply is in the
# audit log, each line a JSON object, odd octets escaped.
#
# The queries run in one python3 process, which prints one line per check:
# "ok NAME" or "bad NAME: REASON".
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

e2e_scratch faults-wire
fdir=$SCRATCH
audit=$fdir/audit.log
DOPPEL_CONF_EXTRA="audit: all
audit-log: $audit" e2e_start faults-wire-lab

python3 - "$RESOLVER_PORT" >"$fdir/results" 2>"$fdir/python.err" <<'PY'
import random, socket, struct, sys

PORT = int(sys.argv[1])
T = {"A": 1, "NULL": 10, "MX": 15, "TXT": 16, "AAAA": 28, "SRV": 33,
     "HTTPS": 65, "ANY": 255, "CAA": 257, "TYPE65280": 65280}
RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN",
          4: "NOTIMP", 5: "REFUSED", 16: "BADVERS"}
rnd = random.Random(1129)

def out(ok, name, why=""):
    print(("ok %s" % name) if ok else ("bad %s: %s" % (name, why)))
    sys.stdout.flush()

def wire(labels):
    """labels: a list of bytes (no root); the wire name."""
    return b"".join(bytes([len(l)]) + l for l in labels) + b"\0"

def text(name):
    return [l.encode() for l in name.split(".") if l]

def pad_to(total, suffix, fill=b"x"):
    """Labels in front of suffix (a list of bytes) so that the wire name is
    exactly total octets long."""
    left = total - len(wire(suffix))
    front = []
    while left > 0:
        n = min(63, left - 1)
        if n <= 0:
            raise ValueError("cannot pad")
        if left - (n + 1) == 1:  # one octet left over: take a shorter label
            n -= 1
        front.append(fill * n)
        left -= n + 1
    return front + suffix

def opt_rr(bufsize=1232, do=False, version=0, options=b""):
    return (b"\0" + struct.pack("!HHBBHH", 41, bufsize, 0, version,
            0x8000 if do else 0, len(options)) + options)

def query(qname_wire, qtype, edns=True, do=False, version=0, options=b"",
          qclass=1, tcp=False, raw=None, bufsize=1232, want_ede=False):
    """Send one query; return (reply bytes or None, the query)."""
    qid = rnd.randrange(65536)
    if raw is not None:
        q = raw
    else:
        ar = 1 if edns else 0
        q = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, ar)
        q += qname_wire + struct.pack("!HH", qtype, qclass)
        if edns:
            q += opt_rr(bufsize, do, version, options)
    try:
        if tcp:
            s = socket.create_connection(("127.0.0.1", PORT), timeout=5)
            s.sendall(struct.pack("!H", len(q)) + q)
            buf = b""
            while len(buf) < 2 or len(buf) < 2 + struct.unpack("!H", buf[:2])[0]:
                chunk = s.recv(65535)
                if not chunk:
                    break
                buf += chunk
            s.close()
            r = buf[2:] if len(buf) >= 2 else None
        else:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.settimeout(3)
            s.connect(("127.0.0.1", PORT))
            s.send(q)
            r = None
            while True:
                try:
                    r = s.recv(65535)
                except socket.timeout:
                    r = None
                    break
                if len(r) >= 2 and r[:2] == q[:2]:
                    break
            s.close()
        return r, q
    except OSError:
        return None, q

def read_name(m, off):
    labels, jumps, end = [], 0, None
    while True:
        n = m[off]
        if n & 0xC0 == 0xC0:
            if end is None:
                end = off + 2
            off = ((n & 0x3F) << 8) | m[off + 1]
            jumps += 1
            if jumps > 50:
                raise ValueError("pointer loop")
            continue
        off += 1
        if n == 0:
            break
        labels.append(bytes(m[off:off + n]))
        off += n
    return labels, (end if end is not None else off)

def parse(m):
    """A reply as a dict: id, flags, rcode, question, sections."""
    qid, flags, qd, an, ns, ar = struct.unpack("!HHHHHH", m[:12])
    off = 12
    qs = []
    for _ in range(qd):
        labels, off = read_name(m, off)
        qt, qc = struct.unpack("!HH", m[off:off + 4])
        off += 4
        qs.append((labels, qt, qc, m))
    secs = []
    for count in (an, ns, ar):
        rrs = []
        for _ in range(count):
            owner, off = read_name(m, off)
            t, c, ttl, rdlen = struct.unpack("!HHIH", m[off:off + 10])
            off += 10
            rrs.append({"owner": owner, "type": t, "class": c, "ttl": ttl,
                        "rdata": m[off:off + rdlen], "rdoff": off})
            off += rdlen
        secs.append(rrs)
    rcode = flags & 15
    opt = [r for r in secs[2] if r["type"] == 41]
    if opt:
        rcode |= (opt[0]["ttl"] >> 24) << 4
    return {"id": qid, "flags": flags, "rcode": rcode, "qd": qs,
            "an": secs[0], "ns": secs[1], "ar": secs[2], "opt": opt, "m": m}

def ede_codes(p):
    codes = []
    for o in p["opt"]:
        rd, i = o["rdata"], 0
        while i + 4 <= len(rd):
            code, ln = struct.unpack("!HH", rd[i:i + 4])
            if code == 15 and ln >= 2:
                codes.append(struct.unpack("!H", rd[i + 4:i + 6])[0])
            i += 4 + ln
    return codes

def check(name, qname_wire, qtype, want, **kw):
    """want: "blocked", "answered" (NOERROR with records), "sane" (any
    NOERROR or NXDOMAIN), or a set of rcode names."""
    r, q = query(qname_wire, qtype, **kw)
    if r is None:
        return out(False, name, "no reply")
    if len(r) < 12:
        return out(False, name, "a reply of %d octets" % len(r))
    try:
        if r[3] & 15 == 1:
            # FORMERR echoes the question as it came, malformed or not:
            # the header is all there is to read.
            qid, flags = struct.unpack("!HH", r[:4])
            p = {"id": qid, "flags": flags, "rcode": 1, "an": [], "ns": [],
                 "opt": []}
        else:
            p = parse(r)
    except Exception as e:
        return out(False, name, "unparsable reply (%s): %r" % (e, r[:60]))
    rc = RCODES.get(p["rcode"], str(p["rcode"]))
    if p["id"] != struct.unpack("!H", q[:2])[0] or not p["flags"] & 0x8000:
        return out(False, name, "not a reply to the query")
    if kw.get("raw") is None:
        # The question comes back as asked, letter case included.
        qend = 12 + len(qname_wire) + 4
        if p["flags"] & 0x0200 == 0 and r[12:qend] != q[12:qend] and rc != "FORMERR":
            return out(False, name, "question not echoed: %r" % r[12:qend])
    if want == "blocked":
        soa = [x for x in p["ns"] if x["type"] == 6]
        mname = read_name(r, soa[0]["rdoff"])[0] if soa else None
        if rc != "NXDOMAIN" or p["an"]:
            return out(False, name, "rcode %s, %d answers; want a blocked NXDOMAIN" % (rc, len(p["an"])))
        if mname != [b"doppel", b"invalid"]:
            return out(False, name, "NXDOMAIN, but not doppel's (SOA MNAME %r)" % mname)
        if kw.get("want_ede") and 15 not in ede_codes(p):
            return out(False, name, "blocked, without EDE 15 (EDE codes %r)" % ede_codes(p))
        if kw.get("edns") is False and p["opt"]:
            return out(False, name, "an OPT record in the reply to a query without EDNS")
        return out(True, name)
    if want == "answered":
        if rc != "NOERROR" or not p["an"]:
            return out(False, name, "rcode %s, %d answers; want an answer" % (rc, len(p["an"])))
        return out(True, name)
    allowed = {"NOERROR", "NXDOMAIN"} if want == "sane" else want
    if rc not in allowed:
        return out(False, name, "rcode %s, want one of %s" % (rc, sorted(allowed)))
    return out(True, name)

def check_(name, *a, **kw):
    """check(), a failure of the test itself reported as one."""
    try:
        check(name, *a, **kw)
    except Exception as e:
        out(False, name, "the test itself failed: %r" % e)

ARMY_ML = [b"army", b"ml"]
ARMY_MIL = [b"army", b"mil"]

# Mixed case first, before any lower-case query of the same names: these go
# through the module, not the cache (whose lookups ignore case).
check_("case-ArMy.Ml-MX", wire(text("ArMy.Ml")), T["MX"], "blocked")
check_("case-NAVY.ML-A", wire(text("NAVY.ML")), T["A"], "blocked")
check_("case-wWw.NaVy.mL-A", wire(text("wWw.NaVy.mL")), T["A"], "blocked")
check_("case-XN--RMY-5CD.ML-A", wire(text("XN--RMY-5CD.ML")), T["A"], "blocked")
check_("case-aRmY.mIl-A", wire(text("aRmY.mIl")), T["A"], "answered")
check_("case-army.ml-MX-lower", wire(text("army.ml")), T["MX"], "blocked")
check_("case-ARMY.ML-MX-cached", wire(text("ARMY.ML")), T["MX"], "blocked")

# Label and name lengths.
check_("label63-blocked", wire([b"a" * 63] + ARMY_ML), T["A"], "blocked")
check_("label63-clean", wire([b"a" * 63] + ARMY_MIL), T["A"], "sane")
check_("label63-registered", wire([b"b" * 63, b"ml"]), T["A"], "sane")
n255 = pad_to(255, ARMY_ML)
assert len(wire(n255)) == 255
check_("name255-blocked", wire(n255), T["A"], "blocked")
check_("name255-blocked-mixed-case",
       wire([l.upper() for l in pad_to(255, [b"ArMy", b"mL"], b"y")]),
       T["MX"], "blocked")
n255c = pad_to(255, ARMY_MIL)
check_("name255-clean", wire(n255c), T["A"], "sane")
check_("name255-blocked-tcp", wire(pad_to(255, ARMY_ML, b"t")), T["A"],
       "blocked", tcp=True)
# 256 octets: not a domain name; the query is malformed.
n256 = [b"q" * 63, b"q" * 63, b"q" * 63, b"q" * 54] + ARMY_ML
assert len(wire(n256)) == 256
check_("name256-formerr", wire(n256), T["A"], {"FORMERR"})

# 127 labels: the most a 255-octet name can have.
l127 = [b"a"] * 127
assert len(wire(l127)) == 255
check_("labels127", wire(l127), T["A"], "sane")
l125 = [b"x"] * 123 + ARMY_ML
assert len(wire(l125)) == 255
check_("labels125-blocked", wire(l125), T["A"], "blocked")
check_("labels127-blocked-upper", wire([b"X"] * 123 + [b"ARMY", b"ML"]),
       T["TXT"], "blocked")

# Odd octets in labels.
check_("nul-subdomain-blocked", wire([b"\x00ab"] + ARMY_ML), T["A"], "blocked")
check_("nul-only-label-blocked", wire([b"\x00"] + ARMY_ML), T["A"], "blocked")
check_("high-octets-subdomain-blocked", wire([b"\x80\xff\xc3\xa4"] + ARMY_ML),
       T["A"], "blocked")
check_("nul-in-label", wire([b"arm\x00y", b"ml"]), T["A"], "sane")
check_("nul-label-alone", wire([b"\x00"]), T["A"], "sane")
check_("high-octets-label", wire([b"army\x80", b"ml"]), T["A"], "sane")
check_("utf8-lookalike-blocked", wire([b"\xc3\xa4rmy", b"ml"]), T["A"], "blocked")
check_("all-octets", wire([bytes(range(i, i + 63)) for i in (0, 63, 126, 189)][:3]
       + [bytes(range(252, 256))]), T["A"], "sane")
check_("dot-in-label", wire([b"army.ml"]), T["A"], "sane")
check_("dot-in-label-under-army.ml", wire([b"a.b"] + ARMY_ML), T["A"], "blocked")
check_("backslash-in-label", wire([b"arm\\y", b"ml"]), T["A"], "sane")
check_("space-quote-in-label", wire([b'a "b";', b"ml"]), T["A"], "sane")

# Punycode that is not valid IDNA.
for lab in (b"xn--zz-zzzzzzzz", b"xn--", b"xn--army", b"xn--zz-", b"xn--a-ecp",
            b"xn--" + b"9" * 59, b"XN--ZZ-ZZ"):
    check_("punycode-" + lab.decode()[:20], wire([lab, b"ml"]), T["A"], "sane")
check_("punycode-invalid-under-army.ml", wire([b"xn--zz-"] + ARMY_ML), T["A"],
       "blocked")

# Query types, for a lookalike and for the real name.
for t in ("ANY", "TXT", "SRV", "HTTPS", "CAA", "NULL", "TYPE65280"):
    check_("qtype-%s-blocked" % t, wire(text("army.ml")), T[t], "blocked")
    check_("qtype-%s-real" % t, wire(text("army.mil")), T[t], "sane")
check_("qtype-SRV-service-blocked", wire(text("_sip._tcp.navy.ml")), T["SRV"],
       "blocked")
check_("qtype-HTTPS-www-blocked", wire(text("www.army.ml")), T["HTTPS"], "blocked")
check_("qclass-CH", wire(text("army.ml")), T["TXT"],
       {"NOERROR", "NXDOMAIN", "REFUSED", "NOTIMP", "SERVFAIL"}, qclass=3)
check_("qclass-ANY", wire(text("army.ml")), T["A"],
       {"NOERROR", "NXDOMAIN", "REFUSED", "NOTIMP", "SERVFAIL", "FORMERR"},
       qclass=255)

# EDNS: none, DO, version 1, an unknown option, a small buffer. A name
# asked for the first time, with EDNS, carries EDE 15.
check_("edns-first-blocked-ede", wire(text("edns1.army.ml")), T["A"], "blocked",
       want_ede=True)
check_("edns-do-blocked-ede", wire(text("edns2.navy.ml")), T["A"], "blocked",
       do=True, want_ede=True)
check_("no-edns-blocked", wire(text("edns3.army.ml")), T["A"], "blocked",
       edns=False)
check_("no-edns-cached-blocked", wire(text("edns1.army.ml")), T["A"], "blocked",
       edns=False)
check_("no-edns-real", wire(text("army.mil")), T["A"], "answered", edns=False)
check_("edns-do-real", wire(text("army.mil")), T["MX"], "answered", do=True)
check_("edns-version1", wire(text("army.ml")), T["A"], {"BADVERS"}, version=1)
check_("edns-unknown-option-blocked", wire(text("edns4.army.ml")), T["A"],
       "blocked", options=struct.pack("!HH", 65001, 4) + b"abcd")
check_("edns-bufsize-512-any-blocked", wire(pad_to(255, ARMY_ML, b"b")), T["ANY"],
       "blocked", bufsize=512)
check_("edns-bufsize-0-real", wire(text("army.mil")), T["ANY"], "sane", bufsize=0)
check_("tcp-mixed-case-blocked", wire(text("Navy.Ml")), T["MX"], "blocked", tcp=True)
check_("tcp-no-edns-blocked", wire(text("tcp.ARMY.ml")), T["HTTPS"], "blocked",
       tcp=True, edns=False)

# Malformed packets: an error, never silence or a crash.
hdr = lambda qd, an=0, ns=0, ar=0, flags=0x0100: struct.pack(
    "!HHHHHH", 4242, flags, qd, an, ns, ar)
qa = wire(text("army.ml")) + struct.pack("!HH", 1, 1)
check_("malformed-no-question", None, 0, {"FORMERR"}, raw=hdr(0))
check_("malformed-two-questions", None, 0, {"FORMERR"}, raw=hdr(2) + qa + qa)
check_("malformed-truncated-question", None, 0, {"FORMERR"},
       raw=hdr(1) + qa[:-3])
check_("malformed-pointer-in-qname", None, 0, {"FORMERR", "NXDOMAIN"},
       raw=hdr(1) + b"\x04army\xc0\x0c" + struct.pack("!HH", 1, 1))
check_("malformed-label-64", None, 0, {"FORMERR"},
       raw=hdr(1) + b"\x40" + b"a" * 64 + b"\x00" + struct.pack("!HH", 1, 1))
check_("malformed-trailing-garbage", None, 0, {"FORMERR", "NOERROR", "NXDOMAIN"},
       raw=hdr(1) + qa + b"\xde\xad\xbe\xef")
check_("opcode-update", None, 0, {"NOTIMP", "REFUSED", "FORMERR"},
       raw=hdr(1, flags=0x2800) + qa)

# A burst of random names under the lookalike, random case: all blocked.
bad = 0
for i in range(200):
    labs = [bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 64)))
            for _ in range(rnd.randrange(1, 3))]
    labs += [bytes(c ^ (0x20 if rnd.random() < 0.5 else 0) for c in b"army"),
             b"ML"]
    r, q = query(wire(labs), T["A"])
    p = parse(r) if r is not None else None
    soa = [x for x in p["ns"] if x["type"] == 6] if p else []
    if not p or p["rcode"] != 3 or not soa or \
            read_name(r, soa[0]["rdoff"])[0] != [b"doppel", b"invalid"]:
        bad += 1
out(bad == 0, "random-labels-under-army.ml-blocked",
    "%d of 200 were not blocked (doppel's NXDOMAIN)" % bad)
PY
rc=$?
if [ $rc -ne 0 ]; then
	fail faults-wire-python "the query script exited with $rc: $(tail -n 3 "$fdir/python.err" | tr '\n' ' ')"
fi
while read -r st name rest; do
	name=${name%:}
	case $st in
	ok) pass "faults-wire-$name" ;;
	bad) fail "faults-wire-$name" "$rest" ;;
	*) fail faults-wire-output "unexpected line: $st $name $rest" ;;
	esac
done <"$fdir/results"
[ -s "$fdir/results" ] || fail faults-wire-output "the query script printed nothing"

# The log: mixed-case lookalikes are logged under their canonical name.
if grep -q 'doppel: block army\.ml MX: tld-swap of army\.mil' "$RESOLVER_LOG" &&
	grep -q 'doppel: block navy\.ml A: tld-swap of navy\.mil' "$RESOLVER_LOG"; then
	pass faults-wire-mixed-case-logged
else
	fail faults-wire-mixed-case-logged "no block line for army.ml MX and navy.ml A (asked as ArMy.Ml, NAVY.ML)"
fi
if grep -q 'doppel: block \\000ab\.army\.ml A:' "$RESOLVER_LOG"; then
	pass faults-wire-odd-octets-logged
else
	fail faults-wire-odd-octets-logged "no block line for \\000ab.army.ml A"
fi

# The resolver still works as before.
expect_blocked faults-wire-after-blocks army.ml MX
expect_answer faults-wire-after-resolves army.mil A ' A 192\.0\.2\.10$'

# The audit log: every line a JSON object; the odd names are there.  The
# writer writes at least every second: wait (bounded) for the odd names and
# for the burst of random names, asked last (150 records and more).
for _ in $(seq 1 50); do
	grep -q '"qname":"xn--zz-\.army\.ml"' "$audit" 2>/dev/null &&
		grep -q 'edns4' "$audit" &&
		[ "$(wc -l <"$audit")" -ge 150 ] && break
	sleep 0.1
done
sleep 1.2	# the writer's next pass
if out=$(python3 - "$audit" <<'PY' 2>&1
import json, sys
recs = []
for i, l in enumerate(open(sys.argv[1], "rb"), 1):
    try:
        recs.append(json.loads(l))
    except ValueError as e:
        sys.exit("line %d is not JSON (%s): %r" % (i, e, l[:200]))
names = {r["qname"] for r in recs}
for want in ("\\000ab.army.ml", "\\128\\255\\195\\164.army.ml", "army.ml",
             "navy.ml", "xn--rmy-5cd.ml", "a\\046b.army.ml"):
    assert want in names, "no record for %r" % want
blocked = [r for r in recs if r["qname"] == "\\000ab.army.ml"]
assert blocked[0]["verdict"] == "block" and blocked[0]["rcode"] == "NXDOMAIN", blocked
assert len(recs) >= 150, "only %d records" % len(recs)
PY
); then
	pass faults-wire-audit-json
else
	fail faults-wire-audit-json "$out"
fi

e2e_finish faults-wire-resolver-survived

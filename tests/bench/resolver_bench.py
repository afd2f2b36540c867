#!/usr/bin/python3
# tests/bench/resolver_bench.py — make bench's resolver benchmark: what
# doppel costs on the query path, side by side with plain Unbound and with
# the two things a user would run instead.
#
#   resolver_bench.py --out DIR [--rounds 5] [--quick]
#
# One private Unbound binary (build/unbound, built with the dynlib and the
# Python module), one lab authoritative server (an Unbound with a root zone
# holding a wildcard under every suffix, so any name resolves), dnsperf as
# the client.  Configurations:
#   a  module-config "validator iterator"                      (the ceiling)
#   b  "dynlib validator iterator": doppel, 10,000 protected, audit flagged
#   c  the same with audit all
#   d  "python validator iterator": tests/bench/pyguard.py, a dict of the
#      dnstwist variants
#   e  "respip validator iterator": an RPZ zone of the same variants
#   f  b with 1,000,000 protected domains
# Each round starts every configuration afresh, in the order a b c d e f,
# and runs the three workloads (cache hits, cache misses, a mix with 1%
# lookalikes) at saturation and at a fixed rate.  The resolver is pinned to
# CPU 0; dnsperf and the authoritative server to CPU 1.  Then each
# configuration runs once under callgrind for instructions per query.
#
# Prints the tables and writes DIR/results.json and DIR/results.md.
import argparse
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import workload  # noqa: E402

BUILD = os.path.join(REPO, os.environ.get("BUILD", "build"))
UNBOUND = os.path.join(BUILD, "unbound", "sbin", "unbound")
DOPPEL = os.path.join(BUILD, "bin", "doppel")
DOPPEL_SO = os.path.join(BUILD, "lib", "doppel.so")
RESOLVER_CPU = 0
CLIENT_CPU = 1

CONFIGS = {
    "a": "plain Unbound (validator iterator)",
    "b": "doppel, 10k protected, audit flagged",
    "c": "doppel, 10k protected, audit all",
    "d": "Python module, dict of dnstwist variants",
    "e": "RPZ of the dnstwist variants",
    "f": "doppel, 1M protected, audit flagged",
    "g": "doppel, 10k protected, audit flagged, as dnstap",
    "h": "doppel, 10k protected, audit all, as dnstap",
}

procs = []


def log(msg):
    print(msg, flush=True)


def die(msg):
    print("resolver_bench: " + msg, file=sys.stderr)
    stop_all()
    sys.exit(1)


def stop(p):
    if p.poll() is None:
        p.terminate()
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    if p in procs:
        procs.remove(p)


def stop_all():
    for p in list(procs):
        stop(p)


def free_ports(n):
    held, ports = [], []
    while len(ports) < n:
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        t.bind(("127.0.0.1", 0))
        p = t.getsockname()[1]
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            u.bind(("127.0.0.1", p))
        except OSError:
            t.close()
            u.close()
            continue
        held += [t, u]
        ports.append(p)
    for s in held:
        s.close()
    return ports


def dns_query(port, name, qtype=1, timeout=1.0):
    """rcode of one UDP query, or -1."""
    q = struct.pack(">HHHHHH", 0x4242, 0x0100, 1, 0, 0, 0)
    for label in name.rstrip(".").split("."):
        q += bytes([len(label)]) + label.encode()
    q += b"\0" + struct.pack(">HH", qtype, 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    try:
        s.sendto(q, ("127.0.0.1", port))
        return s.recv(4096)[3] & 0xF
    except OSError:
        return -1
    finally:
        s.close()


def start(cmd, cpu, env=None, out=None, ready=None, tries=600):
    """Start a server pinned to cpu; wait until ready() is true."""
    f = open(out, "w") if out else subprocess.DEVNULL
    p = subprocess.Popen(["taskset", "-c", str(cpu)] + cmd, env=env,
                         stdin=subprocess.DEVNULL, stdout=f,
                         stderr=subprocess.STDOUT)
    procs.append(p)
    for _ in range(tries):
        if p.poll() is not None:
            tail = open(out).read()[-2000:] if out else ""
            die("%s exited while starting:\n%s" % (cmd[0], tail))
        if ready():
            return p
        time.sleep(0.1)
    die("%s did not answer in %d s" % (" ".join(cmd), tries // 10))


def cpu_ns(pid):
    total = 0
    for t in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/schedstat" % (pid, t)) as f:
                total += int(f.read().split()[0])
        except OSError:
            pass
    return total


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


# ---------------------------------------------------------------- the data

def write_lines(path, lines):
    with open(path, "w") as f:
        for x in lines:
            f.write(x + "\n")


def qfile(path, names):
    write_lines(path, ["%s A" % n for n in names])
    return path


def make_data(d, args):
    """Policies, query files, the RPZ zone, the variant list, the auth
    zone.  Returns a dict of facts about them."""
    t0 = time.time()
    words = workload.load_words()
    psl = workload.load_psl()
    nm = workload.Names(20261129, words, psl)
    big = nm.protected(args.protected_big)
    small = big[:args.protected]
    attacked = small[:args.attacked]
    facts = {"protected": len(small), "protected_big": len(big),
             "attacked": len(attacked)}
    for tag, names in (("1k", big[:1000]), ("10k", small),
                       ("100k", big[:100000]), ("1m", big)):
        write_lines(os.path.join(d, "protected-%s.txt" % tag), names)
        with open(os.path.join(d, "policy-%s.txt" % tag), "w") as f:
            f.write("# make bench: %d protected domains\n" % len(names))
            f.write("protect-file protected-%s.txt\n" % tag)
    lookalikes = {}

    def mix(n):
        k = max(1, n // 100)
        la = [nm.lookalike(attacked) for _ in range(k)]
        la = [x for x in la if x]
        for name, tech, target in la:
            lookalikes[name] = (tech, target)
        names = nm.clean(n - k) + [x[0] for x in la]
        nm.rng.shuffle(names)
        return names

    files = {
        "hits": qfile(os.path.join(d, "hits.txt"), nm.clean(args.hit_names)),
        "miss_sat": qfile(os.path.join(d, "miss-sat.txt"),
                          nm.clean(args.miss_sat)),
        "miss_rate": qfile(os.path.join(d, "miss-rate.txt"),
                           nm.clean(args.miss_rate * args.rate_seconds)),
        "mix_sat": qfile(os.path.join(d, "mix-sat.txt"), mix(args.miss_sat)),
        "mix_rate": qfile(os.path.join(d, "mix-rate.txt"),
                          mix(args.miss_rate * args.rate_seconds)),
        "cg_miss": qfile(os.path.join(d, "cg-miss.txt"),
                         nm.clean(args.cg_miss)),
        "cg_mix": qfile(os.path.join(d, "cg-mix.txt"), mix(args.cg_miss)),
    }
    # The lookalike probe: args.probe names per technique, asked once per
    # round at a fixed rate, for the table of what each configuration
    # blocks.
    probe = []
    for tech in workload.Names.TECHNIQUES:
        for _ in range(args.probe):
            got = nm.lookalike(attacked, tech)
            if not got:
                break
            lookalikes[got[0]] = got[1:]
            probe.append(got[0])
    files["probe"] = qfile(os.path.join(d, "probe.txt"), probe)
    facts["files"] = files
    with open(os.path.join(d, "lookalikes.json"), "w") as f:
        json.dump(lookalikes, f)
    facts["lookalikes"] = lookalikes

    variants = workload.dnstwist_variants(attacked)
    for p in small:            # never block a protected name itself
        variants.pop(p, None)
    with open(os.path.join(d, "variants.txt"), "w") as f:
        for v, t in variants.items():
            f.write("%s %s\n" % (v, t))
    with open(os.path.join(d, "rpz.zone"), "w") as f:
        f.write("$TTL 300\n")
        f.write("rpz.bench. SOA localhost. root.localhost. 1 3600 600 "
                "86400 300\nrpz.bench. NS localhost.\n")
        for v in variants:
            f.write("%s.rpz.bench. CNAME .\n" % v)
    facts["variants"] = len(variants)

    with open(os.path.join(d, "root.zone"), "w") as f:
        f.write("$TTL 3600\n. SOA ns.bench. hostmaster.bench. 1 3600 900 "
                "604800 300\n. NS ns.bench.\nns.bench. A 127.0.0.1\n")
        tlds = list(workload.SUFFIXES)
        # the TLDs of dot shifts (googlec.om): they exist too
        tlds += [x[1:] for x in workload.SUFFIXES
                 if "." not in x and len(x) >= 3 and x[1:] not in tlds]
        for i, x in enumerate(tlds):
            f.write("*.%s. 300 A 192.0.2.%d\n" % (x, i + 1))
    facts["data_s"] = round(time.time() - t0, 1)
    return facts


def compile_policy(d, tag):
    src = os.path.join(d, "policy-%s.txt" % tag)
    db = os.path.join(d, "policy-%s.db" % tag)
    t0 = time.time()
    r = subprocess.run([DOPPEL, "compile", src, "-o", db],
                       capture_output=True, text=True)
    if r.returncode:
        die("doppel compile %s: %s" % (src, r.stderr.strip()))
    return {"compile_s": round(time.time() - t0, 2),
            "db_bytes": os.path.getsize(db), "db": db}


# -------------------------------------------------------------- the servers

AUTH_CONF = """server:
	verbosity: 0
	num-threads: 1
	interface: 127.0.0.1@{port}
	so-reuseport: no
	do-ip6: no
	do-daemonize: no
	chroot: ""
	username: ""
	directory: "{dir}"
	pidfile: ""
	logfile: "{dir}/auth.log"
	use-syslog: no
	access-control: 127.0.0.0/8 allow
	module-config: "iterator"
	do-not-query-localhost: yes
	ratelimit: 0
	ip-ratelimit: 0
remote-control:
	control-enable: no
auth-zone:
	name: "."
	zonefile: "{dir}/root.zone"
	for-downstream: yes
	for-upstream: no
	fallback-enabled: no
"""

RESOLVER_CONF = """server:
	verbosity: 1
	num-threads: 1
	interface: 127.0.0.1@{port}
	so-reuseport: no
	do-ip6: no
	do-daemonize: no
	chroot: ""
	username: ""
	directory: "{rundir}"
	pidfile: ""
	logfile: "{rundir}/resolver.log"
	use-syslog: no
	access-control: 127.0.0.0/8 allow
	do-not-query-localhost: no
	msg-cache-size: 64m
	rrset-cache-size: 128m
	module-config: "{modules}"
{extra}
forward-zone:
	name: "."
	forward-addr: 127.0.0.1@{auth}
remote-control:
	control-enable: no
"""


def start_collector(sock, rundir):
    """Debian's fstrm_capture on sock, its frames to /dev/null, on the
    client's CPU: the collector is another machine's cost."""
    out = open(os.path.join(rundir, "collector.log"), "w")
    p = subprocess.Popen(["taskset", "-c", str(CLIENT_CPU), "fstrm_capture",
                          "-t", "protobuf:dnstap.Dnstap", "-u", sock,
                          "-w", "/dev/null"], stdout=out, stderr=out)
    procs.append(p)
    for _ in range(50):
        if os.path.exists(sock):
            return p
        time.sleep(0.1)
    die("fstrm_capture did not start on " + sock)


def resolver_conf(cfg, d, rundir, port, auth):
    extra = ""
    modules = "validator iterator"
    env = dict(os.environ)
    if cfg in "bcfgh":
        modules = "dynlib validator iterator"
        extra = "dynlib:\n\tdynlib-file: \"%s\"\n" % DOPPEL_SO
        with open(os.path.join(rundir, "doppel.conf"), "w") as f:
            f.write("policy: %s\n" % os.path.join(
                d, "policy-%s.db" % ("1m" if cfg == "f" else "10k")))
            f.write("on-error: open\nblock-ttl: 300\nlog-verdicts: yes\n")
            f.write("policy-check-interval: 5\ngeoip: off\n")
            f.write("verdict-cache: %s/verdicts.mdb\n" % rundir)
            f.write("audit: %s\n" % ("all" if cfg in "ch" else "flagged"))
            if cfg in "gh":
                # the records to a collector instead of the file
                sock = os.path.join(rundir, "tap.sock")
                f.write("audit-dnstap: unix:%s\n" % sock)
                start_collector(sock, rundir)
            else:
                f.write("audit-log: %s/audit.jsonl\n" % rundir)
        env["DOPPEL_CONF"] = os.path.join(rundir, "doppel.conf")
    elif cfg == "d":
        modules = "python validator iterator"
        extra = "python:\n\tpython-script: \"%s\"\n" % os.path.join(
            HERE, "pyguard.py")
        env["PYGUARD_VARIANTS"] = os.path.join(d, "variants.txt")
    elif cfg == "e":
        modules = "respip validator iterator"
        extra = ("rpz:\n\tname: \"rpz.bench.\"\n\tzonefile: \"%s\"\n"
                 "\trpz-log: yes\n" % os.path.join(d, "rpz.zone"))
    conf = os.path.join(rundir, "resolver.conf")
    with open(conf, "w") as f:
        f.write(RESOLVER_CONF.format(port=port, rundir=rundir, auth=auth,
                                     modules=modules, extra=extra))
    return conf, env


def start_resolver(cfg, d, auth, wrapper=(), tag="run", tries=600):
    rundir = os.path.join(d, "r-%s-%s" % (cfg, tag))
    shutil.rmtree(rundir, ignore_errors=True)
    os.makedirs(rundir)
    port = free_ports(1)[0]
    conf, env = resolver_conf(cfg, d, rundir, port, auth)
    p = start(list(wrapper) + [UNBOUND, "-d", "-c", conf], RESOLVER_CPU,
              env=env, out=os.path.join(rundir, "stderr"),
              ready=lambda: dns_query(port, "localhost") == 0, tries=tries)
    return p, port, rundir


# -------------------------------------------------------------- the client

def dnsperf(port, path, rate=0, seconds=0, once=True, verbose=False,
            outstanding=100, timeout=5):
    cmd = ["taskset", "-c", str(CLIENT_CPU), "dnsperf", "-s", "127.0.0.1",
           "-p", str(port), "-d", path, "-q", str(outstanding),
           "-t", str(timeout)]
    if once:
        cmd += ["-n", "1"]
    if seconds:
        cmd += ["-l", str(seconds)]
    if rate:
        cmd += ["-Q", str(rate)]
    if verbose:
        cmd += ["-v"]
    r = subprocess.run(cmd, capture_output=True, text=True)
    out = r.stdout
    res = {"completed": 0, "lost": 0, "qps": 0.0, "lat": [], "rcodes": {}}
    m = re.search(r"Queries completed:\s+(\d+)", out)
    if not m:
        die("dnsperf printed no summary:\n" + out[-2000:] + r.stderr[-2000:])
    res["completed"] = int(m.group(1))
    m = re.search(r"Queries lost:\s+(\d+)", out)
    res["lost"] = int(m.group(1)) if m else 0
    m = re.search(r"Queries per second:\s+([\d.]+)", out)
    res["qps"] = float(m.group(1)) if m else 0.0
    if verbose:
        # "> NOERROR name A 0.000123" for every answered query
        for line in out.splitlines():
            if line.startswith("> "):
                f = line.split()
                if len(f) >= 5:
                    res["lat"].append(float(f[-1]))
                    res["rcodes"][f[2].lower().rstrip(".")] = f[1]
    return res


def pct(xs, p):
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p / 100.0 * len(xs)))]


def measure(pid, port, path, **kw):
    c0 = cpu_ns(pid)
    r = dnsperf(port, path, **kw)
    r["cpu_ns_per_q"] = (cpu_ns(pid) - c0) / max(1, r["completed"])
    if r["lat"]:
        r["p50_us"] = pct(r["lat"], 50) * 1e6
        r["p99_us"] = pct(r["lat"], 99) * 1e6
    del r["lat"]
    return r


def one_round(cfg, d, auth, facts, args, rnd):
    p, port, rundir = start_resolver(cfg, d, auth, tag="r%d" % rnd)
    f = facts["files"]
    res = {}
    dnsperf(port, f["hits"], outstanding=10)               # fill the cache
    res["hit_sat"] = measure(p.pid, port, f["hits"], once=False,
                             seconds=args.sat_seconds)
    res["hit_rate"] = measure(p.pid, port, f["hits"], once=False,
                              seconds=args.rate_seconds,
                              rate=args.hit_rate, verbose=True)
    res["miss_sat"] = measure(p.pid, port, f["miss_sat"])
    res["miss_rate"] = measure(p.pid, port, f["miss_rate"],
                               rate=args.miss_rate, verbose=True)
    res["mix_sat"] = measure(p.pid, port, f["mix_sat"])
    res["mix_rate"] = measure(p.pid, port, f["mix_rate"],
                              rate=args.miss_rate, verbose=True)
    res["probe"] = measure(p.pid, port, f["probe"], rate=args.miss_rate,
                           verbose=True)
    res["rss_kb"] = rss_kb(p.pid)
    stop(p)
    # doppel's own account of what it flagged (block or warn), from the
    # audit log; a warned name is answered, so rcodes alone miss it.
    res["flagged"] = {}
    audit = os.path.join(rundir, "audit.jsonl")
    if os.path.exists(audit):
        with open(audit) as fh:
            for line in fh:
                try:
                    rec = json.loads(line)
                except ValueError:
                    continue
                res["flagged"][rec["qname"].rstrip(".")] = rec["verdict"]
    shutil.rmtree(rundir, ignore_errors=True)
    return res


# ---------------------------------------------------------------- callgrind

def callgrind_total(pid, outfile):
    r = subprocess.run(["callgrind_control", "-d", "bench", str(pid)],
                       capture_output=True, text=True)
    if r.returncode:
        die("callgrind_control -d: " + r.stdout + r.stderr)
    # The dump is the newest outfile.N file.
    base = os.path.basename(outfile)
    dumps = [x for x in os.listdir(os.path.dirname(outfile))
             if x.startswith(base + ".")]
    newest = max(dumps, key=lambda x: int(x.rsplit(".", 1)[1]))
    with open(os.path.join(os.path.dirname(outfile), newest)) as f:
        for line in f:
            if line.startswith("summary:") or line.startswith("totals:"):
                return int(line.split()[1])
    die("no summary in callgrind dump " + newest)


def callgrind_zero(pid):
    r = subprocess.run(["callgrind_control", "-z", str(pid)],
                       capture_output=True, text=True)
    if r.returncode:
        die("callgrind_control -z: " + r.stdout + r.stderr)


def callgrind_run(cfg, d, auth, facts, args):
    cgdir = os.path.join(d, "cg-%s" % cfg)
    shutil.rmtree(cgdir, ignore_errors=True)
    os.makedirs(cgdir)
    out = os.path.join(cgdir, "callgrind.out")
    wrapper = ["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out]
    p, port, rundir = start_resolver(cfg, d, auth, wrapper=wrapper,
                                     tag="cg", tries=3000)
    f = facts["files"]
    res = {}
    slow = {"outstanding": 10, "timeout": 30}
    dnsperf(port, f["hits"], **slow)
    dnsperf(port, f["hits"], **slow)
    # Misses first: the hit run then repeats names already cached.
    for key, path, times in (("miss", f["cg_miss"], 1),
                             ("mix", f["cg_mix"], 1),
                             ("hit", f["hits"], args.cg_hit_loops)):
        callgrind_zero(p.pid)
        n = 0
        for _ in range(times):
            r = dnsperf(port, path, **slow)
            n += r["completed"]
        total = callgrind_total(p.pid, out)
        res[key] = {"queries": n, "instr": total,
                    "instr_per_q": total / max(1, n)}
    stop(p)
    return res


# -------------------------------------------------------------- reporting

def med(xs):
    xs = [x for x in xs if x == x]
    return statistics.median(xs) if xs else float("nan")


def fmt_range(xs, fmtstr="%.0f"):
    xs = [x for x in xs if x == x]
    if not xs:
        return "-"
    return (fmtstr + " (" + fmtstr + "–" + fmtstr + ")") % (
        statistics.median(xs), min(xs), max(xs))


def catch_table(rounds, facts):
    """Lookalikes answered NXDOMAIN, of those plain Unbound answers
    NOERROR; clean names answered NXDOMAIN likewise."""
    la = facts["lookalikes"]
    plain = {}
    for r in rounds.get("a", []):
        plain.update(r["mix_rate"]["rcodes"])
        plain.update(r["probe"]["rcodes"])
    out = {}
    for cfg, rs in rounds.items():
        got = {}
        for r in rs:
            got.update(r["mix_rate"]["rcodes"])
            got.update(r["probe"]["rcodes"])
        live = [n for n, rc in plain.items() if rc == "NOERROR" and n in got]
        look = [n for n in live if n in la]
        clean = [n for n in live if n not in la]
        caught = [n for n in look if got[n] == "NXDOMAIN"]
        flagged = {}
        for r in rs:
            flagged.update(r.get("flagged", {}))
        warned = [n for n in look if got[n] != "NXDOMAIN" and
                  flagged.get(n) == "warn"]
        by = {}
        for n in look:
            t = la[n][0]
            by.setdefault(t, [0, 0])
            by[t][1] += 1
            if got[n] == "NXDOMAIN" or n in warned:
                by[t][0] += 1
        out[cfg] = {"lookalikes": len(look), "caught": len(caught),
                    "warned": len(warned),
                    "clean": len(clean),
                    "clean_blocked": sum(1 for n in clean
                                         if got[n] == "NXDOMAIN"),
                    "by_technique": by}
    return out


# Issue 20's targets on the resolver's instructions per query: (config,
# workload, against, at most).  "blend" is 85% hits and 15% of the mix
# (misses with 1% lookalikes), weighted from the rows measured.
TARGETS = [
    ("b", "hit", "a", 1.03, "hits, 10k protected, audit flagged"),
    ("b", "miss", "a", 1.10, "misses, 10k protected, audit flagged"),
    ("c", "hit", "a", 1.30, "hits, audit all"),
    ("c", "miss", "a", 1.15, "misses, audit all"),
    ("b", "hit", "e", 1.00, "hits, doppel against the RPZ"),
    ("b", "miss", "e", 1.00, "misses, doppel against the RPZ"),
    ("b", "blend", "e", 1.00, "85% hits / 15% misses (1% lookalikes), "
     "doppel against the RPZ"),
]


def targets_table(cg):
    """Issue 20's targets, met or not, from the callgrind figures."""
    def get(c, w):
        if c not in cg:
            return None
        if w == "blend":
            return 0.85 * cg[c]["hit"]["instr_per_q"] + \
                0.15 * cg[c]["mix"]["instr_per_q"]
        return cg[c][w]["instr_per_q"]
    out = ["### Issue 20's targets (instructions per query, ratio)", "",
           "| figure | ratio | target | |", "|---|---|---|---|"]
    for c, w, base, most, title in TARGETS:
        x, y = get(c, w), get(base, w)
        if x is None or y is None:
            continue
        r = x / y
        out.append("| %s: (%s) / (%s) | %.3f | <= %.2f | %s |" % (
            title, c, base, r, most, "met" if r <= most else "not met"))
    out.append("")
    out.append("The engine's own targets (a distinct name at 10k protected "
               "domains <= 4,000 instructions, at 1M <= 1.3x that) are "
               "printed with the engine's figures above "
               "(tests/bench/engine_cost.py).")
    out.append("")
    return "\n".join(out)


def blend_table(rounds, cfgs):
    """The realistic mix on the wall clock: resolver CPU per query of 85%
    cache hits and 15% misses with 1% lookalikes, weighted from each
    round's saturation runs; against plain Unbound and the RPZ round by
    round (the rounds interleave the configurations, so a round's ratio
    compares runs made side by side).  Clear margin: doppel (b) ahead of
    the RPZ (e) in every round."""
    def blend(r):
        return 0.85 * r["hit_sat"]["cpu_ns_per_q"] + \
            0.15 * r["mix_sat"]["cpu_ns_per_q"]
    out = ["### The realistic mix on the wall clock: 85% hits / 15% misses "
           "(1% lookalikes)", "",
           "Resolver CPU ns per query, 0.85 x the hit row's + 0.15 x the "
           "mix row's, per round; the ratios are taken round by round "
           "(median (min–max)).", "",
           "| config | CPU ns/query | /a | /e |", "|---|---|---|---|"]
    per = {c: [blend(r) for r in rounds[c]] for c in cfgs}

    def ratios(c, base):
        if base not in per:
            return []
        return [x / y for x, y in zip(per[c], per[base]) if y]
    for c in cfgs:
        ra, re_ = ratios(c, "a"), ratios(c, "e")
        out.append("| %s | %s | %s | %s |" % (
            c, fmt_range(per[c]), fmt_range(ra, "%.3f"),
            fmt_range(re_, "%.3f")))
    rb = ratios("b", "e") if "b" in per else []
    if rb:
        out.append("")
        out.append("doppel (b) against the RPZ (e) on this mix: %.3f "
                   "(%.3f–%.3f); ahead in every round: %s" % (
                       med(rb), min(rb), max(rb),
                       "met" if max(rb) < 1.0 else "not met"))
    out.append("")
    return "\n".join(out)


def report(results, facts, args, env):
    rounds = results["rounds"]
    cg = results["callgrind"]
    lines = []
    p = lines.append
    cfgs = [c for c in CONFIGS if c in rounds or c in cg]
    p("### Instructions per query (callgrind, resolver process, all threads)")
    p("")
    p("| config | hit | miss | mix 1% lookalikes | hit /a | miss /a | mix /a |")
    p("|---|---|---|---|---|---|---|")
    a = cg.get("a")
    for c in cfgs:
        if c not in cg:
            continue
        row = [cg[c][k]["instr_per_q"] for k in ("hit", "miss", "mix")]
        ratios = ["%.3f" % (cg[c][k]["instr_per_q"] / a[k]["instr_per_q"])
                  if a else "-" for k in ("hit", "miss", "mix")]
        p("| %s %s | %.0f | %.0f | %.0f | %s |" % (
            c, CONFIGS[c], row[0], row[1], row[2], " | ".join(ratios)))
    p("")
    p(targets_table(cg))
    for w, title in () if not rounds.get("a") else (("hit", "Cache hits"), ("miss", "Cache misses"),
                     ("mix", "Mix: cache misses with 1% lookalikes")):
        p("### %s (dnsperf; median (min–max) of %d rounds)" % (
            title, len(rounds["a"])))
        p("")
        p("| config | qps at saturation | resolver CPU ns/query | "
          "CPU /a | p50 µs at %d qps | p99 µs | RSS MB |" % (
              args.hit_rate if w == "hit" else args.miss_rate))
        p("|---|---|---|---|---|---|---|")
        acpu = med([r[w + "_sat"]["cpu_ns_per_q"] for r in rounds["a"]])
        for c in cfgs:
            rs = rounds[c]
            cpu = [r[w + "_sat"]["cpu_ns_per_q"] for r in rs]
            p("| %s | %s | %s | %.2f | %s | %s | %s |" % (
                c,
                fmt_range([r[w + "_sat"]["qps"] for r in rs]),
                fmt_range(cpu),
                med(cpu) / acpu if acpu else float("nan"),
                fmt_range([r[w + "_rate"].get("p50_us", float("nan"))
                           for r in rs]),
                fmt_range([r[w + "_rate"].get("p99_us", float("nan"))
                           for r in rs]),
                fmt_range([r["rss_kb"] / 1024.0 for r in rs], "%.1f")))
        p("")
    if rounds.get("a"):
        p(blend_table(rounds, cfgs))
    catch = results["catch"]
    if not rounds.get("a"):
        return "\n".join(lines)
    p("### What each configuration blocks")
    p("")
    p("The lookalike probe (%d per technique, aimed at the attacked "
      "domains) and the fixed-rate mix: of the lookalikes plain Unbound "
      "answers NOERROR, how many are answered NXDOMAIN, and how many doppel "
      "flags (blocked or warned, from its audit log); of the mix's clean "
      "names, how many are answered NXDOMAIN." % args.probe)
    p("")
    p("| config | lookalikes blocked | blocked or warned (audit log) "
      "| clean names blocked |")
    p("|---|---|---|---|")
    for c in cfgs:
        x = catch[c]
        n = max(1, x["lookalikes"])
        p("| %s | %d of %d (%.1f%%) | %d (%.1f%%) | %d of %d |" % (
            c, x["caught"], x["lookalikes"], 100.0 * x["caught"] / n,
            x["caught"] + x["warned"],
            100.0 * (x["caught"] + x["warned"]) / n,
            x["clean_blocked"], x["clean"]))
    p("")
    p("Per technique, blocked or warned of asked (same rounds):")
    p("")
    techs = sorted(catch["b"]["by_technique"]) if "b" in catch else []
    if techs:
        p("| technique | " + " | ".join(cfgs) + " |")
        p("|---|" + "---|" * len(cfgs))
        for t in techs:
            cells = []
            for c in cfgs:
                g, n = catch[c]["by_technique"].get(t, [0, 0])
                cells.append("%d/%d" % (g, n))
            p("| %s | %s |" % (t, " | ".join(cells)))
        p("")
    return "\n".join(lines)


def write_results(args, env, facts, text):
    eng = ""
    if args.engine and os.path.exists(args.engine):
        with open(args.engine) as f:
            eng = f.read().rstrip()
    cmd = "tests/bench/resolver_bench.py " + " ".join(
        "--%s %s" % (k.replace("_", "-"), v) for k, v in vars(args).items()
        if v not in (None, False) and k not in ("out", "results", "engine"))
    o = []
    p = o.append
    p("# Benchmark results")
    p("")
    p("Written by `make bench` (tests/bench/run.sh); do not edit by hand. "
      "What the figures mean, and the targets: tests/bench/README.md.")
    p("")
    p("## Machine and versions")
    p("")
    for k in ("date", "cpu", "cpus", "mem_gib", "kernel", "unbound",
              "dnsperf", "valgrind", "python", "dnstwist", "doppel"):
        p("- %s: %s" % (k, env.get(k)))
    p("")
    p("## Commands")
    p("")
    p("    make bench")
    p("    # = tests/bench/run.sh: build/bench/memlat, the engine "
      "benchmark, then")
    p("    " + cmd)
    p("")
    p("Whole run: %s s for the resolver part." % facts.get("elapsed_s"))
    p("")
    p("## Engine scaling")
    p("")
    p("Compile (`doppel compile`, wall clock) and compiled size, the "
      "protected sets of the resolver benchmark:")
    p("")
    p("| protected | compile s | DB MB |")
    p("|---|---|---|")
    for tag, c in facts.get("compile", {}).items():
        p("| %s | %.2f | %.1f |" % (tag, c["compile_s"],
                                    c["db_bytes"] / 1048576.0))
    p("")
    if eng:
        p("The memory floor (build/bench/memlat), then per name, in "
          "process (build/bench/bench_engine):")
        p("")
        for line in eng.splitlines():
            p("    " + line)
        p("")
    p("## Resolver")
    p("")
    p("Configurations: " + "; ".join("(%s) %s" % kv for kv in
                                      CONFIGS.items()) + ".")
    p("%d protected domains (%d for f); the lookalikes of the mix aim at %d "
      "of them, and (d) and (e) list dnstwist's %d variants of those %d." % (
          facts["protected"], facts["protected_big"], facts["attacked"],
          facts["variants"], facts["attacked"]))
    p("")
    p(text)
    with open(args.results, "w") as f:
        f.write("\n".join(o) + "\n")


def versions():
    def run(cmd):
        try:
            r = subprocess.run(cmd, capture_output=True, text=True,
                               timeout=20)
            return (r.stdout + r.stderr).strip()
        except (OSError, subprocess.TimeoutExpired):
            return "?"
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = "?"
    with open("/proc/meminfo") as f:
        mem = f.readline().split()[1]
    ub = run([UNBOUND, "-V"]).splitlines()
    return {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "kernel": platform.release(),
        "cpu": cpu, "cpus": os.cpu_count(),
        "mem_gib": round(int(mem) / 1048576.0, 1),
        "unbound": ub[0] if ub else "?",
        "dnsperf": run(["dnsperf", "-h"]).splitlines()[-1],
        "valgrind": run(["valgrind", "--version"]),
        "python": platform.python_version(),
        "dnstwist": run(["dpkg-query", "-W", "-f", "${Version}",
                         "dnstwist"]),
        "doppel": run(["git", "-C", REPO, "describe", "--always",
                       "--dirty"]),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--configs", default="abcdefgh")
    ap.add_argument("--protected", type=int, default=10000)
    ap.add_argument("--protected-big", type=int, default=1000000)
    ap.add_argument("--attacked", type=int, default=8)
    ap.add_argument("--hit-names", type=int, default=100)
    ap.add_argument("--miss-sat", type=int, default=15000)
    ap.add_argument("--miss-rate", type=int, default=1000)
    ap.add_argument("--hit-rate", type=int, default=5000)
    ap.add_argument("--rate-seconds", type=int, default=3)
    ap.add_argument("--sat-seconds", type=int, default=3)
    ap.add_argument("--cg-miss", type=int, default=2000)
    ap.add_argument("--cg-hit-loops", type=int, default=20)
    ap.add_argument("--probe", type=int, default=50,
                    help="lookalikes per technique in the probe")
    ap.add_argument("--no-callgrind", action="store_true")
    ap.add_argument("--engine", help="the engine benchmark's output, "
                    "quoted in --results")
    ap.add_argument("--results", help="write the whole report here "
                    "(tests/bench/RESULTS.md)")
    args = ap.parse_args()

    d = os.path.abspath(args.out)
    os.makedirs(d, exist_ok=True)
    for s in (signal.SIGINT, signal.SIGTERM):
        signal.signal(s, lambda *_: die("interrupted"))
    if os.cpu_count() < 2:
        global CLIENT_CPU
        CLIENT_CPU = 0
    t0 = time.time()
    try:
        log("resolver bench: making the names (%d protected, %d for f)" %
            (args.protected, args.protected_big))
        facts = make_data(d, args)
        facts["compile"] = {}
        tags = ("1k", "10k", "100k", "1m") if "f" in args.configs else \
            ("10k",)
        for tag in tags:
            facts["compile"][tag] = compile_policy(d, tag)
        log("  %d lookalikes, %d dnstwist variants, compile %s" % (
            len(facts["lookalikes"]), facts["variants"],
            {k: v["compile_s"] for k, v in facts["compile"].items()}))
        aport = free_ports(1)[0]
        with open(os.path.join(d, "auth.conf"), "w") as f:
            f.write(AUTH_CONF.format(port=aport, dir=d))
        start([UNBOUND, "-d", "-c", os.path.join(d, "auth.conf")],
              CLIENT_CPU, out=os.path.join(d, "auth.stderr"),
              ready=lambda: dns_query(aport, "x.com") == 0)
        rounds = {c: [] for c in args.configs}
        for rnd in range(args.rounds):
            for c in args.configs:
                t1 = time.time()
                r = one_round(c, d, aport, facts, args, rnd)
                rounds[c].append(r)
                log("  round %d %s: hit %.0f qps %.0f ns/q, miss %.0f qps "
                    "%.0f ns/q, mix %.0f qps %.0f ns/q, %.0f MB (%.0f s)" % (
                        rnd + 1, c, r["hit_sat"]["qps"],
                        r["hit_sat"]["cpu_ns_per_q"], r["miss_sat"]["qps"],
                        r["miss_sat"]["cpu_ns_per_q"], r["mix_sat"]["qps"],
                        r["mix_sat"]["cpu_ns_per_q"], r["rss_kb"] / 1024.0,
                        time.time() - t1))
        cg = {}
        if not args.no_callgrind:
            for c in args.configs:
                t1 = time.time()
                cg[c] = callgrind_run(c, d, aport, facts, args)
                log("  callgrind %s: hit %.0f, miss %.0f, mix %.0f "
                    "instructions per query (%.0f s)" % (
                        c, cg[c]["hit"]["instr_per_q"],
                        cg[c]["miss"]["instr_per_q"],
                        cg[c]["mix"]["instr_per_q"], time.time() - t1))
        results = {"rounds": rounds, "callgrind": cg,
                   "catch": catch_table(rounds, facts)}
        env = versions()
        facts_out = {k: v for k, v in facts.items()
                     if k not in ("lookalikes", "files")}
        for c in facts_out.get("compile", {}).values():
            c.pop("db", None)
        facts_out["elapsed_s"] = round(time.time() - t0)
        for rs in rounds.values():
            for r in rs:
                for k in ("hit_rate", "miss_rate", "mix_rate", "probe"):
                    r[k].pop("rcodes", None)
            for r in rs:
                r.pop("flagged", None)
        text = report(results, facts, args, env)
        with open(os.path.join(d, "results.json"), "w") as f:
            json.dump({"env": env, "facts": facts_out, "args": vars(args),
                       "results": results}, f, indent=1)
        with open(os.path.join(d, "results.md"), "w") as f:
            f.write(text + "\n")
        print(text)
        if args.results:
            write_results(args, env, facts_out, text)
    finally:
        stop_all()


if __name__ == "__main__":
    main()

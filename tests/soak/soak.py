#!/usr/bin/python3
# tests/soak/soak.py — `make soak`: the resolver with doppel under a steady
# load for a long while, in the ASan build.
#
#   soak.py [--seconds 120] [--out DIR]
#
# The lab of tests/bench (an authoritative Unbound with a wildcard under
# every suffix, on loopback), the resolver with two worker threads, the
# module from build-asan (Unbound itself is not instrumented: the ASan
# runtime is preloaded, so its allocations are watched too), audit
# `flagged`, a verdict cache, 10,000 protected domains.  First a short run
# at saturation finds the rate the lab sustains; then dnsperf sends a
# stream of names never asked before, 1% of them lookalikes, at 90% of
# that rate for --seconds.  It checks, and prints:
#   - the resolver is alive at the end and exits cleanly on TERM, with no
#     AddressSanitizer or LeakSanitizer report (leak checking on);
#   - its RSS, sampled every 5 s, stays within 5% after the first third;
#   - the audit log holds one record per flagged query answered (the
#     names doppel flags are known in advance from `doppel scan`), or the
#     writer's drop counter explains the difference.
# Ends with "N passed, N failed".
import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "bench"))
import resolver_bench as rb  # noqa: E402
import workload  # noqa: E402

results = []


def check(name, ok, why=""):
    results.append(ok)
    print("%s soak/%s%s" % ("PASS" if ok else "FAIL", name,
                            "" if ok else ": " + why), flush=True)


def rss_split(pid):
    """(anonymous, file-backed) resident kB of a process."""
    anon = fil = 0
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("RssAnon:"):
                anon = int(line.split()[1])
            elif line.startswith("RssFile:"):
                fil = int(line.split()[1])
    return anon, fil


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=120)
    ap.add_argument("--reload-every", type=float, default=0,
                    help="also run unbound-control reload every N s "
                    "while the load runs (RSS is then not judged)")
    ap.add_argument("--out", default=os.path.join(REPO, "build-asan",
                                                  "soak"))
    ap.add_argument("--asan-build", default=os.path.join(REPO,
                                                         "build-asan"))
    args = ap.parse_args()
    d = os.path.abspath(args.out)
    os.makedirs(d, exist_ok=True)
    so = os.path.join(args.asan_build, "lib", "doppel.so")
    if not os.path.exists(so):
        print("FAIL soak/setup: %s missing (make asan builds it)" % so)
        print("0 passed, 1 failed")
        return 1
    libasan = subprocess.run(["cc", "-print-file-name=libasan.so"],
                             capture_output=True, text=True).stdout.strip()

    # Names: protected set, and a stream with 1% lookalikes.
    words = workload.load_words()
    nm = workload.Names(20261130, words, workload.load_psl())
    protected = nm.protected(10000)
    with open(os.path.join(d, "protected.txt"), "w") as f:
        f.write("\n".join(protected) + "\n")
    with open(os.path.join(d, "policy.txt"), "w") as f:
        f.write("protect-file protected.txt\n")
    attacked = protected[:200]

    def stream(n):
        k = n // 100
        names = nm.clean(n - k) + [x[0] for x in
                                   (nm.lookalike(attacked) for _ in range(k))
                                   if x]
        nm.rng.shuffle(names)
        return names

    aport = rb.free_ports(1)[0]
    with open(os.path.join(d, "root.zone"), "w") as f:
        f.write("$TTL 3600\n. SOA ns.bench. hostmaster.bench. 1 3600 900 "
                "604800 300\n. NS ns.bench.\nns.bench. A 127.0.0.1\n")
        for i, x in enumerate(workload.SUFFIXES):
            f.write("*.%s. 300 A 192.0.2.%d\n" % (x, i + 1))
    with open(os.path.join(d, "auth.conf"), "w") as f:
        f.write(rb.AUTH_CONF.format(port=aport, dir=d))
    try:
        rb.start([rb.UNBOUND, "-d", "-c", os.path.join(d, "auth.conf")],
                 rb.CLIENT_CPU, out=os.path.join(d, "auth.out"),
                 ready=lambda: rb.dns_query(aport, "x.com") == 0)
        rundir = os.path.join(d, "resolver")
        subprocess.run(["rm", "-rf", rundir])
        os.makedirs(rundir)
        port, = rb.free_ports(1)
        with open(os.path.join(rundir, "doppel.conf"), "w") as f:
            f.write("policy: %s/policy.txt\non-error: open\n"
                    "log-verdicts: no\ngeoip: off\n"
                    "verdict-cache: %s/verdicts.mdb\naudit: flagged\n"
                    "audit-log: %s/audit.jsonl\n" % (d, rundir, rundir))
        conf = os.path.join(rundir, "resolver.conf")
        with open(conf, "w") as f:
            f.write(rb.RESOLVER_CONF.format(
                port=port, rundir=rundir, auth=aport,
                modules="dynlib validator iterator",
                extra="dynlib:\n\tdynlib-file: \"%s\"\n" % so).replace(
                    "num-threads: 1", "num-threads: 2").replace(
                    "\tmsg-cache-size: 64m\n\trrset-cache-size: 128m\n",
                    "").replace(  # Unbound's default caches: a plateau soon
                    "remote-control:\n\tcontrol-enable: no\n",
                    "remote-control:\n\tcontrol-enable: yes\n"
                    "\tcontrol-interface: \"%s/control.sock\"\n" % rundir))
        env = dict(os.environ, DOPPEL_CONF=os.path.join(rundir,
                                                        "doppel.conf"),
                   LD_PRELOAD=libasan,
                   ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:"
                   "quarantine_size_mb=32:log_path=%s/asan" % rundir,
                   UBSAN_OPTIONS="print_stacktrace=1")
        p = subprocess.Popen([rb.UNBOUND, "-d", "-c", conf], env=env,
                             stdin=subprocess.DEVNULL,
                             stdout=open(os.path.join(rundir, "stderr"),
                                         "w"),
                             stderr=subprocess.STDOUT)
        rb.procs.append(p)
        for _ in range(600):
            if rb.dns_query(port, "localhost") == 0 or p.poll() is not None:
                break
            time.sleep(0.1)
        # The rate the lab sustains: a short run at saturation.
        probe = rb.qfile(os.path.join(d, "probe.txt"), stream(20000))
        r = rb.dnsperf(port, probe, seconds=5)
        rate = max(500, int(r["qps"] * 0.9))
        n = rate * args.seconds
        names = stream(n)
        path = rb.qfile(os.path.join(d, "stream.txt"), names)
        # Which of them doppel flags, from the same policy.
        scan = subprocess.run(
            [os.path.join(REPO, "build", "bin", "doppel"), "scan", "-p",
             os.path.join(d, "policy.txt"), "--json"],
            input="\n".join(names) + "\n", capture_output=True, text=True)
        flagged = set()
        for line in scan.stdout.splitlines():
            v = json.loads(line)
            if v.get("verdict") in ("block", "warn"):
                flagged.add(v["name"].rstrip("."))
        audit = os.path.join(rundir, "audit.jsonl")
        before = sum(1 for _ in open(audit)) if os.path.exists(audit) else 0
        print("soak: %d qps sustained at saturation; sending %d names at "
              "%d qps for %d s (%d flagged by doppel)" % (
                  r["qps"], n, rate, args.seconds, len(flagged)),
              flush=True)
        rss = []
        perf = subprocess.Popen(
            ["taskset", "-c", str(rb.CLIENT_CPU), "dnsperf", "-s",
             "127.0.0.1", "-p", str(port), "-d", path, "-n", "1", "-Q",
             str(rate), "-q", "500", "-t", "5", "-v"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        out = []
        t0 = time.time()
        next_sample = t0
        import threading
        reader = threading.Thread(target=lambda: out.extend(perf.stdout))
        reader.start()
        reloads = 0
        next_reload = t0 + args.reload_every
        while perf.poll() is None:
            if args.reload_every and time.time() >= next_reload:
                r2 = subprocess.run(
                    [os.path.join(os.path.dirname(rb.UNBOUND),
                                  "unbound-control"), "-c", conf, "reload"],
                    capture_output=True, text=True)
                reloads += r2.stdout.strip() == "ok"
                next_reload += args.reload_every
            if time.time() >= next_sample and p.poll() is None:
                rss.append((round(time.time() - t0),) + rss_split(p.pid))
                next_sample += 5
            time.sleep(0.2)
        reader.join()
        text = "".join(out)
        answered = {}
        for line in out:
            # "> NOERROR name A 0.000433"; a timeout is "> T name A"
            if line.startswith("> "):
                f = line.split()
                if len(f) >= 5:
                    answered[f[2].lower().rstrip(".")] = f[1]
        sent = int(rb.re.search(r"Queries sent:\s+(\d+)", text).group(1))
        lost = int(rb.re.search(r"Queries lost:\s+(\d+)", text).group(1))
        alive = p.poll() is None
        check("alive-after-load", alive,
              "the resolver exited with %s" % p.returncode)
        # RSS after the first third
        # The heap (anonymous memory) must stay flat; mapped files (the
        # verdict cache's LMDB map, bounded by verdict-cache-size, and the
        # shared libraries) are reported beside it.
        later = [anon for t, anon, fil in rss if t >= args.seconds / 3]
        if args.reload_every:
            print("soak: %d reloads while the load ran" % reloads)
            check("reloads-done", reloads >= args.seconds /
                  args.reload_every - 2, "only %d reloads" % reloads)
            check("answers-through-reloads", lost <= sent * 0.05,
                  "%d of %d queries lost" % (lost, sent))
            later = []
        if later:
            lo, hi = min(later), max(later)
            print("soak: anonymous RSS after warm-up %.1f-%.1f MB (%d "
                  "samples); samples (s: anon+file MB): %s" % (
                      lo / 1024.0, hi / 1024.0, len(later),
                      " ".join("%d:%.0f+%.0f" % (t, a / 1024.0, f / 1024.0)
                               for t, a, f in rss)), flush=True)
            check("rss-flat", hi <= lo * 1.05,
                  "anonymous RSS grew from %.1f to %.1f MB" % (
                      lo / 1024.0, hi / 1024.0))
        time.sleep(2.5)  # the audit writer writes at least every second
        recs = []
        with open(audit) as f:
            for line in list(f)[before:]:
                rec = json.loads(line)
                # a collapsed record stands for its repeats
                recs.extend([rec["qname"].rstrip(".")] *
                            rec.get("repeats", 1))
        want = [x for x in names if x in flagged and x in answered]
        dropped = 0
        for line in open(os.path.join(rundir, "resolver.log")):
            m = rb.re.search(r"audit log .*: (\d+) records dropped", line)
            if m:  # "N records dropped so far": the last is the total
                dropped = max(dropped, int(m.group(1)))
        with open(os.path.join(d, "dnsperf.out"), "w") as f:
            f.write(text)
        missing = sorted(set(want) - set(recs))
        for x in missing[:5]:
            print("soak: no audit record for %s (%s, answered %s)" % (
                x, "flagged", answered.get(x)), flush=True)
        print("soak: %d sent, %d lost, %d flagged answered, %d audit "
              "records, %d dropped by the writer" % (
                  sent, lost, len(want), len(recs), dropped), flush=True)
        # Records of queries in flight at a reload may go with the old
        # instance: the count is judged only without reloads.
        if not args.reload_every:
            check("audit-accounts-for-flagged",
                  len(recs) + dropped == len(want) or
                  (len(want) <= len(recs) + dropped <= len(want) + lost),
                  "%d records + %d dropped for %d flagged answers" % (
                      len(recs), dropped, len(want)))
        p.terminate()
        try:
            p.wait(60)
        except subprocess.TimeoutExpired:
            p.kill()
        rb.procs.remove(p)
        check("clean-exit", p.returncode == 0,
              "exit status %s" % p.returncode)
        reports = [x for x in os.listdir(rundir) if x.startswith("asan")]
        text = "".join(open(os.path.join(rundir, x)).read() for x in reports)
        ours = "doppel" in text
        print("soak: %d sanitizer report file(s)%s" % (
            len(reports), "; doppel frames in them" if ours else ""))
        check("no-sanitizer-report-in-doppel", not ours,
              text[:1500])
        check("no-sanitizer-report", not reports, text[:800])
    finally:
        rb.stop_all()
    print("%d passed, %d failed" % (sum(results),
                                    len(results) - sum(results)))
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())

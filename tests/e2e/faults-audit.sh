#!/usr/bin/env bash
# tests/e2e/faults-audit.sh — the audit log when its disk misbehaves. In every
# case the resolver keeps answering (army.ml MX is still blocked, army.mil A
# still resolves), stays up, and the module says in the resolver's log, in
# one line, what went wrong and with which file:
#
#  - at start-up, the log's directory is read-only, or does not exist (and
#    once it is created, `unbound-control reload` starts the log);
#  - the file is deleted under the writer: a new file appears at the
#    configured path (records are not written into the deleted inode);
#  - logrotate: the file is renamed, then `unbound-control reload`: the old
#    records stay in the renamed file, new ones go to a fresh file;
#  - the disk fills up (a 64 KiB tmpfs): one line for the whole failure,
#    not one a second; when there is room again, writing resumes (and says
#    so), and every line of the file is still a whole JSON record;
#  - a file-size limit (RLIMIT_FSIZE) is reached: the resolver must not be
#    killed by SIGXFSZ.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

e2e_scratch faults-audit
fdir=$SCRATCH
# still_serving PREFIX — the resolver blocks and resolves as it should.
still_serving() {
	expect_blocked "$1-still-blocks" army.ml MX
	expect_answer "$1-still-resolves" army.mil A ' A 192\.0\.2\.10$'
}


# wait_for FILE ERE — wait (5 s at most) until FILE has a matching line.
wait_for() {
	for _ in $(seq 1 50); do
		grep -Eq -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# flood SECONDS NAME TYPE — ask NAME TYPE over UDP for SECONDS seconds, a
# few hundred times a second; prints "sent answered".
flood() {
	python3 - "$RESOLVER_PORT" "$@" <<'PY'
import socket, struct, sys, time
port, secs, name, qtype = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3], sys.argv[4]
qt = {"A": 1, "MX": 15}[qtype]
wire = b"".join(bytes([len(l)]) + l.encode() for l in name.split(".") if l) + b"\0"
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.connect(("127.0.0.1", port))
s.settimeout(0.5)
sent = got = 0
end = time.time() + secs
try:
    while time.time() < end:
        for _ in range(20):
            s.send(struct.pack("!HHHHHH", sent & 0xffff, 0x0100, 1, 0, 0, 0)
                   + wire + struct.pack("!HH", qt, 1))
            sent += 1
        while got < sent:
            try:
                s.recv(4096)
                got += 1
            except socket.timeout:
                break
        time.sleep(0.05)
except OSError:
    pass    # the resolver is gone: the counts say so
print(sent, got)
PY
}

# all_json CHECK FILE — every line of FILE is a whole JSON object.
all_json() {
	local out
	if out=$(python3 - "$2" <<'PY' 2>&1
import json, sys
n = 0
for i, l in enumerate(open(sys.argv[1], "rb"), 1):
    try:
        json.loads(l)
    except ValueError as e:
        sys.exit("line %d is not a JSON record (%s): %r" % (i, e, l[:120]))
    n += 1
assert n > 0, "no records"
PY
	); then
		pass "$1"
	else
		fail "$1" "$out"
	fi
}

# ---------------------------------------------------------------------------
# 1. At start-up, the audit log's directory is read-only.
if ! e2e_tmpfs "$fdir/ro" ro,size=64k; then
	fail faults-audit-ro-mount "cannot mount a read-only tmpfs on $fdir/ro"
	exit 1
fi
log=$fdir/ro/audit.log
DOPPEL_CONF_EXTRA="audit: all
audit-log: $log
audit-collapse: 0" e2e_start faults-audit-ro-lab
still_serving faults-audit-ro
expect_log faults-audit-ro-logged \
	"doppel: $(ere "$log"): cannot open audit log: Read-only file system; going on without an audit log"
e2e_stop

# 2. At start-up, the audit log's directory does not exist; the operator
# creates it and reloads.
log=$fdir/nodir/audit.log
DOPPEL_CONF_EXTRA="audit: all
audit-log: $log
audit-collapse: 0" e2e_start faults-audit-nodir-lab
still_serving faults-audit-nodir
expect_log faults-audit-nodir-logged \
	"doppel: $(ere "$log"): cannot open audit log: No such file or directory; going on without an audit log"
mkdir "$fdir/nodir"
if reload_wait; then
	expect_blocked faults-audit-nodir-reload-blocks navy.ml A
	if wait_for "$log" '"qname":"navy\.ml"'; then
		pass faults-audit-nodir-reload-writes
	else
		fail faults-audit-nodir-reload-writes "no navy.ml record in $log after the directory was made and the resolver reloaded"
	fi
else
	fail faults-audit-nodir-reload "the reload did not finish within 30 s"
fi
e2e_stop

# 3. logrotate: the file is renamed and the resolver reloaded; then (4.)
# the new file is deleted under the writer.
mkdir "$fdir/rot"
log=$fdir/rot/audit.log
DOPPEL_CONF_EXTRA="audit: all
audit-log: $log
audit-collapse: 0" e2e_start faults-audit-rot-lab
# What was asked before is in the renamed file, what is asked after the
# reload in a fresh file at the configured path.
expect_blocked faults-audit-rotate-before navy.ml MX
if wait_for "$log" '"qname":"navy\.ml","qtype":"MX"'; then
	pass faults-audit-rotate-before-written
else
	fail faults-audit-rotate-before-written "no navy.ml MX record in $log"
fi
mv "$log" "$log.1"
if reload_wait; then
	pass faults-audit-rotate-reload
else
	fail faults-audit-rotate-reload "the reload did not finish within 30 s"
fi
expect_blocked faults-audit-rotate-after www.navy.ml A
if wait_for "$log" '"qname":"www\.navy\.ml"'; then
	pass faults-audit-rotate-new-file
else
	fail faults-audit-rotate-new-file "no www.navy.ml record in a new $log after the rotation"
fi
if grep -q '"qname":"navy\.ml","qtype":"MX"' "$log.1" &&
	! grep -q '"qname":"www\.navy\.ml"' "$log.1"; then
	pass faults-audit-rotate-old-file-kept
else
	fail faults-audit-rotate-old-file-kept "the renamed $log.1 should hold navy.ml MX and not www.navy.ml"
fi
if [ -f "$log" ] && ! grep -q '"qname":"navy\.ml","qtype":"MX"' "$log" &&
	[ "$(stat -c %a "$log")" = 640 ]; then
	pass faults-audit-rotate-fresh
else
	fail faults-audit-rotate-fresh "the new $log should be fresh (no navy.ml MX record) with mode 0640, is $(stat -c %a "$log" 2>&1)"
fi
all_json faults-audit-rotate-json "$log"

# 4. Deleted: the writer must not go on writing into the deleted file.
expect_answer faults-audit-deleted-before army.mil A ' A 192\.0\.2\.10$'
if wait_for "$log" '"qname":"army\.mil"'; then
	pass faults-audit-deleted-before-written
else
	fail faults-audit-deleted-before-written "no army.mil record in $log"
fi
rm -f "$log"
off=$(log_size "$RESOLVER_LOG")
still_serving faults-audit-deleted
if wait_for "$log" '"qname":"army\.ml"'; then
	pass faults-audit-deleted-new-file
else
	fail faults-audit-deleted-new-file "after $log was deleted, no new file there holds the army.ml record (the writer is still writing into the deleted file: $(find "/proc/$RESOLVER_PID/fd" -lname '* (deleted)' 2>/dev/null | wc -l) deleted file(s) open)"
fi
if await_log "$off" "doppel: audit log $(ere "$log"): .*(removed|deleted|renamed)"; then
	pass faults-audit-deleted-logged
else
	fail faults-audit-deleted-logged "no log line saying that $log was removed (doppel's lines since: $(log_since "$RESOLVER_LOG" "$off" | grep doppel | grep -v 'doppel: block' | sed 's/.*\] //' | tr '\n' ';'))"
fi
e2e_stop

# 5. The disk fills up: a 64 KiB tmpfs, half taken by another file, and
# every reply audited.
if ! e2e_tmpfs "$fdir/full" size=64k; then
	fail faults-audit-full-mount "cannot mount a tmpfs on $fdir/full"
	exit 1
fi
head -c 32768 /dev/zero >"$fdir/full/filler"
log=$fdir/full/audit.log
DOPPEL_CONF_EXTRA="audit: all
audit-log: $log
audit-collapse: 0" e2e_start faults-audit-full-lab
expect_answer faults-audit-full-start army.mil A ' A 192\.0\.2\.10$'
# About 3 s of queries: several writer passes find the disk full.
read -r sent got < <(flood 3 army.mil A)
if [ "${sent:-0}" -gt 0 ] && [ "$got" = "$sent" ]; then
	pass faults-audit-full-answers
else
	fail faults-audit-full-answers "$got of $sent queries answered while the disk was full"
fi
still_serving faults-audit-full
sleep 1.2	# one more writer pass
poke	# its line reaches the log with the next query
nfail=$(grep -c "doppel: audit log $(ere "$log"): write failed: No space left on device" "$RESOLVER_LOG")
if [ "$nfail" -ge 1 ]; then
	pass faults-audit-full-logged
else
	fail faults-audit-full-logged "no 'write failed: No space left on device' line for $log (df: $(df -k "$fdir/full" | tail -n 1))"
fi
if [ "$nfail" -le 1 ]; then
	pass faults-audit-full-logged-once
else
	fail faults-audit-full-logged-once "$nfail 'write failed' lines for one disk-full episode, want one"
fi
# Room again: writing resumes, says so, and no record is cut in two.
rm -f "$fdir/full/filler"
off=$(log_size "$RESOLVER_LOG")
expect_blocked faults-audit-full-after www.army.ml A
if wait_for "$log" '"qname":"www\.army\.ml"'; then
	pass faults-audit-full-resumes
else
	fail faults-audit-full-resumes "no www.army.ml record in $log once there was room again"
fi
if await_log "$off" "doppel: audit log $(ere "$log"): writing again"; then
	pass faults-audit-full-resume-logged
else
	fail faults-audit-full-resume-logged "no 'writing again' line once there was room again"
fi
all_json faults-audit-full-whole-records "$log"
e2e_stop

# 6. A file-size limit: writing past it must fail, not kill the resolver
# with SIGXFSZ. log-verdicts: no keeps the resolver's own log far below it.
mkdir "$fdir/fsize"
log=$fdir/fsize/audit.log
DOPPEL_CONF_EXTRA="audit: all
log-verdicts: no
audit-log: $log
audit-collapse: 0" e2e_start faults-audit-fsize-lab
if ! prlimit --pid "$RESOLVER_PID" --fsize=65536:65536; then
	fail faults-audit-fsize-limit "prlimit --fsize failed"
fi
read -r sent got < <(flood 2.5 army.mil A)
# The writer's pass that meets the limit says so (after cutting the file
# back to whole records); it may be the one after the flood: wait for its
# line (bounded, poking the resolver as long as it runs).
for i in $(seq 1 100); do
	alive || break
	grep -Eq "doppel: audit log $(ere "$log"): write failed: File too large" \
		"$RESOLVER_LOG" && break
	poke
	sleep 0.1
done
if alive; then
	pass faults-audit-fsize-alive
else
	fail faults-audit-fsize-alive "the resolver died when the audit log reached its file-size limit ($(tail -n 2 "$RUNDIR/resolver.stderr" 2>/dev/null | tr '\n' ' '))"
	exit 1
fi
if [ "$(stat -c %s "$log")" -le 65536 ] && [ "$(stat -c %s "$log")" -gt 60000 ]; then
	pass faults-audit-fsize-reached
else
	fail faults-audit-fsize-reached "$log is $(stat -c %s "$log") bytes; the test wants it at the 64 KiB limit"
fi
still_serving faults-audit-fsize
expect_log faults-audit-fsize-logged \
	"doppel: audit log $(ere "$log"): write failed: File too large"
all_json faults-audit-fsize-whole-records "$log"

e2e_finish faults-audit-resolver-survived

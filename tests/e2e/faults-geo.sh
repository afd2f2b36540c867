#!/usr/bin/env bash
# tests/e2e/faults-geo.sh — a country database that cannot be used. With the
# geo policy (every .mil name expected in the US), the country stage is off
# and the name stage on: army.ml is still blocked by name, arny.mil (a weak
# lookalike that the country stage would block, answered from ML) resolves
# with a warning, the resolver stays up, and one line of its log says which
# file could not be used and why. Once a good database is put there,
# `unbound-control reload` turns the country stage on again.
#
#  - geoip: names a file that does not exist;
#  - geoip: names a file of random bytes;
#  - geoip: names a good database cut in half (its metadata, at the end, is
#    gone);
#  - geoip: names a database whose metadata is intact but whose search tree
#    and data are random bytes: it opens, and every lookup must fail
#    harmlessly (no crash, names still judged by name);
#  - a good database written over in place (cut to nothing, then random
#    bytes) under the running resolver: the module works from its own copy,
#    so the country stage goes on as before (it used to fault on the next
#    lookup), and a reload refuses the damaged file.
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

DOPPEL=${DOPPEL_BIN:-$e2e_repo/build/bin/doppel}
geo_policy=$e2e_dir/policies/geo.txt
e2e_scratch faults-geo
fdir=$SCRATCH
if ! "$DOPPEL" geo build --fixture "$e2e_repo/conf/lab/geo-fixture.txt" \
	-o "$fdir/good.mmdb" >/dev/null; then
	fail faults-geo-build "doppel geo build failed"
	exit 1
fi

# geo_off PREFIX — the country stage is off, the name stage on.
geo_off() {
	expect_blocked "$1-name-stage-blocks" army.ml MX
	expect_answer "$1-geo-stage-off" arny.mil A ' A 102\.165\.99\.10$'
	if grep -q 'doppel: warn arny\.mil A: homoglyph of army\.mil' "$RESOLVER_LOG" &&
		! grep -q 'answered from' "$RESOLVER_LOG"; then
		pass "$1-name-stage-warns"
	else
		fail "$1-name-stage-warns" "want a warn line for arny.mil and no country in the log"
	fi
	expect_answer "$1-still-resolves" army.mil A ' A 192\.0\.2\.10$'
}

# geo_back PREFIX DB — put a good database at DB and reload: the country
# stage blocks arny.mil (answered from ML) again.
geo_back() {
	cp "$fdir/good.mmdb" "$2"
	if ! reload_wait; then
		fail "$1-reload" "the reload did not finish within 30 s"
		return
	fi
	expect_blocked "$1-fixed-by-reload" arny.mil A
	expect_log "$1-fixed-logged" 'doppel: block arny\.mil A: .*answered from ML'
}

# 1. A file that does not exist.
db=$fdir/missing.mmdb
DOPPEL_CONF_EXTRA="geoip: $db" e2e_start faults-geo-missing-lab "$geo_policy"
expect_log faults-geo-missing-logged \
	"doppel: $(ere "$db"): cannot open country database: .*No such file or directory; going on without country checks"
geo_off faults-geo-missing
geo_back faults-geo-missing "$db"
e2e_stop

# 2. Random bytes.
db=$fdir/random.mmdb
head -c 8192 /dev/urandom >"$db"
DOPPEL_CONF_EXTRA="geoip: $db" e2e_start faults-geo-random-lab "$geo_policy"
expect_log faults-geo-random-logged \
	"doppel: $(ere "$db"): cannot open country database: .*; going on without country checks"
geo_off faults-geo-random
geo_back faults-geo-random "$db"
e2e_stop

# 3. A good database cut in half.
db=$fdir/half.mmdb
head -c $(($(stat -c %s "$fdir/good.mmdb") / 2)) "$fdir/good.mmdb" >"$db"
DOPPEL_CONF_EXTRA="geoip: $db" e2e_start faults-geo-half-lab "$geo_policy"
expect_log faults-geo-half-logged \
	"doppel: $(ere "$db"): cannot open country database: .*; going on without country checks"
geo_off faults-geo-half
e2e_stop

# 4. Intact metadata, random search tree and data. The file opens; what a
# lookup finds in it is garbage, which must not crash the resolver: every
# query is answered (NOERROR or NXDOMAIN), names are still judged by name.
db=$fdir/garbled.mmdb
if ! python3 - "$fdir/good.mmdb" "$db" <<'PY'
import random, sys
d = bytearray(open(sys.argv[1], "rb").read())
m = d.rfind(b"\xab\xcd\xefMaxMind.com")
assert m > 0, "no metadata marker"
rnd = random.Random(20241129)
for i in range(m):
    d[i] = rnd.randrange(256)
open(sys.argv[2], "wb").write(d)
PY
then
	fail faults-geo-garbled-make "cannot write $db"
	exit 1
fi
DOPPEL_CONF_EXTRA="geoip: $db" e2e_start faults-geo-garbled-lab "$geo_policy"
expect_blocked faults-geo-garbled-name-stage-blocks army.ml MX
for q in "arny.mil A" "arrny.mil A" "armmy.mil MX" "af.mil A" "army.mil AAAA" "army.ml AAAA"; do
	# shellcheck disable=SC2086
	ask $q
	case $rcode in
	NOERROR | NXDOMAIN) pass "faults-geo-garbled-answers-${q// /-}" ;;
	*) fail "faults-geo-garbled-answers-${q// /-}" "$q: $(summary)" ;;
	esac
done
expect_answer faults-geo-garbled-still-resolves army.mil A ' A 192\.0\.2\.10$'
e2e_stop

db=$fdir/live.mmdb
cp "$fdir/good.mmdb" "$db"
DOPPEL_CONF_EXTRA="geoip: $db" e2e_start faults-geo-live-lab "$geo_policy"
expect_blocked faults-geo-live-before arny.mil A
: >"$db"
expect_blocked faults-geo-live-emptied-country-stage armmy.mil MX
head -c 20000 /dev/urandom >"$db"
expect_blocked faults-geo-live-garbage-country-stage ns1.arny.mil A
expect_answer faults-geo-live-expected-country arrny.mil A ' A 192\.0\.2\.90$'
off=$(log_size "$RESOLVER_LOG")
if out=$("$LAB" control "$RUNDIR" reload 2>&1) && [ "$out" = ok ] &&
	await_log "$off" "doppel: $(ere "$db"): cannot open country database"; then
	pass faults-geo-live-reload-refuses
else
	fail faults-geo-live-reload-refuses "reload said '$out'; no 'cannot open country database' line for $db"
fi
expect_blocked faults-geo-live-after-reload-name-stage army.ml A
expect_answer faults-geo-live-after-reload-resolves army.mil A ' A 192\.0\.2\.10$'

e2e_finish faults-geo-resolver-survived

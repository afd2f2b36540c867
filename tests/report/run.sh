#!/bin/sh
# tests/report/run.sh - `doppel audit report` in a real browser: Debian's
# Chromium, headless, loads the page from a loopback HTTP server; the page
# renders (a screenshot is kept as $BUILD/report.png), its charts have one
# bar per day, target, lookalike and client of the log, and it fetches
# nothing: the server sees one request, and Chromium's network log shows
# no request the page started.  The same checks are run on a page that
# does fetch an image, to show that they would see it.
set -u
cd "$(dirname "$0")/../.." || exit 2
bin=${DOPPEL_BIN:-build/bin/doppel}
BUILD=${BUILD:-build}
tmp=$(mktemp -d)
server=""
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$tmp"' EXIT INT TERM
rc=0
pass() { echo "PASS report/$1"; }
fail() { echo "FAIL report/$1: $2"; rc=1; }

browser=$(command -v chromium || true)
if [ -z "$browser" ]; then
	fail chromium-installed "chromium not found (Debian package chromium; make deps installs it)"
	exit 1
fi

# A log of three days, two clients, monitor-mode would-blocks.
rec() { # TIME CLIENT NAME VERDICT TECHNIQUE TARGET
	printf '{"time":"%s","client":"%s","qname":"%s","qtype":"A","rcode":"NXDOMAIN","verdict":"%s","technique":"%s","target":"%s","score":0.9,"mode":"monitor"}\n' "$@"
}
mkdir -p "$tmp/www"
{
	rec 2026-12-01T10:00:00.000000Z 192.0.2.7 army.ml would-block tld-swap army.mil
	rec 2026-12-01T11:00:00.000000Z 192.0.2.7 arrny.mil would-block homoglyph army.mil
	rec 2026-12-02T10:00:00.000000Z 192.0.2.8 navy.ml would-block tld-swap navy.mil
	rec 2026-12-04T10:00:00.000000Z 192.0.2.8 navy.ml warn tld-swap navy.mil
	rec 2026-12-04T10:00:00.000000Z 192.0.2.9 paypa1.com would-block homoglyph paypal.com
} >"$tmp/audit.jsonl"
if "$bin" audit report "$tmp/audit.jsonl" -o "$tmp/www/report.html" >"$tmp/out" 2>&1; then
	pass written
else
	fail written "$(cat "$tmp/out")"
fi
# The same page with one image from the server: the checks must see it.
sed -e 's|<meta http-equiv="Content-Security-Policy"[^>]*>||' \
	-e 's|<h1>|<img src="/pixel.png" alt=""><h1>|' \
	"$tmp/www/report.html" >"$tmp/www/fetching.html"

python3 -u -m http.server --bind 127.0.0.1 0 --directory "$tmp/www" \
	>"$tmp/server.out" 2>"$tmp/server.log" &
server=$!
port=""
for i in $(seq 1 50); do
	port=$(sed -n 's/.* port \([0-9][0-9]*\) .*/\1/p' "$tmp/server.out" | head -1)
	[ -n "$port" ] && break
	sleep 0.1
done
if [ -z "$port" ]; then
	fail server "the loopback HTTP server did not start: $(cat "$tmp/server.log")"
	exit 1
fi

# render PAGE: dump its DOM, take a screenshot, log the network.
render() {
	: >"$tmp/server.log"
	timeout 120 "$browser" --headless --no-sandbox --disable-gpu \
		--disable-quic --no-first-run --disable-background-networking \
		--disable-component-update --disable-sync \
		--user-data-dir="$tmp/profile-$1" --log-net-log="$tmp/$1.net.json" \
		--window-size=1000,1800 --screenshot="$tmp/$1.png" \
		"http://127.0.0.1:$port/$1.html" >/dev/null 2>"$tmp/$1.err"
	timeout 120 "$browser" --headless --no-sandbox --disable-gpu \
		--disable-quic --no-first-run --disable-background-networking \
		--disable-component-update --disable-sync \
		--user-data-dir="$tmp/profile-$1-dom" --dump-dom \
		"http://127.0.0.1:$port/$1.html" >"$tmp/$1.dom" 2>>"$tmp/$1.err"
}
# fetched PAGE: what the page asked for, beyond itself (server and net
# log), one line each.
fetched() {
	grep -a '"GET ' "$tmp/server.log" | grep -av "GET /$1.html " |
		sed 's/.*"GET \([^ ]*\) .*/server: \1/'
	python3 - "$tmp/$1.net.json" "$port" "$1" <<'PY'
import json, sys
log, port, page = sys.argv[1], sys.argv[2], sys.argv[3]
d = json.load(open(log))
names = {v: k for k, v in d["constants"]["logEventTypes"].items()}
for e in d["events"]:
    p = e.get("params") or {}
    if names.get(e["type"]) != "URL_REQUEST_START_JOB" or "url" not in p:
        continue
    # Chromium's own requests have no origin; the page's have its own.
    if p.get("initiator", "not an origin") == "not an origin":
        continue
    print("netlog:", p["url"])
PY
}

render report
if [ -s "$tmp/report.png" ] && [ "$(wc -c <"$tmp/report.png")" -gt 10000 ]; then
	cp "$tmp/report.png" "$BUILD/report.png" 2>/dev/null
	pass renders
else
	fail renders "no screenshot: $(tail -3 "$tmp/report.err")"
fi
# count SECTION CLASS: elements of that class in that section of the DOM
count() {
	sed -n "/<section id=\"$1\">/,/<\/section>/p" "$tmp/report.dom" |
		grep -o "class=\"$2\"" | wc -l
}
got="days $(count days day) targets $(count targets bar) lookalikes $(count lookalikes bar) clients $(count clients bar) would-block $(grep -o '<tr><td>' "$tmp/report.dom" | wc -l)"
want="days 3 targets 3 lookalikes 4 clients 3 would-block 4"
if [ "$got" = "$want" ]; then
	pass bars-per-chart
else
	fail bars-per-chart "$got, want $want"
fi
f=$(fetched report)
if [ -z "$f" ]; then
	pass fetches-nothing
else
	fail fetches-nothing "$f"
fi
render fetching
f=$(fetched fetching)
case $f in
*pixel.png*) pass fetch-would-be-seen ;;
*) fail fetch-would-be-seen "an image on the page was not seen: $f" ;;
esac
exit $rc

#!/usr/bin/env bash
# tests/lab/lab.sh — the offline DNS lab: an authoritative Unbound serving
# conf/lab/zones and a resolving Unbound with doppel in front of it, both on
# loopback ports chosen free at run time.
#
# usage: lab.sh start RUNDIR [POLICY]   start both servers (POLICY defaults
#                                       to conf/policy.txt), write RUNDIR/env
#        lab.sh stop RUNDIR             stop both (safe to call any number of times)
#        lab.sh query RUNDIR NAME [TYPE] [DRILL-OPTION...]
#                                       ask the resolver with drill
#        lab.sh control RUNDIR ARG...   unbound-control for the resolver
#
# Environment:
#   UNBOUND_DIR      Unbound install prefix (default: <repo>/build/unbound)
#   DOPPEL_SO        the module (default: <repo>/$BUILD/lib/doppel.so,
#                    BUILD defaulting to build)
#   LAB_MODULES      the resolver's module-config
#                    (default: "dynlib validator iterator"; "validator
#                    iterator" runs the lab without doppel)
#   DOPPEL_ON_ERROR  doppel.conf's on-error (default: open)
#   DOPPEL_BLOCK_TTL doppel.conf's block-ttl (default: left to the module)
#   DOPPEL_CONF_EXTRA more doppel.conf lines, written verbatim
#   LAB_DOPPEL_CONF  the settings file the resolver is given instead of
#                    the doppel.conf written in RUNDIR (a test of a bad one)
#   LAB_THREADS      the resolver's num-threads (default: 1)
#   LAB_UNBOUND_EXTRA more resolver.conf lines (clauses: rpz:, ...),
#                    appended verbatim
#   SAN_PRELOAD      a sanitizer runtime to LD_PRELOAD into the resolver
#                    (Unbound itself is not instrumented; see make asan)
#   LAB_WRAPPER      a command prefix for the resolver, e.g. "valgrind -q"
#   LAB_READY_TRIES  tenths of a second each server may take to answer
#                    its first query (default 300)
#
# RUNDIR/env, written once both servers answer, is a shell fragment with
# RESOLVER_PORT, AUTH_PORT, CONTROL_PORT, RESOLVER_PID, AUTH_PID and the
# paths of the configurations and logs (auth.log records every query the
# authoritative server received).

set -eu

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
UNBOUND_DIR=${UNBOUND_DIR:-$repo/build/unbound}
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD=$repo/$BUILD ;; esac
DOPPEL_SO=${DOPPEL_SO:-$BUILD/lib/doppel.so}
LAB_MODULES=${LAB_MODULES:-dynlib validator iterator}
labconf=$repo/conf/lab

# How long a server may take to answer its first query, in tenths of a
# second: valgrind or a loaded CI machine make startup slow.
ready_tries=${LAB_READY_TRIES:-300}

usage() {
	sed -n '/^# usage:/,/^$/s/^# \{0,1\}//p' "$0" | sed '/^$/d' >&2
	exit 2
}

die() {
	echo "lab.sh: $*" >&2
	exit 1
}

# drill with a bound on its run time: drill itself has no timeout option.
run_drill() {
	if command -v timeout >/dev/null 2>&1; then
		timeout 20 drill "$@"
	else
		drill "$@"
	fi
}

# Print N distinct loopback ports that are free for both TCP and UDP now.
# A port can still be taken between this check and the server's bind; the
# caller retries with fresh ports when that happens.
pick_ports() {
	if command -v python3 >/dev/null 2>&1; then
		python3 - "$1" <<'PY'
import socket, sys
want = int(sys.argv[1])
held, ports = [], []
while len(ports) < want:
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
print(" ".join(map(str, ports)))
PY
		return
	fi
	local n=$1 out="" p used
	used=$(ss -Hlntu 2>/dev/null |
		awk '{ n = split($5, a, ":"); printf " %s", a[n] }')
	while [ "$n" -gt 0 ]; do
		p=$((20000 + RANDOM % 40000))
		case " $out $used " in *" $p "*) continue ;; esac
		out="$out $p"
		n=$((n - 1))
	done
	echo "$out"
}

# Is PID a live server of this lab, started with config file CONF?  Guards
# against killing a process that reused the PID, and treats zombies (whose
# command line is empty) as gone.
is_ours() {
	local pid=$1 conf=$2
	[ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
	tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | grep -qxF -- "$conf"
}

stop_one() {
	local pidfile=$1 conf=$2 pid i
	[ -f "$pidfile" ] || return 0
	pid=$(cat "$pidfile")
	if is_ours "$pid" "$conf"; then
		kill -TERM "$pid" 2>/dev/null || true
		i=0
		while is_ours "$pid" "$conf" && [ $i -lt 100 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		if is_ours "$pid" "$conf"; then
			echo "lab.sh: pid $pid did not stop on TERM; killing" >&2
			kill -KILL "$pid" 2>/dev/null || true
		fi
	fi
	rm -f "$pidfile"
}

do_stop() {
	local rundir=$1
	# The resolver first: it would otherwise retry the vanished
	# authoritative server while shutting down.
	stop_one "$rundir/resolver.pid" "$rundir/resolver.conf"
	stop_one "$rundir/auth.pid" "$rundir/auth.conf"
}

# Substitute the placeholders of template $1 into $2.
render() {
	sed -e "s|@RUNDIR@|$rundir|g" \
	    -e "s|@ZONEDIR@|$labconf/zones|g" \
	    -e "s|@AUTH_PORT@|$auth_port|g" \
	    -e "s|@RESOLVER_PORT@|$resolver_port|g" \
	    -e "s|@CONTROL_PORT@|$control_port|g" \
	    -e "s|@MODULE_CONFIG@|$LAB_MODULES|g" \
	    -e "s|@DOPPEL_SO@|$DOPPEL_SO|g" \
	    -e "s|@THREADS@|${LAB_THREADS:-1}|g" \
	    "$1" >"$2"
}

# Wait until the server in pidfile $1 (config $2) answers query "$4 $5" on
# port $3 with NOERROR. Returns 1 if it died, 2 if it never answered.
wait_ready() {
	local pid i=0
	pid=$(cat "$1")
	while [ $i -lt "$ready_tries" ]; do
		# Just after the fork the child may not run the server yet
		# (its command line is still the shell's, or empty while it
		# execs): only a process that is gone or a zombie, or still not
		# ours after two seconds, has failed.
		if ! is_ours "$pid" "$2"; then
			if [ $i -ge 20 ] || ! kill -0 "$pid" 2>/dev/null ||
				[ "$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null |
				cut -d' ' -f1)" = Z ]; then
				return 1
			fi
		fi
		if run_drill -p "$3" "$4" @127.0.0.1 "$5" 2>/dev/null |
			grep -q 'rcode: NOERROR'; then
			return 0
		fi
		sleep 0.1
		i=$((i + 1))
	done
	return 2
}

# Show why server $1 (auth or resolver) failed to start.
explain_failure() {
	local name=$1
	echo "lab.sh: the $name server failed to start; last lines of its output and log:" >&2
	tail -n 20 "$rundir/$name.stderr" "$rundir/$name.log" 2>/dev/null | sed 's/^/  /' >&2
}

port_taken() {
	grep -qi 'address already in use\|could not open ports' \
		"$rundir/$1.stderr" "$rundir/$1.log" 2>/dev/null
}

# One attempt at starting the lab. Returns 0 on success, 3 if a port was
# taken under us (worth another try), 1 on any other failure.
start_once() {
	local ports rc
	ports=$(pick_ports 3) || die "cannot pick free ports"
	# shellcheck disable=SC2086
	set -- $ports
	auth_port=$1 resolver_port=$2 control_port=$3

	render "$labconf/auth.conf.in" "$rundir/auth.conf"
	render "$labconf/resolver.conf.in" "$rundir/resolver.conf"
	if [ -n "${LAB_UNBOUND_EXTRA:-}" ]; then
		printf '%s\n' "$LAB_UNBOUND_EXTRA" >>"$rundir/resolver.conf"
	fi
	{
		echo "# written by tests/lab/lab.sh"
		echo "policy: $policy"
		echo "on-error: ${DOPPEL_ON_ERROR:-open}"
		if [ -n "${DOPPEL_BLOCK_TTL:-}" ]; then
			echo "block-ttl: $DOPPEL_BLOCK_TTL"
		fi
		if [ -n "${DOPPEL_CONF_EXTRA:-}" ]; then
			printf '%s\n' "$DOPPEL_CONF_EXTRA"
		fi
	} >"$rundir/doppel.conf"
	rm -f "$rundir/auth.log" "$rundir/resolver.log" "$rundir/env"

	"$UNBOUND_DIR/sbin/unbound-checkconf" "$rundir/auth.conf" \
		>"$rundir/auth.stderr" 2>&1 ||
		{ cat "$rundir/auth.stderr" >&2; return 1; }
	"$UNBOUND_DIR/sbin/unbound-checkconf" "$rundir/resolver.conf" \
		>"$rundir/resolver.stderr" 2>&1 ||
		{ cat "$rundir/resolver.stderr" >&2; return 1; }

	# Servers get no stdin and their own output files, so that a caller
	# reading lab.sh's output through a pipe is not held open by them.
	"$UNBOUND_DIR/sbin/unbound" -d -c "$rundir/auth.conf" \
		</dev/null >"$rundir/auth.stderr" 2>&1 &
	echo $! >"$rundir/auth.pid"
	rc=0
	wait_ready "$rundir/auth.pid" "$rundir/auth.conf" "$auth_port" \
		army.mil SOA || rc=$?
	if [ $rc -ne 0 ]; then
		port_taken auth && return 3
		explain_failure auth
		return 1
	fi

	local preload=${LD_PRELOAD:-}
	if [ -n "${SAN_PRELOAD:-}" ]; then
		preload=$SAN_PRELOAD${preload:+ $preload}
	fi
	# shellcheck disable=SC2086
	DOPPEL_CONF=${LAB_DOPPEL_CONF:-$rundir/doppel.conf} LD_PRELOAD=$preload \
		${LAB_WRAPPER:-} "$UNBOUND_DIR/sbin/unbound" -d \
		-c "$rundir/resolver.conf" \
		</dev/null >"$rundir/resolver.stderr" 2>&1 &
	echo $! >"$rundir/resolver.pid"
	# localhost is one of Unbound's default local zones: it answers without
	# touching the module, the cache or the authoritative server.
	rc=0
	wait_ready "$rundir/resolver.pid" "$rundir/resolver.conf" \
		"$resolver_port" localhost A || rc=$?
	if [ $rc -ne 0 ]; then
		port_taken resolver && return 3
		explain_failure resolver
		return 1
	fi
	return 0
}

cmd_start() {
	[ $# -ge 1 ] && [ $# -le 2 ] || usage
	mkdir -p "$1"
	rundir=$(cd "$1" && pwd)
	policy=${2:-$repo/conf/policy.txt}
	case "$policy" in /*) ;; *) policy=$(pwd)/$policy ;; esac

	[ -x "$UNBOUND_DIR/sbin/unbound" ] ||
		die "no Unbound at $UNBOUND_DIR/sbin/unbound (set UNBOUND_DIR)"
	case " $LAB_MODULES " in
	*" dynlib "*)
		[ -f "$DOPPEL_SO" ] || die "no module at $DOPPEL_SO (set DOPPEL_SO)" ;;
	esac
	command -v drill >/dev/null 2>&1 || die "drill (ldnsutils) is needed"

	if { [ -f "$rundir/auth.pid" ] &&
	     is_ours "$(cat "$rundir/auth.pid")" "$rundir/auth.conf"; } ||
	   { [ -f "$rundir/resolver.pid" ] &&
	     is_ours "$(cat "$rundir/resolver.pid")" "$rundir/resolver.conf"; }
	then
		die "a lab is already running in $rundir (lab.sh stop $rundir)"
	fi

	# Whatever happens from here on, a failed start leaves nothing running.
	started=0
	trap 'rc=$?; [ "$started" = 1 ] || do_stop "$rundir"; exit $rc' EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM

	local attempt=1 rc
	while :; do
		rc=0
		start_once || rc=$?
		[ $rc -eq 0 ] && break
		do_stop "$rundir"
		if [ $rc -eq 3 ] && [ $attempt -lt 5 ]; then
			attempt=$((attempt + 1))
			continue
		fi
		[ $rc -eq 3 ] && explain_failure auth && explain_failure resolver
		exit 1
	done

	{
		printf 'RUNDIR=%q\n' "$rundir"
		printf 'RESOLVER_PORT=%s\n' "$resolver_port"
		printf 'AUTH_PORT=%s\n' "$auth_port"
		printf 'CONTROL_PORT=%s\n' "$control_port"
		printf 'RESOLVER_PID=%s\n' "$(cat "$rundir/resolver.pid")"
		printf 'AUTH_PID=%s\n' "$(cat "$rundir/auth.pid")"
		printf 'RESOLVER_CONF=%q\n' "$rundir/resolver.conf"
		printf 'AUTH_CONF=%q\n' "$rundir/auth.conf"
		printf 'DOPPEL_CONF=%q\n' "$rundir/doppel.conf"
		printf 'RESOLVER_LOG=%q\n' "$rundir/resolver.log"
		printf 'AUTH_LOG=%q\n' "$rundir/auth.log"
		printf 'POLICY=%q\n' "$policy"
		printf 'UNBOUND_DIR=%q\n' "$UNBOUND_DIR"
	} >"$rundir/env"
	started=1
}

load_env() {
	[ -f "$1/env" ] || die "no running lab in $1 (no $1/env)"
	# shellcheck disable=SC1091
	. "$1/env"
}

cmd_stop() {
	[ $# -eq 1 ] || usage
	[ -d "$1" ] || return 0
	rundir=$(cd "$1" && pwd)
	do_stop "$rundir"
}

cmd_query() {
	[ $# -ge 2 ] || usage
	load_env "$1"
	local name=$2 type=${3:-A}
	shift 3 2>/dev/null || shift $#
	run_drill "$@" -p "$RESOLVER_PORT" "$name" @127.0.0.1 "$type"
}

cmd_control() {
	[ $# -ge 2 ] || usage
	load_env "$1"
	shift
	"$UNBOUND_DIR/sbin/unbound-control" -c "$RESOLVER_CONF" "$@"
}

[ $# -ge 1 ] || usage
cmd=$1
shift
case "$cmd" in
start) cmd_start "$@" ;;
stop) cmd_stop "$@" ;;
query) cmd_query "$@" ;;
control) cmd_control "$@" ;;
*) usage ;;
esac

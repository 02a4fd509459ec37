# tests/lib.sh: shell helpers sourced by every tests/t-*.sh (POSIX sh).
#
# A test script starts with
#	. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"
# and gets a temp dir $T, removed on exit together with every process
# started through these helpers (killed by PID, TERM then KILL).
#
#   start_sink MODE [ADDR:PORT]     tsink in the background; sets SINK_PORT,
#                                   SINK_PID (MODE as tsink -m)
#   free_port [ADDR:0]              prints a free loopback port, reserved
#                                   for this test until it exits
#   write_conf FILE KEY=VALUE...    writes a config file, one key a line
#   start_esocksd ROLE CONF [ARG]...  "$ESOCKSD" -f -c CONF ARG... ROLE,
#                                   log in $ESOCKSD_LOG, pid in $ESOCKSD_PID;
#                                   a server is waited for until all its
#                                   listen addresses (from CONF and -o)
#                                   listen; a worker until it is up 0.2 s
#   wait_tunnel SOCKSPORT [SECS]    retries a SOCKS5 connect to an echo sink
#                                   through the proxy until one works (e.g.
#                                   a worker registered with NO_WORKER=refuse)
#   wait_link PORT [SECS]           until some TCP connection to PORT is
#                                   established (a worker's link; Linux)
#   wait_log FILE PATTERN [SECS]    until grep -E finds PATTERN in FILE
#   wait_for CMD [SECS]             until eval CMD succeeds; SECS integer
#   stop_pid PID [SECS]             SIGTERM, wait; returns the exit status
#                                   (KILL and 124 when it does not stop)
#   stop_daemon                     stop_pid $ESOCKSD_PID; fail unless it
#                                   exits 0 with no sanitizer report in
#                                   $ESOCKSD_LOG
#   track_pid PID                   kill PID at exit too
#   fail MSG / skip MSG             exit 1 printing the daemon logs / exit 77
#   have_ipv6                       true if binding [::1] works
#   lib_alive PID                   true if PID runs (not gone, not zombie)
#   lib_listening PORT              true if a TCP socket listens on PORT
#                                   (Linux /proc; 2 = cannot tell)
#   cpu_ticks PID                   prints user + system CPU time of PID
#                                   in clock ticks (Linux /proc); in
#                                   $(...) check its status: x=$(...) ||
#                                   exit 1 (it has printed why)
#   stall_start SOCKSPORT DESTPORT SECS
#                                   a SOCKS5 client to DESTPORT through the
#                                   proxy that reads nothing, so buffers
#                                   fill behind it; PID in $STALLED; it
#                                   gives up after SECS
#   stall_drain SUMPORT SECS        reads the stalled client's output now,
#                                   into tsink -m sum at SUMPORT; fails
#                                   unless it is read within SECS; sets
#                                   STALLED_RC (the client's exit) and
#                                   STALLED_GOT (the sum line)
#
# The harness exports ESOCKSD, SOCKSC, TSINK, TOP_SRCDIR, TOP_BUILDDIR
# (tests/integration.am); run by hand, they default to the current dir
# as the build dir.
#
# ESOCKSD_TEST_POLLER=NAME (make check ESOCKSD_TEST_POLLER=epoll) runs
# every daemon on that reactor backend: $ESOCKSD becomes a wrapper in $T
# that adds -o POLLER=NAME, so it reaches the daemons that a script
# starts itself as well as start_esocksd's.  LIB_POLLER names the
# backend in use either way; LIB_ESOCKSD_BIN is the daemon unwrapped, for
# a test that chooses backends itself.

: "${TOP_BUILDDIR:=.}"
: "${TOP_SRCDIR:=$TOP_BUILDDIR}"
: "${ESOCKSD:=$TOP_BUILDDIR/src/esocksd}"
: "${SOCKSC:=$TOP_BUILDDIR/tests/socksc}"
: "${TSINK:=$TOP_BUILDDIR/tests/tsink}"
: "${UDPC:=$TOP_BUILDDIR/tests/udpc}"
# The scripted link peer (tests/tlinkpeer.c) of the fake-worker and
# fake-server tests.
: "${TLINKPEER:=$TOP_BUILDDIR/tests/tlinkpeer}"
# Daemon log lines under -f without their timestamp, so that patterns
# can anchor on the message (t-direct-log-time.sh checks the stamp).
ESOCKSD_LOG_TIME=no
export ESOCKSD_LOG_TIME

T=$(mktemp -d "${TMPDIR:-/tmp}/esocks-test.XXXXXX") || exit 99
# Ports handed out by free_port, one directory each; reservations older
# than an hour are from a test that was killed before its cleanup.
LIB_PORTDIR=${TMPDIR:-/tmp}/esocks-ports.$(id -u)
mkdir -p "$LIB_PORTDIR" || exit 99
find "$LIB_PORTDIR" -mindepth 1 -maxdepth 1 -mmin +60 \
    -exec rmdir {} + 2>/dev/null
LIB_POLLER=${ESOCKSD_TEST_POLLER:-select}
LIB_ESOCKSD_BIN=$ESOCKSD
if [ -n "$ESOCKSD_TEST_POLLER" ]; then
	printf '#!/bin/sh\nexec "%s" -o "POLLER=%s" "$@"\n' "$ESOCKSD" \
	    "$ESOCKSD_TEST_POLLER" >"$T/esocksd" && chmod +x "$T/esocksd" ||
	    exit 99
	ESOCKSD=$T/esocksd
fi
LIB_PIDS=
LIB_LOGS=
LIB_NSINK=0
LIB_NDAEMON=0
LIB_PROBE_PORT=

# Is process $1 running (not gone, not a zombie)?
lib_alive() {
	kill -0 "$1" 2>/dev/null || return 1
	if [ -r "/proc/$1/stat" ]; then
		_st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null |
		    cut -d' ' -f1)
		[ "$_st" != Z ] || return 1
	fi
	return 0
}

# Kill every tracked process by PID, remove $T, keep the exit status.
lib_cleanup() {
	_rc=$?
	trap - EXIT INT TERM HUP PIPE
	for _p in $LIB_PIDS; do
		kill "$_p" 2>/dev/null
	done
	_i=0
	while [ $_i -lt 30 ]; do
		_alive=
		for _p in $LIB_PIDS; do
			lib_alive "$_p" && _alive="$_alive $_p"
		done
		[ -z "$_alive" ] && break
		sleep 0.1
		_i=$((_i + 1))
	done
	for _p in $_alive; do
		kill -9 "$_p" 2>/dev/null
	done
	if [ -r "$T/ports" ]; then
		while read -r _p; do
			rmdir "$LIB_PORTDIR/$_p" 2>/dev/null
		done <"$T/ports"
	fi
	if [ -n "$KEEP_TMP" ]; then
		echo "kept $T" >&2
	else
		rm -rf "$T"
	fi
	exit $_rc
}
trap lib_cleanup EXIT
trap 'exit 1' INT TERM HUP PIPE

# Remember a PID to kill at exit.
track_pid() {
	LIB_PIDS="$LIB_PIDS $1"
}

# Print the daemon logs and fail the test.
fail() {
	echo "FAIL: $*" >&2
	for _l in $LIB_LOGS; do
		echo "---- $_l" >&2
		tail -n 50 "$_l" >&2
	done
	exit 1
}

# Skip the test (automake: exit 77).
skip() {
	echo "SKIP: $*" >&2
	exit 77
}

# Run CMD (eval'd) every 0.1 s until it succeeds or SECS pass.
wait_for() {
	_cmd=$1
	_n=$(( ${2:-10} * 10 ))
	_i=0
	while ! eval "$_cmd" >/dev/null 2>&1; do
		_i=$((_i + 1))
		[ $_i -ge $_n ] && return 1
		sleep 0.1
	done
	return 0
}

# Wait until an extended regex shows up in a file.
wait_log() {
	wait_for "grep -E -q -e '$2' '$1'" "${3:-10}"
}

# True if we can bind the IPv6 loopback.
have_ipv6() {
	"$TSINK" -F -l '[::1]:0' >/dev/null 2>&1
}

# Print a free loopback TCP port that no other test holds: tsink -F
# draws one that binds now, and an atomic mkdir in $LIB_PORTDIR reserves
# it until this test exits, so neither this test nor a parallel one is
# handed it again before its daemon binds it.
free_port() {
	_fp_i=0
	while [ $_fp_i -lt 50 ]; do
		_fp=$("$TSINK" -F -l "${1:-127.0.0.1:0}") || return 1
		if mkdir "$LIB_PORTDIR/$_fp" 2>/dev/null; then
			echo "$_fp" >>"$T/ports"
			echo "$_fp"
			return 0
		fi
		_fp_i=$((_fp_i + 1))
	done
	echo "free_port: no unreserved port in 50 draws" >&2
	return 1
}

# Print the first of $1 consecutive free loopback ports, each reserved
# as free_port reserves one (PROCESSES: process i listens on port + i).
free_ports() {
	_fps_try=0
	while [ $_fps_try -lt 20 ]; do
		_fps_base=$(free_port) || return 1
		_fps_k=1
		while [ $_fps_k -lt "$1" ]; do
			_fps_p=$((_fps_base + _fps_k))
			[ $_fps_p -le 65535 ] || break
			lib_listening $_fps_p && break
			mkdir "$LIB_PORTDIR/$_fps_p" 2>/dev/null || break
			echo "$_fps_p" >>"$T/ports"
			_fps_k=$((_fps_k + 1))
		done
		if [ $_fps_k -ge "$1" ]; then
			echo "$_fps_base"
			return 0
		fi
		_fps_try=$((_fps_try + 1))
	done
	echo "free_ports: no $1 consecutive free ports in 20 draws" >&2
	return 1
}

# Write a config file from KEY=VALUE arguments.
write_conf() {
	_f=$1
	shift
	: >"$_f"
	for _kv in "$@"; do
		printf '%s\n' "$_kv" >>"$_f"
	done
}

# Start tsink in MODE; sets SINK_PORT and SINK_PID.
start_sink() {
	LIB_NSINK=$((LIB_NSINK + 1))
	_pf="$T/sink.$LIB_NSINK.port"
	"$TSINK" -l "${2:-127.0.0.1:0}" -m "$1" -P "$_pf" \
	    2>"$T/sink.$LIB_NSINK.log" &
	SINK_PID=$!
	track_pid $SINK_PID
	LIB_LOGS="$LIB_LOGS $T/sink.$LIB_NSINK.log"
	wait_for "test -s '$_pf'" 10 || fail "tsink -m $1 did not start"
	SINK_PORT=$(cat "$_pf")
}

# Is something listening on TCP port $1?  (Linux /proc; 2 = cannot tell)
lib_listening() {
	[ -r /proc/net/tcp ] || return 2
	_hex=$(printf ':%04X' "$1")
	cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk -v p="$_hex" '
	    $4 == "0A" && substr($2, length($2) - 4) == p { f = 1 }
	    END { exit !f }'
}

# Is some connection to TCP port $1 established?  (Linux /proc)
lib_linked() {
	_hex=$(printf ':%04X' "$1")
	cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk -v p="$_hex" '
	    $4 == "01" && substr($3, length($3) - 4) == p { f = 1 }
	    END { exit !f }'
}

# Wait until a connection to PORT is established (e.g. a worker link).
wait_link() {
	wait_for "lib_linked $1" "${2:-10}"
}

# The last value of KEY in a config file, quotes and comment removed.
lib_conf_last() {
	sed -n -e "s/^[[:space:]]*$2[[:space:]]*=//p" "$1" 2>/dev/null |
	    tail -n 1 | sed -e 's/[[:space:]]#.*//' | tr -d "\"'"
}

# The ports a server will listen on: CONF's keys, then -o overrides.
lib_listen_ports() {
	_conf=$1
	shift
	_s=$(lib_conf_last "$_conf" SOCKS_LISTEN)
	_w=$(lib_conf_last "$_conf" WORKER_LISTEN)
	_t=$(lib_conf_last "$_conf" STATS_LISTEN)
	_prev=
	for _a in "$@"; do
		if [ "$_prev" = -o ]; then
			case $_a in
			SOCKS_LISTEN=*) _s=${_a#*=} ;;
			WORKER_LISTEN=*) _w=${_a#*=} ;;
			STATS_LISTEN=*) _t=${_a#*=} ;;
			esac
		fi
		_prev=$_a
	done
	for _a in $_s $_w $_t; do
		printf '%s\n' "${_a##*:}"
	done
}

# Start esocksd in the foreground as a background job; see the top.
start_esocksd() {
	_role=$1
	_conf=$2
	shift 2
	LIB_NDAEMON=$((LIB_NDAEMON + 1))
	ESOCKSD_LOG="$T/esocksd.$LIB_NDAEMON.$_role.log"
	LIB_LOGS="$LIB_LOGS $ESOCKSD_LOG"
	"$ESOCKSD" -f -c "$_conf" "$@" "$_role" >"$ESOCKSD_LOG" 2>&1 &
	ESOCKSD_PID=$!
	track_pid $ESOCKSD_PID
	_ports=
	[ "$_role" = server ] && _ports=$(lib_listen_ports "$_conf" "$@")
	_i=0
	while :; do
		lib_alive $ESOCKSD_PID ||
		    fail "esocksd $_role exited at start (see $ESOCKSD_LOG)"
		if [ "$_role" != server ]; then
			[ $_i -ge 2 ] && return 0
		elif [ -z "$_ports" ] || ! [ -r /proc/net/tcp ]; then
			grep -q 'listening on' "$ESOCKSD_LOG" && return 0
		else
			_up=1
			for _p in $_ports; do
				lib_listening "$_p" || _up=
			done
			[ -n "$_up" ] && return 0
		fi
		_i=$((_i + 1))
		[ $_i -ge 100 ] &&
		    fail "esocksd $_role not listening after 10 s"
		sleep 0.1
	done
}

# Retry a SOCKS5 CONNECT through 127.0.0.1:SOCKSPORT until it works.
wait_tunnel() {
	if [ -z "$LIB_PROBE_PORT" ]; then
		_sp=$SINK_PORT
		_pid=$SINK_PID
		start_sink echo
		LIB_PROBE_PORT=$SINK_PORT
		SINK_PORT=$_sp
		SINK_PID=$_pid
	fi
	wait_for "'$SOCKSC' -x 127.0.0.1:$1 -t 127.0.0.1:$LIB_PROBE_PORT \
	    -n -w 2" "${2:-10}"
}

# Send SIGTERM to PID and wait up to SECS; return its exit status.
stop_pid() {
	kill "$1" 2>/dev/null
	wait_for "! lib_alive $1" "${2:-15}" || {
		kill -9 "$1" 2>/dev/null
		wait "$1" 2>/dev/null
		return 124
	}
	wait "$1" 2>/dev/null
}

# Stop the last daemon started: it must exit 0 with no sanitizer report.
stop_daemon() {
	stop_pid "$ESOCKSD_PID"
	_rc=$?
	[ "$_rc" -eq 0 ] || fail "esocksd exited with status $_rc on SIGTERM"
	if grep -E -q 'Sanitizer|runtime error:' "$ESOCKSD_LOG"; then
		fail "sanitizer report in $ESOCKSD_LOG"
	fi
}

# settled CMD: CMD's output once two readings 200 ms apart agree (at
# most 5 s): a count of descriptors, say, after a tunnel that has just
# ended has closed its last socket.
settled() {
	_prev=$("$@")
	_i=0
	while [ $_i -lt 25 ]; do
		sleep 0.2
		_now=$("$@")
		[ "$_now" = "$_prev" ] && break
		_prev=$_now
		_i=$((_i + 1))
	done
	echo "$_prev"
}

# User plus system CPU time of process $1 in clock ticks: fields 14 and
# 15 of its stat line, counted after the ")" that ends the name.
cpu_ticks() {
	_ticks=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | awk '
	    $12 ~ /^[0-9]+$/ && $13 ~ /^[0-9]+$/ { print $12 + $13 }')
	[ -n "$_ticks" ] || fail "no CPU times in /proc/$1/stat"
	echo "$_ticks"
}

# A client that stops reading: socksc's stdout is a FIFO whose only
# reader (a sleep, which holds it open and never reads) lets the pipe
# fill, so socksc stops reading the tunnel with the daemons' buffers
# full behind it.  See the top.
stall_start() {
	mkfifo "$T/stall.fifo" || fail "mkfifo failed"
	sleep "$3" <"$T/stall.fifo" &
	LIB_STALL_HOLD=$!
	track_pid $LIB_STALL_HOLD
	"$SOCKSC" -x "127.0.0.1:$1" -t "127.0.0.1:$2" -w "$3" \
	    >"$T/stall.fifo" 2>"$T/stalled.err" </dev/null &
	STALLED=$!
	track_pid $STALLED
}

# Read the stalled client's output to the end through a sum sink; see
# the top.
stall_drain() {
	"$SOCKSC" -D -t "127.0.0.1:$1" -w "$2" <"$T/stall.fifo" \
	    >"$T/stall.got" 2>"$T/stall.reader.err" &
	_reader=$!
	track_pid $_reader
	sleep 0.2
	kill $LIB_STALL_HOLD
	wait_for "! lib_alive $_reader" "$2" ||
	    fail "the stalled tunnel was not read within $2 s"
	wait $_reader || fail "reading the stalled tunnel failed:" \
	    "$(cat "$T/stall.reader.err")"
	wait_for "! lib_alive $STALLED" 5 || fail "stalled client did not end"
	wait $STALLED
	STALLED_RC=$?
	STALLED_GOT=$(cat "$T/stall.got")
}

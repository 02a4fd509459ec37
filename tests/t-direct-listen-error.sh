#!/bin/sh
# A listen address that cannot be bound is named like a config error:
# the key and the file:line (or -o option) that set it, then the address
# and the reason.  A start in the foreground and as a daemon exits 1 (a
# runtime failure, DESIGN.md) with that message and leaves no PID file;
# a reload logs it and keeps the old listeners.
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"

start_sink hold
TAKEN=$SINK_PORT
SP=$(free_port)
WP=$(free_port)
CONF=$T/esocksd.conf
PIDF=$T/esocksd.pid

# expect_bind_error NAME WANT: $T/NAME.out must be exit 1 saying WANT.
expect_bind_error() {
	[ "$rc" -eq 1 ] || fail "$1: exit $rc, want 1: $(cat "$T/$1.out")"
	grep -q -F -- "$2" "$T/$1.out" ||
	    fail "$1 does not say '$2': $(cat "$T/$1.out")"
	[ -s "$PIDF" ] && fail "$1 left a PID in $PIDF"
	return 0
}

# start_fails NAME WANT ARG...: start with ARG... in the foreground and
# as a daemon; each must fail to bind saying WANT.
start_fails() {
	_name=$1 _want=$2
	shift 2
	"$ESOCKSD" -f -c "$CONF" "$@" server >"$T/$_name.out" 2>&1 &
	pid=$!
	track_pid $pid
	wait_for "! lib_alive $pid" 10 || fail "$_name: started on a taken port"
	wait $pid
	rc=$?
	expect_bind_error "$_name" "$_want"
	# As a daemon the error must reach the terminal, with the status.
	"$ESOCKSD" -c "$CONF" "$@" server >"$T/$_name-daemon.out" 2>&1
	rc=$?
	expect_bind_error "$_name-daemon" "$_want"
}

# Line 2 holds the taken SOCKS_LISTEN port.
write_conf "$CONF" "WORKER_LISTEN=127.0.0.1:$WP" \
    "SOCKS_LISTEN='127.0.0.1:$SP 127.0.0.1:$TAKEN'" "PIDFILE=$PIDF"
start_fails socks \
    "$CONF:2: SOCKS_LISTEN: listen on 127.0.0.1:$TAKEN: Address already in use"
lib_listening "$SP" && fail "a failed start left port $SP bound"

# WORKER_LISTEN and STATS_LISTEN on line 1, or from -o.
write_conf "$CONF" "WORKER_LISTEN=127.0.0.1:$TAKEN" \
    "SOCKS_LISTEN=127.0.0.1:$SP" "PIDFILE=$PIDF"
start_fails worker \
    "$CONF:1: WORKER_LISTEN: listen on 127.0.0.1:$TAKEN: Address already in use"
write_conf "$CONF" "STATS_LISTEN=127.0.0.1:$TAKEN" \
    "SOCKS_LISTEN=127.0.0.1:$SP" "WORKER_LISTEN=127.0.0.1:$WP" \
    "PIDFILE=$PIDF"
start_fails stats \
    "$CONF:1: STATS_LISTEN: listen on 127.0.0.1:$TAKEN: Address already in use"
start_fails stats-o \
    "-o STATS_LISTEN: STATS_LISTEN: listen on 127.0.0.1:$TAKEN:" \
    -o "STATS_LISTEN=127.0.0.1:$TAKEN"

# A reload to the taken port names the line too, and changes nothing.
write_conf "$CONF" "SOCKS_LISTEN=127.0.0.1:$SP" \
    "WORKER_LISTEN=127.0.0.1:$WP" "PIDFILE=$PIDF"
start_esocksd server "$CONF"
write_conf "$CONF" "WORKER_LISTEN=127.0.0.1:$WP" \
    "SOCKS_LISTEN='127.0.0.1:$SP 127.0.0.1:$TAKEN'" "PIDFILE=$PIDF"
kill -HUP "$ESOCKSD_PID"
wait_log "$ESOCKSD_LOG" 'reload failed' 10 || fail "no 'reload failed' line"
want="reload failed, keeping the old configuration: $CONF:2: SOCKS_LISTEN:"
want="$want listen on 127.0.0.1:$TAKEN: Address already in use"
grep -q -F -- "$want" "$ESOCKSD_LOG" ||
    fail "the failed reload does not say '$want'"
grep -q 'no longer listening' "$ESOCKSD_LOG" &&
    fail "a failed reload closed a listener"
stop_daemon
exit 0

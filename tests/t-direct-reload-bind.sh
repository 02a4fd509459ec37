#!/bin/sh
# A reload whose new SOCKS_LISTEN cannot be bound (the port belongs to a
# tsink) fails as a whole: the log says so, the old listener still
# serves, the rest of the new file (LOG_ACCESS=no) is not applied, and
# nothing says "no longer listening".  A later reload to a free port
# moves the listener.
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"

SP=$(free_port)
WP=$(free_port)
CONF=$T/esocksd.conf
# conf "LISTEN ADDRS" KEY=VALUE...
conf() {
	_l=$1
	shift
	write_conf "$CONF" "SOCKS_LISTEN='$_l'" \
	    "WORKER_LISTEN=127.0.0.1:$WP" "PIDFILE=$T/esocksd.pid" "$@"
}
conf "127.0.0.1:$SP"
start_sink echo
ECHO=$SINK_PORT
start_sink hold
TAKEN=$SINK_PORT
start_esocksd server "$CONF"

# echo_via PORT WHAT: one echo through the proxy on PORT.
echo_via() {
	_got=$(echo "$2" | "$SOCKSC" -x 127.0.0.1:$1 -t 127.0.0.1:$ECHO -w 5 \
	    2>"$T/err") || fail "$2: socksc: $(cat "$T/err")"
	[ "$_got" = "$2" ] || fail "$2: echo returned '$_got'"
}

echo_via $SP before
n=0
for listen in "127.0.0.1:$TAKEN" "127.0.0.1:$SP 127.0.0.1:$TAKEN"; do
	n=$((n + 1))
	conf "$listen" LOG_ACCESS=no
	kill -HUP $ESOCKSD_PID
	wait_for "[ \$(grep -c 'reload failed' '$ESOCKSD_LOG') -ge $n ]" 5 ||
	    fail "no 'reload failed' line for SOCKS_LISTEN='$listen'"
	lib_alive $ESOCKSD_PID || fail "esocksd died on an unbindable reload"
	echo_via $SP "after failed reload $n"
	wait_for "[ \$(grep -c '^access ' '$ESOCKSD_LOG') -ge $((n + 1)) ]" 5 ||
	    fail "no access line after failed reload $n: LOG_ACCESS=no applied"
done
grep 'reload failed' "$ESOCKSD_LOG" | grep -q "$TAKEN" ||
    fail "the failed reload's line does not name the address"
grep -q 'no longer listening' "$ESOCKSD_LOG" &&
    fail "a failed reload closed a listener"
grep -q '^reloaded ' "$ESOCKSD_LOG" && fail "a failed reload was 'reloaded'"
lib_alive $SINK_PID || fail "the tsink holding the port died"

# A free port: the listener moves.
SP2=$(free_port)
conf "127.0.0.1:$SP2"
kill -HUP $ESOCKSD_PID
wait_log "$ESOCKSD_LOG" '^reloaded ' 5 || fail "the good reload failed"
grep -q "no longer listening on socks 127.0.0.1:$SP\$" "$ESOCKSD_LOG" ||
    fail "no 'no longer listening' line for the old port"
echo_via $SP2 "on the new port"
stop_daemon
exit 0

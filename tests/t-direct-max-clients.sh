#!/bin/sh
# MAX_CLIENTS=3 and MAX_CLIENTS_PER_IP=2: with N clients holding tunnels
# (to a "hold" sink), the next one is closed at once, before any SOCKS
# answer; a slot freed by a client that leaves is usable again.  Clients
# from 127.0.0.1 and from ::1 (where the machine has IPv6) are counted
# apart for the per-address cap and together for the global one.
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"

SP=$(free_port)
WP=$(free_port)
LISTEN="127.0.0.1:$SP"
V6=
if have_ipv6; then
	SP6=$(free_port '[::1]:0')
	LISTEN="$LISTEN [::1]:$SP6"
	V6=yes
fi
start_sink hold
HOLD=$SINK_PORT
start_sink echo
ECHO=$SINK_PORT

# hold_one PROXY: a held tunnel in the background; its PID in $HELD.
hold_one() {
	"$SOCKSC" -x "$1" -t 127.0.0.1:$HOLD -H -w 30 >/dev/null \
	    2>"$T/held.$$.$NH" &
	HELD=$!
	HELDS="$HELDS $HELD"
	track_pid $HELD
	wait_for "grep -q '^reply=0x00' '$T/held.$$.$NH'" 5 ||
	    fail "held tunnel $NH via $1: $(cat "$T/held.$$.$NH")"
	NH=$((NH + 1))
}
NH=0
HELDS=

# release_all: end every held tunnel's client.
release_all() {
	for _p in $HELDS; do
		kill "$_p" 2>/dev/null
	done
	HELDS=
}

# refused PROXY: closed before any answer, at once (not after 3 s).
refused() {
	"$SOCKSC" -x "$1" -t 127.0.0.1:$ECHO -n -w 3 2>"$T/err"
	_rc=$?
	[ $_rc -eq 4 ] || fail "client over the cap via $1: exit $_rc, want \
4 (closed): $(cat "$T/err")"
	grep -q '^reply=' "$T/err" && fail "client over the cap got a reply"
}

# works PROXY: an echo through PROXY.
works() {
	_got=$(echo ok | "$SOCKSC" -x "$1" -t 127.0.0.1:$ECHO -w 5 \
	    2>"$T/err") || fail "client under the cap via $1: $(cat "$T/err")"
	[ "$_got" = ok ] || fail "echo via $1 returned '$_got'"
}

# 1. MAX_CLIENTS=3.
write_conf "$T/esocksd.conf" "SOCKS_LISTEN='$LISTEN'" \
    "WORKER_LISTEN=127.0.0.1:$WP" "PIDFILE=$T/esocksd.pid" MAX_CLIENTS=3
start_esocksd server "$T/esocksd.conf"
hold_one 127.0.0.1:$SP
first=$HELD
hold_one 127.0.0.1:$SP
if [ -n "$V6" ]; then
	hold_one "[::1]:$SP6"
	refused "[::1]:$SP6"
else
	hold_one 127.0.0.1:$SP
fi
refused 127.0.0.1:$SP
grep -q 'MAX_CLIENTS (3) reached' "$ESOCKSD_LOG" ||
    fail "no 'MAX_CLIENTS (3) reached' log line"
kill $first
wait_for "[ \$(grep -c 'dest=127.0.0.1:$HOLD' '$ESOCKSD_LOG') -ge 1 ]" 5 ||
    fail "the held tunnel did not end with its client"
works 127.0.0.1:$SP
hold_one 127.0.0.1:$SP
refused 127.0.0.1:$SP
release_all
wait_for "[ \$(grep -c 'dest=127.0.0.1:$HOLD' '$ESOCKSD_LOG') -ge 4 ]" 5 ||
    fail "held tunnels did not end with their clients"
stop_daemon

# 2. MAX_CLIENTS_PER_IP=2.
write_conf "$T/esocksd.conf" "SOCKS_LISTEN='$LISTEN'" \
    "WORKER_LISTEN=127.0.0.1:$WP" "PIDFILE=$T/esocksd.pid" \
    MAX_CLIENTS_PER_IP=2
start_esocksd server "$T/esocksd.conf"
hold_one 127.0.0.1:$SP
first=$HELD
hold_one 127.0.0.1:$SP
refused 127.0.0.1:$SP
grep -q 'MAX_CLIENTS_PER_IP (2) reached' "$ESOCKSD_LOG" ||
    fail "no 'MAX_CLIENTS_PER_IP (2) reached' log line"
if [ -n "$V6" ]; then
	# Another address has its own two.
	hold_one "[::1]:$SP6"
	works "[::1]:$SP6"
	hold_one "[::1]:$SP6"
	refused "[::1]:$SP6"
fi
kill $first
wait_for "[ \$(grep -c 'dest=127.0.0.1:$HOLD' '$ESOCKSD_LOG') -ge 1 ]" 5 ||
    fail "the held tunnel did not end with its client"
works 127.0.0.1:$SP
release_all
stop_daemon
exit 0

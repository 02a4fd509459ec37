#!/bin/sh
# SIGUSR1 logs one line of counters and nothing else happens: after one
# finished tunnel (1000 bytes up, 11 down), one refused connect and one
# bad handshake, the line shows those numbers; a second SIGUSR1 with a
# tunnel open shows it as active.
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"

SP=$(free_port)
WP=$(free_port)
write_conf "$T/esocksd.conf" "SOCKS_LISTEN=127.0.0.1:$SP" \
    "WORKER_LISTEN=127.0.0.1:$WP" "PIDFILE=$T/esocksd.pid"
start_sink discard
DISCARD=$SINK_PORT
start_sink hold
HOLD=$SINK_PORT
CLOSED=$(free_port)
start_esocksd server "$T/esocksd.conf"

got=$("$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$DISCARD -g 1000 -w 5 \
    2>"$T/err") || fail "tunnel to discard: $(cat "$T/err")"
[ "$got" = bytes=1000 ] || fail "discard answered '$got'"
"$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$CLOSED -n -w 5 2>/dev/null
[ $? -eq 3 ] || fail "connect to a closed port was not refused"
"$SOCKSC" -D -t 127.0.0.1:$SP -e "$(printf '\007\007')" -H -w 5 \
    >/dev/null 2>&1
wait_for "[ \$(grep -c 'access ' '$ESOCKSD_LOG') -ge 2 ]" 5 ||
    fail "fewer than 2 access lines"

kill -USR1 $ESOCKSD_PID
wait_log "$ESOCKSD_LOG" '^counters: ' 5 || fail "no counters line on SIGUSR1"
line=$(grep '^counters: ' "$ESOCKSD_LOG")
for kv in workers=0 clients=0 tunnels=0 tunnels_total=1 bytes_up=1000 \
    bytes_down=11 accepted=3 refused=0 handshake_errors=1 \
    connect_failures=1; do
	case " $line " in
	*" $kv "*) ;;
	*) fail "counters line lacks $kv: $line" ;;
	esac
done
lib_alive $ESOCKSD_PID || fail "esocksd died on SIGUSR1"

# An open tunnel counts as active.
"$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$HOLD -H -w 20 >/dev/null \
    2>"$T/held.err" &
held=$!
track_pid $held
wait_for "grep -q '^reply=0x00' '$T/held.err'" 5 || fail "no held tunnel"
kill -USR1 $ESOCKSD_PID
wait_for "[ \$(grep -c '^counters: ' '$ESOCKSD_LOG') -ge 2 ]" 5 ||
    fail "no second counters line"
line=$(grep '^counters: ' "$ESOCKSD_LOG" | tail -n 1)
case " $line " in
*" clients=1 tunnels=1 tunnels_total=2 "*) ;;
*) fail "second counters line does not show the open tunnel: $line" ;;
esac
kill $held
wait_for "grep -q 'dest=127.0.0.1:$HOLD' '$ESOCKSD_LOG'" 5 ||
    fail "the held tunnel did not end with its client"
stop_daemon
exit 0

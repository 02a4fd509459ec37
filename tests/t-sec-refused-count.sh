#!/bin/sh
# The refused counter (SIGUSR1's refused=, esocksd_clients_refused_total)
# counts SOCKS clients only: a connection to the stats listener refused
# by STATS_ALLOW leaves it alone, a SOCKS client over MAX_CLIENTS adds
# one.  A SOCKS4 client refused under AUTH=password is refused, not a
# failed connect: connect_failures= stays 0.
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"

SP=$(free_port)
STP=$(free_port)
write_conf "$T/esocksd.conf" "SOCKS_LISTEN=127.0.0.1:$SP" \
    "WORKER_LISTEN=127.0.0.1:$(free_port)" "PIDFILE=$T/esocksd.pid" \
    "STATS_LISTEN=127.0.0.1:$STP" STATS_ALLOW=192.0.2.0/24 MAX_CLIENTS=1
start_sink hold
HOLD=$SINK_PORT
start_esocksd server "$T/esocksd.conf"

# refused N: SIGUSR1, then the refused= of the Nth counters line.
refused() {
	kill -USR1 $ESOCKSD_PID
	wait_for "[ \$(grep -c '^counters: workers' '$ESOCKSD_LOG') -ge $1 ]" \
	    5 || fail "no counters line $1 on SIGUSR1"
	grep '^counters: workers' "$ESOCKSD_LOG" | sed -n "$1p" |
	    sed 's/.* refused=\([0-9]*\) .*/\1/'
}

"$SOCKSC" -D -t 127.0.0.1:$STP -e 'GET /metrics HTTP/1.0

' -w 5 >/dev/null 2>&1
wait_log "$ESOCKSD_LOG" 'not in STATS_ALLOW' 5 ||
    fail "the stats connection was not refused"
n=$(refused 1)
[ "$n" = 0 ] || fail "a refused stats connection counted: refused=$n"

"$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$HOLD -H -w 20 >/dev/null \
    2>"$T/held.err" &
track_pid $!
wait_for "grep -q '^reply=0x00' '$T/held.err'" 5 || fail "no held tunnel"
"$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$HOLD -n -w 5 >/dev/null 2>&1
wait_log "$ESOCKSD_LOG" 'MAX_CLIENTS \(1\) reached' 5 ||
    fail "the second SOCKS client was not refused"
n=$(refused 2)
[ "$n" = 1 ] || fail "a refused SOCKS client: refused=$n, want 1"
stop_daemon

umask 077
printf 'alice:%s\n' "$("$TOP_BUILDDIR/tests/tcrypt" 1000 salt pw)" \
    >"$T/passwd" || fail "tcrypt failed"
write_conf "$T/auth.conf" "SOCKS_LISTEN=127.0.0.1:$SP" \
    "WORKER_LISTEN=127.0.0.1:$(free_port)" "PIDFILE=$T/auth.pid" \
    AUTH=password "PASSWORD_FILE=$T/passwd"
start_esocksd server "$T/auth.conf"
out=$("$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$HOLD -v 4 -n -w 5 2>&1)
[ "$out" = "reply=0x5b bound=0.0.0.0:0" ] || fail "SOCKS4: '$out'"
n=$(refused 1)
[ "$n" = 1 ] || fail "a SOCKS4 client under AUTH=password: refused=$n"
grep '^counters: workers' "$ESOCKSD_LOG" | grep -q ' connect_failures=0 ' ||
    fail "a SOCKS4 refusal counted as a connect failure: \
$(grep '^counters: workers' "$ESOCKSD_LOG")"
stop_daemon
exit 0

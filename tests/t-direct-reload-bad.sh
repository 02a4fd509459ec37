#!/bin/sh
# A broken config: esocksd -t rejects it with exit 2 and a message naming
# file:line (or the -o option); a SIGHUP with it is logged as a failed
# reload naming file:line, and the old config stays in force (the port
# serves, and LOG_ACCESS=no from the broken file is not applied).  A
# later good file reloads normally.
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"

SP=$(free_port)
WP=$(free_port)
CONF=$T/esocksd.conf
BAD=$T/bad.conf
good() {
	write_conf "$CONF" "SOCKS_LISTEN=127.0.0.1:$SP" \
	    "WORKER_LISTEN=127.0.0.1:$WP" "PIDFILE=$T/esocksd.pid" "$@"
}
# bad FILE LINE3: a file whose third line is LINE3, after two good ones.
bad() {
	write_conf "$1" "SOCKS_LISTEN=127.0.0.1:$SP" \
	    "WORKER_LISTEN=127.0.0.1:$WP" "$2" "PIDFILE=$T/esocksd.pid" \
	    LOG_ACCESS=no
}

# esocksd -t: a good file passes, a bad value and an unknown key fail.
good
"$ESOCKSD" -t -c "$CONF" server >"$T/t.out" 2>&1 ||
    fail "esocksd -t rejects a good config: $(cat "$T/t.out")"
for line in IDLE_TIMEOUT=soon NO_SUCH_KEY=1 "SOCKS_LISTEN=nowhere"; do
	bad "$BAD" "$line"
	"$ESOCKSD" -t -c "$BAD" server >"$T/t.out" 2>&1
	rc=$?
	[ $rc -eq 2 ] || fail "esocksd -t with '$line': exit $rc, want 2: \
$(sed -n 1,5p "$T/t.out")"
	grep -q "$BAD:3:" "$T/t.out" ||
	    fail "esocksd -t with '$line' does not name $BAD:3: \
$(cat "$T/t.out")"
done
"$ESOCKSD" -t -c "$CONF" -o IDLE_TIMEOUT=soon server >"$T/t.out" 2>&1
rc=$?
[ $rc -eq 2 ] || fail "esocksd -t -o IDLE_TIMEOUT=soon: exit $rc, want 2: \
$(sed -n 1,5p "$T/t.out")"
grep -q -- "-o IDLE_TIMEOUT=soon" "$T/t.out" ||
    fail "esocksd -t does not name the bad -o: $(cat "$T/t.out")"

# A running daemon, then two broken reloads.
start_sink echo
ECHO=$SINK_PORT
start_esocksd server "$CONF"
n=0
for line in IDLE_TIMEOUT=soon NO_SUCH_KEY=1; do
	n=$((n + 1))
	bad "$CONF" "$line"
	kill -HUP $ESOCKSD_PID
	wait_for "[ \$(grep -c 'reload failed' '$ESOCKSD_LOG') -ge $n ]" 5 ||
	    fail "no 'reload failed' log line for '$line'"
	grep 'reload failed' "$ESOCKSD_LOG" | tail -n 1 |
	    grep -q "keeping the old configuration: .*esocksd.conf:3:" ||
	    fail "the failed reload's line does not name esocksd.conf:3"
	lib_alive $ESOCKSD_PID || fail "esocksd died on a broken reload"
	got=$(echo "after $n" | "$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$ECHO \
	    -w 5 2>"$T/err") || fail "tunnel after broken reload $n: \
$(cat "$T/err")"
	[ "$got" = "after $n" ] || fail "echo after broken reload: '$got'"
	wait_for "[ \$(grep -c '^access ' '$ESOCKSD_LOG') -ge $n ]" 5 ||
	    fail "no access line after broken reload $n: LOG_ACCESS=no applied?"
done
grep -q '^reloaded ' "$ESOCKSD_LOG" && fail "a broken file was 'reloaded'"

# A good file with LOG_ACCESS=no: reloaded, and now it applies.
good LOG_ACCESS=no
kill -HUP $ESOCKSD_PID
wait_log "$ESOCKSD_LOG" '^reloaded ' 5 || fail "the good file did not reload"
got=$(echo last | "$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$ECHO -w 5 \
    2>"$T/err") || fail "tunnel after the good reload: $(cat "$T/err")"
[ "$got" = last ] || fail "echo after the good reload: '$got'"
kill -USR1 $ESOCKSD_PID
wait_log "$ESOCKSD_LOG" 'counters: .* tunnels=0 tunnels_total=3 ' 5 ||
    fail "no counters line showing 3 finished tunnels"
n=$(grep -c '^access ' "$ESOCKSD_LOG")
[ "$n" -eq 2 ] || fail "$n access lines, want 2 (LOG_ACCESS=no after reload)"
stop_daemon
exit 0

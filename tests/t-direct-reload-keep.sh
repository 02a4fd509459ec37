#!/bin/sh
# A reload that changes only unrelated keys keeps the listener's socket:
# the same listening socket (its inode in /proc/net/tcp, Linux) before
# and after, no "no longer listening" and no second "listening on" line,
# a client in the middle of its handshake across the reload is served,
# and the changed key (LOG_ACCESS=no) applies to every tunnel that ends
# after the reload.
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"

# The inode of the socket listening on 127.0.0.1:PORT, or nothing.
listen_inode() {
	_hex=$(printf '0100007F:%04X' "$1")
	awk -v a="$_hex" '$2 == a && $4 == "0A" { print $10 }' \
	    /proc/net/tcp 2>/dev/null
}

SP=$(free_port)
WP=$(free_port)
CONF=$T/esocksd.conf
write_conf "$CONF" "SOCKS_LISTEN=127.0.0.1:$SP" \
    "WORKER_LISTEN=127.0.0.1:$WP" "PIDFILE=$T/esocksd.pid"
start_sink echo
ECHO=$SINK_PORT
start_esocksd server "$CONF"

got=$(echo one | "$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$ECHO -w 5 \
    2>"$T/err") || fail "first tunnel: $(cat "$T/err")"
[ "$got" = one ] || fail "first echo returned '$got'"
wait_log "$ESOCKSD_LOG" '^access ' 5 || fail "no access line"
before=$(listen_inode $SP)

# A client whose handshake is in flight during the reload: it sends its
# first byte, then one every 100 ms.
"$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$ECHO -s 100 -e during -w 10 \
    </dev/null >"$T/during.out" 2>"$T/during.err" &
during=$!
track_pid $during

write_conf "$CONF" "SOCKS_LISTEN=127.0.0.1:$SP" \
    "WORKER_LISTEN=127.0.0.1:$WP" "PIDFILE=$T/esocksd.pid" \
    LOG_ACCESS=no IDLE_TIMEOUT=30 HANDSHAKE_TIMEOUT=5
kill -HUP $ESOCKSD_PID
wait_log "$ESOCKSD_LOG" '^reloaded ' 5 || fail "no 'reloaded' line"
after=$(listen_inode $SP)
grep -q 'no longer listening' "$ESOCKSD_LOG" &&
    fail "an unchanged listener was closed on reload"
n=$(grep -c "listening on socks 127.0.0.1:$SP\$" "$ESOCKSD_LOG")
[ "$n" -eq 1 ] || fail "$n 'listening on socks' lines, want 1"
if [ -r /proc/net/tcp ]; then
	[ -n "$before" ] || fail "no listening socket on port $SP in /proc"
	[ "$before" = "$after" ] ||
	    fail "the listening socket changed on reload: $before -> $after"
fi

wait_for "! lib_alive $during" 5 || fail "the client in its handshake hangs"
wait $during
rc=$?
[ $rc -eq 0 ] || fail "client in its handshake during reload: exit $rc: \
$(cat "$T/during.err")"
[ "$(cat "$T/during.out")" = during ] ||
    fail "client in its handshake during reload got '$(cat "$T/during.out")'"

got=$(echo two | "$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$ECHO -w 5 \
    2>"$T/err") || fail "tunnel after reload: $(cat "$T/err")"
[ "$got" = two ] || fail "echo after reload returned '$got'"
kill -USR1 $ESOCKSD_PID
wait_log "$ESOCKSD_LOG" 'counters: .* tunnels=0 tunnels_total=3 ' 5 ||
    fail "no counters line showing 3 finished tunnels"
n=$(grep -c '^access ' "$ESOCKSD_LOG")
[ "$n" -eq 1 ] || fail "$n access lines, want 1 (LOG_ACCESS=no on reload)"
stop_daemon
exit 0

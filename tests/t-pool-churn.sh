#!/bin/sh
# Endurance, briefly: continuous connect + echo through a server with 3
# workers for 20 s while one worker is killed (SIGKILL) and started again
# every 2 s, in turn.  Every echoed byte is checked (tchurn): none may be
# corrupt, no request may be refused (a request on a dying worker is
# retried on another), and the only tunnels lost are those the killed
# workers carried: each restart has a name of its own (wN-gG), and every
# access line that did not end ok must say result=link-lost via= a
# worker that was killed, never one still running.
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"

TCHURN=${TCHURN:-$TOP_BUILDDIR/tests/tchurn}
[ -x "$ESOCKSD" ] && [ -x "$TSINK" ] && [ -x "$TCHURN" ] ||
    skip "esocksd, tsink or tchurn not built"

SECS=20
SP=$(free_port)
WP=$(free_port)
write_conf "$T/server.conf" "SOCKS_LISTEN=127.0.0.1:$SP" \
    "WORKER_LISTEN=127.0.0.1:$WP" NO_WORKER=refuse LOG_CONNECTION=no \
    "PIDFILE=$T/server.pid"
start_esocksd server "$T/server.conf"
SRV_LOG=$ESOCKSD_LOG
start_sink echo
ECHO=$SINK_PORT

# start_worker I G: worker I under the name wI-gG; its PID in W_I.
start_worker() {
	write_conf "$T/w$1.conf" "SERVERS=127.0.0.1:$WP" \
	    "WORKER_NAME=w$1-g$2" RECONNECT_INTERVAL=0.2 LOG_CONNECTION=no \
	    "PIDFILE=$T/w$1.pid"
	start_esocksd worker "$T/w$1.conf"
	eval "W_$1=\$ESOCKSD_PID"
}
for i in 0 1 2; do
	start_worker $i 0
done
for i in 0 1 2; do
	wait_log "$SRV_LOG" "worker w$i-g0 \(.*\) joined the pool" 10 ||
	    fail "worker w$i-g0 did not join"
done

"$TCHURN" -x 127.0.0.1:$SP -t 127.0.0.1:$ECHO -d $SECS -c 6 \
    >"$T/churn.out" 2>"$T/churn.err" &
CHURN=$!
track_pid $CHURN

# Kill and restart one worker every 2 s, w0, w1, w2, w0...
KILLED=
k=1
while [ $k -lt $((SECS / 2)) ]; do
	sleep 2
	i=$((k % 3))
	g=$(( (k - 1) / 3 ))
	eval "pid=\$W_$i"
	kill -9 "$pid"
	wait "$pid" 2>/dev/null
	KILLED="$KILLED w$i-g$g"
	start_worker $i $((g + 1))
	k=$((k + 1))
done
wait $CHURN
rc=$?
cat "$T/churn.out" "$T/churn.err" >&2
[ "$rc" -eq 0 ] || fail "tchurn exited $rc: corrupt bytes or an error"
value() {
	sed -n "s/^$1 //p" "$T/churn.out"
}
ok=$(value ok)
refused=$(value refused)
lost=$(value lost)
[ "$(value corrupt)" = 0 ] || fail "corrupt tunnels: $(value corrupt)"
[ -n "$ok" ] && [ "$ok" -ge 100 ] || fail "only $ok tunnels echoed in $SECS s"
[ "$refused" = 0 ] || fail "$refused tunnels refused or not opened"

# The server's side: what did not end ok was cut with a killed worker.
wait_for "[ \$(grep -c '^access ' '$SRV_LOG') -ge $((ok + lost)) ]" 10 ||
    fail "fewer access lines than tunnels"
grep '^access ' "$SRV_LOG" | grep -v ' result=ok ' >"$T/notok" || :
n=$(wc -l <"$T/notok")
[ "$lost" -le "$n" ] ||
    fail "$lost tunnels lost at the client, $n not ok at the server"
while read -r line; do
	case $line in
	*" result=link-lost "*) ;;
	*) fail "a tunnel ended other than link-lost: $line" ;;
	esac
	via=$(printf '%s\n' "$line" | sed 's/.* via=\([^ ]*\) .*/\1/')
	case " $KILLED " in
	*" $via "*) ;;
	*) fail "a tunnel lost with $via, which was not killed: $line" ;;
	esac
done <"$T/notok"
echo "churn: ok=$ok lost=$lost (server: $n cut with killed workers:" \
    "$(echo "$KILLED" | wc -w) kills)"
exit 0

#!/bin/sh
# CONNECT_TIMEOUT=1: a destination whose connect hangs (tsink blackhole)
# gets a failure reply (SOCKS5 0x06 or 0x04, SOCKS4 0x5b) about a second
# later, logged as result=timeout; clients that give up before the
# deadline are cleaned up too, and the daemon's descriptor count returns
# to its baseline (Linux /proc).
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"

# The daemon's open descriptors (Linux /proc), or "?".
nfds() {
	if [ -d "/proc/$ESOCKSD_PID/fd" ]; then
		ls "/proc/$ESOCKSD_PID/fd" | wc -l | tr -d ' '
	else
		echo '?'
	fi
}

SP=$(free_port)
WP=$(free_port)
write_conf "$T/esocksd.conf" "SOCKS_LISTEN=127.0.0.1:$SP" \
    "WORKER_LISTEN=127.0.0.1:$WP" "PIDFILE=$T/esocksd.pid" \
    CONNECT_TIMEOUT=1
start_sink echo
ECHO=$SINK_PORT
start_sink blackhole
HOLE=$SINK_PORT
start_esocksd server "$T/esocksd.conf"

# The baseline, after one tunnel has come and gone (a host name, so the
# resolver has started too).
got=$(echo x | "$SOCKSC" -x 127.0.0.1:$SP -t localhost:$ECHO -w 10 \
    2>"$T/err") || fail "tunnel to the echo sink: $(cat "$T/err")"
[ "$got" = x ] || fail "echo returned '$got'"
wait_log "$ESOCKSD_LOG" '^access ' 5 || fail "no access line"
# The access line comes before the tunnel's sockets are closed.
base=$(settled nfds)

# Three at once, by number, by name and by SOCKS4, plus five that give
# up after 0.3 s while their dial is pending; the three are still waiting
# at 0.5 s and all are refused by 3 s.
i=0
for args in "-t 127.0.0.1:$HOLE" "-t localhost:$HOLE" \
    "-t 127.0.0.1:$HOLE -v 4"; do
	i=$((i + 1))
	"$SOCKSC" -x 127.0.0.1:$SP $args -n -w 10 2>"$T/c$i.err" &
	eval "pid$i=\$!"
	track_pid $!
done
for i in 1 2 3 4 5; do
	"$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$HOLE -n -w 0.3 \
	    >/dev/null 2>&1 &
	track_pid $!
done
sleep 0.5
for i in 1 2 3; do
	eval "p=\$pid$i"
	lib_alive $p || fail "client $i answered before CONNECT_TIMEOUT: \
$(cat "$T/c$i.err")"
done
for i in 1 2 3; do
	eval "p=\$pid$i"
	wait_for "! lib_alive $p" 3 ||
	    fail "client $i not answered 3.5 s after a 1 s CONNECT_TIMEOUT"
	wait $p
	rc=$?
	line=$(grep '^reply=' "$T/c$i.err")
	case $i:$rc:${line%% *} in
	[12]:3:reply=0x06|[12]:3:reply=0x04|3:3:reply=0x5b) ;;
	*) fail "client $i: exit $rc, '$(cat "$T/c$i.err")'" ;;
	esac
done
wait_for "[ \$(grep -c 'result=timeout' '$ESOCKSD_LOG') -ge 8 ]" 3 ||
    fail "expected 8 access lines with result=timeout"

# Every descriptor of the timed-out dials is closed.
wait_for "[ \"\$(nfds)\" = '$base' ]" 2 ||
    fail "daemon holds $(nfds) descriptors after 8 connect timeouts, \
$base before (a timed-out dial's socket left open?)"

# The blackhole goes away: a connect still pending in the daemon would
# now be refused at the next SYN retransmission and call back into a
# dial that no longer exists.  Give that time to happen.
kill $SINK_PID
sleep 4
lib_alive $ESOCKSD_PID || fail "esocksd died after the blackhole closed"
got=$(echo y | "$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$ECHO -w 10 \
    2>"$T/err") || fail "tunnel after the timeouts: $(cat "$T/err")"
[ "$got" = y ] || fail "echo after the timeouts returned '$got'"
wait_for "[ \"\$(nfds)\" = '$base' ]" 2 ||
    fail "daemon holds $(nfds) descriptors, $base before the timeouts"
stop_daemon
exit 0

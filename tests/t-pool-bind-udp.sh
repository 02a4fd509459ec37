#!/bin/sh
# BIND and UDP ASSOCIATE through a worker (PROTOCOL.md 4: the worker
# announces cmds=bind,udp; datagrams travel as P messages naming their
# target or source; a bind session's A names where the worker listens,
# its C the peer).  With NO_WORKER=refuse nothing may go direct: the
# access lines say via=w1.  The same checks as the direct tests: UDP
# echoes of IPv4, IPv6 and named targets, a third party and a fragment
# dropped, the association ending with its TCP connection; a BIND whose
# peer connects to the worker's port and swaps bytes, one that times
# out, one whose peer comes from the wrong address.  Then a legacy
# text-net worker alone: it never sees BIND or UDP, which get 0x07.
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"

SP=$(free_port)
WP=$(free_port)
write_conf "$T/server.conf" "SOCKS_LISTEN=127.0.0.1:$SP" \
    "WORKER_LISTEN=127.0.0.1:$WP" NO_WORKER=refuse "PIDFILE=$T/server.pid"
start_esocksd server "$T/server.conf"
SRV_LOG=$ESOCKSD_LOG
write_conf "$T/w1.conf" "SERVERS=127.0.0.1:$WP" WORKER_NAME=w1 \
    RECONNECT_INTERVAL=0.2 BIND_TIMEOUT=2 LOG_SESSION=yes \
    "PIDFILE=$T/w1.pid"
start_esocksd worker "$T/w1.conf"
W1_LOG=$ESOCKSD_LOG
W1_PID=$ESOCKSD_PID
wait_log "$SRV_LOG" "worker w1 \(.*\) joined the pool" 10 ||
    fail "worker w1 did not join the pool"

start_sink udpecho
ECHO=$SINK_PORT

# udp TARGET EXPECT-FROM: one datagram's echo, through w1.
udp() {
	_got=$("$UDPC" -x 127.0.0.1:$SP -u "$1" -m "to $1" -w 10 \
	    2>"$T/err")
	_rc=$?
	[ $_rc -eq 0 ] || fail "UDP to $1: udpc exit $_rc: $_got $(cat "$T/err")"
	[ "$_got" = "from=$2 data=echo:to $1" ] || fail "UDP to $1: got '$_got'"
}
udp 127.0.0.1:$ECHO 127.0.0.1:$ECHO
udp localhost:$ECHO 127.0.0.1:$ECHO
if have_ipv6; then
	start_sink udpecho '[::1]:0'
	udp "[::1]:$SINK_PORT" "[::1]:$SINK_PORT"
fi
got=$("$UDPC" -x 127.0.0.1:$SP -u 127.0.0.1:$ECHO -T -w 10 2>"$T/err")
case $got in
*"thirdparty=dropped"*) ;;
*) fail "third party: got '$got' $(cat "$T/err")" ;;
esac
got=$("$UDPC" -x 127.0.0.1:$SP -u 127.0.0.1:$ECHO -F 1 -w 10 2>"$T/err")
[ "$got" = noreply ] || fail "FRAG 1: got '$got' $(cat "$T/err")"
got=$("$UDPC" -x 127.0.0.1:$SP -u 127.0.0.1:$ECHO -C -w 10 2>"$T/err")
case $got in
*"relay=closed"*) ;;
*) fail "after the TCP close: got '$got' $(cat "$T/err")" ;;
esac
# The worker's side of each association goes with it.
wait_for "[ \$(grep -c 'session udp closed' '$W1_LOG') -ge 6 ]" 5 ||
    fail "the worker did not close its UDP sessions"

# bind_start DST: a BIND in the background; BOUND is where to connect.
bind_start() {
	rm -f "$T/bind.err"
	"$UDPC" -x 127.0.0.1:$SP -b "$1" -m "from client" -w 15 \
	    >"$T/bind.out" 2>"$T/bind.err" &
	BIND_PID=$!
	track_pid $BIND_PID
	wait_for "grep -q '^bound=' '$T/bind.err'" 10 ||
	    fail "BIND $1: no first reply: $(cat "$T/bind.err")"
	BOUND=$(sed -n 's/^bound=//p' "$T/bind.err")
}
bind_start 127.0.0.1:0
# The port is the worker's: it listens there, not the server.
grep -q "session bind 127.0.0.1:0 open" "$W1_LOG" &&
    fail "the worker reported the peer before one connected"
got=$("$UDPC" -c "$BOUND" -m "from peer" -w 10 2>"$T/peer.err")
[ "$got" = "from client" ] || fail "BIND via w1: the peer got '$got'"
wait $BIND_PID || fail "BIND via w1: udpc: $(cat "$T/bind.err")"
[ "$(cat "$T/bind.out")" = "from peer" ] ||
    fail "BIND via w1: the client got '$(cat "$T/bind.out")'"
grep -q "session bind 127.0.0.1:0 open" "$W1_LOG" ||
    fail "the worker did not take the BIND's peer"

bind_start 127.0.0.2:0
got=$("$UDPC" -c "$BOUND" -m intruder -w 10 2>"$T/peer.err")
[ -z "$got" ] || fail "the wrong peer got '$got'"
wait $BIND_PID
rc=$?
[ $rc -eq 3 ] && grep -q '^reply2=0x06' "$T/bind.err" ||
    fail "BIND with a wrong peer via w1: exit $rc $(cat "$T/bind.err")"
wait_log "$W1_LOG" "peer 127\.0\.0\.1:[0-9]* refused: not the address" 5 ||
    fail "the worker did not log the wrong peer"

n=$(grep -c 'cmd=udp .* via=w1 result=ok' "$SRV_LOG")
[ "$n" -ge 6 ] || fail "$n cmd=udp access lines via w1, want 6 or more"
grep -q 'cmd=bind dest=127.0.0.1:0 via=w1 result=ok ' "$SRV_LOG" ||
    fail "no access line for the BIND via w1"
grep -q 'cmd=bind dest=127.0.0.2:0 via=w1 result=timeout ' "$SRV_LOG" ||
    fail "no access line for the BIND via w1 that timed out"
grep -q 'via=direct' "$SRV_LOG" && fail "a request went direct"

# Only a legacy worker (a bare RGST on the link): BIND and UDP, 0x07.
stop_pid "$W1_PID"
wait_log "$SRV_LOG" "worker w1 \(.*\) left the pool" 10 ||
    fail "w1 did not leave"
mkfifo "$T/legacy.in"
"$SOCKSC" -D -t 127.0.0.1:$WP -w 30 <"$T/legacy.in" >/dev/null 2>&1 &
track_pid $!
exec 7>"$T/legacy.in"
printf 'RGST 0 0 legacy\r\n' >&7
wait_log "$SRV_LOG" "worker legacy \(.*\) joined the pool" 10 ||
    fail "the legacy worker did not join"
"$UDPC" -x 127.0.0.1:$SP -u 127.0.0.1:$ECHO -w 10 >/dev/null 2>"$T/err"
grep -q '^reply=0x07' "$T/err" || fail "UDP with a legacy worker: $(cat "$T/err")"
"$UDPC" -x 127.0.0.1:$SP -b 127.0.0.1:0 -w 10 >/dev/null 2>"$T/err"
grep -q '^reply=0x07' "$T/err" || fail "BIND with a legacy worker: $(cat "$T/err")"
exec 7>&-
stop_daemon
exit 0

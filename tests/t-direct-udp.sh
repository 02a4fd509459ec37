#!/bin/sh
# Direct mode UDP ASSOCIATE (RFC 1928 section 7), driven by udpc (written
# from the RFC): echoes of datagrams to an IPv4, an IPv6 and a named
# ('localhost') target come back wrapped in their source's header; a
# datagram from a third party (another port of the client's address, once
# the client's port is known) is not relayed; a fragment (FRAG != 0) is
# dropped; the relay closes within a second of its TCP connection; and
# the access line says cmd=udp with datagram counts.  A second server
# with DEST_DENY drops datagrams to a denied target, by address and by
# name; a third holds an association to UDP_RATE datagrams a second and
# UDP_MAX_TARGETS targets.
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"

SP=$(free_port)
WP=$(free_port)
write_conf "$T/esocksd.conf" "SOCKS_LISTEN=127.0.0.1:$SP" \
    "WORKER_LISTEN=127.0.0.1:$WP" "PIDFILE=$T/esocksd.pid" \
    LOG_SESSION=yes
start_sink udpecho
ECHO=$SINK_PORT
start_esocksd server "$T/esocksd.conf"

# udp TARGET EXPECT-FROM [UDPC-ARGS]: one datagram's echo.
udp() {
	_t=$1
	_from=$2
	shift 2
	_got=$("$UDPC" -x 127.0.0.1:$SP -u "$_t" -m "to $_t" -w 10 "$@" \
	    2>"$T/err")
	_rc=$?
	[ $_rc -eq 0 ] || fail "UDP to $_t: udpc exit $_rc: $_got $(cat "$T/err")"
	[ "$_got" = "from=$_from data=echo:to $_t" ] ||
	    fail "UDP to $_t: got '$_got'"
	grep -q '^relay=127\.0\.0\.1:' "$T/err" ||
	    fail "UDP to $_t: relay address $(cat "$T/err")"
}

udp 127.0.0.1:$ECHO 127.0.0.1:$ECHO
udp localhost:$ECHO 127.0.0.1:$ECHO
# The client's port given in the request: only that port may send.
udp 127.0.0.1:$ECHO 127.0.0.1:$ECHO -p "$(free_port)"

if have_ipv6; then
	start_sink udpecho '[::1]:0'
	ECHO6=$SINK_PORT
	udp "[::1]:$ECHO6" "[::1]:$ECHO6"
fi

# A third party's datagram is not relayed; the first one was.
got=$("$UDPC" -x 127.0.0.1:$SP -u 127.0.0.1:$ECHO -T -w 10 2>"$T/err")
case $got in
*"thirdparty=dropped"*) ;;
*) fail "third party: got '$got' $(cat "$T/err")" ;;
esac
wait_log "$ESOCKSD_LOG" "datagram from 127\.0\.0\.1:[0-9]* dropped \(not the client\)" 5 ||
    fail "no log line for the third party's datagram"

# A fragment is dropped, and counted.
got=$("$UDPC" -x 127.0.0.1:$SP -u 127.0.0.1:$ECHO -F 1 -w 10 2>"$T/err")
[ "$got" = noreply ] || fail "FRAG 1: got '$got' $(cat "$T/err")"

# The relay goes with its TCP connection, within a second.
got=$("$UDPC" -x 127.0.0.1:$SP -u 127.0.0.1:$ECHO -C -w 10 2>"$T/err")
case $got in
*"relay=closed"*) ;;
*) fail "after the TCP close: got '$got' $(cat "$T/err")" ;;
esac

n=$(grep -c 'cmd=udp .* result=ok .* dgrams_up=' "$ESOCKSD_LOG")
[ "$n" -ge 6 ] || fail "$n cmd=udp access lines, want 6 or more"
grep -q 'cmd=udp .* dgrams_up=0 dgrams_down=0 dropped=1$' "$ESOCKSD_LOG" ||
    fail "no access line counting the fragment as dropped"
grep -q 'cmd=udp .* up=5 down=10 .*dgrams_up=1 dgrams_down=1 dropped=1$' \
    "$ESOCKSD_LOG" || fail "no access line counting the third party"
stop_daemon

SP=$(free_port)
WP=$(free_port)
write_conf "$T/deny.conf" "SOCKS_LISTEN=127.0.0.1:$SP" \
    "WORKER_LISTEN=127.0.0.1:$WP" "PIDFILE=$T/deny.pid" \
    "DEST_DENY=127.0.0.0/8:$ECHO"
start_esocksd server "$T/deny.conf"
for t in 127.0.0.1:$ECHO localhost:$ECHO; do
	got=$("$UDPC" -x 127.0.0.1:$SP -u "$t" -w 10 2>"$T/err")
	[ "$got" = noreply ] || fail "DEST_DENY to $t: got '$got' $(cat "$T/err")"
done
wait_for "[ \$(grep -c 'cmd=udp .*dgrams_up=1 dgrams_down=0 dropped=1\$' \
    '$ESOCKSD_LOG') -eq 2 ]" 5 || fail "denied datagrams not counted"
stop_daemon

SP=$(free_port)
WP=$(free_port)
write_conf "$T/caps.conf" "SOCKS_LISTEN=127.0.0.1:$SP" \
    "WORKER_LISTEN=127.0.0.1:$WP" "PIDFILE=$T/caps.pid" \
    UDP_RATE=3 UDP_MAX_TARGETS=1
start_esocksd server "$T/caps.conf"
# Ten at once: three pass this second; the other target is one too many.
got=$("$UDPC" -x 127.0.0.1:$SP -u 127.0.0.1:$ECHO -R 10 -w 10 2>"$T/err")
[ "$got" = replies=3 ] || fail "UDP_RATE=3: got '$got' $(cat "$T/err")"
got=$("$UDPC" -x 127.0.0.1:$SP -u 127.0.0.1:$ECHO -R 1 -A localhost:$ECHO \
    -w 10 2>"$T/err")
[ "$got" = replies=1 ] || fail "UDP_MAX_TARGETS=1: got '$got' $(cat "$T/err")"
wait_for "grep -q 'cmd=udp .*dgrams_up=10 dgrams_down=3 dropped=7\$' \
    '$ESOCKSD_LOG'" 5 || fail "UDP_RATE drops not counted"
wait_for "grep -q 'cmd=udp .*dgrams_up=2 dgrams_down=1 dropped=1\$' \
    '$ESOCKSD_LOG'" 5 || fail "UDP_MAX_TARGETS drops not counted"
stop_daemon
exit 0

#!/bin/sh
# BIND and UDP ASSOCIATE from a real client: the npm package `socks`
# (tests/interop/socks-client.js), first in direct mode, then through a
# worker.  A BIND's peer connects to the port of the first reply and
# bytes go both ways; a UDP datagram to an IPv4 address and to
# 'localhost' comes back from the echo.  Installed like the text-net
# library, by `npm ci --prefix tests/interop`; skips (77) without node
# or without that install.
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"

command -v node >/dev/null 2>&1 || skip "node is not installed"
# ESOCKSD_TEST_INTEROP names another tests/interop with its install
# (.ci/run: the checkout's, for make distcheck's copy of the tree).
INTEROP=${ESOCKSD_TEST_INTEROP:-$TOP_SRCDIR/tests/interop}
unset NODE_PATH
[ -r "$INTEROP/node_modules/socks/package.json" ] ||
    skip "the npm package socks is not installed:" \
    "run 'npm ci --prefix tests/interop' once"

SP=$(free_port)
WP=$(free_port)
write_conf "$T/server.conf" "SOCKS_LISTEN=127.0.0.1:$SP" \
    "WORKER_LISTEN=127.0.0.1:$WP" "PIDFILE=$T/server.pid"
start_esocksd server "$T/server.conf"
SRV_LOG=$ESOCKSD_LOG
start_sink udpecho
ECHO=$SINK_PORT

# check VIA: a BIND and two UDP echoes through the proxy.
check() {
	node "$INTEROP/socks-client.js" bind $SP >"$T/bind.out" 2>&1 &
	_pid=$!
	track_pid $_pid
	wait_for "grep -q '^bound=' '$T/bind.out'" 10 ||
	    fail "$1: npm socks BIND: $(cat "$T/bind.out")"
	_bound=$(sed -n 's/^bound=//p' "$T/bind.out")
	_got=$("$UDPC" -c "$_bound" -m "from peer" -w 10 2>"$T/peer.err")
	[ "$_got" = "from npm" ] || fail "$1: the peer got '$_got'"
	wait $_pid || fail "$1: npm socks BIND: $(cat "$T/bind.out")"
	grep -q '^got=from peer$' "$T/bind.out" ||
	    fail "$1: npm socks BIND got $(cat "$T/bind.out")"
	for _h in 127.0.0.1 localhost; do
		_got=$(node "$INTEROP/socks-client.js" udp $SP $_h $ECHO 2>&1)
		[ "$_got" = "from=127.0.0.1:$ECHO data=echo:from npm" ] ||
		    fail "$1: npm socks UDP to $_h: '$_got'"
	done
	wait_for "[ \$(grep -c 'cmd=udp .* via=$1 result=ok' '$SRV_LOG') -ge 2 ]" \
	    5 || fail "$1: no cmd=udp access lines via=$1"
	grep -q "cmd=bind .* via=$1 result=ok" "$SRV_LOG" ||
	    fail "$1: no cmd=bind access line via=$1"
}
check direct

write_conf "$T/w1.conf" "SERVERS=127.0.0.1:$WP" WORKER_NAME=w1 \
    RECONNECT_INTERVAL=0.2 "PIDFILE=$T/w1.pid"
start_esocksd worker "$T/w1.conf"
wait_log "$SRV_LOG" "worker w1 \(.*\) joined the pool" 10 ||
    fail "worker w1 did not join the pool"
check w1
stop_daemon
exit 0

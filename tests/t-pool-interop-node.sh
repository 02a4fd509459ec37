#!/bin/sh
# Interoperability with the original Node.js text-net peers, using the
# real npm package @dongmuni/nodejs-text-net (tests/interop/*.js):
#  - a legacy Node worker registers with our server (no secret, no
#    HELO, no extensions), is kept alive by its legacy PINGs past
#    WORKER_IDLE_CLOSE, and carries tunnels, several at once, both ways;
#  - our worker registers with a legacy Node server (after waiting for a
#    HELO that never comes) and relays the sessions that server opens.
# The library is installed once, beside the scripts, by
# `npm ci --prefix tests/interop` (README's first line and .ci/run do
# it); the test itself needs no npm and no network, and skips (77)
# without node or without that install.
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"

[ -x "$ESOCKSD" ] && [ -x "$SOCKSC" ] && [ -x "$TSINK" ] ||
    skip "esocksd, socksc or tsink not built"
command -v node >/dev/null 2>&1 || skip "node is not installed"
# ESOCKSD_TEST_INTEROP names another tests/interop with its install
# (.ci/run: the checkout's, for make distcheck's copy of the tree).
INTEROP=${ESOCKSD_TEST_INTEROP:-$TOP_SRCDIR/tests/interop}
[ -r "$INTEROP/legacy-worker.js" ] || skip "no $INTEROP/legacy-worker.js"
# Node looks in tests/interop/node_modules, beside the scripts, first;
# a NODE_PATH from the environment must not supply another copy.
unset NODE_PATH
[ -r "$INTEROP/node_modules/@dongmuni/nodejs-text-net/package.json" ] ||
    skip "@dongmuni/nodejs-text-net is not installed:" \
    "run 'npm ci --prefix tests/interop' once"
node -e 'require(process.argv[1])' \
    "$INTEROP/node_modules/@dongmuni/nodejs-text-net" >"$T/node.log" 2>&1 ||
    fail "@dongmuni/nodejs-text-net in $INTEROP does not load:" \
    "$(tail -n 5 "$T/node.log")"

start_sink echo
ECHO=$SINK_PORT
start_sink sum
SUM=$SINK_PORT
start_sink source:3M
SOURCE=$SINK_PORT

# check_tunnels SOCKSPORT WHAT: echo, upload and download, each intact.
check_tunnels() {
	_got=$("$SOCKSC" -x 127.0.0.1:$1 -t 127.0.0.1:$ECHO -g 1M -k -w 20 \
	    2>"$T/c.err") || fail "$2: echo tunnel failed: $(cat "$T/c.err")"
	[ "$_got" = "$("$SOCKSC" -G 1M -k)" ] ||
	    fail "$2: echo of 1 MiB damaged: '$_got'"
	_got=$("$SOCKSC" -x 127.0.0.1:$1 -t 127.0.0.1:$SUM -g 4M -w 20 \
	    2>"$T/c.err") || fail "$2: upload tunnel failed: $(cat "$T/c.err")"
	[ "$_got" = "$("$SOCKSC" -G 4M -k)" ] ||
	    fail "$2: upload of 4 MiB damaged: '$_got'"
	_got=$("$SOCKSC" -x 127.0.0.1:$1 -t 127.0.0.1:$SOURCE -k -w 20 \
	    </dev/null 2>"$T/c.err") ||
	    fail "$2: download tunnel failed: $(cat "$T/c.err")"
	[ "$_got" = "$("$SOCKSC" -G 3M -k)" ] ||
	    fail "$2: download of 3 MiB damaged: '$_got'"
}

# Start a node script in the background, logging to $T/NAME.log.
start_node() {
	_name=$1
	shift
	node "$@" >"$T/$_name.log" 2>&1 &
	NODE_PID=$!
	track_pid $NODE_PID
	LIB_LOGS="$LIB_LOGS $T/$_name.log"
}

# 1. A legacy Node worker in our server's pool.
SP=$(free_port)
WP=$(free_port)
write_conf "$T/server.conf" "SOCKS_LISTEN=127.0.0.1:$SP" \
    "WORKER_LISTEN=127.0.0.1:$WP" NO_WORKER=refuse WORKER_IDLE_CLOSE=3 \
    "PIDFILE=$T/server.pid"
start_esocksd server "$T/server.conf"
SRV_LOG=$ESOCKSD_LOG
start_node legacy-worker "$INTEROP/legacy-worker.js" 127.0.0.1 $WP 1000
NODE_WORKER=$NODE_PID
wait_log "$SRV_LOG" 'joined the pool \(legacy text-net\)' 15 ||
    fail "the Node worker did not join the pool as a legacy worker"
NAME=$(sed -n 's/^worker \(.*\) (127\.0\.0\.1:[0-9]*) joined the pool (legacy text-net)$/\1/p' \
    "$SRV_LOG" | head -n 1)
[ -n "$NAME" ] || fail "cannot read the Node worker's name from the log"
want=$(node -e 'console.log(require("os").hostname())')
[ "$NAME" = "$want" ] || fail "Node worker registered as '$NAME', want" \
    "its host name '$want'"
check_tunnels $SP "legacy worker"

# Several at once on the one legacy link.
i=0
while [ $i -lt 4 ]; do
	"$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$ECHO -g 512K -k -w 20 \
	    >"$T/par.$i" 2>"$T/par.$i.err" &
	eval "PAR_$i=\$!"
	track_pid $!
	i=$((i + 1))
done
want=$("$SOCKSC" -G 512K -k)
i=0
while [ $i -lt 4 ]; do
	eval "_p=\$PAR_$i"
	wait $_p || fail "parallel tunnel $i via the Node worker failed:" \
	    "$(cat "$T/par.$i.err")"
	[ "$(cat "$T/par.$i")" = "$want" ] ||
	    fail "parallel tunnel $i via the Node worker damaged"
	i=$((i + 1))
done
wait_for "[ \$(grep -c '^access .* via=$NAME result=ok ' '$SRV_LOG') -ge 7 ]" \
    5 || fail "fewer than 7 'via=$NAME result=ok' access lines"

# Its legacy PINGs (every second) keep it past WORKER_IDLE_CLOSE=3.
sleep 4
grep -q 'left the pool' "$SRV_LOG" &&
    fail "the pinging Node worker was dropped as idle"
check_tunnels $SP "legacy worker after idling"
kill $NODE_WORKER
wait_log "$SRV_LOG" "worker $NAME \(.*\) left the pool" 5 ||
    fail "server did not notice the Node worker leaving"

# 2. Our worker in a legacy Node server's pool.
SP2=$(free_port)
WP2=$(free_port)
start_node legacy-server "$INTEROP/legacy-server.js" $WP2 $SP2
wait_log "$T/legacy-server.log" '^ready$' 10 ||
    fail "the Node server did not start"
write_conf "$T/w.conf" "SERVERS=127.0.0.1:$WP2" WORKER_NAME=wours \
    RECONNECT_INTERVAL=0.3 PING_INTERVAL=1 LOG_SESSION=yes \
    "PIDFILE=$T/w.pid"
start_esocksd worker "$T/w.conf"
WRK_LOG=$ESOCKSD_LOG
wait_log "$WRK_LOG" "registered with server 127\.0\.0\.1:$WP2 as wours \(legacy text-net server\)" 10 ||
    fail "our worker did not register with the Node server"
wait_log "$T/legacy-server.log" 'CLIENTS 1' 5 ||
    fail "the Node server did not put our worker in its pool"
check_tunnels $SP2 "legacy server"
n=$(grep -c "^session 127\.0\.0\.1:[0-9]* closed: ok " "$WRK_LOG")
[ "$n" -eq 3 ] || fail "our worker logged $n finished sessions, want 3"
grep -q 'link to server' "$WRK_LOG" &&
    fail "our worker lost its link to the Node server"
exit 0

#!/bin/sh
# NO_WORKER with an empty pool: "refuse" answers a SOCKS5 request with a
# general failure (0x01) and SOCKS4 with a rejection; "direct" carries the
# tunnel itself and logs via=direct.  A worker joining turns the refusing
# server into a working one, and the worker leaving turns it back.
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"

[ -x "$ESOCKSD" ] && [ -x "$SOCKSC" ] && [ -x "$TSINK" ] ||
    skip "esocksd, socksc or tsink not built"

start_sink echo
ECHO=$SINK_PORT
WANT=$("$SOCKSC" -G 300K -k)

# expect_refused PORT VERSION: the request fails with the right reply.
expect_refused() {
	"$SOCKSC" -x 127.0.0.1:$1 -t 127.0.0.1:$ECHO -v $2 -n -w 5 \
	    >/dev/null 2>"$T/refused.err"
	rc=$?
	[ $rc -eq 3 ] ||
	    fail "SOCKS$2 with no worker and NO_WORKER=refuse: socksc exit" \
	    "$rc, want 3 (refused): $(cat "$T/refused.err")"
	case $2 in
	5)	grep -q '^reply=0x01 ' "$T/refused.err" ||
		    fail "SOCKS5 refusal is not a general failure (0x01):" \
		    "$(cat "$T/refused.err")" ;;
	4)	grep -q '^reply=0x5b ' "$T/refused.err" ||
		    fail "SOCKS4 refusal is not 0x5b:" \
		    "$(cat "$T/refused.err")" ;;
	esac
}

# refuse, and no worker.
SP=$(free_port)
WP=$(free_port)
write_conf "$T/refuse.conf" "SOCKS_LISTEN=127.0.0.1:$SP" \
    "WORKER_LISTEN=127.0.0.1:$WP" NO_WORKER=refuse "PIDFILE=$T/refuse.pid"
start_esocksd server "$T/refuse.conf"
REFUSE_LOG=$ESOCKSD_LOG
expect_refused $SP 5
expect_refused $SP 4
wait_for "[ \$(grep -c '^access .* result=failure ' '$REFUSE_LOG') -ge 2 ]" \
    5 || fail "no 'result=failure' access lines for the refused requests"
grep '^access ' "$REFUSE_LOG" | grep -q 'result=ok' &&
    fail "a refused request logged result=ok"

# A worker joins: the same server now tunnels through it.
write_conf "$T/w.conf" "SERVERS=127.0.0.1:$WP" WORKER_NAME=wone \
    RECONNECT_INTERVAL=0.2 "PIDFILE=$T/w.pid"
start_esocksd worker "$T/w.conf"
W_PID=$ESOCKSD_PID
wait_log "$REFUSE_LOG" 'worker wone \(.*\) joined the pool' 10 ||
    fail "worker did not join the pool"
got=$("$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$ECHO -g 300K -k -w 10 \
    2>"$T/c.err") ||
    fail "tunnel through the registered worker failed: $(cat "$T/c.err")"
[ "$got" = "$WANT" ] || fail "echo via the worker: '$got' != '$WANT'"
wait_log "$REFUSE_LOG" '^access .* via=wone result=ok' 5 ||
    fail "no via=wone access line"

# It leaves: refused again.
stop_pid $W_PID || fail "worker exited $? on SIGTERM"
wait_log "$REFUSE_LOG" 'worker wone \(.*\) left the pool' 10 ||
    fail "server did not notice the worker leaving"
expect_refused $SP 5

# direct, and no worker.
SP=$(free_port)
WP=$(free_port)
write_conf "$T/direct.conf" "SOCKS_LISTEN=127.0.0.1:$SP" \
    "WORKER_LISTEN=127.0.0.1:$WP" NO_WORKER=direct "PIDFILE=$T/direct.pid"
start_esocksd server "$T/direct.conf"
DIRECT_LOG=$ESOCKSD_LOG
got=$("$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$ECHO -g 300K -k -w 10 \
    2>"$T/c.err") ||
    fail "NO_WORKER=direct with no worker: tunnel failed: $(cat "$T/c.err")"
[ "$got" = "$WANT" ] || fail "direct echo: '$got' != '$WANT'"
wait_log "$DIRECT_LOG" '^access .* via=direct result=ok up=307200 down=307200 ' 5 ||
    fail "no 'via=direct result=ok up=307200 down=307200' access line"
exit 0

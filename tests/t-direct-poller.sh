#!/bin/sh
# POLLER, the reactor's backend: esocksd -t rejects a backend this build
# lacks (Linux has no kqueue, the BSDs no epoll) or does not know, with
# the file and line; every backend the build lists starts, says so in its
# "started" line and carries a tunnel; a reload that changes POLLER says
# it needs a restart and keeps the running backend, which still serves.
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"

# This test chooses the backend itself, whatever ESOCKSD_TEST_POLLER says.
ESOCKSD=$LIB_ESOCKSD_BIN

# 1. -t: an unknown backend, and one of epoll and kqueue (no system has
# both), are config errors naming file:line; the message lists the rest.
printf '# backends\nPOLLER=nonsense\n' >"$T/bad.conf"
"$ESOCKSD" -t -c "$T/bad.conf" server >"$T/out" 2>&1
rc=$?
[ $rc -eq 2 ] || fail "-t with POLLER=nonsense exits $rc, not 2"
grep -q "bad.conf:2: bad value for POLLER: 'nonsense' (want select, poll" \
    "$T/out" || fail "-t POLLER=nonsense says: $(cat "$T/out")"
pollers=$(sed -n 's/.*(want \(.*\): this build has no other).*/\1/p' \
    "$T/out" | sed 's/,//g; s/ or / /')
case "$pollers " in
"select poll "*) ;;
*) fail "backends listed: '$pollers', want select and poll first" ;;
esac
lacking=0
for p in epoll kqueue; do
	printf 'LOG_EVENT=no\nPOLLER=%s\n' $p >"$T/$p.conf"
	if "$ESOCKSD" -t -c "$T/$p.conf" server >"$T/out" 2>&1; then
		case " $pollers " in
		*" $p "*) ;;
		*) fail "-t accepts POLLER=$p, which is not listed" ;;
		esac
		continue
	fi
	lacking=$((lacking + 1))
	grep -q "$p.conf:2: bad value for POLLER: '$p'" "$T/out" ||
	    fail "-t POLLER=$p says: $(cat "$T/out")"
done
[ $lacking -ge 1 ] || fail "this build claims both epoll and kqueue"

# 2. Each backend serves a tunnel; the reload of a changed POLLER keeps it.
start_sink echo
ECHO=$SINK_PORT
for p in $pollers; do
	SP=$(free_port)
	WP=$(free_port)
	write_conf "$T/$p.conf" "SOCKS_LISTEN=127.0.0.1:$SP" \
	    "WORKER_LISTEN=127.0.0.1:$WP" "PIDFILE=$T/esocksd.pid" \
	    "POLLER=$p"
	"$ESOCKSD" -t -c "$T/$p.conf" server >"$T/out" 2>&1 ||
	    fail "-t rejects POLLER=$p: $(cat "$T/out")"
	start_esocksd server "$T/$p.conf"
	grep -q "started as server (pid $ESOCKSD_PID, poller $p)\$" \
	    "$ESOCKSD_LOG" || fail "POLLER=$p: no 'poller $p' start line"
	got=$(echo "via $p" | "$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$ECHO \
	    -w 5 2>"$T/err") || fail "POLLER=$p: tunnel: $(cat "$T/err")"
	[ "$got" = "via $p" ] || fail "POLLER=$p: echo returned '$got'"

	other=select
	[ $p = select ] && other=poll
	write_conf "$T/$p.conf" "SOCKS_LISTEN=127.0.0.1:$SP" \
	    "WORKER_LISTEN=127.0.0.1:$WP" "PIDFILE=$T/esocksd.pid" \
	    "POLLER=$other"
	kill -HUP $ESOCKSD_PID
	wait_log "$ESOCKSD_LOG" '^reloaded ' 5 ||
	    fail "POLLER=$p: no 'reloaded' line after changing POLLER"
	grep -q "POLLER=$other needs a restart; $p stays in use" \
	    "$ESOCKSD_LOG" || fail "POLLER=$p: reload did not say so"
	got=$(echo again | "$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$ECHO \
	    -w 5 2>"$T/err") || fail "POLLER=$p after reload: $(cat "$T/err")"
	[ "$got" = again ] || fail "POLLER=$p after reload: echo '$got'"
	stop_daemon
done
exit 0

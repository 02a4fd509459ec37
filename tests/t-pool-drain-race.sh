#!/bin/sh
# A request that races a worker's DRAIN is tried on another worker
# (PROTOCOL.md 4, SOCKS sessions).  The race is scripted, not timed, so
# the reactor's order of ready descriptors cannot hide it:
#
# Server side: a real server, and tests/tlinkpeer -c playing an esp/1
# worker that is the only one in the pool when a request arrives, so it
# is given the request; it holds the SESS until a real worker wb has
# joined, then refuses it as a draining worker would: with `R draining`
# (case 1), or with `DRAIN` and then `R failure`, the form of a worker
# that does not know `draining` (case 2).  The request must succeed,
# through wb, and the server must say it retried a draining worker's
# refusal (not a timeout or a lost link).
#
# Worker side: a real worker, and tlinkpeer playing an esp/1 server that
# holds one tunnel through it, and sends a new SESS only once it has read
# the worker's DRAIN (SIGTERM): the worker must answer `R draining`, log
# it, and never dial the destination.
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"

[ -x "$ESOCKSD" ] && [ -x "$SOCKSC" ] && [ -x "$TSINK" ] ||
    skip "esocksd, socksc or tsink not built"
[ -x "$TLINKPEER" ] || skip "tests/tlinkpeer not built"
NONCE=00112233445566778899aabbccddeeff

start_sink echo
ECHO=$SINK_PORT
start_sink hold
HOLD=$SINK_PORT
WANT=$("$SOCKSC" -G 10K -k)

# race NAME REFUSAL...: case NAME of the server side; the fake worker
# answers the SESS it is given with the lines REFUSAL ($4 is the
# session id).
race() {
	_name=$1
	shift
	_sp=$(free_port)
	_wp=$(free_port)
	# Timeouts far above the scripted wait: the request must be retried
	# for the refusal, not because the fake worker was slow.
	write_conf "$T/$_name.server.conf" "SOCKS_LISTEN=127.0.0.1:$_sp" \
	    "WORKER_LISTEN=127.0.0.1:$_wp" NO_WORKER=refuse LOG_SESSION=yes \
	    CONNECT_TIMEOUT=30 WORKER_RESPONSE_TIMEOUT=20 \
	    "PIDFILE=$T/$_name.server.pid"
	start_esocksd server "$T/$_name.server.conf"
	_srv_pid=$ESOCKSD_PID
	_srv_log=$ESOCKSD_LOG

	{
		echo '@expect HELO'
		echo "RGST 0 0 $_name esp/1 $NONCE -"
		echo '@expect 100 0 0 OK'
		echo "@expect SESS * * * S SOCKS 127.0.0.1 $ECHO connect"
		echo "@until $T/$_name.go"
		printf '%s\n' "$@"
	} >"$T/$_name.script"
	"$TLINKPEER" -c 127.0.0.1:$_wp -s "$T/$_name.script" \
	    -T "$T/$_name.seen" 2>"$T/$_name.log" &
	_fake_pid=$!
	track_pid $_fake_pid
	LIB_LOGS="$LIB_LOGS $T/$_name.log $T/$_name.seen"
	wait_log "$_srv_log" "worker $_name \\(.*\\) joined the pool" 10 ||
	    fail "$_name: the fake worker did not join the pool"

	"$SOCKSC" -x 127.0.0.1:$_sp -t 127.0.0.1:$ECHO -g 10K -k -w 60 \
	    >"$T/$_name.out" 2>"$T/$_name.err" &
	_req=$!
	track_pid $_req
	# The fake worker, alone in the pool, was given the request.
	wait_log "$T/$_name.seen" \
	    "^SESS [0-9]+ 0 [0-9]+ S SOCKS 127\\.0\\.0\\.1 $ECHO connect\$" \
	    20 || fail "$_name: the request never reached the fake worker"

	write_conf "$T/$_name.wb.conf" "SERVERS=127.0.0.1:$_wp" \
	    WORKER_NAME=wb LOG_SESSION=yes "PIDFILE=$T/$_name.wb.pid"
	start_esocksd worker "$T/$_name.wb.conf"
	_wb_pid=$ESOCKSD_PID
	wait_log "$_srv_log" 'worker wb \(.*\) joined the pool' 20 ||
	    fail "$_name: worker wb did not join the pool"
	: >"$T/$_name.go"

	wait $_req || fail "$_name: the request failed after the refusal:" \
	    "$(cat "$T/$_name.err")"
	[ "$(cat "$T/$_name.out")" = "$WANT" ] ||
	    fail "$_name: the request's data was damaged"
	grep -q "request for 127\\.0\\.0\\.1:$ECHO refused by draining worker \
$_name; retrying" "$_srv_log" ||
	    fail "$_name: the server did not retry for the draining refusal"
	grep -q "^access .* dest=127\\.0\\.0\\.1:$ECHO via=wb result=ok" \
	    "$_srv_log" || fail "$_name: the request did not go through wb"
	grep -q "did not answer\\|lost with worker" "$_srv_log" &&
	    fail "$_name: the request was retried for another reason"

	stop_pid $_wb_pid >/dev/null
	stop_pid $_fake_pid >/dev/null
	ESOCKSD_PID=$_srv_pid
	ESOCKSD_LOG=$_srv_log
	stop_daemon
}

# 1. The refusal says `draining`; the worker sent no DRAIN before it.
race fa 'SESS 1 0 $4 R draining'

# 2. A worker that does not know `draining`: DRAIN, then `R failure`.
race fb 'DRAIN 0 0' 'SESS 1 0 $4 R failure'

# 3. The worker side.  The destination it must not dial counts accepts.
: >"$T/empty"
: >"$T/dest.accepts"
"$TLINKPEER" -P "$T/dest.port" -s "$T/empty" -A "$T/dest.accepts" \
    2>"$T/dest.log" &
track_pid $!
LIB_LOGS="$LIB_LOGS $T/dest.log"
wait_for "test -s '$T/dest.port'" 10 || fail "tlinkpeer dest did not start"
DEST=$(cat "$T/dest.port")

{
	echo "HELO 0 0 esp/1 $NONCE"
	echo '@expect RGST 0 0 wd esp/1'
	echo '100 0 0 OK -'
	echo "SESS 1 0 1 S SOCKS 127.0.0.1 $HOLD connect"
	echo '@expect DRAIN 0 0'
	echo "SESS 2 0 3 S SOCKS 127.0.0.1 $DEST connect"
} >"$T/fs.script"
"$TLINKPEER" -P "$T/fs.port" -s "$T/fs.script" -T "$T/fs.seen" \
    2>"$T/fs.log" &
FS_PID=$!
track_pid $FS_PID
LIB_LOGS="$LIB_LOGS $T/fs.log $T/fs.seen"
wait_for "test -s '$T/fs.port'" 10 || fail "the fake server did not start"
write_conf "$T/wd.conf" "SERVERS=127.0.0.1:$(cat "$T/fs.port")" \
    WORKER_NAME=wd LOG_SESSION=yes "PIDFILE=$T/wd.pid"
start_esocksd worker "$T/wd.conf"
wait_log "$ESOCKSD_LOG" "session 127\\.0\\.0\\.1:$HOLD open" 10 ||
    fail "the worker did not open the fake server's held session"
kill -TERM $ESOCKSD_PID
wait_log "$T/fs.seen" '^DRAIN 0 0$' 10 || fail "the worker sent no DRAIN"
wait_log "$T/fs.seen" '^SESS [0-9]+ 0 3 [AR]( |$)' 10 ||
    fail "the worker did not answer the SESS sent after its DRAIN"
grep -E -q '^SESS [0-9]+ 0 3 R draining$' "$T/fs.seen" ||
    fail "the worker answered the SESS after its DRAIN with" \
    "'$(grep -E '^SESS [0-9]+ 0 3 ' "$T/fs.seen")', not R draining"
grep -q "session 127\\.0\\.0\\.1:$DEST refused: draining" "$ESOCKSD_LOG" ||
    fail "the worker did not log the refusal"
sleep 0.2
[ "$(wc -l <"$T/dest.accepts")" -eq 0 ] ||
    fail "the draining worker dialed the destination"
# The fake server leaves: the worker's last link is gone, it exits.
stop_pid $FS_PID >/dev/null
stop_daemon
exit 0

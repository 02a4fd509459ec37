#!/bin/sh
# A peer on the worker port cannot flood the server's log.  WORKER_ALLOW
# admits it (loopback), so each of its links gets the lines an
# unregistered link earns (accepted, refused: bad_proof, closed), and it
# opens them as fast as the server closes them: 8 connections, each
# redialed the moment the server closes it after its 403, for 2 s.
# Past a burst of 10 such lines a second, the rest are held back and
# counted in one line; the server keeps taking workers all along.
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"

TFLOOD=$TOP_BUILDDIR/tests/tflood
[ -x "$TFLOOD" ] || skip "tests/tflood not built"
SECRET=0123456789abcdef0123456789abcdef
NONCE=00112233445566778899aabbccddeeff
ZERO=0000000000000000000000000000000000000000000000000000000000000000

SP=$(free_port)
WP=$(free_port)
write_conf "$T/server.conf" "SOCKS_LISTEN=127.0.0.1:$SP" \
    "WORKER_LISTEN=127.0.0.1:$WP" "PIDFILE=$T/server.pid" \
    "WORKER_SECRET=$SECRET" LOG_EVENT=yes LOG_ERROR=yes
start_esocksd server "$T/server.conf"
LOG=$ESOCKSD_LOG
PID=$ESOCKSD_PID

"$TFLOOD" -t 127.0.0.1:$WP -n 8 -d 2 \
    -s "RGST 0 0 flood esp/1 $NONCE $ZERO" >"$T/flood.out" 2>&1 ||
    fail "tflood failed: $(cat "$T/flood.out")"
echo "flood: $(cat "$T/flood.out")" >&2
# Let the last held-back count out.
sleep 1.5
connects=$(sed -n 's/^connects=\([0-9]*\) .*/\1/p' "$T/flood.out")
[ "${connects:-0}" -ge 200 ] ||
    fail "only ${connects:-0} links in 2 s: the flood did not flood"
lines=$(grep -c 'worker link from' "$LOG")
echo "$lines log lines about $connects links" >&2
[ "$lines" -le 60 ] || fail "$lines log lines for $connects links: a flood"
grep -q -E '^worker link from 127\.0\.0\.1:[0-9]+ refused: bad_proof$' \
    "$LOG" || fail "the first refusals were not logged as they came"
grep -q -E '^[0-9]+ more lines about worker links that did not register held back; the latest: worker link from 127\.0\.0\.1:' \
    "$LOG" || fail "no line counting the lines held back"

# A worker with the secret still registers, and is logged.
write_conf "$T/worker.conf" "SERVERS=127.0.0.1:$WP" WORKER_NAME=good \
    "WORKER_SECRET=$SECRET" "PIDFILE=$T/worker.pid"
start_esocksd worker "$T/worker.conf"
wait_log "$LOG" '^worker good \(127\.0\.0\.1:[0-9]+\) joined the pool' 10 ||
    fail "a worker with the secret did not register after the flood"
stop_daemon
ESOCKSD_PID=$PID
ESOCKSD_LOG=$LOG
stop_daemon
exit 0

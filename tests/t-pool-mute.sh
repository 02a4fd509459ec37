#!/bin/sh
# A worker that registers (esp/1), pings, and never answers a session:
# with NO_WORKER=direct the server must not dial the destination itself
# while that worker is registered.  Alone, it costs one try: the request
# fails with a timeout (SOCKS5 0x06) after CONNECT_TIMEOUT plus the
# answer margin, logged via the mute worker, and the session is reset.
# Beside a working worker, the request is tried again on that one.
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"

[ -x "$ESOCKSD" ] && [ -x "$SOCKSC" ] && [ -x "$TSINK" ] ||
    skip "esocksd, socksc or tsink not built"

NONCE=00112233445566778899aabbccddeeff

start_sink echo
ECHO=$SINK_PORT
SP=$(free_port)
WP=$(free_port)
write_conf "$T/server.conf" "SOCKS_LISTEN=127.0.0.1:$SP" \
    "WORKER_LISTEN=127.0.0.1:$WP" NO_WORKER=direct CONNECT_TIMEOUT=1 \
    "PIDFILE=$T/server.pid"
start_esocksd server "$T/server.conf"
SRV_PID=$ESOCKSD_PID
SRV_LOG=$ESOCKSD_LOG

# The mute worker: registers without a secret, pings every second for
# at most 40 s, reads nothing but what the server sends it.
{ printf 'RGST 0 0 mute esp/1 %s -\r\n' $NONCE
  i=0
  while [ $i -lt 40 ]; do
	sleep 1
	printf 'PING 0 0\r\n'
	i=$((i + 1))
  done; } | "$SOCKSC" -D -t 127.0.0.1:$WP -w 45 >"$T/mute.out" 2>&1 &
MUTE=$!
track_pid $MUTE
wait_log "$SRV_LOG" 'worker mute \(127\.0\.0\.1:[0-9]+\) joined the pool$' ||
    fail "the mute worker did not join the pool"

# Alone: one try, then a timeout; never direct.
start=$(date +%s)
"$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$ECHO -n -w 30 >/dev/null \
    2>"$T/c1.err"
rc=$?
took=$(($(date +%s) - start))
[ $rc -eq 3 ] && grep -q '^reply=0x06 ' "$T/c1.err" ||
    fail "request to the mute worker: exit $rc, $(cat "$T/c1.err");" \
    "want refused with 0x06 (timeout)"
[ $took -le 12 ] || fail "the timeout took $took s, want one try (6 s)"
wait_log "$SRV_LOG" "^access .* dest=127\\.0\\.0\\.1:$ECHO via=mute \
result=timeout " 5 || fail "no via=mute result=timeout access line"
grep -q 'via=direct' "$SRV_LOG" &&
    fail "the server dialed the destination itself with a worker registered"
tr -d '\r' <"$T/mute.out" >"$T/mute.txt"
[ "$(grep -c -E '^SESS [0-9]+ 0 [0-9]+ S SOCKS ' "$T/mute.txt")" -eq 1 ] ||
    fail "the mute worker was tried other than once: $(cat "$T/mute.txt")"
id=$(sed -n 's/^SESS [0-9]* 0 \([0-9]*\) S SOCKS .*/\1/p' "$T/mute.txt")
grep -q -E "^SESS [0-9]+ 0 $id R\$" "$T/mute.txt" ||
    fail "the timed-out session $id was not reset: $(cat "$T/mute.txt")"

# Beside a working worker: the request ends up there, intact.
write_conf "$T/w.conf" "SERVERS=127.0.0.1:$WP" WORKER_NAME=able \
    "PIDFILE=$T/w.pid"
start_esocksd worker "$T/w.conf"
W_PID=$ESOCKSD_PID
wait_log "$SRV_LOG" 'worker able \(.*\) joined the pool' 10 ||
    fail "the working worker did not join the pool"
i=0
while [ $i -lt 2 ]; do
	got=$(echo hello$i | "$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$ECHO \
	    -w 20 2>"$T/c2.err") ||
	    fail "request $i beside a working worker: $(cat "$T/c2.err")"
	[ "$got" = hello$i ] || fail "request $i returned '$got'"
	i=$((i + 1))
done
wait_for "[ \$(grep -c 'via=able result=ok' '$SRV_LOG') -eq 2 ]" 5 ||
    fail "not both requests went through the working worker"
grep -q 'via=direct' "$SRV_LOG" && fail "a request went direct"
# Round-robin gave the second one to the mute worker first.
tr -d '\r' <"$T/mute.out" >"$T/mute.txt"
[ "$(grep -c -E '^SESS [0-9]+ 0 [0-9]+ S SOCKS ' "$T/mute.txt")" -eq 2 ] ||
    fail "the mute worker was not tried once more: $(cat "$T/mute.txt")"

stop_pid $W_PID || fail "the working worker did not stop cleanly"
kill $MUTE 2>/dev/null
ESOCKSD_PID=$SRV_PID
ESOCKSD_LOG=$SRV_LOG
stop_daemon
exit 0

#!/bin/sh
# Hostile peers on the worker link.  A peer on the worker port that
# sends a body length of 2^63, a declared 1 GiB body, an overlong
# header, or before its RGST anything but RGST (SESS, PING, DRAIN, a
# body) gets its link closed with the reason and its address logged at
# the error level (LOG_EVENT stays off) and counted in link_errors, as
# does one that never registers within HANDSHAKE_TIMEOUT; a registered
# worker that sends SESS for a session never opened, bad SESS fields or
# an S with an odd id (the server's to open) leaves the pool with the
# reason, counted too.  Meanwhile a tunnel through another, registered
# worker keeps flowing; worker-opened sessions (S from the worker side,
# twice) are refused with R without harm.  And a worker whose server
# sends a duplicate S, an S with an even id (the worker's to open) or a
# 2^63 body length drops that link with the reason logged and keeps
# running; a bad window= from it is a warning, not an error.
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"

# Stop every process still running, then fail on any sanitizer report
# (an --enable-asan build) in the daemons' logs.
sec_finish() {
	for _p in $LIB_PIDS; do
		lib_alive $_p && stop_pid $_p
	done
	_bad=$(grep -l -E 'AddressSanitizer|LeakSanitizer|runtime error:' \
	    $LIB_LOGS /dev/null)
	[ -z "$_bad" ] || fail "sanitizer report in $_bad"
}

start_sink echo
ECHO=$SINK_PORT
SP=$(free_port)
WP=$(free_port)
write_conf "$T/server.conf" "SOCKS_LISTEN=127.0.0.1:$SP" \
    "WORKER_LISTEN=127.0.0.1:$WP" "PIDFILE=$T/server.pid" \
    NO_WORKER=refuse HANDSHAKE_TIMEOUT=3
start_esocksd server "$T/server.conf"
SLOG=$ESOCKSD_LOG
SPID=$ESOCKSD_PID
write_conf "$T/steady.conf" "SERVERS=127.0.0.1:$WP" WORKER_NAME=steady \
    "PIDFILE=$T/steady.pid"
start_esocksd worker "$T/steady.conf"
WPID=$ESOCKSD_PID
wait_log "$SLOG" 'worker steady .* joined the pool' ||
    fail "the steady worker did not register"

# A long tunnel through steady, fed through a FIFO we keep open.
mkfifo "$T/up" || skip "cannot make a FIFO"
"$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$ECHO -w 50 <"$T/up" >"$T/down" \
    2>"$T/tunnel.err" &
TUN=$!
track_pid $TUN
exec 3>"$T/up"
printf 'before\n' >&3
wait_for "grep -q before '$T/down'" 10 ||
    fail "the tunnel through steady did not echo: $(cat "$T/tunnel.err")"

# hostile NAME REASON-RE: send the file $P to the worker port as a peer
# that then keeps its side open, and expect one more link closed for
# REASON-RE.
hostile() {
	_re="worker link from 127\\.0\\.0\\.1:[0-9]+ closed: ($2)\$"
	_n=$(grep -c -E "$_re" "$SLOG")
	{ cat "$P"; sleep 3; } |
	    "$SOCKSC" -D -t 127.0.0.1:$WP -w 10 >/dev/null 2>&1 &
	_pid=$!
	track_pid $_pid
	wait_for "[ \$(grep -c -E '$_re' '$SLOG') -gt $_n ]" 5 ||
	    fail "$1: the link was not closed for '$2'"
	kill $_pid 2>/dev/null
	lib_alive $SPID || fail "$1: the server died"
}

# registered NAME REASON-RE: the same as a worker that first registers
# (a legacy RGST as "hostile"), and expect it to leave the pool for
# REASON-RE.
registered() {
	_re="worker hostile \\(127\\.0\\.0\\.1:[0-9]+\\) left the pool: ($2)\$"
	_n=$(grep -c -E "$_re" "$SLOG")
	{ printf 'RGST 0 0 hostile\r\n'; cat "$P"; sleep 3; } |
	    "$SOCKSC" -D -t 127.0.0.1:$WP -w 10 >/dev/null 2>&1 &
	_pid=$!
	track_pid $_pid
	wait_for "[ \$(grep -c -E '$_re' '$SLOG') -gt $_n ]" 5 ||
	    fail "$1: the worker did not leave the pool for '$2'"
	kill $_pid 2>/dev/null
	lib_alive $SPID || fail "$1: the server died"
}

P=$T/payload
printf 'SESS 1 0 7 P\r\n' >"$P"
hostile "SESS before RGST" 'SESS before registration'
printf 'PING 0 0\r\n' >"$P"
hostile "PING before RGST" 'PING before registration'
printf 'DRAIN 0 0\r\n' >"$P"
hostile "DRAIN before RGST" 'DRAIN before registration'
{ printf 'PING 0 1048576\r\n'; head -c 1048576 /dev/zero; } >"$P"
hostile "a megabyte before RGST" 'PING with a body before registration'
printf 'SESS 1 0 7 P\r\n' >"$P"
registered "P for a never-opened session" \
    'SESS for a session that was never opened'
printf 'SESS 1 5 9 P\r\nhello' >"$P"
registered "P with a body for a never-opened session" \
    'SESS for a session that was never opened'
printf 'SESS 1 0 8 F\r\n' >"$P"
registered "F for a never-opened even session" \
    'SESS for a session that was never opened'
printf 'PING 1 9223372036854775808\r\n' >"$P"
hostile "a body length of 2^63" 'invalid body length|body too long'
printf 'SESS 1 18446744073709551616 1 P\r\n' >"$P"
hostile "a body length of 2^64" 'invalid body length|body too long'
{ printf 'SESS 1 1073741824 1 P\r\n'; head -c 65536 /dev/zero; } >"$P"
hostile "a declared 1 GiB body" 'body too long'
head -c 5000 /dev/zero | tr '\000' A >"$P"
hostile "a header without an end" 'header too long'
printf 'SESS 1 0 x P\r\n' >"$P"
registered "a bad session id" 'SESS without a valid session id and flags'
printf 'SESS 1 0 1 PQ\r\n' >"$P"
registered "unknown SESS flags" 'SESS with unknown flags'
printf 'SESS 1 0 1 S SOCKS 127.0.0.1 %s connect\r\n' $ECHO >"$P"
registered "S with a server's (odd) id" \
    'S with a session id the peer may not open'

# A registered legacy worker turning hostile: it leaves the pool with
# the reason.
{ printf 'RGST 0 0 turncoat\r\n'; sleep 0.3
  printf 'SESS 1 1073741824 1 P\r\n'; sleep 3; } |
    "$SOCKSC" -D -t 127.0.0.1:$WP -w 10 >/dev/null 2>&1 &
TC=$!
track_pid $TC
wait_log "$SLOG" \
    'worker turncoat \(127\.0\.0\.1:[0-9]+\) left the pool: body too long$' \
    5 || fail "the hostile registered worker was not dropped"
kill $TC 2>/dev/null

# Sessions opened by the worker side (S, and the same S again) are not
# offered by a server: each gets R, the link stays.
{ printf 'RGST 0 0 twice\r\n'
  printf 'SESS 1 0 2 S SOCKS 127.0.0.1 %s connect\r\n' $ECHO
  printf 'SESS 2 0 2 S SOCKS 127.0.0.1 %s connect\r\n' $ECHO
  printf 'FOO 7 0\r\n'; sleep 1; } |
    "$SOCKSC" -D -t 127.0.0.1:$WP -w 10 | tr -d '\r' >"$T/dup.out"
[ "$(grep -c -E '^SESS [0-9]+ 0 2 R$' "$T/dup.out")" -eq 2 ] ||
    fail "worker-opened S was not answered R twice: $(cat "$T/dup.out")"
grep -q -x '201 7 0 unknown_command' "$T/dup.out" ||
    fail "the link did not live on after the S: $(cat "$T/dup.out")"

# A peer that keeps answering (the 201 a legacy worker answers HELO
# with, the one thing besides RGST it may send) but never registers:
# closed once HANDSHAKE_TIMEOUT is over.
{ i=0
  while [ $i -lt 20 ]; do
	printf '201 0 0 unknown_command\r\n'
	sleep 0.5
	i=$((i + 1))
  done; } | "$SOCKSC" -D -t 127.0.0.1:$WP -w 15 >/dev/null 2>&1 &
PINGER=$!
track_pid $PINGER
wait_log "$SLOG" \
    '^worker link from 127\.0\.0\.1:[0-9]+ closed: no RGST within HANDSHAKE' 8 ||
    fail "a link that never registered was kept"
kill $PINGER 2>/dev/null

# Every link dropped above counted once in link_errors (SIGUSR1): 9
# unregistered ones, 6 registered hostile ones and the turncoat; the
# refused S are no error.
kill -USR1 $SPID
wait_log "$SLOG" 'counters: .* link_errors=' 5 ||
    fail "no counters line after SIGUSR1"
n=$(sed -n 's/^counters: .* link_errors=\([0-9]*\).*/\1/p' "$SLOG" |
    tail -n 1)
[ "$n" = 16 ] || fail "link_errors=$n after 16 hostile links, want 16"

# Through all this, steady's tunnel kept working, and new ones too.
printf 'after\n' >&3
exec 3>&-
wait $TUN
rc=$?
[ $rc -eq 0 ] ||
    fail "the tunnel through steady broke (rc $rc): $(cat "$T/tunnel.err")"
[ "$(cat "$T/down")" = "$(printf 'before\nafter')" ] ||
    fail "the tunnel through steady returned '$(cat "$T/down")'"
got=$(echo fresh | "$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$ECHO -w 10 \
    2>/dev/null)
[ "$got" = fresh ] || fail "no new tunnel through steady: '$got'"
grep -q 'worker steady .* left the pool' "$SLOG" &&
    fail "the steady worker lost its link"
wait_for "[ \$(grep -c 'via=steady result=ok' '$SLOG') -eq 2 ]" 5 ||
    fail "not both tunnels went through steady"
lib_alive $WPID || fail "the steady worker died"

# --- A hostile server, for a worker (needs a listening nc).
if ! command -v nc >/dev/null 2>&1; then
	echo "no nc: the hostile server cases are skipped" >&2
	sec_finish
	exit 0
fi
NONCE=00112233445566778899aabbccddeeff
start_sink hold
HOLD=$SINK_PORT
# nc in listen mode reads its stdin: give it a file.
FP=$(free_port)
{ printf 'HELO 0 0 esp/1 %s\r\n100 0 0 OK - window=262144\r\n' $NONCE
  printf 'SESS 1 0 1 S SOCKS 127.0.0.1 %s connect\r\n' $HOLD
  printf 'SESS 3 0 1 S SOCKS 127.0.0.1 %s connect\r\n' $HOLD; } >"$T/fake1"
nc -l 127.0.0.1 $FP <"$T/fake1" >/dev/null 2>&1 &
NC=$!
track_pid $NC
if ! wait_for "lib_listening $FP" 3; then
	echo "nc -l 127.0.0.1 PORT does not listen here: skipped" >&2
	sec_finish
	exit 0
fi
write_conf "$T/naive.conf" "SERVERS=127.0.0.1:$FP" WORKER_NAME=naive \
    "PIDFILE=$T/naive.pid" RECONNECT_INTERVAL=30
start_esocksd worker "$T/naive.conf"
NLOG=$ESOCKSD_LOG
NPID=$ESOCKSD_PID
wait_log "$NLOG" "link to server 127\\.0\\.0\\.1:$FP lost: \
duplicate S for a live session" 5 ||
    fail "the worker did not drop a server sending a duplicate S"
lib_alive $NPID || fail "the worker died of a duplicate S"
kill $NC 2>/dev/null

FP3=$(free_port)
printf 'HELO 0 0 esp/1 %s\r\n100 0 0 OK - window=x\r\n%s\r\n' \
    $NONCE "SESS 1 0 2 S SOCKS 127.0.0.1 $HOLD connect" >"$T/fake3"
nc -l 127.0.0.1 $FP3 <"$T/fake3" >/dev/null 2>&1 &
NC3=$!
track_pid $NC3
wait_for "lib_listening $FP3" 3 || fail "nc did not listen again"
write_conf "$T/naive3.conf" "SERVERS=127.0.0.1:$FP3" WORKER_NAME=naive3 \
    "PIDFILE=$T/naive3.pid" RECONNECT_INTERVAL=30
start_esocksd worker "$T/naive3.conf"
N3LOG=$ESOCKSD_LOG
wait_log "$N3LOG" "link to server 127\\.0\\.0\\.1:$FP3 lost: \
S with a session id the peer may not open" 5 ||
    fail "the worker did not drop a server opening an even session id"
grep -q "server 127\\.0\\.0\\.1:$FP3: window= is invalid .*; using 262144" \
    "$N3LOG" || fail "the worker took a bad window= without a warning"
lib_alive $ESOCKSD_PID || fail "the worker died of an even session id"
kill $NC3 2>/dev/null

FP2=$(free_port)
printf 'HELO 0 0 esp/1 %s\r\n100 0 0 OK - window=262144\r\nPING 1 %s\r\n' \
    $NONCE 9223372036854775808 >"$T/fake2"
nc -l 127.0.0.1 $FP2 <"$T/fake2" >/dev/null 2>&1 &
NC2=$!
track_pid $NC2
wait_for "lib_listening $FP2" 3 || fail "nc did not listen again"
write_conf "$T/naive2.conf" "SERVERS=127.0.0.1:$FP2" WORKER_NAME=naive2 \
    "PIDFILE=$T/naive2.pid" RECONNECT_INTERVAL=30
start_esocksd worker "$T/naive2.conf"
N2LOG=$ESOCKSD_LOG
wait_log "$N2LOG" "link to server 127\\.0\\.0\\.1:$FP2 lost: \
(invalid body length|body too long)" 5 ||
    fail "the worker did not drop a server sending a 2^63 body length"
lib_alive $ESOCKSD_PID || fail "the worker died of a 2^63 body length"
sec_finish
exit 0

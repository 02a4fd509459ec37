#!/bin/sh
# Connection caps and the handshake deadline: MAX_CLIENTS_PER_IP refuses
# the connection over the cap from one address (not from another) and
# admits again once one leaves; HANDSHAKE_TIMEOUT is an absolute
# deadline from accept, so a client dribbling a byte every 0.4 s is cut
# at ~1 s all the same, and its MAX_CLIENTS slot is freed.
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

# Milliseconds on a monotonic clock (seconds granularity without /proc).
now_ms() {
	if [ -r /proc/uptime ]; then
		awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime
	else
		echo $(( $(date +%s) * 1000 ))
	fi
}

# Lines of FILE matching the extended regex RE.
count() {
	grep -c -E -e "$2" "$1" 2>/dev/null
}

start_sink echo
ECHO=$SINK_PORT
start_sink hold
HOLD=$SINK_PORT

# --- MAX_CLIENTS_PER_IP=2.
SP=$(free_port)
write_conf "$T/perip.conf" "SOCKS_LISTEN=127.0.0.1:$SP" \
    "WORKER_LISTEN=127.0.0.1:$(free_port)" "PIDFILE=$T/perip.pid" \
    MAX_CLIENTS_PER_IP=2 LOG_SESSION=yes
start_esocksd server "$T/perip.conf"
LOG=$ESOCKSD_LOG

"$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$HOLD -H -w 30 >/dev/null \
    2>"$T/held1" &
H1=$!
track_pid $H1
"$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$HOLD -H -w 30 >/dev/null \
    2>"$T/held2" &
H2=$!
track_pid $H2
wait_for "[ \$(count '$LOG' 'tunnel .* via direct open') -ge 2 ]" 10 ||
    fail "two held tunnels did not open"

out=$("$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$ECHO -n -w 5 2>&1)
rc=$?
[ $rc -eq 4 ] ||
    fail "a third client from 127.0.0.1 over MAX_CLIENTS_PER_IP=2: rc $rc," \
    "'$out' (want 4, closed)"
wait_log "$LOG" \
    'refused 127\.0\.0\.1:[0-9]+: MAX_CLIENTS_PER_IP \(2\) reached' ||
    fail "no log line for the client over MAX_CLIENTS_PER_IP"

# Another address is counted on its own (nc can bind 127.0.0.2).
if command -v nc >/dev/null 2>&1 &&
    nc -h 2>&1 | grep -q -e '-s sourceaddr' &&
    nc -h 2>&1 | grep -q -e '-N'; then
	{
		printf '\005\001\000\005\001\000\001\177\000\000\001'
		printf "\\$(printf '%03o' $((ECHO / 256)))"
		printf "\\$(printf '%03o' $((ECHO % 256)))"
		printf other
	} >"$T/req"
	nc -N -w 5 -s 127.0.0.2 127.0.0.1 $SP <"$T/req" >"$T/resp" 2>&1
	got=$(od -An -tx1 "$T/resp" | tr -d ' \n')
	case $got in
	05000500*6f74686572) ;;
	*) fail "client 127.0.0.2 refused by another address's cap: '$got'" ;;
	esac
else
	echo "no OpenBSD nc: a second source address is not tested" >&2
fi

# One held client leaves: 127.0.0.1 is admitted again.
kill $H1
wait $H1 2>/dev/null
wait_for "[ \$(count '$LOG' 'tunnel 127\\.0\\.0\\.1:[0-9]+ -> \
127\\.0\\.0\\.1:$HOLD via direct closed') -ge 1 ]" 5 ||
    fail "the held tunnel did not close after its client left"
got=$(echo again | "$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$ECHO -w 10 \
    2>"$T/err")
[ "$got" = again ] ||
    fail "after a client left, 127.0.0.1 still refused: '$got'" \
    "$(cat "$T/err")"
kill $H2
wait $H2 2>/dev/null
stop_pid $ESOCKSD_PID

# --- HANDSHAKE_TIMEOUT=1 with MAX_CLIENTS=1.
SP2=$(free_port)
write_conf "$T/hs.conf" "SOCKS_LISTEN=127.0.0.1:$SP2" \
    "WORKER_LISTEN=127.0.0.1:$(free_port)" "PIDFILE=$T/hs.pid" \
    HANDSHAKE_TIMEOUT=1 MAX_CLIENTS=1
start_esocksd server "$T/hs.conf"
LOG2=$ESOCKSD_LOG

# A client that sends one byte every 400 ms (a SOCKS5 greeting and
# request take ~5 s that way) ...
t0=$(now_ms)
"$SOCKSC" -x 127.0.0.1:$SP2 -t 127.0.0.1:$ECHO -s 400 -n -w 10 \
    >"$T/slow.out" 2>&1 &
SLOW=$!
track_pid $SLOW
# ... holds the only slot meanwhile.
sleep 0.3
out=$("$SOCKSC" -x 127.0.0.1:$SP2 -t 127.0.0.1:$ECHO -n -w 5 2>&1)
rc=$?
[ $rc -eq 4 ] ||
    fail "a second client with MAX_CLIENTS=1 was not refused: rc $rc, '$out'"
wait_log "$LOG2" 'refused 127\.0\.0\.1:[0-9]+: MAX_CLIENTS \(1\) reached' ||
    fail "no log line for the client over MAX_CLIENTS"
wait $SLOW
rc=$?
t1=$(now_ms)
el=$((t1 - t0))
[ $rc -eq 4 ] ||
    fail "the dribbling client was not cut (rc $rc: $(cat "$T/slow.out"));" \
    "HANDSHAKE_TIMEOUT is not an absolute deadline"
[ $el -lt 3000 ] ||
    fail "the dribbling client was cut after $el ms, want ~1000" \
    "(HANDSHAKE_TIMEOUT=1)"
[ $el -ge 800 ] ||
    fail "the dribbling client was cut after only $el ms (HANDSHAKE_TIMEOUT=1)"
wait_log "$LOG2" 'client 127\.0\.0\.1:[0-9]+: handshake timeout' ||
    fail "no log line for the handshake timeout"

# Its slot is free again at once.
got=$(echo freed | "$SOCKSC" -x 127.0.0.1:$SP2 -t 127.0.0.1:$ECHO -w 5 \
    2>"$T/err")
[ "$got" = freed ] ||
    fail "after the handshake timeout the MAX_CLIENTS slot is still taken:" \
    "'$got' $(cat "$T/err")"

# A client that sends nothing at all is cut at the deadline too.
t0=$(now_ms)
out=$("$SOCKSC" -D -t 127.0.0.1:$SP2 -H -w 5 2>&1)
rc=$?
el=$(( $(now_ms) - t0 ))
[ $rc -eq 0 ] && [ -z "$out" ] ||
    fail "a silent client was not closed: rc $rc, '$out'"
[ $el -ge 800 ] && [ $el -lt 2500 ] ||
    fail "a silent client was closed after $el ms, want ~1000"
got=$(echo last | "$SOCKSC" -x 127.0.0.1:$SP2 -t 127.0.0.1:$ECHO -w 5 \
    2>"$T/err")
[ "$got" = last ] ||
    fail "the slot was not freed after a silent client: '$got'" \
    "$(cat "$T/err")"
sec_finish
exit 0

#!/bin/sh
# Refused connections are logged under LOG_ERROR when LOG_CONNECTION is
# off (as in live.conf), without a flood of lines: a client refused by
# CLIENT_ALLOW gets its line, and under a flood of refused connections
# (SOCKS port, then worker port by WORKER_ALLOW) a line comes at most
# about once a second per port, followed by one that counts the lines
# held back.  The lines and those counts add up to the counters
# (refused=, links_refused=).  With LOG_ERROR off as well, nothing.
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

TFLOOD=$TOP_BUILDDIR/tests/tflood
SECS=3

SP=$(free_port)
WP=$(free_port)
write_conf "$T/server.conf" "SOCKS_LISTEN=127.0.0.1:$SP" \
    "WORKER_LISTEN=127.0.0.1:$WP" "PIDFILE=$T/server.pid" \
    LOG_CONNECTION=no CLIENT_ALLOW=127.0.0.2/32 WORKER_ALLOW=127.0.0.2/32
start_esocksd server "$T/server.conf"
LOG=$ESOCKSD_LOG
PID=$ESOCKSD_PID

# counter NAME N: SIGUSR1, then NAME= of the Nth counters line.
counter() {
	kill -USR1 $PID
	wait_for "[ \$(grep -c '^counters: workers' '$LOG') -ge $2 ]" 5 ||
	    fail "no counters line $2 on SIGUSR1"
	grep '^counters: workers' "$LOG" | sed -n "$2p" |
	    sed "s/.* $1=\\([0-9]*\\).*/\\1/"
}

# logged PORTKIND LISTENPATTERN: refusals the log accounts for on that
# port: single lines plus the counts of the summing-up lines.
logged() {
	_one=$(grep -c -E "^refused 127\\.0\\.0\\.1:[0-9]+ on $1 $2: " "$LOG")
	_more=$(sed -n "s/^\\([0-9]*\\) more connections* refused on the $1 port since the last such line; the latest: refused 127\\.0\\.0\\.1:[0-9]* on $1 .*/\\1/p" \
	    "$LOG" | awk '{ n += $1 } END { print n + 0 }')
	echo $((_one + _more))
}

# --- One client refused by CLIENT_ALLOW: one line at once.
out=$("$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:9 -n -w 3 2>&1)
[ $? -eq 4 ] || fail "a client outside CLIENT_ALLOW: '$out'"
wait_log "$LOG" "^refused 127\\.0\\.0\\.1:[0-9]+ on socks 127\\.0\\.0\\.1:$SP: \
not in CLIENT_ALLOW\$" 5 ||
    fail "no line for a client refused by CLIENT_ALLOW with LOG_CONNECTION=no"

# --- A flood of refused clients, then of refused worker links.
for port in $SP $WP; do
	out=$("$TFLOOD" -t 127.0.0.1:$port -n 10 -p 5 -d $SECS)
	echo "flood on $port: $out" >&2
done
sleep 1.5
socks=$(logged socks "127\\.0\\.0\\.1:$SP")
links=$(logged worker "127\\.0\\.0\\.1:$WP")
refused=$(counter refused 1)
links_refused=$(counter links_refused 1)
echo "socks: $socks refusals logged, refused=$refused;" \
    "worker: $links logged, links_refused=$links_refused" >&2
[ "$refused" -gt 100 ] || fail "the flood made only $refused refusals"
[ "$socks" -eq "$refused" ] ||
    fail "the log accounts for $socks refused clients, refused=$refused"
[ "$links" -eq "$links_refused" ] ||
    fail "the log accounts for $links refused links," \
    "links_refused=$links_refused"
# At most a line and a sum a second for each port, and a few to spare.
lines=$(grep -c -E '^refused |^[0-9]+ more connections* refused' "$LOG")
max=$(( (2 * SECS + 4) * 2 ))
[ "$lines" -le $max ] ||
    fail "$lines refusal lines for two $SECS s floods (at most $max)"
stop_pid $PID

# --- With LOG_ERROR off too, refusals are not logged.
write_conf "$T/quiet.conf" "SOCKS_LISTEN=127.0.0.1:$SP" \
    "WORKER_LISTEN=127.0.0.1:$WP" "PIDFILE=$T/quiet.pid" \
    LOG_CONNECTION=no LOG_ERROR=no CLIENT_ALLOW=127.0.0.2/32
start_esocksd server "$T/quiet.conf"
"$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:9 -n -w 3 >/dev/null 2>&1
kill -USR1 $ESOCKSD_PID
wait_log "$ESOCKSD_LOG" '^counters: workers=.* refused=1 ' 5 ||
    fail "the quiet server did not refuse the client"
grep '^refused' "$ESOCKSD_LOG" &&
    fail "a refusal logged with LOG_CONNECTION=no LOG_ERROR=no"
sec_finish
exit 0

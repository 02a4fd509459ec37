#!/bin/sh
# The stats listener's limits: at most 16 connections at once (idle ones
# cannot take the descriptors SOCKS clients need), the one past that is
# closed at accept with a log line while SOCKS still serves, and the
# stats port answers again once they are gone; an answer ends with a FIN,
# not a reset, even when the client sent more than the server read.
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"

start_sink echo
ECHO=$SINK_PORT
SP=$(free_port)
WP=$(free_port)
ST=$(free_port)
write_conf "$T/server.conf" "SOCKS_LISTEN=127.0.0.1:$SP" \
    "WORKER_LISTEN=127.0.0.1:$WP" "STATS_LISTEN=127.0.0.1:$ST" \
    "PIDFILE=$T/server.pid"
start_esocksd server "$T/server.conf"

# http: GET /metrics; the status line in $status, its exit in $rc.
http() {
	printf 'GET /metrics HTTP/1.0\r\n\r\n' |
	    "$SOCKSC" -D -t "127.0.0.1:$ST" -w 10 2>"$T/http.err" |
	    tr -d '\r' >"$T/resp"
	status=$(sed -n 1p "$T/resp")
}

# established PORT: how many connections to PORT are established.
established() {
	_hex=$(printf ':%04X' "$1")
	cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk -v p="$_hex" '
	    $4 == "01" && substr($3, length($3) - 4) == p { n++ }
	    END { print n + 0 }'
}
[ -r /proc/net/tcp ] || skip "cannot count connections without /proc"

# 16 silent readers fill the stats listener (each may stay 5 s).
IDLE=
i=0
while [ $i -lt 16 ]; do
	"$SOCKSC" -D -t "127.0.0.1:$ST" -H -w 20 >/dev/null 2>&1 &
	IDLE="$IDLE $!"
	track_pid $!
	i=$((i + 1))
done
wait_for "[ \$(established $ST) -ge 16 ]" 4 ||
    fail "only $(established $ST) of the 16 idle stats connections"
http
[ -z "$status" ] ||
    fail "a 17th stats connection was answered: '$status'"
wait_log "$ESOCKSD_LOG" \
    "refused 127\\.0\\.0\\.1:[0-9]+ on stats: 16 connections open" 5 ||
    fail "no log line for the stats connection past the cap"
got=$(echo socks | "$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$ECHO -w 10 \
    2>"$T/err") || fail "SOCKS with the stats port full: $(cat "$T/err")"
[ "$got" = socks ] || fail "SOCKS with the stats port full echoed '$got'"

for p in $IDLE; do
	kill "$p" 2>/dev/null
done
wait_for "[ \$(established $ST) -eq 0 ]" 10 ||
    fail "the idle stats connections did not go"
http
[ "$status" = "HTTP/1.0 200 OK" ] ||
    fail "GET /metrics after the idle ones left: '$status'"

# A request line followed by more than the server reads (4 KiB) and by
# a pause: the answer arrives whole and ends with EOF, not ECONNRESET.
{
	printf 'GET /metrics HTTP/1.0\r\nX-Padding: '
	head -c 6000 /dev/zero | tr '\0' x
	sleep 1
	printf '\r\n\r\n'
} | "$SOCKSC" -D -t "127.0.0.1:$ST" -w 10 2>"$T/pad.err" |
    tr -d '\r' >"$T/resp"
grep -q '^esocksd_workers_registered 0$' "$T/resp" ||
    fail "the padded request lost its answer: $(cat "$T/pad.err")"
{
	printf 'GET /metrics HTTP/1.0\r\nX-Padding: '
	head -c 6000 /dev/zero | tr '\0' x
	sleep 1
} | "$SOCKSC" -D -t "127.0.0.1:$ST" -w 10 >/dev/null 2>"$T/pad.err"
rc=$?
[ $rc -eq 0 ] || fail "the stats answer ended in an error (exit $rc): \
$(cat "$T/pad.err")"
stop_daemon
exit 0

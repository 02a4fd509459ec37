#!/bin/sh
# Under -f every log line starts with the local time to the millisecond
# in RFC 3339 form (2026-12-07T11:20:53.123+00:00), as syslog would stamp
# it; not with ESOCKSD_LOG_TIME=no (what lib.sh sets for every other
# test) or another of the config's words for no (off, false, 0), and not
# when stderr is the systemd journal ($JOURNAL_STREAM names it), which
# stamps lines itself.  A value that is no such word is named in a
# warning, and lines are stamped.  -t prints no time.
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"

SP=$(free_port)
WP=$(free_port)
write_conf "$T/esocksd.conf" "SOCKS_LISTEN=127.0.0.1:$SP" \
    "WORKER_LISTEN=127.0.0.1:$WP" "PIDFILE=$T/esocksd.pid" LOG_EVENT=yes
STAMP='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}[+-][0-9]{2}:[0-9]{2} '

# run_daemon NAME: starts a server, reloads it, stops it; log in $T/NAME.
run_daemon() {
	start_esocksd server "$T/esocksd.conf"
	kill -HUP "$ESOCKSD_PID"
	wait_log "$ESOCKSD_LOG" 'reloaded ' 5 || fail "$1: no reload line"
	stop_daemon
	cp "$ESOCKSD_LOG" "$T/$1"
}

unset ESOCKSD_LOG_TIME
run_daemon stamped
n=$(wc -l <"$T/stamped")
[ "$n" -ge 5 ] || fail "only $n log lines: $(cat "$T/stamped")"
grep -E -v "^$STAMP" "$T/stamped" >"$T/bare"
[ ! -s "$T/bare" ] || fail "lines without a timestamp: $(cat "$T/bare")"
grep -E -q "^${STAMP}esocksd .* started as server" "$T/stamped" ||
    fail "no stamped start line: $(cat "$T/stamped")"
# The time is now's, give or take a minute.
now=$(date +%Y-%m-%dT%H:%M)
grep -q "^$now\|^$(date -d '1 minute ago' +%Y-%m-%dT%H:%M 2>/dev/null)" \
    "$T/stamped" || fail "stamps are not the local time $now: $(head -n 1 "$T/stamped")"

ESOCKSD_LOG_TIME=no
export ESOCKSD_LOG_TIME
run_daemon plain
grep -E -q "^$STAMP" "$T/plain" && fail "ESOCKSD_LOG_TIME=no: stamped lines"
grep -q "^server listening on socks 127.0.0.1:$SP\$" "$T/plain" ||
    fail "ESOCKSD_LOG_TIME=no: no bare listening line: $(cat "$T/plain")"

ESOCKSD_LOG_TIME=Off
run_daemon off
grep -E -q "^$STAMP" "$T/off" && fail "ESOCKSD_LOG_TIME=Off: stamped lines"

ESOCKSD_LOG_TIME=nope
run_daemon nope
grep -E -q "^${STAMP}ESOCKSD_LOG_TIME=nope: want yes or no" "$T/nope" ||
    fail "ESOCKSD_LOG_TIME=nope: no warning: $(head -n 2 "$T/nope")"
grep -E -v "^$STAMP" "$T/nope" >"$T/bare"
[ ! -s "$T/bare" ] || fail "ESOCKSD_LOG_TIME=nope: bare lines: $(cat "$T/bare")"

# The journal: stderr's device and inode in JOURNAL_STREAM (the log file
# stands in for the journal's socket).
unset ESOCKSD_LOG_TIME
: >"$T/journal"
JOURNAL_STREAM=$(stat -c '%d:%i' "$T/journal") || skip "no stat -c"
export JOURNAL_STREAM
"$ESOCKSD" -f -c "$T/esocksd.conf" server >>"$T/journal" 2>&1 &
pid=$!
track_pid $pid
wait_log "$T/journal" 'started as server' 10 || fail "no start in the journal"
stop_pid $pid
grep -E -q "^$STAMP" "$T/journal" && fail "stamped lines to the journal"
unset JOURNAL_STREAM

# -t prints its findings bare.
"$ESOCKSD" -t -c "$T/esocksd.conf" -o WORKER_LISTEN=0.0.0.0:$WP server \
    >"$T/t.out" 2>&1 || fail "-t failed: $(cat "$T/t.out")"
grep -q "^WORKER_LISTEN 0.0.0.0:$WP is not loopback" "$T/t.out" ||
    fail "-t warning not bare: $(cat "$T/t.out")"
exit 0

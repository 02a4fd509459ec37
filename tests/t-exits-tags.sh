#!/bin/sh
# Exit selection by worker tags in the user name (issue 11): three
# workers tagged "eu de", "eu fr" and "us".  -tag-eu reaches only the
# first two (and both), -tag-us only the third, -tag-eu-tag-fr only the
# second, -worker-NAME only that worker, -tag-asia fails with SOCKS5 0x04
# (never direct, although NO_WORKER=direct), SOCKS4 user ids carry the
# same parameters (-tag-asia gets 0x5B); an unknown key or a bad value is
# refused (RFC 1929 0x01, SOCKS4 0x5B) and logged; AUTH=none takes
# method 2 and ignores the password; /status lists each worker's tags,
# the access line ends in session= and tags= of the worker used.
. "${TOP_SRCDIR:-$(dirname "$0")/..}/tests/lib.sh"

[ -x "$ESOCKSD" ] && [ -x "$SOCKSC" ] && [ -x "$TSINK" ] ||
    skip "esocksd, socksc or tsink not built"

SP=$(free_port)
WP=$(free_port)
HP=$(free_port)
write_conf "$T/server.conf" "SOCKS_LISTEN=127.0.0.1:$SP" \
    "WORKER_LISTEN=127.0.0.1:$WP" "STATS_LISTEN=127.0.0.1:$HP" \
    "PIDFILE=$T/server.pid"
start_esocksd server "$T/server.conf"
SRV_LOG=$ESOCKSD_LOG
for w in "wde:eu de" "wfr:eu fr" "wus:us"; do
	name=${w%%:*}
	write_conf "$T/$name.conf" "SERVERS=127.0.0.1:$WP" \
	    "WORKER_NAME=$name" "WORKER_TAGS='${w#*:}'" \
	    RECONNECT_INTERVAL=0.2 "PIDFILE=$T/$name.pid"
	start_esocksd worker "$T/$name.conf"
done
for name in wde wfr wus; do
	wait_log "$SRV_LOG" "worker $name \(.*\) joined the pool" 10 ||
	    fail "worker $name did not join the pool"
done
start_sink echo
ECHO=$SINK_PORT

# ask USER [VERSION]: one echo tunnel as USER; prints socksc's exit.
ask() {
	echo hi | "$SOCKSC" -x 127.0.0.1:$SP -t 127.0.0.1:$ECHO \
	    -U "$1:anything" -v "${2:-5}" -w 5 >/dev/null 2>"$T/err"
	echo $?
}

# vias USER: the via= words of USER's access lines, sorted, unique.
vias() {
	grep "^access .* user=$1 " "$SRV_LOG" |
	    sed 's/.* via=\([^ ]*\) .*/\1/' | sort -u | tr '\n' ' '
}

for u in x-tag-eu x-tag-us -tag-eu-tag-fr x-worker-wus; do
	i=0
	while [ $i -lt 20 ]; do
		rc=$(ask "$u")
		[ "$rc" -eq 0 ] || fail "$u: socksc exited $rc: $(cat "$T/err")"
		i=$((i + 1))
	done
done
wait_for "[ \$(grep -c '^access ' '$SRV_LOG') -ge 80 ]" 5 ||
    fail "fewer than 80 access lines"
[ "$(vias x-tag-eu)" = "wde wfr " ] ||
    fail "-tag-eu went via '$(vias x-tag-eu)', want 'wde wfr '"
[ "$(vias x-tag-us)" = "wus " ] ||
    fail "-tag-us went via '$(vias x-tag-us)', want 'wus '"
[ "$(vias -tag-eu-tag-fr)" = "wfr " ] ||
    fail "-tag-eu-tag-fr went via '$(vias -tag-eu-tag-fr)', want 'wfr '"
[ "$(vias x-worker-wus)" = "wus " ] ||
    fail "-worker-wus went via '$(vias x-worker-wus)', want 'wus '"

# The access line: the contract's fields, then session= and tags=.
grep -E -q "^access client=127\.0\.0\.1:[0-9]+ user=x-tag-us cmd=connect \
dest=127\.0\.0\.1:$ECHO via=wus result=ok up=3 down=3 ms=[0-9]+ session=- \
tags=us$" "$SRV_LOG" || fail "no access line with session=- tags=us: \
$(grep '^access .*user=x-tag-us' "$SRV_LOG" | head -n 1)"
grep -E -q "^access .* user=x-tag-eu .* via=wde .* session=- tags=eu,de$" \
    "$SRV_LOG" || fail "no access line via wde with tags=eu,de"

# No worker carries asia: refused with 0x04, never dialed directly.
rc=$(ask x-tag-asia)
[ "$rc" -eq 3 ] || fail "-tag-asia: socksc exited $rc, want 3"
grep -q 'reply=0x04' "$T/err" || fail "-tag-asia: $(cat "$T/err")"
wait_log "$SRV_LOG" "^access .* user=x-tag-asia .* via=none \
result=hostunreach " 5 || fail "no access line for -tag-asia via=none"
grep -q "no worker matches its filters" "$SRV_LOG" ||
    fail "no log line for the request no worker matches"
rc=$(ask x-worker-nosuch)
[ "$rc" -eq 3 ] || fail "-worker-nosuch: socksc exited $rc, want 3"
grep -q "via=direct" "$SRV_LOG" && fail "a filtered request went direct"

# SOCKS4 and 4a: the user id carries the same parameters.
rc=$(ask x-tag-us 4)
[ "$rc" -eq 0 ] || fail "SOCKS4 -tag-us: exited $rc: $(cat "$T/err")"
rc=$(ask x-tag-asia 4a)
[ "$rc" -eq 3 ] || fail "SOCKS4a -tag-asia: exited $rc, want 3"
grep -q 'reply=0x5b' "$T/err" || fail "SOCKS4a -tag-asia: $(cat "$T/err")"

# Bad parameters are refused and logged.
for u in x-tag-eu-colour-red x-tag-EU x-session-a_b x-ttl-0 x-ttl-1441 \
    x-sticky-hard x-tag-; do
	rc=$(ask "$u")
	[ "$rc" -eq 3 ] || fail "$u: socksc exited $rc, want 3"
	grep -q 'auth=0x01' "$T/err" || fail "$u: $(cat "$T/err")"
	wait_log "$SRV_LOG" "user $u refused: " 5 ||
	    fail "no log line refusing $u"
done
rc=$(ask x-tag-eu-colour-red 4)
[ "$rc" -eq 3 ] || fail "SOCKS4 bad parameters: exited $rc, want 3"
grep -q 'reply=0x5b' "$T/err" || fail "SOCKS4 bad: $(cat "$T/err")"

# A plain user name without parameters goes where it always went.
rc=$(ask alice)
[ "$rc" -eq 0 ] || fail "plain user: exited $rc: $(cat "$T/err")"

# /status lists every worker with its tags, last column.
printf 'GET /status HTTP/1.0\r\nHost: x\r\n\r\n' |
    "$SOCKSC" -D -t 127.0.0.1:$HP -w 10 2>/dev/null | tr -d '\r' >"$T/status"
grep -q 'TAGS$' "$T/status" || fail "/status has no TAGS column: \
$(cat "$T/status")"
grep -E -q '^wde .* eu,de$' "$T/status" || fail "/status: no wde eu,de"
grep -E -q '^wfr .* eu,fr$' "$T/status" || fail "/status: no wfr eu,fr"
grep -E -q '^wus .* us$' "$T/status" || fail "/status: no wus us"

# A worker refuses a bad WORKER_TAGS at start.
write_conf "$T/bad.conf" "WORKER_TAGS='eu De'" WORKER_NAME=x
"$ESOCKSD" -t -c "$T/bad.conf" worker \
    >"$T/t.out" 2>&1 && fail "WORKER_TAGS='eu De' accepted"
grep -q "WORKER_TAGS" "$T/t.out" || fail "bad WORKER_TAGS: $(cat "$T/t.out")"
# Stop everything; no sanitizer report (an --enable-asan build) allowed.
for p in $LIB_PIDS; do
	lib_alive "$p" && stop_pid "$p" >/dev/null
done
bad=$(grep -l -E 'AddressSanitizer|LeakSanitizer|runtime error:' \
    $LIB_LOGS /dev/null)
[ -z "$bad" ] || fail "sanitizer report in $bad"
exit 0
